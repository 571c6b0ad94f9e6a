import { describe, expect, it } from 'vitest';
import type { Row, Warehouse } from '../../../shared/export/warehouse.js';
import { spotSpeedMessage, sectionPoints } from '../../../cli/generators/traffic.js';
import { inbound, testWorld, WAREHOUSES, warehouseEnv, useWarehouseWorlds } from '../../support/fixtures.js';

useWarehouseWorlds();

const SPEEDS = [61, 44, 38, 72, 55, 49, 80, 66, 43, 58];

/** The warehouse's own reason, as the dead letter's error starts. */
const REFUSAL = {
  duckdb: /^conversion_error: Conversion Error: .*yesterday-ish/,
  // The Write API path refuses it before sending: a TIMESTAMP travels as int64 microseconds, and this is no time.
  'write-api': /^invalid: decided_at: cannot convert "yesterday-ish" to TIMESTAMP$/,
} as const;

describe('a row the warehouse rejects', () => {
  it.each(WAREHOUSES)(
    'goes to dead_letters with the warehouse reason and the row; the others land; the watermark moves on (%s)',
    async (kind) => {
      // The real adapter (DuckDB, or the Write API writer and its stand-in), given one passage row with a value
      // its TIMESTAMP column refuses (as a bad value would reach BigQuery): the warehouse path itself rejects it.
      const sent: Row[] = [];
      const warehouse = async (configured: () => Promise<Warehouse>): Promise<Warehouse> => {
        const wh = await configured();
        return {
          upsert: (table, rows) => {
            const out = rows.map((row) =>
              table === 'vehicle_passages' && row['vehicle_id'] === 'Bad001' ? { ...row, decided_at: 'yesterday-ish' } : row,
            );
            if (table === 'vehicle_passages') sent.push(...out);
            return wh.upsert(table, out);
          },
          pseudonymise: wh.pseudonymise?.bind(wh),
          close: () => wh.close(),
        };
      };
      const logs: { message: string; fields: Record<string, unknown> }[] = [];
      const log = (message: string, fields: Record<string, unknown> = {}) => logs.push({ message, fields });

      const w = testWorld(warehouseEnv(kind), { warehouse, logger: { debug: log, info: log, warn: log, error: log } });
      const r = w.config.radars.get(w.config.defaultRadarId)!;
      const pts = sectionPoints(r.entry, r.exit, 10);
      const drive = async (id: string) => {
        const msgs = pts.map((p, i) =>
          inbound(spotSpeedMessage(id, SPEEDS[i]!, p), { messageId: `${id}-${i}`, publishTimeMs: w.clock.now() + i }),
        );
        await Promise.all(msgs.map((m) => w.rt.speedCheck.handle(m)));
      };
      for (const id of ['Good01', 'Bad001', 'Good02']) await drive(id);
      w.clock.advance(60_000);

      const report = await w.rt.flush.run();
      expect(report.exported['vehicle_passages']).toBe(2);
      expect(report.rejected).toEqual({ vehicle_passages: 1 });
      expect(await w.query('SELECT vehicle_id FROM speedcam.vehicle_passages ORDER BY vehicle_id')).toEqual([
        { vehicle_id: 'Good01' },
        { vehicle_id: 'Good02' },
      ]);
      const [dl, ...more] = await w.query(`SELECT source, reason, error, payload, payload_encoding, attributes FROM speedcam.dead_letters`);
      expect(more).toHaveLength(0);
      expect(dl).toMatchObject({ source: 'warehouse:vehicle_passages', reason: 'warehouse_rejected', payload_encoding: 'utf8' });
      expect(String(dl!['error'])).toMatch(REFUSAL[kind]);
      // The original row, exactly as it was sent to the warehouse.
      expect(JSON.parse(String(dl!['payload']))).toEqual(sent.find((x) => x['vehicle_id'] === 'Bad001'));
      expect(logs.filter((l) => l.message === 'dead letter recorded').map((l) => l.fields['reason'])).toEqual(['warehouse_rejected']);

      // The watermark moved past it: the next run does not export (and reject) it again.
      w.clock.advance(60_000);
      const second = await w.rt.flush.run();
      expect(second.rejected).toEqual({});
      expect(second.exported['vehicle_passages'] ?? 0).toBe(0);
      expect(await w.query('SELECT count(*) AS n FROM speedcam.dead_letters')).toEqual([{ n: 1 }]);
    },
  );
});
