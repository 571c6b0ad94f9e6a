import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  // Everything the tests (and the libraries they drive: Playwright, Chromium) put in the temp directory
  // goes into one folder of this run, removed at teardown: workers start after this and inherit TMPDIR.
  const runTmp = mkdtempSync(join(tmpdir(), 'speedcam-test-run-'));
  const outerTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = runTmp;
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
    if (outerTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = outerTmp;
    rmSync(runTmp, { recursive: true, force: true });
  };
}
