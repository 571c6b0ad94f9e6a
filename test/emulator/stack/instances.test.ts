import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { haversineKm } from '../../../shared/core/geo.js';
import { spotSpeedMessage, sectionPoints } from '../../../cli/generators/traffic.js';
import { startStack, type Stack } from '../../../cli/stack.js';
import { emulatorPort, stackOnTestEmulators } from '../../support/fixtures.js';

/**
 * The local stack as Cloud Run runs a function: several processes behind a dispatcher. Function processes
 * and the bench run compiled, so this file builds dist/ first.
 */
const dirs: string[] = [];
let stack: Stack | undefined;
let ps: PubSub | undefined;

beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}, 240_000);

afterAll(async () => {
  await ps?.close();
  await stack?.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'speedcam-instances-'));
  dirs.push(d);
  return d;
}

describe('several instances per function', () => {
  it('spreads deliveries over 3 processes; one killed and restarted mid-run: every vehicle decided once, exactly', async () => {
    const at = stackOnTestEmulators();
    stack = await startStack({
      ...at,
      flushIntervalMs: 0,
      dataDir: tmp(),
      only: ['vehicleObservations'],
      instances: { vehicleObservations: 3 },
      echoSeverity: 'ERROR',
    });
    expect(stack.info.instances).toEqual({ vehicleObservations: 3 });
    ps = new PubSub({ projectId: at.project });
    const decided = new Map<string, Record<string, unknown>[]>();
    for (const topic of [stack.info.topics.nonFinedVehicles, stack.info.topics.speedingVehicles]) {
      const [sub] = await ps.topic(topic).createSubscription(`inst-${topic}`);
      sub.on('message', (m: Message) => {
        const body = JSON.parse(m.data.toString()) as Record<string, unknown>;
        decided.set(String(body['vehicle_id']), [...(decided.get(String(body['vehicle_id'])) ?? []), body]);
        m.ack();
      });
    }
    const radar = stack.runtime.config.radars.get(stack.runtime.config.defaultRadarId)!;
    const pts = sectionPoints(radar.entry, radar.exit, 10);
    let x = 11;
    const rand = () => (x = (x * 48271) % 2147483647) / 2147483647;
    const vehicles = Array.from({ length: 24 }, (_, i) => ({
      id: `Ins${String(i).padStart(3, '0')}`,
      speeds: pts.map(() => 25 + rand() * 65),
    }));
    const topic = ps.topic(stack.info.topics.vehicleObservations);
    const publish = (vs: typeof vehicles) =>
      Promise.all(
        vs.flatMap((v) => pts.map((p, j) => topic.publishMessage({ data: Buffer.from(spotSpeedMessage(v.id, v.speeds[j]!, p)) }))),
      );
    const servedBy = async (i: number) => (await stack!.instanceStats())['vehicleObservations']![i]!.requests;
    await publish(vehicles.slice(0, 12));
    await vi.waitFor(async () => expect(await servedBy(0)).toBeGreaterThan(0), { timeout: 30_000, interval: 100 });
    // SIGKILL while deliveries are under way; the dispatcher routes around it until its replacement listens.
    await stack.crashFunction('vehicleObservations', 200, 0);
    const beforeRestart = await servedBy(0);
    await publish(vehicles.slice(12));
    await vi.waitFor(() => expect(decided.size).toBe(24), { timeout: 60_000, interval: 250 });

    for (const v of vehicles) {
      const [d, ...again] = decided.get(v.id)!;
      // Repeats of one passage_id are the documented at-least-once of the topic (a kill between publish and mark).
      expect(new Set(again.map((a) => a['passage_id']))).toEqual(new Set(again.length ? [d!['passage_id']] : []));
      let dist = 0;
      let hours = 0;
      for (let i = 0; i + 1 < pts.length; i++) {
        const seg = haversineKm(pts[i]!, pts[i + 1]!);
        dist += seg;
        hours += seg / ((v.speeds[i]! + v.speeds[i + 1]!) / 2);
      }
      expect(d!['avg_speed'] as number).toBeCloseTo(dist / hours, 6);
      expect(d!['observations']).toBe(10);
    }
    const stats = (await stack.instanceStats())['vehicleObservations']!;
    expect(stats).toHaveLength(3);
    expect(stats.every((s) => s.requests > 0)).toBe(true);
    expect(stats[0]!.restarts).toBe(1);
    expect(stats[0]!.requests).toBeGreaterThan(beforeRestart); // the new process serves
    expect(stats.every((s) => s.report !== null && s.report.cpuMs > 0)).toBe(true);
  });

  it('npm run bench:load -- --quick prints one table: a row per figure, a column per cell', async () => {
    const dir = tmp();
    const out = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [
          'dist/bench/load.js',
          '--quick',
          '--pubsub-port',
          String(emulatorPort('pubsubHost')),
          '--firestore-port',
          String(emulatorPort('firestoreHost')),
          '--data-dir',
          dir,
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
        },
      );
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.once('exit', (code) => resolve({ code, stdout }));
    });
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toBe('| | 1× · 1 inst. | 1× · 2 inst. |');
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(l.split('|').length).toBe(5);
    const labels = lines.slice(2).map((l) => l.split('|')[1]!.trim());
    for (const figure of [
      'decision latency p50 / p95 / p99, ms',
      'Firestore per observation: reads / writes',
      'function CPU ms per observation',
      'busy fraction per instance: mean / max',
      '**$ per million observations**',
    ]) {
      expect(labels).toContain(figure);
    }
    const json = JSON.parse(readFileSync(join(dir, 'bench-load.json'), 'utf8')) as {
      cells: { decided: number; vehicles: number; wrong: number }[];
    };
    expect(json.cells).toHaveLength(2);
    for (const c of json.cells) expect(c).toMatchObject({ decided: c.vehicles, wrong: 0 });
  }, 180_000);
});
