import { randomUUID } from 'node:crypto';
import type { Radar } from './radar.js';
import type { SpeedConfig } from './settings.js';
import type { Effects } from '../core/effects.js';
import type { Observation } from './observation.js';
import { applyObservations, type ObservationOutcome, type PassageState } from './passage.js';
import type { DecisionRef, PassageStore, SweepLease, SweptVehicle, VehicleBatches } from './passage-store.js';
import type { LogCursor, LogEntry, LoggedObservation } from './passage-storage.js';
import type { PassageTimings } from './passage-timing.js';

/** What the sweep learnt about one observation: its outcome, and the dead letter sent when it was late. */
export type SweepOutcome = ObservationOutcome & { deadLetterId?: string };

/** What the speed path's parts (speed check, sweep) work with. */
export interface SpeedPathDeps extends Effects {
  config: SpeedConfig;
  store: PassageStore;
}

export interface SweepDeps extends SpeedPathDeps {
  /** publishes decisions and records them published (speed-check.ts: publishDecisions) */
  publishDecisions: (refs: readonly DecisionRef[]) => Promise<void>;
  /** dead-letters a late observation (speed-check.ts: sendToDeadLetters); returns the dead letter's id */
  deadLetterLate: (item: LoggedObservation, detail: string) => Promise<string>;
  /** the speed check's record of when observations arrived here (DEBUG `passage timing` lines) */
  timings?: PassageTimings;
}

export interface SweepTiming {
  /** the lease; renewed at every commit of an episode */
  leaseMs: number;
  /** an episode ends after this long (another instance, or the next episode, continues) */
  episodeMs: number;
  /**
   * a request sweeps for at most about this long, then leaves the rest to the next instance that appends
   * (under request-based billing a sweep runs inside a request, and that request's message waits for it)
   */
  maxSweepMs: number;
  /** pause between log reads while entries keep coming, so one read takes several */
  paceMs: number;
  /** an episode ends after this many empty reads in a row, `quietMs` apart (the burst is over) */
  quietReads: number;
  quietMs: number;
  /** at least this long between two commits of an episode (each writes the lease document) */
  commitEveryMs: number;
  /** log entries per read */
  readLimit: number;
}

export const DEFAULT_SWEEP_TIMING: SweepTiming = {
  leaseMs: 15_000,
  episodeMs: 3_000,
  maxSweepMs: 30_000,
  paceMs: 25,
  quietReads: 2,
  quietMs: 50,
  commitEveryMs: 100,
  readLimit: 200,
};

/** Per sweep commit: vehicles (with a displaced passage, up to 2 writes each) and log entries deleted, within a transaction's 500 writes. */
const COMMIT_VEHICLES = 150;
const COMMIT_DELETES = 150;

/**
 * The sweep: applies a radar's observation log to its passage documents, one sweeper at a time.
 *
 * Why: Cloud Run spreads a vehicle's 10 deliveries over its instances. If each instance updated the
 * vehicle's document, a vehicle would cost one transaction per instance it touched, all contending on one
 * document (measured: 7.6 transactions per vehicle at 4 instances, 21 at 16; docs/benchmarks.md). Instead an instance that did not receive a whole
 * passage appends what it received, for every vehicle at once, to the radar's log (one blind create per
 * group commit, no read), and acks. Then, unless another instance holds the radar's sweep lease, it takes
 * it and sweeps: it reads the new entries (each entry read once), gathers each vehicle's observations in
 * log order, and writes a vehicle when its passage closes (one transaction per commit, one read and one
 * write per vehicle, the lease document fencing it), publishing the decisions after the commit. When the
 * log stays quiet it writes what is still open, deletes what it wrote, releases the lease and reads the
 * log once more, so an entry appended while it was releasing is not left behind.
 *
 * Exactly the passages the per-vehicle transactions would give: entries are applied in commit order, each
 * as one batch (applyObservations), on top of the document read in the committing transaction.
 * Crash-safe: an entry is deleted by the same transaction that writes the last of its observations, so
 * the log holds exactly what is not written yet; a successor reads it from the start and finds anything
 * already written a duplicate. Nothing relies on the order in which commits become visible: before an
 * episode ends it reads whatever is left in the log. Late observations are dead-lettered before the
 * commit that deletes them; decisions committed but not published stay flagged, and the flush publishes
 * them.
 */
export class PassageSweeper {
  private readonly owner = `sweeper-${randomUUID()}`;
  private readonly running = new Map<string, Promise<Map<string, SweepOutcome>>>();
  /** appends per radar: one made while an episode was releasing makes it sweep once more */
  private readonly appends = new Map<string, number>();

  constructor(
    private readonly deps: SweepDeps,
    private readonly timing: SweepTiming = DEFAULT_SWEEP_TIMING,
  ) {}

  /**
   * After this instance appended observations to a radar's log: sweeps unless another instance does.
   * Resolves with the outcomes of those observations when this call swept them; empty when another
   * sweeper (on this instance or another) takes them.
   */
  async afterAppend(radarId: string, obsIds: readonly string[]): Promise<Map<string, SweepOutcome>> {
    this.appends.set(radarId, (this.appends.get(radarId) ?? 0) + 1);
    if (this.running.has(radarId)) return new Map(); // this instance's episode reads the log until it is quiet
    const lease = await this.deps.store.sweepLease(radarId);
    if (lease.holder !== null && lease.holder !== this.owner) return new Map();
    if (this.running.has(radarId)) return new Map();
    const outcomes = await this.sweep(radarId, lease);
    return new Map(obsIds.filter((id) => outcomes.has(id)).map((id) => [id, outcomes.get(id)!]));
  }

  /** Sweeps every radar whose lease is free (the flush calls this: a sweeper that died leaves entries behind). */
  async sweepAll(): Promise<void> {
    for (const radarId of this.deps.config.radars.keys()) if (!this.running.has(radarId)) await this.sweep(radarId, null);
  }

  /** Episodes until the log is swept or another instance holds the lease; every outcome learnt, by observation. */
  private sweep(radarId: string, lease: SweepLease | null): Promise<Map<string, SweepOutcome>> {
    const run = (async () => {
      const all = new Map<string, SweepOutcome>();
      const started = performance.now();
      try {
        for (let seen = lease; ; seen = null) {
          const r = await this.episode(radarId, seen ?? (await this.deps.store.sweepLease(radarId)));
          for (const [k, v] of r.outcomes) all.set(k, v);
          // An entry appended while the episode released the lease: its author saw the lease held (or this
          // episode running) and left it to us. The episode's last read finds it, or the count of appends does.
          const more = r.more || this.appends.get(radarId) !== r.appendsAtLastRead;
          // (`finally` runs in this same step: no append can slip between this check and the flag's removal)
          if (!more || performance.now() - started >= this.timing.maxSweepMs) return all;
        }
      } finally {
        this.running.delete(radarId);
      }
    })();
    this.running.set(radarId, run);
    return run;
  }

  private async episode(
    radarId: string,
    lease: SweepLease,
  ): Promise<{ outcomes: Map<string, SweepOutcome>; more: boolean; appendsAtLastRead: number | undefined }> {
    const { store, faults, logger } = this.deps;
    const t = this.timing;
    const outcomes = new Map<string, SweepOutcome>();
    const radar = this.deps.config.radars.get(radarId);
    if (!radar || !(await store.acquireSweep(radarId, this.owner, t.leaseMs, lease)))
      return { outcomes, more: false, appendsAtLastRead: this.appends.get(radarId) };

    // Episode pacing is operational time (performance.now), not the domain clock tests move by hand.
    const started = performance.now();
    const episodeStartMs = Date.now();
    /** when this episode read each observation (wall clock, for the timing lines) */
    const readAt = new Map<string, number>();
    /** each unwritten vehicle's batches, in log order */
    const pending = new Map<string, Observation[][]>();
    /** entries read and not deleted yet, with the vehicles of theirs still unwritten */
    const open = new Map<string, Set<string>>();
    const seen = new Set<string>();
    const logged = new Map<string, LoggedObservation>();
    /** states as this episode wrote them (other vehicles are read in the committing transaction) */
    const known = new Map<string, PassageState>();
    let cursor: LogCursor | null = null;
    let quiet = 0;
    let lastCommit = -Infinity;
    const take = (entries: readonly LogEntry[]) => {
      let fresh = 0;
      const readMs = Date.now();
      for (const e of entries) {
        if (seen.has(e.id)) continue;
        seen.add(e.id);
        fresh++;
        const byVehicle = new Map<string, Observation[]>();
        for (const item of e.items) {
          logged.set(item.obs.obsId, item);
          if (!readAt.has(item.obs.obsId)) readAt.set(item.obs.obsId, readMs);
          byVehicle.set(item.obs.vehicleId, [...(byVehicle.get(item.obs.vehicleId) ?? []), item.obs]);
        }
        for (const [vehicleId, batch] of byVehicle) pending.set(vehicleId, [...(pending.get(vehicleId) ?? []), batch]);
        open.set(e.id, new Set(byVehicle.keys()));
      }
      return fresh;
    };
    /** entries that hold no unwritten observation once these vehicles are written */
    const deletable = (vehicleIds: readonly string[]) => {
      const written = new Set(vehicleIds);
      return [...open].filter(([, vs]) => [...vs].every((v) => written.has(v))).map(([id]) => id);
    };
    const commit = async (vehicleIds: readonly string[], release: boolean): Promise<boolean> => {
      const deleteEntries = deletable(vehicleIds).slice(0, COMMIT_DELETES);
      faults.check('sweep.beforeCommit');
      const commitStartMs = Date.now();
      let attempts = 0;
      const swept = await store.commitSweep(
        radar,
        this.owner,
        vehicleIds.map((vehicleId): VehicleBatches => ({ vehicleId, batches: pending.get(vehicleId)! })),
        { deleteEntries, leaseMs: t.leaseMs, release },
        (s) => (attempts++, this.deadLetterLate(s, logged, outcomes)),
      );
      const committedMs = Date.now();
      lastCommit = performance.now();
      if (swept === null) {
        logger.warn('sweep lease lost', { radar_id: radarId });
        return false;
      }
      for (const v of vehicleIds) pending.delete(v);
      for (const id of deleteEntries) open.delete(id);
      for (const [, vs] of open) for (const v of vehicleIds) vs.delete(v);
      for (const s of swept) {
        known.set(s.vehicleId, s.state);
        for (const [id, o] of s.outcomes) if (!outcomes.has(id)) outcomes.set(id, o);
      }
      faults.check('sweep.afterCommit');
      await this.publish(swept);
      this.deps.timings?.logDecided(
        logger,
        'sweep',
        swept.flatMap((v) =>
          v.toPublish.map((ref) => {
            const last = Object.entries(v.state.obs).reduce<[string, number] | null>(
              (m, [id, o]) => (m && m[1] >= o.pub ? m : [id, o.pub]),
              null,
            );
            const readMs = last ? readAt.get(last[0]) : undefined;
            return { ref, state: v.state, committedMs, sweep: { readMs, episodeStartMs, commitStartMs, attempts } };
          }),
        ),
        Date.now(),
      );
      if (swept.length > 0)
        logger.debug('sweep committed', {
          radar_id: radarId,
          vehicles: swept.length,
          decided: swept.reduce((n, s) => n + s.toPublish.length, 0),
          entries_deleted: deleteEntries.length,
        });
      return true;
    };

    try {
      for (;;) {
        const { entries, last } = await store.readLog(radarId, cursor, t.readLimit);
        if (last) cursor = last;
        quiet = take(entries) === 0 ? quiet + 1 : 0;
        let ending = quiet >= t.quietReads || performance.now() - started >= t.episodeMs;
        if (ending) {
          // Reading by commit time can miss an entry that became visible after a later one: whatever is
          // still in the log (entries are deleted once written) is read once more before the episode ends.
          if (take((await store.readLog(radarId, null, t.readLimit)).entries) > 0 && performance.now() - started < t.episodeMs) {
            ending = false;
            quiet = 0;
          }
        }
        if (ending) {
          // Everything read is written now, open passages too, in chunks a transaction takes.
          for (;;) {
            const vehicles = [...pending.keys()].slice(0, COMMIT_VEHICLES);
            const last = pending.size <= COMMIT_VEHICLES && deletable(vehicles).length <= COMMIT_DELETES;
            if (!(await commit(vehicles, last))) return { outcomes, more: false, appendsAtLastRead: this.appends.get(radarId) };
            if (last) break;
          }
          break;
        }
        // Mid-episode a vehicle is written when its passage closes (or an observation is late or a duplicate).
        if (performance.now() - lastCommit >= t.commitEveryMs) {
          const now = this.deps.clock.now();
          // A vehicle this episode has not written is judged from nothing, so an exit camera's observation, which
          // may close a passage whose entry an earlier episode wrote, is written now too (the commit reads the
          // stored state): a timed section's decision does not wait for the end of a busy episode.
          const due = [...pending]
            .filter(([vehicleId, batches]) =>
              known.has(vehicleId)
                ? settles(known.get(vehicleId)!, batches, radar, now)
                : settles(null, batches, radar, now) || batches.some((b) => b.some((o) => o.camera === 'exit')),
            )
            .map(([v]) => v);
          if (due.length > 0 && !(await commit(due.slice(0, COMMIT_VEHICLES), false)))
            return { outcomes, more: false, appendsAtLastRead: this.appends.get(radarId) };
        }
        await new Promise((r) => setTimeout(r, entries.length === 0 ? t.quietMs : t.paceMs));
      }
    } catch (err) {
      // The lease free for the next sweeper (best effort: otherwise it expires). Nothing unwritten was deleted.
      await store
        .commitSweep(radar, this.owner, [], { deleteEntries: [], leaseMs: t.leaseMs, release: true }, async () => {})
        .catch(() => undefined);
      throw err;
    }
    // Released: an entry appended since our last read saw the lease held and left it to us.
    const appendsAtLastRead = this.appends.get(radarId);
    const { entries } = await store.readLog(radarId, null, 1);
    return { outcomes, more: entries.length > 0, appendsAtLastRead };
  }

  /** Before the commit: dead letters for the late observations (the same ids if the commit is retried). */
  private async deadLetterLate(
    swept: readonly SweptVehicle[],
    logged: Map<string, LoggedObservation>,
    outcomes: Map<string, SweepOutcome>,
  ): Promise<void> {
    for (const s of swept) {
      for (const [obsId, o] of s.outcomes) {
        const item = logged.get(obsId);
        if (o.kind !== 'late' || !item) continue;
        outcomes.set(obsId, { ...o, deadLetterId: await this.deps.deadLetterLate(item, o.detail) });
      }
    }
  }

  private async publish(swept: readonly SweptVehicle[]): Promise<void> {
    const refs = swept.flatMap((s) => s.toPublish);
    for (const ref of swept.flatMap((s) => s.unconfirmed)) if (!(await this.deps.store.isPublished(ref.decision.passageId))) refs.push(ref);
    if (refs.length > 0) await this.deps.publishDecisions(refs);
  }
}

/** Whether applying the batches changes something worth writing now: a passage closes, or an observation is late or a duplicate. */
function settles(state: PassageState | null, batches: readonly Observation[][], radar: Radar, nowMs: number): boolean {
  let s = state;
  for (const batch of batches) {
    const r = applyObservations(s, batch, radar, nowMs);
    if (r.decided.length > 0 || [...r.outcomes.values()].some((o) => o.kind !== 'added')) return true;
    s = r.state;
  }
  return false;
}
