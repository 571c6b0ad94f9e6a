import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCarsApi, type CarsApi } from '../../../cli/cars-api.js';
import { clickRow, transactionMessage } from '../../../cli/generators/events.js';
import { sectionPoints, spotSpeedMessage } from '../../../cli/generators/traffic.js';
import type { Stack, StackOptions } from '../../../cli/stack.js';
import { DuckDbWarehouse } from '../../../shared/platform/duckdb-warehouse.js';
import { stackOnTestEmulators } from '../../support/fixtures.js';

/**
 * Environment variables given to `npm run stack` reach every function: those served in the stack's own
 * process and those in their own processes (cli/serve-functions.js, which needs compiled JavaScript:
 * this test compiles the sources into a temporary folder inside the repository and runs the stack from there).
 */
const build = resolve('.speedcam', `build-${randomUUID().slice(0, 8)}`);
let stack: Stack | undefined;
let ps: PubSub | undefined;
let dataDir: string;
/** the user's own cars API on 127.0.0.1, named in SPEEDCAM_CARS_API: the stack starts none of its own */
let usersCarsApi: CarsApi | undefined;
const loopbackBefore = process.env['SPEEDCAM_PHOTO_ALLOW_LOOPBACK'];

beforeAll(async () => {
  const at = stackOnTestEmulators();
  execFileSync(resolve('node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', build, '--sourceMap', 'false'], {
    stdio: 'pipe',
  });
  const { startStack } = (await import(pathToFileURL(join(build, 'cli/stack.js')).href)) as {
    startStack: (o: StackOptions) => Promise<Stack>;
  };
  // as a shell would: in the environment of the stack's process, not in its options
  process.env['SPEEDCAM_PIPELINES'] = JSON.stringify({
    transactions: { window_s: 10, lateness_s: 2 },
    clicks: { window_s: 20, lateness_s: 2 },
  });
  dataDir = mkdtempSync(join(tmpdir(), 'speedcam-env-'));
  usersCarsApi = await startCarsApi({ port: 0 });
  process.env['SPEEDCAM_CARS_API'] = usersCarsApi.url;
  delete process.env['SPEEDCAM_PHOTO_ALLOW_LOOPBACK'];
  stack = await startStack({ ...at, flushIntervalMs: 1000, dataDir, isolate: ['transactions', 'review'], echoSeverity: 'ERROR' });
  ps = new PubSub({ projectId: at.project });
}, 180_000);

afterAll(async () => {
  delete process.env['SPEEDCAM_PIPELINES'];
  delete process.env['SPEEDCAM_CARS_API'];
  if (loopbackBefore === undefined) delete process.env['SPEEDCAM_PHOTO_ALLOW_LOOPBACK'];
  else process.env['SPEEDCAM_PHOTO_ALLOW_LOOPBACK'] = loopbackBefore;
  await ps?.close();
  await stack?.stop();
  await usersCarsApi?.close();
  rmSync(build, { recursive: true, force: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run stack', () => {
  it('passes its environment to the functions in its process and to those in their own processes', async () => {
    const s = stack!;
    let x = 17;
    const random = () => (x = (x * 48271) % 2147483647) / 2147483647;
    await Promise.all([
      ...Array.from({ length: 20 }, () =>
        ps!.topic(s.info.topics.transactions).publishMessage({ data: Buffer.from(transactionMessage(Date.now(), random)) }),
      ),
      ...Array.from({ length: 20 }, () =>
        ps!.topic(s.info.topics.clickEvents).publishMessage({ data: Buffer.from(clickRow('ABC', Date.now(), random)) }),
      ),
    ]);
    await vi.waitFor(
      async () => {
        const wh = await DuckDbWarehouse.open(s.info.warehouse, { readOnly: true });
        try {
          // 10 s windows from the transactions process, 20 s windows from the stack's own clicks function
          const [r] = await wh.query(`SELECT
            (SELECT sum(total_transactions) FROM speedcam.transaction_windows) AS tx,
            (SELECT min(epoch_ms(window_end_time) - epoch_ms(window_start_time)) FROM speedcam.transaction_windows) AS tx_len,
            (SELECT max(epoch_ms(window_end_time) - epoch_ms(window_start_time)) FROM speedcam.transaction_windows) AS tx_len_max,
            (SELECT sum(event_count) FROM speedcam.user_event_counts) AS clicks,
            (SELECT min(epoch_ms(window_end) - epoch_ms(window_start)) FROM speedcam.user_event_counts) AS click_len,
            (SELECT max(epoch_ms(window_end) - epoch_ms(window_start)) FROM speedcam.user_event_counts) AS click_len_max`);
          expect(r).toEqual({ tx: 20, tx_len: 10_000, tx_len_max: 10_000, clicks: 20, click_len: 20_000, click_len_max: 20_000 });
        } finally {
          await wh.close();
        }
      },
      { timeout: 90_000, interval: 1000 },
    );
  }, 120_000);

  it("reads fines' photos from the user's own cars API on 127.0.0.1 (loopback allowed whenever the stack runs)", async () => {
    const s = stack!;
    expect(s.info.carsApi).toBe(usersCarsApi!.url);
    expect(s.runtime.config.photos.fetch.allowLoopback).toBe(true);
    const radar = s.runtime.config.radars.get(s.runtime.config.defaultRadarId)!;
    const vehicleId = `Own${randomUUID().slice(0, 6)}`;
    // 80 km/h at every point: fined; seed format, so the only photo source is the cars API
    await Promise.all(
      sectionPoints(radar.entry, radar.exit, 10).map((p) =>
        ps!.topic(s.info.topics.vehicleObservations).publishMessage({ data: Buffer.from(spotSpeedMessage(vehicleId, 80, p)) }),
      ),
    );
    await vi.waitFor(
      async () => {
        const wh = await DuckDbWarehouse.open(s.info.warehouse, { readOnly: true });
        try {
          const rows = await wh.query(
            `SELECT photo_source, review_reason, image_url FROM speedcam.fined_vehicles WHERE vehicle_id = '${vehicleId}'`,
          );
          expect(rows).toHaveLength(1);
          expect(rows[0]!['photo_source']).toBe('cars_api');
          // a blocked loopback address would have issued it without a photo, flagged photo_forbidden
          expect(String(rows[0]!['review_reason'] ?? '')).not.toMatch(/^photo_/);
          expect(String(rows[0]!['image_url'])).toMatch(/^file:\/\//);
        } finally {
          await wh.close();
        }
      },
      { timeout: 90_000, interval: 1000 },
    );
    expect(usersCarsApi!.requests.some((r) => r.vehicleId === vehicleId)).toBe(true);
  }, 120_000);
  it('serves the review page and its API in its own process: READY names the URL and the token, which the API requires', async () => {
    const r = stack!.info.review!;
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(r.token.length).toBeGreaterThanOrEqual(16);
    const page = await fetch(r.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Held fines');
    expect((await fetch(`${r.url}reviews?status=pending`)).status).toBe(401);
    const ok = await fetch(`${r.url}reviews?status=pending`, { headers: { authorization: `Bearer ${r.token}` } });
    expect(ok.status).toBe(200);
    // the fines of the other tests here may be held: a list, whatever its length
    expect((await ok.json()) as { reviews: unknown }).toMatchObject({ reviews: expect.any(Array) });
  });
});
