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
  { dir: 'dead-letters', entryPoint: 'deadLetters', triggerTopic: (c) => c.topics.deadLetters, concurrency: 50 },
  { dir: 'flush', entryPoint: 'flush', triggerTopic: (c) => c.topics.flushTicks, concurrency: 1 },
];
