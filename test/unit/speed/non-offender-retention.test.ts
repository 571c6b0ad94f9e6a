import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BigQueryWarehouse } from '../../../shared/platform/bigquery-warehouse.js';
import { DuckDbWarehouse } from '../../../shared/platform/duckdb-warehouse.js';
import { passageRow } from '../../../shared/speed/decision.js';
import {
  EXPORT_MARGIN_MS,
  exportedPassageRow,
  FIRESTORE_MARGIN_MS,
  NON_OFFENDER_PASSAGES,
  nonOffenderRetentionSteps,
  pseudonymOf,
} from '../../../shared/speed/non-offender-retention.js';
import type { PassageDecision } from '../../../shared/speed/passage.js';
import type { PseudonymisationSpec, Warehouse } from '../../../shared/export/warehouse.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { ManualClock, testConfig } from '../../support/fixtures.js';

const H = 3_600_000;
const RETENTION = 72 * H;
const t0 = Date.parse('2026-12-01T10:00:00Z');

function decision(vehicleId: string, isTicketed: boolean, decidedAtMs = t0): PassageDecision {
  return {
    passageId: `r1~${vehicleId}~${decidedAtMs - 30_000}`,
    radarId: 'r1',
    vehicleId,
    avgSpeedKmh: isTicketed ? 60 : 30,
    method: 'entry_exit',
    speedLimitKmh: 40,
    toleranceKmh: 0,
    thresholdKmh: 40,
    tolerance: '{}',
    isTicketed,
    reviewReason: null,
    observations: 2,
    firstSeenMs: decidedAtMs - 30_000,
    lastSeenMs: decidedAtMs - 1000,
    lastPublishMs: decidedAtMs - 900,
    coordinates: [40.76, -73.97],
    closeReason: 'exit',
    decidedAtMs,
    plate: vehicleId,
    imageUri: `gs://caps/r1/${vehicleId}.jpg`,
  };
}

describe('a passage row exported late never carries the identifier of a vehicle not fined', () => {
  it('within the retention (less the margin): as it is; after: pseudonymised; a fined one: always as it is', () => {
    const slow = decision('SLOW1', false);
    expect(exportedPassageRow(slow, t0 + RETENTION - EXPORT_MARGIN_MS - 1, RETENTION, 'k')).toEqual(passageRow(slow));
    const late = exportedPassageRow(slow, t0 + RETENTION - EXPORT_MARGIN_MS, RETENTION, 'k');
    const token = pseudonymOf(slow.passageId, 'k');
    expect(token).toMatch(/^anon-[0-9a-f]{32}$/);
    expect(late).toMatchObject({
      row_id: token,
      passage_id: token,
      vehicle_id: token,
      license_plate: null,
      image_uri: null,
      avg_speed: 30,
      is_Ticketed: false,
    });
    expect(JSON.stringify(late)).not.toContain('SLOW1');
    // another key (another process, another run): another pseudonym, so none can be recomputed from a plate later
    expect(pseudonymOf(slow.passageId, 'k2')).not.toBe(token);
    const fast = decision('FAST1', true);
    expect(exportedPassageRow(fast, t0 + 30 * 24 * H, RETENTION, 'k')).toEqual(passageRow(fast));
  });
});

describe('the warehouse adapters pseudonymise the same rows the same way', () => {
  const dir = mkdtempSync(join(tmpdir(), 'speedcam-retention-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('DuckDB: only rows not fined in [from, to) that still carry an identifier; the SQL pseudonym is pseudonymOf; idempotent', async () => {
    const wh = await DuckDbWarehouse.open(join(dir, 'wh.duckdb'));
    try {
      const rows = [
        decision('OLD1', false, t0 - H),
        decision('IN1', false, t0),
        decision('IN2', false, t0 + H - 1),
        decision('FINED1', true, t0),
        decision('NEW1', false, t0 + H),
      ];
      await wh.upsert('vehicle_passages', rows.map(passageRow));
      const r = await wh.pseudonymise(NON_OFFENDER_PASSAGES, { fromMs: t0, toMs: t0 + H }, 'key-1');
      expect(r).toEqual({ rows: 2, bytesBilled: null });
      const after = await wh.query(
        `SELECT row_id, passage_id, vehicle_id, license_plate, image_uri FROM speedcam.vehicle_passages ORDER BY decided_at, is_Ticketed`,
      );
      const token = (d: PassageDecision) => pseudonymOf(d.passageId, 'key-1');
      expect(after.map((x) => x['vehicle_id'])).toEqual(['OLD1', token(rows[1]!), 'FINED1', token(rows[2]!), 'NEW1']);
      expect(after[1]).toEqual({
        row_id: token(rows[1]!),
        passage_id: token(rows[1]!),
        vehicle_id: token(rows[1]!),
        license_plate: null,
        image_uri: null,
      });
      expect(after.find((x) => x['vehicle_id'] === 'FINED1')).toMatchObject({
        license_plate: 'FINED1',
        image_uri: 'gs://caps/r1/FINED1.jpg',
      });
      // again, with another key: nothing to do
      expect(await wh.pseudonymise(NON_OFFENDER_PASSAGES, { fromMs: 0, toMs: t0 + H }, 'key-2')).toEqual({ rows: 1, bytesBilled: null }); // OLD1 only
      expect(await wh.pseudonymise(NON_OFFENDER_PASSAGES, { fromMs: 0, toMs: t0 + H }, 'key-3')).toEqual({ rows: 0, bytesBilled: null });
    } finally {
      await wh.close();
    }
  });

  it('BigQuery: one DML job bounded on the partition column, skipping pseudonymised rows; reports rows and billed bytes', async () => {
    const jobs: { query: string; params: Record<string, unknown> }[] = [];
    const client = {
      dataset: () => ({}),
      createQueryJob: async (o: { query: string; params: Record<string, unknown> }) => {
        jobs.push(o);
        return [
          {
            getQueryResults: async () => [[]],
            getMetadata: async () => [{ statistics: { query: { numDmlAffectedRows: '1234', totalBytesBilled: '52428800' } } }],
          },
        ];
      },
    };
    const wh = new BigQueryWarehouse(client as never, 'speedcam');
    const spec: PseudonymisationSpec = NON_OFFENDER_PASSAGES;
    expect(await wh.pseudonymise(spec, { fromMs: t0, toMs: t0 + H }, 'secret')).toEqual({ rows: 1234, bytesBilled: 52_428_800 });
    expect(jobs).toHaveLength(1);
    const q = jobs[0]!.query;
    expect(q).toMatch(/^UPDATE `speedcam\.vehicle_passages` SET /);
    for (const c of ['row_id', 'passage_id', 'vehicle_id'])
      expect(q).toContain(`\`${c}\` = CONCAT('anon-', SUBSTR(TO_HEX(SHA256(CONCAT(@key, row_id))), 1, 32))`);
    expect(q).toContain('`license_plate` = NULL, `image_uri` = NULL');
    expect(q).toContain(
      'WHERE NOT `is_Ticketed` AND `decided_at` >= TIMESTAMP_MILLIS(@from_ms) AND `decided_at` < TIMESTAMP_MILLIS(@to_ms)',
    );
    expect(q).toContain("AND NOT STARTS_WITH(`row_id`, 'anon-')");
    expect(jobs[0]!.params).toEqual({ key: 'secret', from_ms: t0, to_ms: t0 + H });
  });
});

describe('the flush steps', () => {
  it('Firestore every run from its cursor; the warehouse once an hour from its watermark (the first run: everything before)', async () => {
    const clock = new ManualClock(t0);
    const calls: { fromMs: number; toMs: number; key: string }[] = [];
    const wh = {
      pseudonymise: async (_: PseudonymisationSpec, range: { fromMs: number; toMs: number }, key: string) => (
        calls.push({ ...range, key }),
        { rows: 3, bytesBilled: null }
      ),
    } as unknown as Warehouse;
    const scans: [number, number][] = [];
    const store = { deleteExpired: async (from: number, to: number) => (scans.push([from, to]), { scanned: 5, deleted: 4, next: to }) };
    const config = testConfig({ SPEEDCAM_NON_OFFENDER_RETENTION_H: '72' });
    let k = 0;
    const [firestore, warehouse] = nonOffenderRetentionSteps({ config, store, clock, logger: silentLogger }, () => `key-${++k}`);
    const ctx = (mark: number) => ({ mark, warehouse: async () => wh });
    const f1 = await firestore!.run(ctx(0));
    expect(f1).toEqual({ mark: t0 - RETENTION - FIRESTORE_MARGIN_MS, report: { firestore_scanned: 5, firestore_deleted: 4 } });
    const w1 = await warehouse!.run(ctx(0));
    expect(w1).toEqual({ mark: t0 - RETENTION, report: { rows_pseudonymised: 3, bytes_billed: null, ms: expect.any(Number) } });
    expect(calls).toEqual([{ fromMs: 0, toMs: t0 - RETENTION, key: 'key-1' }]);
    clock.advance(60_000);
    expect(await firestore!.run(ctx(f1!.mark))).toMatchObject({ mark: t0 + 60_000 - RETENTION - FIRESTORE_MARGIN_MS });
    expect(scans[1]).toEqual([f1!.mark, t0 + 60_000 - RETENTION - FIRESTORE_MARGIN_MS]);
    clock.advance(H - 60_000 - 1);
    expect(await warehouse!.run(ctx(w1!.mark))).toBeNull();
    clock.advance(1);
    await warehouse!.run(ctx(w1!.mark));
    expect(calls[1]).toEqual({ fromMs: t0 - RETENTION, toMs: t0 + H - RETENTION, key: 'key-2' });
  });

  it('SPEEDCAM_NON_OFFENDER_RETENTION_H: 72 by default; a wrong value names the variable', () => {
    expect(testConfig().nonOffenderRetentionMs).toBe(RETENTION);
    expect(testConfig({ SPEEDCAM_NON_OFFENDER_RETENTION_H: '24' }).nonOffenderRetentionMs).toBe(24 * H);
    expect(() => testConfig({ SPEEDCAM_NON_OFFENDER_RETENTION_H: '0' })).toThrow(/SPEEDCAM_NON_OFFENDER_RETENTION_H/);
  });
});
