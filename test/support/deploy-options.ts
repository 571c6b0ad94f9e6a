import type { DeployOptions } from '../../cli/deploy.js';

/** The deploy script's options for a made-up project, as the deploy tests plan it (nothing runs). */
export const deployOptions = (o: Partial<DeployOptions> = {}): DeployOptions => ({
  project: 'my-proj',
  region: 'us-east1',
  prefix: 'speedcam',
  firestoreDatabase: 'create',
  firestoreLocation: 'nam5',
  bigqueryLocation: 'US',
  sourceZip: '.deploy/source.zip',
  sourceSha256: 'ab'.repeat(32),
  filesDir: '/tmp/speedcam-deploy-files',
  iamWaitS: 90,
  ...o,
});
