import type { WindowConfig } from './settings.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import { decodeJsonObject } from '../core/payload.js';
import { Rejection } from '../core/rejection.js';
import type { Row } from '../export/warehouse.js';
import type { Aggregate, WindowEvent } from './aggregate.js';
import type { CompletedPassage, WindowPipelineDeclaration } from './declaration.js';
import { describeEventTime } from './event-time.js';
import type { LatePolicy, PipelineSettings } from './pipeline-config.js';
import { WINDOW_PIPELINES, type WindowPipelineName } from './pipelines/index.js';

/** A pipeline as ingest and the flush run it: its declaration with the configured settings applied. */
export interface WindowPipeline {
  name: string;
  /** the topic its events arrive on (the dead letters' source), or null when the flush feeds it */
  inputTopic: string | null;
  /** a pipeline fed by passages: the event of one completed passage */
  fromPassage?: (p: CompletedPassage) => WindowEvent;
  /** one message may hold several events; a Rejection sends it to the dead letters */
  parse: (msg: InboundMessage, nowMs: number) => WindowEvent[] | Rejection;
  window: { kind: 'fixed'; sizeMs: number };
  /** how far (in event time and in processing time) the data must move past a window's end before it closes */
  allowedLatenessMs: number;
  /** an event for an exported window: dead-lettered as late, or folded into a revision of the row */
  late: LatePolicy;
  /** early panes every this much processing time while the window is open (is_final = false); null: none */
  earlyMs: number | null;
  /** where event time comes from, for logs and dead letters */
  eventTime: string;
  aggregates: readonly Aggregate[];
  /** the table its rows go to */
  table: string;
  /** the output row; the engine adds row_revision */
  row: (key: string, windowStartMs: number, windowEndMs: number, aggregates: Record<string, number>) => Row;
}

/** The declared pipeline with this configuration's settings (SPEEDCAM_PIPELINES, lateness, topic names). */
export function resolvePipeline(d: WindowPipelineDeclaration, config: WindowConfig): WindowPipeline {
  const common = { name: d.name, aggregates: d.aggregates, table: d.table.name, row: d.row.bind(d) };
  if (d.input.kind === 'passages') {
    return {
      ...common,
      inputTopic: null,
      parse: () => new Rejection('invalid_fields', `${d.name} is fed by the flush`),
      window: { kind: 'fixed', sizeMs: d.windowS * 1000 },
      // Passages reach the flush up to a session gap + the export grace + a flush interval after their exit.
      allowedLatenessMs: config.sectionTrafficLatenessMs,
      late: 'dead_letter',
      earlyMs: null,
      eventTime: d.input.eventTime,
      fromPassage: d.input.event.bind(d.input),
    };
  }
  const input = d.input;
  const configured: Partial<Record<string, PipelineSettings>> = config.pipelines;
  const topics: Partial<Record<string, string>> = config.topics;
  const settings: PipelineSettings = configured[d.name] ?? {
    eventTime: { kind: 'publish_time' },
    timezone: 'UTC',
    windowMs: d.windowS * 1000,
    latenessMs: config.windowLatenessMs,
    late: 'dead_letter',
    earlyMs: d.earlyS ? d.earlyS * 1000 : null,
  };
  return {
    ...common,
    inputTopic: topics[input.topic.key] ?? input.topic.name,
    parse: (msg, nowMs) => {
      // Every message passes the checks all inputs share first.
      const json = decodeJsonObject(msg, config.maxMessageBytes, input.required);
      return json instanceof Rejection
        ? json
        : input.parse(json, msg, { settings, maxMessageBytes: config.maxMessageBytes, maxEventFutureMs: config.maxEventFutureMs, nowMs });
    },
    window: { kind: 'fixed', sizeMs: settings.windowMs },
    allowedLatenessMs: settings.latenessMs,
    late: settings.late,
    earlyMs: settings.earlyMs,
    eventTime: describeEventTime(settings.eventTime),
  };
}

/** One pipeline by name, as configured. */
export function windowPipeline(name: WindowPipelineName, config: WindowConfig): WindowPipeline {
  return resolvePipeline(
    WINDOW_PIPELINES.find((p) => p.name === name)!,
    config,
  );
}

/** Every pipeline, as configured, in the flush's order. */
export function windowPipelines(config: WindowConfig): WindowPipeline[] {
  return WINDOW_PIPELINES.map((d) => resolvePipeline(d, config));
}
