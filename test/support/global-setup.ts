import type { TestProject } from 'vitest/node';
import { ensureEmulator, freePort, isUp, type Emulator } from '../../cli/emulators.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pubsubHost: string;
    firestoreHost: string;
  }
}

/**
 * Starts the Pub/Sub and Firestore emulators once for the run, on free ports (or reuses the ones named
 * by PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST when they answer), and stops what it started.
 */
export default async function setup(project: TestProject) {
  const started: Emulator[] = [];
  const pick = async (name: 'pubsub' | 'firestore', envHost: string | undefined) => {
    if (envHost && (await isUp(envHost))) return envHost;
    const emu = await ensureEmulator(name, await freePort(), { logDir: '.speedcam/test-emulators' });
    started.push(emu);
    return emu.host;
  };
  const [pubsubHost, firestoreHost] = await Promise.all([
    pick('pubsub', process.env['PUBSUB_EMULATOR_HOST']),
    pick('firestore', process.env['FIRESTORE_EMULATOR_HOST']),
  ]);
  project.provide('pubsubHost', pubsubHost);
  project.provide('firestoreHost', firestoreHost);
  return async () => {
    await Promise.all(started.map((e) => e.stop()));
  };
}
