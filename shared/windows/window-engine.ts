import type { FirestoreWindowStore, WindowBatch } from '../adapters/firestore-window-store.js';
import type { Config } from '../config.js';
import { Rejection } from '../dead-letter.js';
import { GroupCommitter } from '../group-commit.js';
import type { Logger } from '../logger.js';
import type { Clock, Faults, Publisher, Row } from '../ports.js';
import type { InboundMessage } from '../pubsub-message.js';
import { sendToDeadLetters } from '../speed-check.js';
import { aggregate, windowOf, type WindowEvent, type WindowPipeline } from './pipelines.js';

export interface WindowDeps {
  config: Config;
  windows: Pick<FirestoreWindowStore, 'append'>;
  publisher: Publisher;
  logger: Logger;
  clock: Clock;
  faults: Faults;
}

/** Largest group commit: a batch document must stay well under Firestore's 1 MiB. */
const MAX_BATCH_EVENTS = 2000;

/**
 * The windowed pipelines' function logic: parse → reject late events → group-commit the rest into
 * new batch documents. A message resolves once its events are durable; the flush aggregates.
 */
export class WindowIngest {
  private readonly committer: GroupCommitter<WindowEvent[], void>;

  constructor(
    private readonly deps: WindowDeps,
    private readonly pipeline: WindowPipeline,
  ) {
    this.committer = new GroupCommitter<WindowEvent[], void>(
      async (_key, items) => {
        deps.faults.check('window.beforeCommit');
        await deps.windows.append(pipeline.name, pipeline.window.sizeMs, items.flat());
        deps.faults.check('window.afterCommit');
        return items.map(() => undefined);
      },
      // One batch per instance for all keys: a hot key is just more events in the same documents.
      { waitMs: deps.config.groupCommitWaitMs, maxBatch: () => MAX_BATCH_EVENTS },
    );
  }

  async handle(msg: InboundMessage): Promise<{ accepted: number; late: number } | { rejected: string }> {
    const { config, clock } = this.deps;
    const source = this.pipeline.inputTopic(config) ?? this.pipeline.name;
    const now = clock.now();
    const parsed = this.pipeline.parse(msg, now);
    if (parsed instanceof Rejection) {
      await sendToDeadLetters(this.deps, source, msg, parsed);
      return { rejected: parsed.reason };
    }
    const onTime = parsed.filter((e) => !isLate(e, this.pipeline, now));
    const late = parsed.filter((e) => isLate(e, this.pipeline, now));
    for (const e of late) {
      const w = windowOf(e.timeMs, this.pipeline.window.sizeMs);
      await sendToDeadLetters(this.deps, source, msg, new Rejection('late', `event time ${new Date(e.timeMs).toISOString()} is in window ${new Date(w.start).toISOString()}, closed at ${new Date(w.end + this.pipeline.allowedLatenessMs).toISOString()}`, `${this.pipeline.name}:${e.id}`));
    }
    if (onTime.length > 0) await this.committer.submit(this.pipeline.name, onTime);
    return { accepted: onTime.length, late: late.length };
  }
}

export function isLate(e: WindowEvent, p: WindowPipeline, nowMs: number): boolean {
  return windowOf(e.timeMs, p.window.sizeMs).end + p.allowedLatenessMs < nowMs;
}

export interface WindowFlushDeps {
  config: Config;
  windows: Pick<FirestoreWindowStore, 'nextClosedWindow' | 'readWindow' | 'getState' | 'markExported' | 'deleteBatches'>;
  publisher: Publisher;
  logger: Logger;
  clock: Clock;
  faults: Faults;
}

/** Windows exported per pipeline per flush run: bounded work; the rest waits for the next run. */
const MAX_WINDOWS_PER_RUN = 20;

/**
 * Exports closed windows of one pipeline (the flush calls this under its lease). For each window:
 * read its batches, dedupe events by id (a redelivered event sits in two batches), aggregate per key,
 * upsert the rows, record the window exported with the read time of the query, then delete the
 * batches. A crash anywhere reruns the same steps on the same batches: the same rows. Batches committed
 * after that read time missed the export: their events go to the dead letters as late.
 */
export async function flushWindows(
  deps: WindowFlushDeps,
  pipeline: WindowPipeline,
  write: (table: string, rows: Row[]) => Promise<void>,
): Promise<{ windows: number; rows: number; orphans: number; more: boolean }> {
  const { windows, clock } = deps;
  const cutoff = clock.now() - pipeline.allowedLatenessMs - deps.config.windowFlushMarginMs;
  const out = { windows: 0, rows: 0, orphans: 0, more: false };
  for (let i = 0; i < MAX_WINDOWS_PER_RUN; i++) {
    const start = await windows.nextClosedWindow(pipeline.name, cutoff);
    if (start === null) return out;
    const end = start + pipeline.window.sizeMs;
    const state = await windows.getState(pipeline.name, start);
    const { batches, readTimeMs } = await windows.readWindow(pipeline.name, start);
    if (state.exported) {
      // Left behind by a crash after the export (counted already), or written after it (orphans).
      const orphans = batches
        .filter((b) => state.aggregatedAsOfMs === null || b.createdMs >= state.aggregatedAsOfMs)
        .map((b) => ({ ...b, events: b.events.filter((e) => !state.ids?.has(e.id)) }));
      for (const b of orphans) await deadLetterOrphans(deps, pipeline, b, start, end);
      out.orphans += orphans.reduce((n, b) => n + b.events.length, 0);
    } else {
      const rows = windowRows(pipeline, batches, start, end);
      await write(pipeline.table, rows);
      deps.faults.check('window.afterWarehouse');
      const ids = pipeline.rememberIds ? [...new Set(batches.flatMap((b) => b.events.map((e) => e.id)))] : undefined;
      await windows.markExported(pipeline.name, start, readTimeMs, ids);
      deps.faults.check('window.afterMark');
      out.rows += rows.length;
      out.windows++;
    }
    await windows.deleteBatches(pipeline.name, batches.map((b) => b.docId));
  }
  out.more = true;
  return out;
}

/** The rows of one window from its batches: events deduplicated by id, aggregated per key. */
export function windowRows(pipeline: WindowPipeline, batches: readonly WindowBatch[], start: number, end: number): Row[] {
  const unique = new Map<string, WindowEvent>();
  // Oldest batch first: if two batches disagree about one id, the first written wins, every time.
  for (const b of [...batches].sort((x, y) => x.createdMs - y.createdMs || (x.docId < y.docId ? -1 : 1))) {
    for (const e of b.events) if (!unique.has(e.id)) unique.set(e.id, e);
  }
  const byKey = new Map<string, WindowEvent[]>();
  for (const e of unique.values()) {
    const list = byKey.get(e.key);
    if (list) list.push(e);
    else byKey.set(e.key, [e]);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, events]) => pipeline.row(key, start, end, aggregate(events, pipeline.aggregates)));
}

async function deadLetterOrphans(deps: WindowFlushDeps, pipeline: WindowPipeline, b: WindowBatch, start: number, end: number): Promise<void> {
  for (const e of b.events) {
    const payload = Buffer.from(JSON.stringify({ pipeline: pipeline.name, id: e.id, key: e.key, time: new Date(e.timeMs).toISOString(), values: e.values }));
    await sendToDeadLetters(
      deps,
      pipeline.inputTopic(deps.config) ?? pipeline.name,
      { data: payload, attributes: { pipeline: pipeline.name }, messageId: `${pipeline.name}:${e.id}`, publishTimeMs: e.timeMs },
      new Rejection('late', `window ${new Date(start).toISOString()}–${new Date(end).toISOString()} was exported before this event was stored`, `${pipeline.name}:${e.id}`),
    );
  }
}
