import type { Config } from '../shared/config.js';

/** Every deployable function: its entry point and the topic that triggers it. */
export interface FunctionSpec {
  /** folder under functions/ */
  dir: string;
  entryPoint: string;
  triggerTopic: (c: Config) => string;
  /** requests one instance handles at once (Cloud Functions concurrency; the local relay's flow control) */
  concurrency: number;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  // Many concurrent deliveries per instance: the group commit needs the burst in one place.
  { dir: 'vehicle-observations', entryPoint: 'vehicleObservations', triggerTopic: (c) => c.topics.vehicleObservations, concurrency: 250 },
  // OCR is CPU-bound: a few photos at a time per instance.
  { dir: 'fines', entryPoint: 'fines', triggerTopic: (c) => c.topics.speedingVehicles, concurrency: 4 },
  // Window pipelines: one group commit per instance for all keys, so many concurrent deliveries.
  { dir: 'click-events', entryPoint: 'clickEvents', triggerTopic: (c) => c.topics.clickEvents, concurrency: 250 },
  { dir: 'transactions', entryPoint: 'transactions', triggerTopic: (c) => c.topics.transactions, concurrency: 250 },
  { dir: 'user-registrations', entryPoint: 'userRegistrations', triggerTopic: (c) => c.topics.userRegistrations, concurrency: 50 },
  { dir: 'dead-letters', entryPoint: 'deadLetters', triggerTopic: (c) => c.topics.deadLetters, concurrency: 50 },
  { dir: 'flush', entryPoint: 'flush', triggerTopic: (c) => c.topics.flushTicks, concurrency: 1 },
];
