import { Rejection } from '../core/rejection.js';
import { publishDecisionMessage, publishDecisions } from './decision.js';
import { sendToDeadLetters } from '../dead-letters/send.js';
import { GroupCommitter } from '../core/group-commit.js';
import { parseObservation, type Observation } from './observation.js';
import { passageKey, wholePassage } from './passage.js';
import type { DecisionRef } from './passage-store.js';
import type { LoggedObservation } from './passage-storage.js';
import { DEFAULT_SWEEP_TIMING, PassageSweeper, type SpeedPathDeps, type SweepOutcome, type SweepTiming } from './passage-sweep.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import { PassageTimings } from './passage-timing.js';

export interface SpeedCheckDeps extends SpeedPathDeps {
  /** tests shorten the sweep's pauses */
  sweepTiming?: SweepTiming;
}

export type ObservationResult =
  | { status: 'added' | 'duplicate'; obsId: string }
  /** durable in the radar's log; the sweep (on this or another instance) decides it */
  | { status: 'logged'; obsId: string }
  | { status: 'dead_letter'; reason: string; deadLetterId: string };

type Outcome = SweepOutcome | { kind: 'logged' };
/**
 * A committed item's outcome, possibly still to come from the sweep. Boxed, so that a batch's commit
 * settles (and the next batch of its key may start) once the observations are durable, while the
 * requests wait for the sweep.
 */
interface Later {
  outcome: Promise<Outcome>;
}

/**
 * The observation function's logic: parse → passage state → decisions published.
 *
 * Two levels of group commit. Per vehicle: a burst that reaches one instance whole (all the radar's
 * expected observations, or entry and exit) is one passage, written with one create, no read. What did not
 * complete a passage where it arrived (Cloud Run spread the burst over instances, or it came late) goes,
 * per radar and for all vehicles at once, to the radar's observation log, and the sweep applies it
 * (passage-sweep.ts). A message resolves only once its observation is durable; anything transient throws
 * so Pub/Sub redelivers, and every effect is keyed so that the redelivery changes nothing.
 */
export class SpeedCheck {
  private readonly perVehicle: GroupCommitter<{ obs: Observation; msg: InboundMessage }, Later>;
  private readonly perRadarLog: GroupCommitter<LoggedObservation, Later>;
  private readonly marks: GroupCommitter<DecisionRef, undefined>;
  readonly sweeper: PassageSweeper;
  private readonly bursts = new BurstLocality();
  /** observations sent to the log without trying a per-vehicle batch first (BurstLocality's log mode) */
  private readonly direct = new WeakSet<LoggedObservation>();
  /**
   * the observations of bursts that arrived whole here lately (per vehicle, the latest burst): the same observations
   * delivered again by Pub/Sub, alone or in part, say nothing about how bursts arrive, so BurstLocality does not
   * count them (a vehicle's next passage has new observation ids, and counts)
   */
  private readonly wholeHere = new Map<string, ReadonlySet<string>>();
  /** where decisions' latency goes (DEBUG `passage timing` lines) */
  readonly timings = new PassageTimings();

  constructor(private readonly deps: SpeedCheckDeps) {
    const radarOf = (key: string) => deps.config.radars.get(key.slice(0, key.indexOf('~')));
    this.perVehicle = new GroupCommitter((key, items) => this.commitVehicle(key, items), {
      waitMs: deps.config.groupCommitWaitMs,
      maxBatch: (key) => radarOf(key)?.expectedObservations ?? 50,
      // A burst that is a whole passage already (entry and exit, or the expected count) waits for nothing more.
      // One observation closes nothing (unless a radar expects one): the passage rule runs from the second on.
      complete: (key, items) => {
        const radar = radarOf(key);
        if (!radar || items.length < Math.min(2, radar.expectedObservations ?? 2)) return false;
        return (
          wholePassage(
            items.map((i) => i.obs),
            radar,
            deps.clock.now(),
          ) !== null
        );
      },
    });
    this.perRadarLog = new GroupCommitter((radarId, items) => this.commitLog(radarId, items), {
      waitMs: deps.config.logCommitWaitMs,
      maxBatch: () => 500,
    });
    // Publish marks of decisions taken one vehicle at a time share a write.
    this.marks = new GroupCommitter(
      async (_, refs) => {
        await deps.store.markPublished(...refs);
        return refs.map(() => undefined);
      },
      { waitMs: MARK_WAIT_MS, maxBatch: () => 500 },
    );
    this.sweeper = new PassageSweeper(
      {
        ...deps,
        timings: this.timings,
        publishDecisions: (refs) => publishDecisions(deps, refs),
        deadLetterLate: async (item, detail) =>
          (await sendToDeadLetters(deps, deps.config.topics.vehicleObservations, item.msg, new Rejection('late', detail, item.obs.obsId)))
            .dead_letter_id,
      },
      deps.sweepTiming ?? DEFAULT_SWEEP_TIMING,
    );
  }

  async handle(msg: InboundMessage): Promise<ObservationResult> {
    const { config, clock, logger } = this.deps;
    const parsed = parseObservation(msg, config, clock.now());
    if (parsed instanceof Rejection) return this.deadLetter(msg, parsed);
    this.timings.arrived(parsed.obsId, msg.messageId);
    // Where bursts arrive spread over instances, waiting for the rest of a vehicle here only adds latency.
    // An observation whose vehicle has a batch gathering here joins it (a probe takes the rest of its burst).
    const key = passageKey(parsed.radarId, parsed.vehicleId);
    const later =
      this.perVehicle.gathering(key) || this.bursts.arriveWhole()
        ? this.perVehicle.submit(key, { obs: parsed, msg })
        : this.toLog(parsed, msg);
    const outcome = await (await later).outcome;
    logger.debug('observation recorded', { obs_id: parsed.obsId, vehicle_id: parsed.vehicleId, outcome: outcome.kind });
    if (outcome.kind === 'late') {
      // Dead-lettered already when the sweep found it late; else here, with this message.
      const id =
        'deadLetterId' in outcome && outcome.deadLetterId
          ? outcome.deadLetterId
          : (
              await sendToDeadLetters(
                this.deps,
                config.topics.vehicleObservations,
                msg,
                new Rejection('late', outcome.detail, parsed.obsId),
              )
            ).dead_letter_id;
      return { status: 'dead_letter', reason: 'late', deadLetterId: id };
    }
    return { status: outcome.kind, obsId: parsed.obsId };
  }

  /** The flush's safety net: sweeps the radars' logs a sweeper that died left behind. */
  sweepAll(): Promise<void> {
    return this.sweeper.sweepAll();
  }

  /** One vehicle's observations that arrived together here: a whole passage is written at once, the rest logged. */
  private async commitVehicle(key: string, items: readonly { obs: Observation; msg: InboundMessage }[]): Promise<Later[]> {
    const { config, store, faults, clock } = this.deps;
    const first = items[0]!.obs;
    const radar = config.radars.get(first.radarId)!;
    const batch = items.map((i) => i.obs);
    const whole = wholePassage(batch, radar, clock.now());
    this.recordBurst(key, batch, whole !== null);
    if (!whole) {
      // (not recorded again by the log's commit: only observations sent to the log directly are)
      // Part of a passage: to the radar's log (one write for every vehicle that arrived meanwhile).
      return Promise.all(items.map((i) => this.perRadarLog.submit(radar.id, i)));
    }
    this.timings.commitStarted(batch.map((o) => o.obsId));
    faults.check('observation.beforeCommit');
    const outcome = await store.applyWhole(radar, whole);
    const committedMs = Date.now();
    faults.check('observation.afterCommit');
    const refs = [...outcome.toPublish];
    for (const ref of outcome.unconfirmed) if (!(await store.isPublished(ref.decision.passageId))) refs.push(ref);
    await Promise.all(refs.map((ref) => publishDecisionMessage(this.deps, ref)));
    faults.check('decision.afterPublish');
    await Promise.all(refs.map((ref) => this.marks.submit('marks', ref)));
    this.timings.logDecided(
      this.deps.logger,
      'whole',
      outcome.toPublish.map((ref) => ({ ref, state: outcome.state, committedMs })),
      Date.now(),
    );
    this.deps.logger.debug('batch committed', { key, size: items.length, decided: outcome.decided.length });
    return batch.map((o) => ({ outcome: Promise.resolve(outcome.outcomes.get(o.obsId)!) }));
  }

  /** Tells BurstLocality whether a vehicle's observations arrived here as a whole burst, unless they are a whole burst's again. */
  private recordBurst(key: string, batch: readonly Observation[], whole: boolean): void {
    if (whole) {
      this.wholeHere.delete(key);
      this.wholeHere.set(key, new Set(batch.map((o) => o.obsId)));
      // the oldest first: a Map iterates in insertion order
      if (this.wholeHere.size > WHOLE_KEYS_KEPT) this.wholeHere.delete(this.wholeHere.keys().next().value!);
    } else {
      const seen = this.wholeHere.get(key);
      if (seen && batch.every((o) => seen.has(o.obsId))) return;
    }
    this.bursts.record(whole);
  }

  /** Straight to the radar's log (bursts arrive spread over instances); the log's commit tells BurstLocality what it saw. */
  private toLog(obs: Observation, msg: InboundMessage): Promise<Later> {
    const item = { obs, msg };
    this.direct.add(item);
    return this.perRadarLog.submit(obs.radarId, item);
  }

  /**
   * Whether the vehicles of observations sent straight to the log arrived whole here after all (each vehicle's
   * observations in this log batch, alone): the share BurstLocality keeps follows the traffic in either mode.
   */
  private recordLocality(radarId: string, items: readonly LoggedObservation[]): void {
    const radar = this.deps.config.radars.get(radarId);
    if (!radar) return;
    const byVehicle = new Map<string, Observation[]>();
    for (const i of items) if (this.direct.has(i)) byVehicle.set(i.obs.vehicleId, [...(byVehicle.get(i.obs.vehicleId) ?? []), i.obs]);
    for (const batch of byVehicle.values())
      this.recordBurst(passageKey(radarId, batch[0]!.vehicleId), batch, wholePassage(batch, radar, this.deps.clock.now()) !== null);
  }

  /** Observations of many vehicles appended to the radar's log in one write; then the sweep, unless another instance sweeps. */
  private async commitLog(radarId: string, items: readonly LoggedObservation[]): Promise<Later[]> {
    const { store, faults } = this.deps;
    this.recordLocality(radarId, items);
    const ids = items.map((i) => i.obs.obsId);
    this.timings.commitStarted(ids);
    faults.check('observation.beforeCommit');
    await store.appendLog(radarId, items);
    this.timings.appended(ids);
    faults.check('observation.afterCommit');
    const swept = this.sweeper.afterAppend(
      radarId,
      items.map((i) => i.obs.obsId),
    );
    return items.map((i) => ({ outcome: swept.then((outcomes): Outcome => outcomes.get(i.obs.obsId) ?? { kind: 'logged' }) }));
  }

  private async deadLetter(msg: InboundMessage, rejection: Rejection): Promise<ObservationResult> {
    const dl = await sendToDeadLetters(this.deps, this.deps.config.topics.vehicleObservations, msg, rejection);
    return { status: 'dead_letter', reason: dl.reason, deadLetterId: dl.dead_letter_id };
  }
}

/** How long publish marks wait for more marks before they are written together. */
const MARK_WAIT_MS = 20;
/** How many vehicles written whole SpeedCheck remembers, to tell their redelivered observations from bursts arriving in parts. */
const WHOLE_KEYS_KEPT = 2000;

/**
 * Whether this instance receives vehicles' bursts whole (one instance, or deliveries that stick) or spread
 * over instances (Cloud Run's load balancer, several instances): the share of per-vehicle batches that
 * formed a whole passage, over the last ones. While it stays low, observations go to the log straight
 * away; one in `PROBE_EVERY` still tries the per-vehicle batch (and the rest of its vehicle that arrives while
 * it gathers joins it), and the log's commits record, per vehicle, whether what came straight to the log was a
 * whole burst: so the share follows the traffic in either mode. (Probes alone could not bring it back: a probe
 * that is one observation of a vehicle is never whole, and while the share stays low, only probes recorded.)
 */
export class BurstLocality {
  private recent: boolean[] = [];
  private seen = 0;
  constructor(
    private readonly window = 40,
    private readonly threshold = 0.2,
    private readonly probeEvery = 20,
  ) {}
  record(whole: boolean): void {
    this.recent.push(whole);
    if (this.recent.length > this.window) this.recent.shift();
  }
  arriveWhole(): boolean {
    if (this.recent.length < this.window / 2 || this.seen++ % this.probeEvery === 0) return true;
    return this.recent.filter(Boolean).length / this.recent.length >= this.threshold;
  }
}
