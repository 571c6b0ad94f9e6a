import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Firestore } from '@google-cloud/firestore';
import type { Warehouse } from '../../../shared/export/warehouse.js';
import { timedVehicleMessages } from '../../../cli/generators/traffic.js';
import { closeWorlds, inbound, testWorld, useEmulatorProject } from '../../support/fixtures.js';

let project = '';
beforeAll(() => {
  project = useEmulatorProject();
});
afterAll(closeWorlds);

const HOUR = 3_600_000;

describe('non-offender data minimisation, with a moved clock', () => {
  it('after SPEEDCAM_NON_OFFENDER_RETENTION_H a passage not fined is gone from Firestore and pseudonymised in the warehouse; fines keep theirs', async () => {
    const w = testWorld({ SPEEDCAM_NON_OFFENDER_RETENTION_H: '72' });
    const radar = w.config.radars.get(w.config.defaultRadarId)!;
    const db = new Firestore({ projectId: project });
    const c = w.config.collections;
    // A vehicle at 30 km/h (not fined) or 80 km/h (fined), with its plate and photo, as the seed's timed format sends it.
    const drive = async (plate: string, fined: boolean) => {
      const v = timedVehicleMessages(
        radar,
        () => 0.5,
        fined ? 1 : 0,
        w.clock.now(),
        plate,
        `gs://${w.config.buckets.captures}/${plate}.jpg`,
      );
      for (const [i, m] of v.messages.entries())
        await w.rt.speedCheck.handle(inbound(m, { messageId: `${plate}-${w.clock.now()}-${i}`, publishTimeMs: w.clock.now() }));
    };
    const docsNaming = async (vehicleId: string, collections = [c.passages, c.archive]) => {
      const found: string[] = [];
      for (const name of collections) {
        for (const d of (await db.collection(name).get()).docs)
          if (JSON.stringify(d.data()).includes(vehicleId)) found.push(`${name}/${d.id}`);
      }
      return found;
    };

    await drive('SLOW001', false);
    await drive('SLOW002', false);
    await drive('FAST001', true);
    w.clock.advance(60_000);
    const first = await w.rt.flush.run();
    expect(first.exported['vehicle_passages']).toBe(3);
    const before = await w.query(
      `SELECT vehicle_id, license_plate, image_uri, is_Ticketed FROM speedcam.vehicle_passages ORDER BY vehicle_id`,
    );
    expect(before.map((r) => [r['vehicle_id'], r['license_plate'], r['is_Ticketed']])).toEqual([
      ['FAST001', 'FAST001', true],
      ['SLOW001', 'SLOW001', false],
      ['SLOW002', 'SLOW002', false],
    ]);
    expect(await docsNaming('SLOW002')).not.toEqual([]);

    // Just before the retention ends: nothing changes.
    w.clock.advance(72 * HOUR - 2 * 60_000);
    const early = await w.rt.flush.run();
    expect(early.steps?.['non_offender_warehouse']?.['rows_pseudonymised'] ?? 0).toBe(0);
    expect((await docsNaming('SLOW002')).length).toBeGreaterThan(0);

    // One vehicle comes back after the retention: its expired document is not a passage to displace (and re-export).
    w.clock.advance(2 * HOUR);
    await drive('SLOW001', false);
    // Before any flush: the expired passage was not displaced into the archive (whose documents the flush exports again).
    expect((await docsNaming('SLOW001')).filter((p) => p.startsWith(c.archive))).toEqual([]);
    w.clock.advance(60_000);
    const after = await w.rt.flush.run();
    // (The new passage's exportAt is the emulator's wall-clock commit time, behind this moved clock's watermark:
    // the flush does not export it here. What matters is that nothing old is exported again: no archive document.)
    expect(after.exported['vehicle_passages'] ?? 0).toBe(0);
    expect(after.steps?.['non_offender_warehouse']).toMatchObject({ rows_pseudonymised: 2 });
    expect(after.steps?.['non_offender_firestore']).toMatchObject({ firestore_deleted: 1 }); // SLOW002 (SLOW001's doc holds its new passage)

    // Firestore: no passage names SLOW002 any more; SLOW001 only through its new passage; the fined passage stays.
    // The publish marks that name SLOW002 have expired: Firestore's TTL deletes them (the emulator has no TTL).
    expect(await docsNaming('SLOW002')).toEqual([]);
    for (const d of (await db.collection(c.published).get()).docs) {
      if (JSON.stringify(d.data()).includes('SLOW002')) expect(d.data()['expireAt'].toMillis()).toBeLessThanOrEqual(w.clock.now());
      if (JSON.stringify(d.data()).includes('FAST001')) expect(d.data()['expireAt'].toMillis()).toBeGreaterThan(w.clock.now());
    }
    const slow1 = await docsNaming('SLOW001');
    expect(slow1.every((p) => !p.startsWith(c.archive))).toBe(true);
    expect((await db.collection(c.passages).doc(`${radar.id}~SLOW001`).get()).data()?.['firstSeenMs']).toBeGreaterThan(
      w.clock.now() - HOUR,
    );
    expect(await docsNaming('FAST001')).toContain(`${c.passages}/${radar.id}~FAST001`);

    // The warehouse: the two old non-fined rows carry one pseudonym each (row_id = passage_id = vehicle_id), no plate, no photo.
    const rows = await w.query(
      `SELECT row_id, passage_id, vehicle_id, license_plate, image_uri, is_Ticketed, avg_speed FROM speedcam.vehicle_passages ORDER BY decided_at, vehicle_id`,
    );
    expect(rows).toHaveLength(3);
    const anon = rows.filter((r) => String(r['vehicle_id']).startsWith('anon-'));
    expect(anon).toHaveLength(2);
    for (const r of anon) {
      expect(r['vehicle_id']).toMatch(/^anon-[0-9a-f]{32}$/);
      expect([r['row_id'], r['passage_id']]).toEqual([r['vehicle_id'], r['vehicle_id']]);
      expect([r['license_plate'], r['image_uri'], r['is_Ticketed']]).toEqual([null, null, false]);
      expect(r['avg_speed']).toBeGreaterThan(0); // the statistics stay
    }
    expect(anon[0]!['vehicle_id']).not.toBe(anon[1]!['vehicle_id']);
    expect(rows.filter((r) => r['vehicle_id'] === 'FAST001')).toMatchObject([
      { license_plate: 'FAST001', is_Ticketed: true, image_uri: `gs://${w.config.buckets.captures}/FAST001.jpg` },
    ]);
    expect(rows.filter((r) => r['vehicle_id'] === 'SLOW001')).toEqual([]);
    expect(JSON.stringify(rows)).not.toMatch(/SLOW00[12]/);

    // Idempotent and hourly: the next runs change nothing, and the UPDATE waits an hour.
    w.clock.advance(60_000);
    const again = await w.rt.flush.run();
    expect(again.steps?.['non_offender_warehouse']).toBeUndefined();
    w.clock.advance(HOUR);
    const hourLater = await w.rt.flush.run();
    expect(hourLater.steps?.['non_offender_warehouse']).toMatchObject({ rows_pseudonymised: 0 });
    expect(await w.query(`SELECT count(*) AS n FROM speedcam.vehicle_passages WHERE vehicle_id LIKE 'anon-%'`)).toEqual([{ n: 2 }]);
    await db.terminate();
  });

  it('a failing UPDATE does not fail the flush: its watermark stays and the next run does it', async () => {
    let failures = 1;
    const warehouse = async (configured: () => Promise<Warehouse>): Promise<Warehouse> => {
      const wh = await configured();
      return {
        upsert: (t, rows) => wh.upsert(t, rows),
        pseudonymise: async (...a) => {
          if (failures-- > 0) throw new Error('503 backendError (injected)');
          return wh.pseudonymise!(...a);
        },
        close: () => wh.close(),
      };
    };
    const w = testWorld({}, { warehouse });
    const radar = w.config.radars.get(w.config.defaultRadarId)!;
    const v = timedVehicleMessages(radar, () => 0.5, 0, w.clock.now(), 'SLOW009');
    for (const [i, m] of v.messages.entries())
      await w.rt.speedCheck.handle(inbound(m, { messageId: `s9-${i}`, publishTimeMs: w.clock.now() }));
    w.clock.advance(60_000);
    expect((await w.rt.flush.run()).steps?.['non_offender_warehouse']).toEqual({ failed: 1 });
    w.clock.advance(73 * HOUR);
    const next = await w.rt.flush.run();
    expect(next.steps?.['non_offender_warehouse']).toMatchObject({ rows_pseudonymised: 1 });
    expect(await w.query(`SELECT count(*) AS n FROM speedcam.vehicle_passages WHERE vehicle_id = 'SLOW009'`)).toEqual([{ n: 0 }]);
  });
});
