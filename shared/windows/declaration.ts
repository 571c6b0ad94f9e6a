import type { TopicDeclaration } from '../core/publisher.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import type { Rejection } from '../core/rejection.js';
import type { Row, TableDeclaration } from '../export/warehouse.js';
import type { Aggregate, WindowEvent } from './aggregate.js';
import type { PipelineSettings } from './pipeline-config.js';

/**
 * A window pipeline, declared once in its own file (shared/windows/pipelines/): everything about it that
 * the configuration, the runtime, the deploy catalog and Terraform read. Ingest (window-ingest.ts) and
 * the flush (window-flush.ts) do the rest. Session windows are the passages' (speed/passage.ts); these
 * are fixed windows.
 */
export interface WindowPipelineDeclaration {
  /** its name in SPEEDCAM_PIPELINES, its watermark, and its Firestore batch collection (wb_<name>) */
  name: string;
  /** where its events come from */
  input: TopicInput | PassagesInput;
  /** the fixed window's length, seconds (a configurable pipeline's `window_s` may change it) */
  windowS: number;
  /** whether SPEEDCAM_PIPELINES may set its event time, window, lateness and late policy */
  configurable: boolean;
  /** early panes by default, every this many seconds of processing time (SPEEDCAM_PIPELINES early_s); none when absent */
  earlyS?: number;
  aggregates: readonly Aggregate[];
  table: TableDeclaration;
  /** the output row of one key's window; the flush adds row_revision */
  row(key: string, windowStartMs: number, windowEndMs: number, aggregates: Record<string, number>): Row;
}

/**
 * A pipeline with a topic of its own: a function of its own parses each message into events. functions/catalog.ts
 * declares it: named after the topic, entry point <topic key>, served by the runtime's windows.<pipeline name>,
 * running as the pipeline's own service account (<prefix>-<pipeline name>).
 */
export interface TopicInput {
  kind: 'topic';
  topic: TopicDeclaration;
  /** the JSON fields every message must have: the payload prelude (core/payload.ts) checks them with the rest, before parse */
  required: readonly string[];
  /** a message that passed the prelude → its events (one message may hold several); a Rejection sends it to the dead letters */
  parse(json: Record<string, unknown>, msg: InboundMessage, ctx: ParseContext): WindowEvent[] | Rejection;
}

/** A pipeline fed by the flush with the passages it exports (they reach it a gap + grace + a run late). */
export interface PassagesInput {
  kind: 'passages';
  /** what the dead letters say its event time is */
  eventTime: string;
  event(p: CompletedPassage): WindowEvent;
}

/** What a pipeline fed by passages reads of a completed passage. */
export interface CompletedPassage {
  passageId: string;
  radarId: string;
  lastSeenMs: number;
  isTicketed: boolean;
  avgSpeedKmh: number | null;
}

/** What a parser is given besides the message: the pipeline's settings and the limits every input has. */
export interface ParseContext {
  settings: PipelineSettings;
  maxMessageBytes: number;
  maxEventFutureMs: number;
  nowMs: number;
}

/** Declares a pipeline, keeping its literal names (the configuration's types are derived from them). */
export function defineWindowPipeline<const D extends WindowPipelineDeclaration>(d: D): D {
  return d;
}
