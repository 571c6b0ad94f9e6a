import type { Clock } from '../core/clock.js';
import type { Radar } from './radar.js';
import type { Observation } from './observation.js';
import {
  applyBatches,
  closeIfExpired,
  passageKey,
  sessionGap,
  type ApplyResult,
  type ObservationOutcome,
  type PassageDecision,
  type PassageState,
  type WholePassage,
} from './passage.js';
import type {
  LogCursor,
  LogPage,
  LoggedObservation,
  PassageRecord,
  PassageStorage,
  PassageTable,
  PassageTransaction,
  RecordKey,
} from './passage-storage.js';

/** Where a decided passage's record lives. */
export interface DecisionRef {
  table: PassageTable;
  id: string;
  decision: PassageDecision;
}

export interface BatchOutcome extends ApplyResult {
  /** decisions taken in this step: to publish now */
  toPublish: DecisionRef[];
  /**
   * earlier decisions that a redelivery met still flagged: their closer may have crashed before
   * publishing, so they are published again unless a publish mark is found (isPublished)
   */
  unconfirmed: DecisionRef[];
}

export interface ExportedPassage {
  ref: DecisionRef;
  pendingPublish: boolean;
  exportAtMs: number;
}

export interface SweepLease {
  /** the owner of a live lease; null when free or expired */
  holder: string | null;
  /** the lease record's version as read (null: no record yet) */
  version: string | null;
}

/** One vehicle's observation batches, in log order, to apply on top of its passage record. */
export interface VehicleBatches {
  vehicleId: string;
  batches: Observation[][];
}

export interface SweptVehicle {
  vehicleId: string;
  /** the passage state after the batches (as written) */
  state: PassageState;
  outcomes: Map<string, ObservationOutcome>;
  toPublish: DecisionRef[];
  unconfirmed: DecisionRef[];
}

export interface PassageStoreOptions {
  clock: Clock;
  /** how long a record is kept (its expireAt) */
  retentionMs: number;
  /** how long what identifies a vehicle that was not fined is kept (SPEEDCAM_NON_OFFENDER_RETENTION_H); default and at most retentionMs */
  nonOffenderRetentionMs?: number;
}

/** The sweep deletes an entry once it wrote its observations; this expiry is only a safety net. */
const LOG_RETENTION_MS = 7 * 86_400_000;

const passages = (id: string) => ({ table: 'passages', id }) as const;
const lease = (radarId: string) => ({ table: 'leases', id: radarId }) as const;

/**
 * The passages of every (radar, vehicle) and their decisions, kept in a PassageStorage: each step of the
 * state machine (passage.ts) runs in one transaction of the storage, and this class decides what it
 * writes. One record per (radar, vehicle) holds its current passage; a closed passage stays there (so late
 * observations are recognised) until the vehicle's next passage displaces it into the archive.
 *
 * Beside the state, a record carries:
 * - `expiresAtMs` (open passages only): processing time when the session gap expires; the flush queries it.
 * - `exportAt` (closed passages only): the commit time; the flush exports by watermark over it, so
 *   exporting costs no write per passage.
 * - `pendingPublish`: set when the decision is taken. Its publish is recorded apart, in publish marks,
 *   one per group of decisions published together: a decision is unpublished while it is flagged here and
 *   unmarked there.
 * - `expireAtMs`: the retention (TTL). A record past it is treated as gone (the TTL deletes it up to a day late).
 *
 * Observations that did not make a passage complete where they arrived (deliveries spread over
 * instances) go to the radar's log first (`appendLog`); one sweeper at a time per radar, under a lease,
 * applies them to the records (`commitSweep`). See passage-sweep.ts.
 */
export class PassageStore {
  private readonly clock: Clock;
  private readonly retentionMs: number;
  private readonly nonOffenderRetentionMs: number;

  constructor(
    private readonly storage: PassageStorage,
    opts: PassageStoreOptions,
  ) {
    this.clock = opts.clock;
    this.retentionMs = opts.retentionMs;
    this.nonOffenderRetentionMs = Math.min(opts.nonOffenderRetentionMs ?? opts.retentionMs, opts.retentionMs);
  }

  /**
   * Writes a whole passage (passage.ts: wholePassage) with one create, no read; when the vehicle has a
   * record already (an earlier passage, a redelivery), applies the batch to it in a transaction instead.
   */
  async applyWhole(radar: Radar, whole: WholePassage): Promise<BatchOutcome> {
    const { alone, batch } = whole;
    const key = passages(passageKey(radar.id, alone.state.vehicleId));
    const now = this.clock.now();
    if (await this.storage.putIf('passage_create', key, this.record(alone.state, radar, now, true, true), null))
      return { ...alone, toPublish: [{ ...key, decision: alone.decided[0]! }], unconfirmed: [] };
    return this.storage.transact('vehicle_transaction', [key], async (tx) => {
      const prior = this.live(tx.get(key));
      const result = applyBatches(prior?.state ?? null, [batch], radar, this.clock.now());
      return { ...result, ...this.write(tx, radar, key.id, prior, result) };
    });
  }

  /**
   * Puts what applying observations changed into the transaction: displaced passages to the archive, the
   * vehicle's record. Returns the decisions taken now, and earlier ones a redelivery shows may never have
   * been published.
   */
  private write(
    tx: PassageTransaction,
    radar: Radar,
    id: string,
    prior: PassageRecord | null,
    result: ApplyResult,
  ): { toPublish: DecisionRef[]; unconfirmed: DecisionRef[] } {
    const now = this.clock.now();
    const pending = prior?.pendingPublish ?? null;
    const toPublish: DecisionRef[] = [];
    const unconfirmed: DecisionRef[] = [];
    const decidedNow = new Set(result.decided.map((d) => d.passageId));
    for (const d of result.displaced) {
      const passageId = d.decision!.passageId;
      const key = { table: 'archive', id: passageId } as const;
      tx.put(key, this.record(d, radar, now, decidedNow.has(passageId) || pending === passageId, true));
      if (decidedNow.has(passageId)) toPublish.push({ ...key, decision: d.decision! });
    }
    const state = result.state;
    if (result.changed) {
      const closedHere = state.status === 'closed' && decidedNow.has(state.decision!.passageId);
      tx.put(passages(id), this.record(state, radar, now, closedHere, closedHere));
      if (closedHere) toPublish.push({ ...passages(id), decision: state.decision! });
    } else if (state.status === 'closed' && pending === state.decision!.passageId) {
      // A redelivery after a crash between commit and publish: the caller publishes it unless recorded.
      if ([...result.outcomes.values()].some((o) => o.kind === 'duplicate'))
        unconfirmed.push({ ...passages(id), decision: state.decision! });
    }
    return { toPublish, unconfirmed };
  }

  /** Closes the passage in record `id` if its gap expired; returns the decision to publish, if any. */
  async closeIfExpired(id: string, radarOf: (id: string) => Radar | undefined): Promise<DecisionRef | null> {
    const key = passages(id);
    return this.storage.transact('gap_close', [key], async (tx) => {
      const record = tx.get(key);
      if (!record) return null;
      const radar = radarOf(record.state.radarId);
      if (!radar) return null;
      const now = this.clock.now();
      const closed = closeIfExpired(record.state, radar, now);
      if (!closed) return null;
      tx.put(key, this.record(closed, radar, now, true, true));
      return { ...key, decision: closed.decision! };
    });
  }

  /** The ids of open passages whose gap expired (their records), at most `limit`. */
  findExpiredOpen(limit: number): Promise<string[]> {
    return this.storage.dueOpen(this.clock.now(), limit);
  }

  /** Records that these decisions were published. */
  async markPublished(...refs: DecisionRef[]): Promise<void> {
    if (refs.length === 0) return;
    // As long as the passages: a flag on an archived passage is checked against these marks. The ids name the
    // vehicle, so those of passages not fined go in a mark of their own that expires with them.
    const now = this.clock.now();
    for (const [group, retentionMs] of [
      [refs.filter((r) => r.decision.isTicketed), this.retentionMs],
      [refs.filter((r) => !r.decision.isTicketed), this.nonOffenderRetentionMs],
    ] as const) {
      if (group.length > 0) await this.storage.addPublishMark([...new Set(group.map((r) => r.decision.passageId))], now + retentionMs);
    }
  }

  /** Whether a decision's publish was recorded (after a redelivery, before publishing it again). */
  async isPublished(passageId: string): Promise<boolean> {
    return (await this.storage.publishMarked([passageId])).has(passageId);
  }

  /** A record whose expiry has passed is treated as gone (the storage's TTL deletes it up to a day later). */
  private live(record: PassageRecord | null): PassageRecord | null {
    return record && record.expireAtMs !== null && record.expireAtMs <= this.clock.now() ? null : record;
  }

  /**
   * Reads the passage records (current and archived) committed in [fromMs, toMs) (by their export time,
   * which is indexed), at most `limit` per table, and deletes those whose expiry has passed (a passage not
   * fined: its decision + the non-offender retention). The storage's TTL deletes them too, but up to a day
   * late. `next`: where the next call starts (toMs when every page was short).
   */
  async deleteExpired(fromMs: number, toMs: number, limit: number): Promise<{ scanned: number; deleted: number; next: number }> {
    const now = this.clock.now();
    let scanned = 0;
    let deleted = 0;
    let next = toMs;
    for (const table of ['passages', 'archive'] as const) {
      const page = await this.storage.scanExported('retention_delete', table, fromMs, toMs, limit);
      const expired = page.filter((p) => p.record.expireAtMs !== null && p.record.expireAtMs <= now);
      await this.storage.deleteRecords(
        'retention_delete',
        table,
        expired.map((p) => p.id),
      );
      scanned += page.length;
      deleted += expired.length;
      // A full page: the next call starts at its last commit time (or just after, if the whole page shares it).
      const last = exportedAt(page[page.length - 1]?.record) ?? toMs;
      if (page.length >= limit) next = Math.min(next, last > fromMs ? last : fromMs + 1);
    }
    return { scanned, deleted, next };
  }

  /** Decided passages whose export time lies in [fromMs, toMs), oldest first; each says whether its publish is still unrecorded. */
  async scanForExport(table: PassageTable, fromMs: number, toMs: number, limit: number): Promise<ExportedPassage[]> {
    const page: { ref: DecisionRef; flagged: boolean; exportAtMs: number }[] = [];
    for (const { id, record } of await this.storage.scanExported('export_scan', table, fromMs, toMs, limit)) {
      const decision = record.state.decision;
      if (!decision) continue;
      page.push({ ref: { table, id, decision }, flagged: record.pendingPublish === decision.passageId, exportAtMs: exportedAt(record)! });
    }
    const flagged = page.filter((p) => p.flagged).map((p) => p.ref.decision.passageId);
    const published = flagged.length > 0 ? await this.storage.publishMarked(flagged) : new Set<string>();
    return page.map((p) => ({
      ref: p.ref,
      pendingPublish: p.flagged && !published.has(p.ref.decision.passageId),
      exportAtMs: p.exportAtMs,
    }));
  }

  /** Appends observations that did not complete a passage where they arrived to the radar's log (one blind create). */
  appendLog(radarId: string, items: readonly LoggedObservation[]): Promise<void> {
    return this.storage.appendLog(radarId, items, this.clock.now() + Math.min(LOG_RETENTION_MS, this.nonOffenderRetentionMs));
  }

  /** Who sweeps a radar's log now (a plain read, no lock). */
  async sweepLease(radarId: string): Promise<SweepLease> {
    const { record, version } = await this.storage.read('lease_read', lease(radarId));
    const live = record !== null && record.owner !== null && record.untilMs > this.clock.now();
    return { holder: live ? record.owner : null, version };
  }

  /**
   * Takes the radar's sweep lease, if it is still as `seen` showed it (free, expired or ours): a write
   * with a precondition, so instances racing for it do not wait on each other's locks; one wins.
   */
  async acquireSweep(radarId: string, owner: string, leaseMs: number, seen: SweepLease): Promise<boolean> {
    if (seen.holder !== null && seen.holder !== owner) return false;
    return this.storage.putIf('lease_acquire', lease(radarId), { owner, untilMs: this.clock.now() + leaseMs }, seen.version);
  }

  /**
   * The radar's log entries in commit order: those committed after `after`, or all of them (null). An
   * entry stays in the log until the sweep that wrote its observations deletes it.
   */
  readLog(radarId: string, after: LogCursor | null, limit: number): Promise<LogPage> {
    return this.storage.readLog(radarId, after, limit);
  }

  /**
   * In one transaction fenced by the lease: reads the vehicles' passage records, applies each vehicle's
   * batches in order, writes what changed, deletes the log entries whose observations are now all written,
   * renews the lease (or releases it). `beforeCommit` sees every outcome first (dead letters for late
   * observations go out before the commit that deletes them; it may run again if the transaction is
   * retried). Null when the lease was lost.
   */
  async commitSweep(
    radar: Radar,
    owner: string,
    vehicles: readonly VehicleBatches[],
    then: { deleteEntries: readonly string[]; leaseMs: number; release: boolean },
    beforeCommit: (swept: readonly SweptVehicle[]) => Promise<void>,
  ): Promise<SweptVehicle[] | null> {
    const keys = vehicles.map((v) => passages(passageKey(radar.id, v.vehicleId)));
    return this.storage.transact('sweep_commit', [lease(radar.id), ...keys], async (tx) => {
      if (tx.get(lease(radar.id))?.owner !== owner) return null; // fenced: another sweeper took over
      const now = this.clock.now();
      const swept: SweptVehicle[] = vehicles.map((v, i) => {
        const prior = this.live(tx.get(keys[i]!));
        const merged = applyBatches(prior?.state ?? null, v.batches, radar, now);
        const { toPublish, unconfirmed } = this.write(tx, radar, keys[i]!.id, prior, merged);
        return { vehicleId: v.vehicleId, state: merged.state, outcomes: merged.outcomes, toPublish, unconfirmed };
      });
      await beforeCommit(swept);
      for (const id of then.deleteEntries) tx.delete({ table: 'log', radarId: radar.id, id } satisfies RecordKey);
      tx.put(lease(radar.id), { owner: then.release ? null : owner, untilMs: then.release ? 0 : now + then.leaseMs });
      return swept;
    });
  }

  /** A passage as stored: the state with its gap expiry, export stamp, publish flag and retention. */
  private record(state: PassageState, radar: Radar, now: number, pendingPublish: boolean, exportNow: boolean): PassageRecord {
    const d = state.decision;
    return {
      state,
      // A passage that was not fined keeps its vehicle's identity for the non-offender retention after its decision.
      expireAtMs: d && !d.isTicketed ? d.decidedAtMs + this.nonOffenderRetentionMs : now + this.retentionMs,
      expiresAtMs: state.status === 'open' ? state.lastArrivalMs + sessionGap(state, radar) + radar.gapCloseDelayMs : null,
      exportAt: state.status === 'closed' && exportNow ? 'commit' : null,
      pendingPublish: pendingPublish && d ? d.passageId : null,
    };
  }
}

function exportedAt(record: PassageRecord | undefined): number | undefined {
  return typeof record?.exportAt === 'number' ? record.exportAt : undefined;
}
