import type { Logger } from '../core/logger.js';
import type { DecisionRef } from './passage-store.js';
import type { PassageState } from './passage.js';

/** When this instance saw an observation pass each stage (wall-clock ms; operational, not the domain clock). */
export interface ObservationTimes {
  /** the handler received it */
  arrivedMs: number;
  /** its message's id (to match it with the delivery's own logs) */
  messageId: string;
  /** its group commit launched: the whole-passage write, or the log append */
  commitStartMs?: number;
  /** the log entry holding it was created (log path only) */
  appendedMs?: number;
}

/** The sweep's side of a decision: when the entry holding its last observation was read, and the commit that decided it. */
export interface SweepTimes {
  /** the episode read the entry (undefined: read by an earlier episode of this sweep) */
  readMs?: number;
  /** the episode that decided it started (lease read and acquire before it) */
  episodeStartMs: number;
  commitStartMs: number;
  /** how many times the commit's transaction ran (more than 1: contention or an aborted attempt) */
  attempts: number;
}

/** How many observations' times an instance keeps (oldest dropped): enough for the sweep to find a burst's. */
const KEEP = 20_000;

/**
 * Where a decision's latency goes, stage by stage: the speed check records when this instance received
 * an observation and committed it, the sweep when it read and decided it, and `logDecided` writes one
 * DEBUG line per decision published (`passage timing`), with the stages of its last-published observation.
 * What another instance did (a sweep on an instance that did not receive the observation) is left out.
 * Operational only: nothing reads it back.
 */
export class PassageTimings {
  private readonly times = new Map<string, ObservationTimes>();

  arrived(obsId: string, messageId: string): void {
    if (this.times.has(obsId)) return; // a redelivery: the first arrival is the one that counts
    this.times.set(obsId, { arrivedMs: Date.now(), messageId });
    if (this.times.size > KEEP) this.times.delete(this.times.keys().next().value!);
  }

  commitStarted(obsIds: readonly string[]): void {
    const now = Date.now();
    for (const id of obsIds) {
      const t = this.times.get(id);
      if (t && t.commitStartMs === undefined) t.commitStartMs = now;
    }
  }

  appended(obsIds: readonly string[]): void {
    const now = Date.now();
    for (const id of obsIds) {
      const t = this.times.get(id);
      if (t && t.appendedMs === undefined) t.appendedMs = now;
    }
  }

  /**
   * One line per decision just published: `path` (`whole`: written where its burst arrived; `sweep`), and
   * for the last-published observation of the passage, ms from its publish to each stage. Passages not
   * fined are logged without their vehicle (docs/data-retention.md), so no passage id: the method and the
   * stages are what the breakdown needs.
   */
  logDecided(
    logger: Logger,
    path: 'whole' | 'sweep',
    decided: readonly { ref: DecisionRef; state: PassageState | null; committedMs: number; sweep?: SweepTimes }[],
    publishedMs: number,
  ): void {
    for (const { ref, state, committedMs, sweep } of decided) {
      const d = ref.decision;
      const pub = d.lastPublishMs;
      const last = state?.decision?.passageId === d.passageId ? lastPublished(state) : undefined;
      const t = last === undefined ? undefined : this.times.get(last);
      const since = (ms: number | undefined) => (ms === undefined ? null : ms - pub);
      logger.debug('passage timing', {
        path,
        method: d.method,
        observations: d.observations,
        message_id: t?.messageId ?? null,
        // ms after the last observation's publish (Pub/Sub publishTime) at which each stage happened
        arrived: since(t?.arrivedMs),
        commit_start: since(t?.commitStartMs),
        appended: since(t?.appendedMs),
        episode_start: since(sweep?.episodeStartMs),
        read: since(sweep?.readMs),
        sweep_commit_start: since(sweep?.commitStartMs),
        decided: d.decidedAtMs - pub,
        committed: committedMs - pub,
        published: publishedMs - pub,
        attempts: sweep?.attempts ?? null,
      });
    }
  }
}

/** The id of the passage's observation published last. */
function lastPublished(state: PassageState): string | undefined {
  let best: string | undefined;
  let at = -Infinity;
  for (const [id, o] of Object.entries(state.obs)) {
    if (o.pub > at) {
      at = o.pub;
      best = id;
    }
  }
  return best;
}
