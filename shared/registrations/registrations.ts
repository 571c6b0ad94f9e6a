import type { z } from 'zod';
import type { CoreSettings } from '../core/core-settings.js';
import { randomUserResponse, randomUserResult } from '../contracts/user-registration.js';
import { Rejection } from '../core/rejection.js';
import { sha256 } from '../core/hashing.js';
import type { Clock } from '../core/clock.js';
import type { Publisher } from '../core/publisher.js';
import type { Row, TableDeclaration } from '../export/warehouse.js';
import type { Logger } from '../core/logger.js';
import type { Faults } from '../core/faults.js';
import { decodeJsonObject } from '../core/payload.js';
import type { InboundMessage } from '../core/pubsub-message.js';
import { sendToDeadLetters } from '../dead-letters/send.js';
import { CLOCK_SKEW_LAG_MS, type Exporter } from '../export/exporter.js';
import type { Topics } from '../contracts/topics.js';

/**
 * User registrations: randomuser.me responses → one `users` row per result. No window is needed, so the simplest
 * exactly-once path: each row is set in Firestore under its id (login.uuid), which a redelivery sets
 * again to the same value, and the flush exports by commit-time watermark into a table upserted by id.
 */
export type UserRow = Row & { login_username: string };

/** Where users are kept until the flush exports them (Firestore: shared/platform/firestore/firestore-user-store.ts). */
export interface UserStore {
  /** sets each user's document to its row (a redelivered response writes the same values) */
  save(rows: readonly UserRow[]): Promise<void>;
  /** users saved in [fromMs, toMs) of commit time, oldest first */
  scanForExport(fromMs: number, toMs: number, limit: number): Promise<{ row: UserRow; exportAtMs: number }[]>;
}

/**
 * Registrations are accepted up to Pub/Sub's own message limit (10,000,000 bytes), not the general
 * SPEEDCAM_MAX_MESSAGE_BYTES: one randomuser.me response of 100 results is about 105 KiB.
 */
export const PUBSUB_MAX_MESSAGE_BYTES = 10_000_000;

/** A result the response held that is not a user: dead-lettered on its own, the others are kept. */
export interface BadResult {
  index: number;
  result: unknown;
  rejection: Rejection;
}

/** One row per valid result; each invalid result apart. A Rejection when the response itself is not one. */
export function parseRegistrations(msg: InboundMessage, maxBytes: number): { rows: UserRow[]; bad: BadResult[] } | Rejection {
  const json = decodeJsonObject(msg, maxBytes);
  if (json instanceof Rejection) return json;
  const r = randomUserResponse.safeParse(json);
  if (!r.success) return new Rejection('invalid_fields', `randomuser response: ${issues(r.error)}`);
  const rows: UserRow[] = [];
  const bad: BadResult[] = [];
  r.data.results.forEach((raw, index) => {
    const u = randomUserResult.safeParse(raw);
    if (!u.success) {
      const id = sha256(JSON.stringify(raw) ?? 'undefined').slice(0, 32);
      bad.push({
        index,
        result: raw,
        rejection: new Rejection('invalid_fields', `randomuser result ${index}: ${issues(u.error)}`, `user:${id}`),
      });
      return;
    }
    const d = u.data;
    rows.push({
      row_id: d.login.uuid ?? sha256(JSON.stringify(d)).slice(0, 32),
      login_username: d.login.username,
      first_name: d.name.first,
      last_name: d.name.last,
      gender: d.gender,
      dob: d.dob.date,
      country: d.location.country,
      postcode: String(d.location.postcode),
      email: d.email,
    });
  });
  return { rows, bad };
}

const issues = (e: z.ZodError) =>
  e.issues
    .slice(0, 6)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');

export async function handleRegistrations(
  deps: {
    config: Pick<CoreSettings, 'maxMessageBytes'> & { topics: Pick<Topics, 'userRegistrations' | 'deadLetters'> };
    users: Pick<UserStore, 'save'>;
    publisher: Publisher;
    logger: Logger;
    clock: Clock;
    faults: Faults;
  },
  msg: InboundMessage,
): Promise<number> {
  const source = deps.config.topics.userRegistrations;
  const parsed = parseRegistrations(msg, Math.max(deps.config.maxMessageBytes, PUBSUB_MAX_MESSAGE_BYTES));
  if (parsed instanceof Rejection) {
    await sendToDeadLetters(deps, source, msg, parsed);
    return 0;
  }
  if (parsed.rows.length === 0) {
    // Nothing usable: the message goes to the dead letters whole.
    await sendToDeadLetters(
      deps,
      source,
      msg,
      new Rejection(
        'invalid_fields',
        parsed.bad
          .slice(0, 3)
          .map((b) => b.rejection.detail)
          .join('; '),
      ),
    );
    return 0;
  }
  // One bad result does not cost the others: it goes to the dead letters alone, with its own JSON.
  for (const b of parsed.bad) {
    await sendToDeadLetters(
      deps,
      source,
      { ...msg, data: Buffer.from(JSON.stringify(b.result) ?? 'null'), attributes: { ...msg.attributes, result_index: String(b.index) } },
      b.rejection,
    );
  }
  await deps.users.save(parsed.rows);
  return parsed.rows.length;
}

/** One row per registered user: no time to partition by, clustered by country. */
export const USERS: TableDeclaration = { name: 'users', time: null, cluster: ['country'] };

/** users: one row per registered user, by its id. */
export function usersExporter(deps: { users: Pick<UserStore, 'scanForExport'> }): Exporter<{ row: UserRow }> {
  return {
    name: 'users',
    table: USERS.name,
    lagMs: CLOCK_SKEW_LAG_MS,
    scan: (from, to, limit) => deps.users.scanForExport(from, to, limit),
    toRow: ({ row }) => row,
  };
}
