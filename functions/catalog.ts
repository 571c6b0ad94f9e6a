import type { Config } from '../shared/config.js';

/** Every deployable function: its entry point and the topic that triggers it. */
export interface FunctionSpec {
  /** folder under functions/ */
  dir: string;
  entryPoint: string;
  triggerTopic: (c: Config) => string;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  { dir: 'vehicle-observations', entryPoint: 'vehicleObservations', triggerTopic: (c) => c.topics.vehicleObservations },
  { dir: 'dead-letters', entryPoint: 'deadLetters', triggerTopic: (c) => c.topics.deadLetters },
  { dir: 'flush', entryPoint: 'flush', triggerTopic: (c) => c.topics.flushTicks },
];
