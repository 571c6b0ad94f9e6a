import type { WindowConfig } from './settings.js';
import { Rejection } from '../core/rejection.js';
import { sendToDeadLetters } from '../dead-letters/send.js';
import type { WindowedExporter, WriteRows } from '../export/exporter.js';
import type { Row } from '../export/warehouse.js';
import { accumulate, type Accumulator, aggregatesOf, emptyAccumulator, type WindowEvent } from './aggregate.js';
import type { WindowPipeline } from './pipeline.js';
import type { Effects } from '../core/effects.js';
import { digestOf, shardCount, shardOfDigest, shardOfKey, splitShards, type WindowShard } from './window-state.js';
import type { PipelineProbe, WindowBatch, WindowState, WindowStore } from './window-store.js';
import { iso } from '../core/clock.js';

export interface WindowFlushDeps extends Effects {
  config: WindowConfig;
  windows: Pick<
    WindowStore,
    'probe' | 'batchesEndingBy' | 'readWindow' | 'getState' | 'getShards' | 'saveState' | 'deleteBatches' | 'saveEarlyPane'
  >;
}

/** Windows handled per pipeline per pass: bounded work; the next pass (or run) continues. */
const MAX_WINDOWS_PER_PASS = 50;

/** Batch documents read per pass when looking for due windows. */
const PAGE_DOCS = 300;

/** A running flush looks at a pipeline again no sooner than this. */
export const MIN_POLL_MS = 250;

export interface WindowPass {
  windows: number;
  revisions: number;
  rows: number;
  /** events of exported windows found again: counted already, not counted twice */
  duplicates: number;
  /** events of exported windows dead-lettered as late */
  late: number;
  /** the pipeline has windows not yet exported */
  open: boolean;
  /** true when a limit stopped the pass with due windows left */
  more: boolean;
  /** when this pipeline should be looked at again (a running flush sleeps until the earliest) */
  nextCheckMs: number;
  /** early panes written (rows of open windows, is_final = false) */
  earlyPanes: number;
}

/**
 * When a window closes. Lateness is granted in both clocks: a window [start, end) is due when
 *  - no batch has been written to it for `lateness` of processing time (an instance holding its
 *    events, or receiving them late, would have written), and
 *  - the data has moved past end + lateness (some stored event is that late in event time), or the
 *    whole pipeline has had no write for `lateness` and the wall clock is past end + lateness.
 * Never merely because the wall clock passed it: history replayed now closes window by window as the
 * data moves on, each `lateness` of processing time after its last event arrived.
 */
export function isDue(
  w: { end: number; lastWriteMs: number },
  p: { maxSeenMs: number; newestWrittenMs: number },
  latenessMs: number,
  nowMs: number,
): boolean {
  if (w.lastWriteMs > nowMs - latenessMs) return false;
  if (p.maxSeenMs >= w.end + latenessMs) return true;
  return p.newestWrittenMs <= nowMs - latenessMs && nowMs >= w.end + latenessMs;
}

/** The flush's exporter of one window pipeline: each pass exports the windows that fell due. */
export function windowExporter(deps: WindowFlushDeps, pipeline: WindowPipeline): WindowedExporter {
  const early: EarlyScan = { lastScanMs: -Infinity, nextScanMs: -Infinity, waiting: false };
  return { name: pipeline.name, pass: (write) => flushWindows(deps, pipeline, write, early) };
}

/** When this instance last looked for early panes of a pipeline, and when it should look again (processing time). */
export interface EarlyScan {
  lastScanMs: number;
  nextScanMs: number;
  /** the last look found windows with news whose pane was not yet due */
  waiting: boolean;
}

/**
 * One pass of the flush over one pipeline (under the flush lease): finds the due windows and exports
 * each (rows, then its state, then its batches deleted), or, for a window exported already, handles
 * the batches written after its export: events counted already are dropped; new ones are late, either
 * dead-lettered or (late: update) folded into a revision of the rows. A crash anywhere reruns the same
 * steps on the same batches: the same rows.
 */
export async function flushWindows(
  deps: WindowFlushDeps,
  pipeline: WindowPipeline,
  write: WriteRows,
  early: EarlyScan = { lastScanMs: -Infinity, nextScanMs: -Infinity, waiting: false },
): Promise<WindowPass> {
  const { windows, clock } = deps;
  const L = pipeline.allowedLatenessMs;
  const now = clock.now();
  const out: WindowPass = {
    windows: 0,
    revisions: 0,
    rows: 0,
    duplicates: 0,
    late: 0,
    open: false,
    more: false,
    nextCheckMs: Infinity,
    earlyPanes: 0,
  };
  const probe = await windows.probe(pipeline.name);
  // Nothing stored: nothing can fall due before the next scheduled run (a run with no open window ends at once).
  if (!probe) return out;
  out.open = true;
  const pipelineIdle = probe.newestWrittenMs <= now - L;
  const cutoff = Math.max(probe.maxSeenMs - L, pipelineIdle ? now - L : -Infinity);
  // When the earliest window can fall due, if nothing is due now: in real time the data moves with the
  // clock (a replay moving faster is caught by the next run).
  const predicted = Math.min(now + (probe.earliestEnd + L - probe.maxSeenMs), Math.max(probe.newestWrittenMs + L, probe.earliestEnd + L));
  out.nextCheckMs = Math.max(predicted, now + MIN_POLL_MS);
  if (probe.earliestEnd <= cutoff) await exportDue(deps, pipeline, write, probe, cutoff, now, out);
  if (pipeline.earlyMs !== null) await writeEarlyPanes(deps, pipeline, write, probe, now, early, out);
  return out;
}

/** The due windows of one pass: each exported, or its batches after the export handled. */
async function exportDue(
  deps: WindowFlushDeps,
  pipeline: WindowPipeline,
  write: WriteRows,
  probe: PipelineProbe,
  cutoff: number,
  now: number,
  out: WindowPass,
): Promise<void> {
  const { windows } = deps;
  const L = pipeline.allowedLatenessMs;

  const page = await windows.batchesEndingBy(pipeline.name, cutoff, PAGE_DOCS);
  const groups = groupByWindow(page.batches);
  // A full page may have cut its last window short: that one waits for the next pass, unless it is alone.
  if (page.full && groups.length > 1) groups.pop();
  let handled = 0;
  for (let g of groups) {
    if (handled >= MAX_WINDOWS_PER_PASS) {
      out.more = true;
      break;
    }
    let readTimeMs = page.readTimeMs;
    if (page.full && groups.length === 1) ({ batches: g, readTimeMs } = await windows.readWindow(pipeline.name, g[0]!.windowStart));
    const start = g[0]!.windowStart;
    const end = g[0]!.windowEnd;
    const lastWriteMs = Math.max(...g.map((b) => b.writtenAtMs));
    if (!isDue({ end, lastWriteMs }, probe, L, now)) {
      out.nextCheckMs = Math.min(out.nextCheckMs, Math.max(lastWriteMs + L, now + MIN_POLL_MS));
      continue;
    }
    handled++;
    const state = await windows.getState(pipeline.name, start);
    if (!state.exported) await exportWindow(deps, pipeline, write, g, start, end, readTimeMs, out);
    else await handleAfterExport(deps, pipeline, write, g, state, start, end, readTimeMs, out);
  }
  if (out.more || handled > 0) out.nextCheckMs = now + MIN_POLL_MS;
}

/**
 * Early panes (SPEEDCAM_PIPELINES early_s): while a window is open and events arrive, its rows are written
 * every early_s of processing time with is_final = false and row_revision = the read time of the batches
 * they were computed from; the final row (a later read, so a higher revision) replaces them under the same
 * row_id. A pane is written once per revision: only when batches were created since the last pane (its
 * record in the window's state document), and no sooner than early_s after it (the first one early_s after
 * the window's first write). A crash between the write and the record writes the pane again with a newer
 * revision: the same rows. This instance looks at the open windows at most every early_s, and only when
 * the pipeline was written to since it last looked.
 */
async function writeEarlyPanes(
  deps: WindowFlushDeps,
  pipeline: WindowPipeline,
  write: WriteRows,
  probe: PipelineProbe,
  now: number,
  early: EarlyScan,
  out: WindowPass,
): Promise<void> {
  const E = pipeline.earlyMs!;
  const L = pipeline.allowedLatenessMs;
  if (now < early.nextScanMs || (!early.waiting && probe.newestWrittenMs < early.lastScanMs)) {
    if (early.nextScanMs > now) out.nextCheckMs = Math.min(out.nextCheckMs, early.nextScanMs);
    return;
  }
  let waiting = false;
  let next = now + E;
  const page = await deps.windows.batchesEndingBy(pipeline.name, Number.MAX_SAFE_INTEGER, PAGE_DOCS);
  const groups = groupByWindow(page.batches);
  for (const [i, g0] of groups.entries()) {
    let g = g0;
    let readTimeMs = page.readTimeMs;
    const start = g[0]!.windowStart;
    const end = g[0]!.windowEnd;
    if (isDue({ end, lastWriteMs: Math.max(...g.map((b) => b.writtenAtMs)) }, probe, L, now)) continue;
    const state = await deps.windows.getState(pipeline.name, start);
    if (state.exported) continue;
    const last = state.early ?? null;
    if (last && Math.max(...g.map((b) => b.createdMs)) <= last.asOfMs) continue; // nothing new since the last pane
    const dueAt = last ? last.atMs + E : Math.min(...g.map((b) => b.writtenAtMs)) + E;
    if (now < dueAt) {
      waiting = true;
      next = Math.min(next, dueAt);
      continue;
    }
    // The page's last window may be cut short: read it whole.
    if (page.full && i === groups.length - 1) ({ batches: g, readTimeMs } = await deps.windows.readWindow(pipeline.name, start));
    const acc = new Map<string, Accumulator>();
    for (const e of uniqueEvents(g)) {
      let a = acc.get(e.key);
      if (!a) acc.set(e.key, (a = emptyAccumulator()));
      accumulate(a, e);
    }
    const rows = rowsOf(pipeline, acc, acc.keys(), start, end, readTimeMs, false);
    await write(pipeline.table, rows);
    deps.faults.check('window.afterEarlyPane');
    await deps.windows.saveEarlyPane(pipeline.name, start, { asOfMs: readTimeMs, atMs: now });
    out.earlyPanes++;
    out.rows += rows.length;
  }
  if (page.full) next = now + MIN_POLL_MS;
  // Recorded only once the look completed: a crash in it leaves the next pass to look again.
  Object.assign(early, { lastScanMs: now, waiting, nextScanMs: Math.max(next, now + MIN_POLL_MS) });
  out.nextCheckMs = Math.min(out.nextCheckMs, early.nextScanMs);
}

async function exportWindow(
  deps: WindowFlushDeps,
  pipeline: WindowPipeline,
  write: WriteRows,
  batches: WindowBatch[],
  start: number,
  end: number,
  readTimeMs: number,
  out: WindowPass,
): Promise<void> {
  const events = uniqueEvents(batches);
  const acc = new Map<string, Accumulator>();
  for (const e of events) {
    let a = acc.get(e.key);
    if (!a) acc.set(e.key, (a = emptyAccumulator()));
    accumulate(a, e);
  }
  const rows = rowsOf(pipeline, acc, acc.keys(), start, end, readTimeMs);
  await write(pipeline.table, rows);
  deps.faults.check('window.afterWarehouse');
  const digests = events.map((e) => digestOf(e.id));
  const shards = shardCount(acc, digests.length);
  const changed = new Map(splitShards(acc, digests, shards).map((s, i) => [i, s]));
  await deps.windows.saveState(pipeline.name, start, { aggregatedAsOfMs: readTimeMs, revision: readTimeMs, shards, changed });
  deps.faults.check('window.afterMark');
  await deps.windows.deleteBatches(
    pipeline.name,
    batches.map((b) => b.docId),
  );
  out.windows++;
  out.rows += rows.length;
}

/**
 * Batches of an exported window: left by a crash after its export (their events are counted), or
 * written after it. Counted events are recognised by their digests and dropped; the others are late.
 */
async function handleAfterExport(
  deps: WindowFlushDeps,
  pipeline: WindowPipeline,
  write: WriteRows,
  batches: WindowBatch[],
  state: WindowState,
  start: number,
  end: number,
  readTimeMs: number,
  out: WindowPass,
): Promise<void> {
  const events = uniqueEvents(batches).map((e) => ({ e, d: digestOf(e.id) }));
  const S = state.shards;
  const update = pipeline.late === 'update';
  const shards = await deps.windows.getShards(pipeline.name, start, state, [
    ...events.map(({ d }) => shardOfDigest(d, S)),
    ...(update ? events.map(({ e }) => shardOfKey(e.key, S)) : []),
  ]);
  const late = events.filter(({ d }) => !shards.get(shardOfDigest(d, S))?.ids.has(d));
  out.duplicates += events.length - late.length;
  if (late.length > 0 && !update) {
    for (const { e } of late) await deadLetterLate(deps, pipeline, e, start, end);
    out.late += late.length;
  } else if (late.length > 0) {
    const changed = new Map<number, WindowShard>();
    const keys = new Set<string>();
    const newIds = new Map<number, Buffer[]>();
    for (const { e, d } of late) {
      const ks = shardOfKey(e.key, S);
      const shard = shards.get(ks)!;
      let a = shard.acc.get(e.key);
      if (!a) shard.acc.set(e.key, (a = emptyAccumulator()));
      accumulate(a, e);
      keys.add(e.key);
      changed.set(ks, shard);
      const is = shardOfDigest(d, S);
      newIds.set(is, [...(newIds.get(is) ?? []), d]);
    }
    for (const [is, ds] of newIds) {
      const shard = shards.get(is)!;
      changed.set(is, { acc: shard.acc, ids: shard.ids.with(ds) });
    }
    const accOf = new Map([...keys].map((k) => [k, shards.get(shardOfKey(k, S))!.acc.get(k)!]));
    const revision = Math.max(readTimeMs, (state.revision ?? 0) + 1);
    const rows = rowsOf(pipeline, accOf, keys, start, end, revision);
    await write(pipeline.table, rows);
    deps.faults.check('window.afterWarehouse');
    await deps.windows.saveState(pipeline.name, start, { aggregatedAsOfMs: readTimeMs, revision, shards: S, changed });
    deps.faults.check('window.afterMark');
    deps.logger.info('window revised with late events', {
      pipeline: pipeline.name,
      window_start: iso(start),
      late: late.length,
      rows: rows.length,
      row_revision: revision,
    });
    out.revisions++;
    out.rows += rows.length;
  }
  await deps.windows.deleteBatches(
    pipeline.name,
    batches.map((b) => b.docId),
  );
}

function rowsOf(
  pipeline: WindowPipeline,
  acc: ReadonlyMap<string, Accumulator>,
  keys: Iterable<string>,
  start: number,
  end: number,
  revision: number,
  isFinal = true,
): Row[] {
  return [...keys].sort().map((key) => ({
    ...pipeline.row(key, start, end, aggregatesOf(acc.get(key)!, pipeline.aggregates)),
    row_revision: revision,
    is_final: isFinal,
  }));
}

/** Events of a window's batches, deduplicated by id; if two batches disagree about one id, the first written wins. */
export function uniqueEvents(batches: readonly WindowBatch[]): WindowEvent[] {
  const unique = new Map<string, WindowEvent>();
  for (const b of [...batches].sort((x, y) => x.createdMs - y.createdMs || (x.docId < y.docId ? -1 : 1))) {
    for (const e of b.events) if (!unique.has(e.id)) unique.set(e.id, e);
  }
  return [...unique.values()];
}

/** Batches (ordered by window end) grouped per window, in that order. */
function groupByWindow(batches: readonly WindowBatch[]): WindowBatch[][] {
  const groups = new Map<string, WindowBatch[]>();
  for (const b of batches) {
    const k = `${b.windowStart}:${b.windowEnd}`;
    const g = groups.get(k);
    if (g) g.push(b);
    else groups.set(k, [b]);
  }
  return [...groups.values()];
}

async function deadLetterLate(deps: WindowFlushDeps, pipeline: WindowPipeline, e: WindowEvent, start: number, end: number): Promise<void> {
  // The original message is not kept with the batches; the event as stored stands in for it.
  const payload = Buffer.from(JSON.stringify({ pipeline: pipeline.name, id: e.id, key: e.key, time: iso(e.timeMs), values: e.values }));
  await sendToDeadLetters(
    deps,
    pipeline.inputTopic ?? pipeline.name,
    { data: payload, attributes: { pipeline: pipeline.name }, messageId: `${pipeline.name}:${e.id}`, publishTimeMs: e.timeMs },
    new Rejection('late', `window ${iso(start)}–${iso(end)} was exported before this event was stored`, `${pipeline.name}:${e.id}`),
  );
}
