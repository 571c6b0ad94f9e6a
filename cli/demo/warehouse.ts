import { DuckDbWarehouse } from '../../shared/platform/duckdb-warehouse.js';
import type { Stack } from '../stack.js';

/** What the warehouse holds when the demo checks it. */
export interface Landed {
  passages: Record<string, unknown>[];
  /** dead letters by reason */
  deadLetters: Record<string, unknown>[];
  /** events that reached a closed window: dead-lettered as late, by source topic */
  late: Record<string, number>;
  fines: Record<string, unknown>[];
  totals: { clicks: number; transactions: number; users: number; sectionVehicles: number };
}

/** What must have landed: each count, and the topics the late dead letters name. */
export interface Expected {
  passages: number;
  fines: number;
  clicks: number;
  transactions: number;
  users: number;
  malformed: number;
  topics: { clickEvents: string; transactions: string };
}

async function read(path: string): Promise<Landed> {
  const wh = await DuckDbWarehouse.open(path, { readOnly: true });
  try {
    const totals = (
      await wh.query(`SELECT
        (SELECT coalesce(sum(event_count), 0) FROM speedcam.user_event_counts) AS clicks,
        (SELECT coalesce(sum(total_transactions), 0) FROM speedcam.transaction_windows) AS transactions,
        (SELECT count(*) FROM speedcam.users) AS users,
        (SELECT coalesce(sum(vehicles), 0) FROM speedcam.section_traffic_minute) AS section_vehicles`)
    )[0]!;
    return {
      passages: await wh.query(
        'SELECT passage_id, avg_speed, is_Ticketed, review_reason, epoch_ms(decided_at) - epoch_ms(last_published) AS latency_ms FROM speedcam.vehicle_passages',
      ),
      deadLetters: await wh.query('SELECT reason, count(*) AS n FROM speedcam.dead_letters GROUP BY reason ORDER BY reason'),
      late: Object.fromEntries(
        (await wh.query("SELECT source, count(*) AS n FROM speedcam.dead_letters WHERE reason = 'late' GROUP BY source")).map((r) => [
          String(r['source']),
          Number(r['n']),
        ]),
      ),
      fines: await wh.query('SELECT fine_id FROM speedcam.fined_vehicles'),
      totals: {
        clicks: Number(totals['clicks']),
        transactions: Number(totals['transactions']),
        users: Number(totals['users']),
        sectionVehicles: Number(totals['section_vehicles']),
      },
    };
  } finally {
    await wh.close();
  }
}

/** Every decided passage, fine and event is in the warehouse, each distinct event counted or dead-lettered as late. */
function complete(l: Landed, e: Expected): boolean {
  const dl = l.deadLetters.reduce((n, r) => n + Number(r['n']), 0);
  const lateTotal = Object.values(l.late).reduce((a, b) => a + b, 0);
  const windowsDone =
    l.totals.clicks + (l.late[e.topics.clickEvents] ?? 0) >= e.clicks &&
    l.totals.transactions + (l.late[e.topics.transactions] ?? 0) >= e.transactions &&
    l.totals.users >= e.users &&
    l.totals.sectionVehicles >= e.passages;
  return l.passages.length >= e.passages && dl - lateTotal >= e.malformed && l.fines.length >= e.fines && windowsDone;
}

/** Runs the flush and reads the warehouse, each second, until everything expected has landed (or the deadline). */
export async function waitForWarehouse(stack: Stack, expected: Expected, deadline: number): Promise<Landed> {
  let landed: Landed = {
    passages: [],
    deadLetters: [],
    late: {},
    fines: [],
    totals: { clicks: 0, transactions: 0, users: 0, sectionVehicles: 0 },
  };
  while (Date.now() < deadline) {
    await stack.flush();
    landed = await read(stack.info.warehouse);
    if (complete(landed, expected)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return landed;
}
