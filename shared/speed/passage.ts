import { averageSpeed, judgeSpeed, radarThresholdKmh } from './average-speed.js';
import { describeTolerance } from './tolerance.js';
import type { Radar } from './radar.js';
import type { LatLon } from '../core/geo.js';
import type { Observation } from './observation.js';
import type { CloseReason, PassageReviewReason as ReviewReason, SpeedMethod } from '../contracts/passage-decision.js';
import { iso } from '../core/clock.js';

/** An observation as kept in the passage document (short keys: documents are billed by size). */
export interface StoredObservation {
  t: number;
  lat: number;
  lon: number;
  v: number | null;
  c: string | null;
  p: string | null;
  i: string | null;
  /** Pub/Sub publish time, ms: decision latency is measured from the last one */
  pub: number;
}

export interface PassageDecision {
  passageId: string;
  radarId: string;
  vehicleId: string;
  avgSpeedKmh: number | null;
  method: SpeedMethod;
  speedLimitKmh: number;
  /** the threshold's margin over the limit (threshold − limit), km/h */
  toleranceKmh: number;
  /** fined strictly above this measured speed; absent in decisions taken before tolerances were rules */
  thresholdKmh?: number;
  /** the tolerance rule it was judged by (describeTolerance: JSON text) */
  tolerance?: string;
  isTicketed: boolean;
  reviewReason: ReviewReason | null;
  observations: number;
  firstSeenMs: number;
  lastSeenMs: number;
  lastPublishMs: number;
  coordinates: LatLon;
  closeReason: CloseReason;
  decidedAtMs: number;
  plate: string | null;
  imageUri: string | null;
  /** every photo the cameras referenced (image_uri), in time order: the entry's and the exit's for a timed section */
  photos?: PassagePhoto[];
}

export interface PassagePhoto {
  camera: string | null;
  uri: string;
  at: string;
}

/** The state of one (radar, vehicle): its current passage, open or closed. */
export interface PassageState {
  radarId: string;
  vehicleId: string;
  status: 'open' | 'closed';
  obs: Record<string, StoredObservation>;
  firstSeenMs: number;
  lastSeenMs: number;
  /** processing time of the last accepted observation: the gap expiry is counted from it */
  lastArrivalMs: number;
  decision: PassageDecision | null;
}

export type ObservationOutcome = { kind: 'added' } | { kind: 'duplicate' } | { kind: 'late'; detail: string };

export interface ApplyResult {
  state: PassageState;
  /** false when nothing needs writing (only duplicates or late observations) */
  changed: boolean;
  /** decisions taken in this step, in order */
  decided: PassageDecision[];
  /** closed passages displaced from the document by a new passage of the same vehicle: keep them elsewhere */
  displaced: PassageState[];
  outcomes: Map<string, ObservationOutcome>;
}

export function passageKey(radarId: string, vehicleId: string): string {
  return `${radarId}~${vehicleId}`;
}

export function passageIdOf(state: Pick<PassageState, 'radarId' | 'vehicleId' | 'firstSeenMs'>): string {
  return `${state.radarId}~${state.vehicleId}~${state.firstSeenMs}`;
}

function toStored(o: Observation): StoredObservation {
  return {
    t: o.eventTimeMs,
    lat: o.location[0],
    lon: o.location[1],
    v: o.speedKmh,
    c: o.camera,
    p: o.plate,
    i: o.imageUri,
    pub: o.publishTimeMs,
  };
}

function openWith(o: Observation, nowMs: number): PassageState {
  return {
    radarId: o.radarId,
    vehicleId: o.vehicleId,
    status: 'open',
    obs: { [o.obsId]: toStored(o) },
    firstSeenMs: o.eventTimeMs,
    lastSeenMs: o.eventTimeMs,
    lastArrivalMs: nowMs,
    decision: null,
  };
}

/**
 * Merges a batch of observations of one (radar, vehicle) into its state. Pure and deterministic:
 * the batch is applied in event-time order, so the same observations give the same passages
 * whichever way they were batched.
 *
 * Session rule: an observation joins the passage when it lies within the gap of the passage's span;
 * beyond the end it starts a new passage (closing the current one by gap); before a passage that is
 * closed, or before the start of the open one, it is late. An observation already in the passage
 * (same content id) is a duplicate only within that span: a vehicle seen again after the gap with the
 * same spot speeds at the same points is a new passage.
 */
export function applyObservations(initial: PassageState | null, batch: readonly Observation[], radar: Radar, nowMs: number): ApplyResult {
  let state = initial;
  let changed = false;
  const decided: PassageDecision[] = [];
  const displaced: PassageState[] = [];
  const outcomes = new Map<string, ObservationOutcome>();
  const ordered = [...batch].sort((a, b) => a.eventTimeMs - b.eventTimeMs || (a.obsId < b.obsId ? -1 : 1));

  for (const o of ordered) {
    const t = o.eventTimeMs;
    const gap = state ? sessionGap(state, radar) : radar.sessionGapMs;
    // The same content within the passage is a duplicate (a redelivery keeps its publish time, so it
    // falls inside); the same vehicle again beyond the gap is a new passage, even with identical content.
    if (state && o.obsId in state.obs && t >= state.firstSeenMs - gap && t <= state.lastSeenMs + gap) {
      if (!outcomes.has(o.obsId)) outcomes.set(o.obsId, { kind: 'duplicate' });
      continue;
    }
    if (state === null) {
      state = openWith(o, nowMs);
    } else if (t > state.lastSeenMs + gap) {
      if (state.status === 'open') {
        const closed = close(state, radar, 'gap', nowMs);
        decided.push(closed.decision!);
        state = closed;
      }
      displaced.push(state);
      state = openWith(o, nowMs);
    } else if (state.status === 'closed') {
      outcomes.set(o.obsId, {
        kind: 'late',
        detail: `passage ${state.decision!.passageId} already closed (${state.decision!.closeReason})`,
      });
      continue;
    } else if (t < state.firstSeenMs - gap) {
      outcomes.set(o.obsId, { kind: 'late', detail: `event time is more than the session gap before open passage of ${state.vehicleId}` });
      continue;
    } else {
      state = {
        ...state,
        obs: { ...state.obs, [o.obsId]: toStored(o) },
        firstSeenMs: Math.min(state.firstSeenMs, t),
        lastSeenMs: Math.max(state.lastSeenMs, t),
        lastArrivalMs: Math.max(state.lastArrivalMs, nowMs),
      };
    }
    outcomes.set(o.obsId, { kind: 'added' });
    changed = true;
    const reason = completionReason(state, radar);
    if (reason) {
      state = close(state, radar, reason, nowMs);
      decided.push(state.decision!);
    }
  }
  if (state === null) throw new Error('applyObservations needs a state or at least one observation');
  return { state, changed, decided, displaced, outcomes };
}

/**
 * Batches applied in order on top of a state, as one result: the state after the last, every decision and
 * displaced passage, and each observation's first outcome.
 */
export function applyBatches(
  initial: PassageState | null,
  batches: readonly (readonly Observation[])[],
  radar: Radar,
  nowMs: number,
): ApplyResult {
  let merged: ApplyResult | null = null;
  for (const batch of batches) {
    const r = applyObservations(merged ? merged.state : initial, batch, radar, nowMs);
    if (!merged) merged = r;
    else {
      merged.state = r.state;
      merged.changed ||= r.changed;
      merged.decided.push(...r.decided);
      merged.displaced.push(...r.displaced);
      for (const [id, o] of r.outcomes) if (!merged.outcomes.has(id)) merged.outcomes.set(id, o);
    }
  }
  if (!merged) {
    if (initial === null) throw new Error('applyBatches needs a state or at least one observation');
    return { state: initial, changed: false, decided: [], displaced: [], outcomes: new Map() };
  }
  return merged;
}

/** A batch that forms one closed passage by itself (`wholePassage`), with that passage. */
export interface WholePassage {
  batch: readonly Observation[];
  /** the batch applied to no earlier state: one passage, closed, decided */
  alone: ApplyResult;
}

/**
 * The whole-passage rule: a batch of one (radar, vehicle) is a whole passage when, applied to no earlier
 * state, it opens one passage and closes it (its exit, or the radar's expected count) and starts no other.
 * Such a batch can be written with one create, and decided where it arrived; anything else is part of a
 * passage (to the radar's log). Null when the batch is not whole.
 */
export function wholePassage(batch: readonly Observation[], radar: Radar, nowMs: number): WholePassage | null {
  if (batch.length === 0) return null;
  const alone = applyObservations(null, batch, radar, nowMs);
  return alone.state.status === 'closed' && alone.displaced.length === 0 && alone.decided.length === 1 ? { batch, alone } : null;
}

/**
 * The session gap of a passage: the radar's gap, except while only one of the entry and exit cameras
 * has seen the vehicle, when the other may come up to the longest plausible travel time away.
 */
export function sessionGap(state: PassageState, radar: Radar): number {
  const obs = Object.values(state.obs);
  const entry = obs.some((x) => x.c === 'entry');
  const exit = obs.some((x) => x.c === 'exit');
  return entry !== exit ? Math.max(radar.sessionGapMs, radar.maxTravelMs) : radar.sessionGapMs;
}

/** Exit seen after entry, or the radar's expected number of observations reached. */
export function completionReason(state: PassageState, radar: Radar): CloseReason | null {
  if (state.status !== 'open') return null;
  const obs = Object.values(state.obs);
  const entry = obs.filter((x) => x.c === 'entry').reduce((m, x) => Math.min(m, x.t), Infinity);
  const exit = obs.filter((x) => x.c === 'exit').reduce((m, x) => Math.max(m, x.t), -Infinity);
  if (exit > entry) return 'exit';
  if (radar.expectedObservations !== null && obs.length >= radar.expectedObservations) return 'count';
  return null;
}

/** Closes an open passage whose gap expired in processing time (the scheduled flush calls this). */
export function closeIfExpired(state: PassageState, radar: Radar, nowMs: number): PassageState | null {
  if (state.status !== 'open' || nowMs < state.lastArrivalMs + sessionGap(state, radar) + radar.gapCloseDelayMs) return null;
  return close(state, radar, 'gap', nowMs);
}

export function close(state: PassageState, radar: Radar, reason: CloseReason, nowMs: number): PassageState {
  const obs = Object.values(state.obs);
  const speed = averageSpeed(
    obs.map((x) => ({ t: x.t, location: [x.lat, x.lon] as const, speedKmh: x.v, camera: x.c })),
    radar,
  );
  // Short of the radar's expected observations when the gap closes it: never fined on partial data.
  const incomplete =
    reason === 'gap' && radar.expectedObservations !== null && obs.length < radar.expectedObservations && speed.method !== 'entry_exit';
  const verdict =
    incomplete && speed.avgSpeedKmh !== null
      ? { isTicketed: false, reviewReason: 'incomplete_passage' as const }
      : judgeSpeed(speed.avgSpeedKmh, radar);
  const byTime = [...obs].sort((a, b) => a.t - b.t);
  const decision: PassageDecision = {
    passageId: passageIdOf(state),
    radarId: state.radarId,
    vehicleId: state.vehicleId,
    avgSpeedKmh: speed.avgSpeedKmh,
    method: speed.method,
    speedLimitKmh: radar.speedLimitKmh,
    toleranceKmh: radarThresholdKmh(radar) - radar.speedLimitKmh,
    thresholdKmh: radarThresholdKmh(radar),
    tolerance: describeTolerance(radar.tolerance),
    isTicketed: verdict.isTicketed,
    reviewReason: verdict.reviewReason,
    observations: obs.length,
    firstSeenMs: state.firstSeenMs,
    lastSeenMs: state.lastSeenMs,
    lastPublishMs: obs.reduce((m, x) => Math.max(m, x.pub), 0),
    coordinates: speed.coordinates,
    closeReason: reason,
    decidedAtMs: nowMs,
    plate: byTime.find((x) => x.p !== null)?.p ?? null,
    imageUri: [...byTime].reverse().find((x) => x.i !== null)?.i ?? null,
    photos: byTime
      .filter((x) => x.i !== null)
      .slice(-4)
      .map((x) => ({ camera: x.c, uri: x.i!, at: iso(x.t) })),
  };
  return { ...state, status: 'closed', decision };
}
