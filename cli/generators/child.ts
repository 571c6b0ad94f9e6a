import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ReadyInfo } from '../stack.js';
import type { GeneratedEvents } from './events.js';
import type { GeneratedVehicle } from './traffic.js';

/** Where a generator run writes its manifest, and where its progress lines go. */
export interface GeneratorRun {
  dataDir: string;
  log: (line: string) => void;
}

const CLI = fileURLToPath(new URL('../speedcam.js', import.meta.url));

/**
 * Runs `speedcam generate …` as its own process, as a user runs it (its photo rendering does not share
 * the caller's event loop), against the stack, and reads back the manifest of what it generated.
 */
async function generate<T>(run: GeneratorRun, label: string, args: string[], show: RegExp): Promise<T> {
  const manifest = join(run.dataDir, `generated-${label}.json`);
  const child = spawn(process.execPath, [CLI, 'generate', ...args, '--manifest', manifest], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
  });
  createInterface({ input: child.stderr! }).on('line', (l) => {
    if (show.test(l) || /rror/.test(l)) run.log(`  ${label}: ${l.trim()}`);
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`the ${label} generator exited with ${code}`);
  return JSON.parse(readFileSync(manifest, 'utf8')) as T;
}

/** Radar traffic in one format, with its photos in the stack's captures bucket: the vehicles and their plates. */
export function runTrafficGenerator(
  run: GeneratorRun,
  info: ReadyInfo,
  mode: 'seed' | 'timed',
  vehicles: number,
  rate: number,
  capturesBucket: string,
): Promise<GeneratedVehicle[]> {
  return generate(
    run,
    mode,
    [
      'traffic',
      '--mode',
      mode,
      '--vehicles',
      String(vehicles),
      '--rate',
      String(rate),
      '--speeding-share',
      mode === 'seed' ? '0.25' : '0.3',
      '--project',
      info.project,
      '--topic',
      info.topics.vehicleObservations,
      '--emulator',
      info.pubsub,
      '--objects-dir',
      info.objects,
      '--captures-bucket',
      capturesBucket,
    ],
    /vehicles, \d+ messages|^done/,
  );
}

/** GA4 clicks, transactions or registrations, 10 % published twice and 2 % malformed: the distinct messages sent. */
export function runEventGenerator(
  run: GeneratorRun,
  info: ReadyInfo,
  kind: 'clicks' | 'transactions' | 'users',
  count: number,
  rate: number,
): Promise<GeneratedEvents> {
  const topic =
    kind === 'clicks' ? info.topics.clickEvents : kind === 'transactions' ? info.topics.transactions : info.topics.userRegistrations;
  return generate(
    run,
    kind,
    [
      kind,
      '--count',
      String(count),
      '--rate',
      String(rate),
      '--duplicate-share',
      '0.1',
      '--malformed-share',
      '0.02',
      '--project',
      info.project,
      '--topic',
      topic,
      '--emulator',
      info.pubsub,
    ],
    /^done/,
  );
}
