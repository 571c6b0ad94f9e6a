import { FieldValue, Timestamp, type Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import type { Config } from '../config.js';
import { Rejection, sha256 } from '../dead-letter.js';
import type { Clock, OpsCounter, Publisher, Row } from '../ports.js';
import type { Logger } from '../logger.js';
import type { Faults } from '../ports.js';
import { decodeJsonObject } from '../json-payload.js';
import type { InboundMessage } from '../pubsub-message.js';
import { scanByExportAt } from '../adapters/firestore-export-scan.js';
import { sendToDeadLetters } from '../speed-check.js';

/**
 * seed 004: randomuser.me responses → one `users` row per result. No window is needed, so the simplest
 * exactly-once path: each row is set in Firestore under its id (login.uuid), which a redelivery sets
 * again to the same value, and the flush exports by commit-time watermark into a table upserted by id.
 */
const result = z.object({
  gender: z.string().max(32),
  name: z.object({ first: z.string().max(256), last: z.string().max(256) }).passthrough(),
  location: z.object({ country: z.string().max(256), postcode: z.union([z.string().max(64), z.number()]) }).passthrough(),
  email: z.string().max(320),
  login: z.object({ uuid: z.string().max(64).optional(), username: z.string().min(1).max(256) }).passthrough(),
  dob: z.object({ date: z.string().max(64) }).passthrough(),
}).passthrough();
const response = z.object({ results: z.array(result).min(1).max(5000), info: z.object({}).passthrough().optional() });

export type UserRow = Row & { login_username: string };

export function parseRegistrations(msg: InboundMessage, maxBytes: number): UserRow[] | Rejection {
  const json = decodeJsonObject(msg, maxBytes);
  if (json instanceof Rejection) return json;
  const r = response.safeParse(json);
  if (!r.success) return new Rejection('invalid_fields', `randomuser response: ${r.error.issues.slice(0, 6).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data.results.map((u) => ({
    row_id: u.login.uuid ?? sha256(JSON.stringify(u)).slice(0, 32),
    login_username: u.login.username,
    first_name: u.name.first,
    last_name: u.name.last,
    gender: u.gender,
    dob: u.dob.date,
    country: u.location.country,
    postcode: String(u.location.postcode),
    email: u.email,
  }));
}

export class FirestoreUserStore {
  constructor(
    private readonly db: Firestore,
    private readonly collection: string,
    private readonly retentionMs: number,
    private readonly ops: OpsCounter,
    private readonly clock: Clock,
  ) {}

  async save(rows: readonly UserRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 450) {
      const wb = this.db.batch();
      for (const row of rows.slice(i, i + 450)) {
        wb.set(this.db.collection(this.collection).doc(sha256(row.row_id).slice(0, 40)), { row, exportAt: FieldValue.serverTimestamp(), expireAt: Timestamp.fromMillis(this.clock.now() + this.retentionMs) });
        this.ops.writes++;
      }
      await wb.commit();
    }
  }

  async scanForExport(fromMs: number, toMs: number, limit: number): Promise<{ row: UserRow; exportAtMs: number }[]> {
    return (await scanByExportAt(this.db, this.collection, fromMs, toMs, limit, this.ops)).map(({ data, exportAtMs }) => ({ row: data['row'] as UserRow, exportAtMs }));
  }
}

export async function handleRegistrations(
  deps: { config: Config; users: Pick<FirestoreUserStore, 'save'>; publisher: Publisher; logger: Logger; clock: Clock; faults: Faults },
  msg: InboundMessage,
): Promise<number> {
  const rows = parseRegistrations(msg, deps.config.maxMessageBytes);
  if (rows instanceof Rejection) {
    await sendToDeadLetters(deps, deps.config.topics.userRegistrations, msg, rows);
    return 0;
  }
  await deps.users.save(rows);
  return rows.length;
}
