import type { Config } from '../shared/config.js';

/** Every deployable function: its entry point and the topic that triggers it. */
export interface FunctionSpec {
  /** folder under functions/ */
  dir: string;
  entryPoint: string;
  triggerTopic: (c: Config) => string;
  /** requests one instance handles at once (Cloud Functions concurrency; the local relay's flow control) */
  concurrency: number;
  memory: '256Mi' | '512Mi' | '1Gi' | '2Gi';
  maxInstances: number;
  /** what the function's own service account may do (least privilege; Terraform and the deploy script grant these) */
  grants: readonly Grant[];
}

export type Grant =
  | { role: 'roles/datastore.user'; on: 'project' }
  | { role: 'roles/pubsub.publisher'; on: 'topic'; topic: keyof Config['topics'] }
  | { role: 'roles/bigquery.dataEditor'; on: 'dataset' }
  | { role: 'roles/bigquery.jobUser'; on: 'project' }
  | { role: 'roles/storage.objectViewer' | 'roles/storage.objectCreator' | 'roles/storage.objectAdmin'; on: 'bucket'; bucket: 'captures' | 'evidence' };

const firestore: Grant = { role: 'roles/datastore.user', on: 'project' };
const publishes = (...topics: (keyof Config['topics'])[]): Grant[] => topics.map((topic) => ({ role: 'roles/pubsub.publisher', on: 'topic', topic }));

export const FUNCTIONS: readonly FunctionSpec[] = [
  // Many concurrent deliveries per instance: the group commit needs the burst in one place.
  { dir: 'vehicle-observations', entryPoint: 'vehicleObservations', triggerTopic: (c) => c.topics.vehicleObservations, concurrency: 250, memory: '512Mi', maxInstances: 20, grants: [firestore, ...publishes('nonFinedVehicles', 'speedingVehicles', 'deadLetters')] },
  // OCR is CPU-bound: a few photos at a time per instance.
  { dir: 'fines', entryPoint: 'fines', triggerTopic: (c) => c.topics.speedingVehicles, concurrency: 4, memory: '1Gi', maxInstances: 10, grants: [firestore, ...publishes('fineNotifications', 'deadLetters'), { role: 'roles/storage.objectViewer', on: 'bucket', bucket: 'captures' }, { role: 'roles/storage.objectAdmin', on: 'bucket', bucket: 'evidence' }] },
  // Window pipelines: one group commit per instance for all keys, so many concurrent deliveries.
  { dir: 'click-events', entryPoint: 'clickEvents', triggerTopic: (c) => c.topics.clickEvents, concurrency: 250, memory: '512Mi', maxInstances: 20, grants: [firestore, ...publishes('deadLetters')] },
  { dir: 'transactions', entryPoint: 'transactions', triggerTopic: (c) => c.topics.transactions, concurrency: 250, memory: '512Mi', maxInstances: 20, grants: [firestore, ...publishes('deadLetters')] },
  { dir: 'user-registrations', entryPoint: 'userRegistrations', triggerTopic: (c) => c.topics.userRegistrations, concurrency: 50, memory: '256Mi', maxInstances: 5, grants: [firestore, ...publishes('deadLetters')] },
  { dir: 'dead-letters', entryPoint: 'deadLetters', triggerTopic: (c) => c.topics.deadLetters, concurrency: 50, memory: '256Mi', maxInstances: 5, grants: [firestore] },
  // One flush at a time (the lease fences it anyway); it republishes decisions, notifications and late events.
  { dir: 'flush', entryPoint: 'flush', triggerTopic: (c) => c.topics.flushTicks, concurrency: 1, memory: '512Mi', maxInstances: 1, grants: [firestore, { role: 'roles/bigquery.dataEditor', on: 'dataset' }, { role: 'roles/bigquery.jobUser', on: 'project' }, ...publishes('nonFinedVehicles', 'speedingVehicles', 'fineNotifications', 'deadLetters')] },
];
