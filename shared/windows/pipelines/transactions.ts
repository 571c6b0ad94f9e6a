import { TOPIC } from '../../contracts/topics.js';
import { pythonFloat, TRANSACTION_FIELDS } from '../../contracts/transaction.js';
import { sha256 } from '../../core/hashing.js';
import { asText } from '../../core/payload.js';
import { Rejection } from '../../core/rejection.js';
import { defineWindowPipeline } from '../declaration.js';
import { eventTimeOf, parseZonedTimestamp } from '../event-time.js';
import { iso } from '../../core/clock.js';

/**
 * Sales transactions: statistics per 30-second window over all transactions (one global key). What a message
 * holds and must hold (the seed's rules): shared/contracts/transaction.ts.
 */
export const transactions = defineWindowPipeline({
  name: 'transactions',
  input: {
    kind: 'topic',
    topic: TOPIC.transactions,
    required: TRANSACTION_FIELDS,
    parse(json, msg, ctx) {
      const amount = pythonFloat(json['amount']);
      if (amount === null)
        return new Rejection(
          'invalid_fields',
          `transaction: amount ${JSON.stringify(json['amount'])?.slice(0, 64)} is not a finite number (Python float() rules)`,
        );
      if (amount <= 0) return new Rejection('invalid_fields', `transaction: amount ${amount} must be > 0`);
      const zone = ctx.settings.timezone;
      const timeMs = eventTimeOf(msg, ctx, () => {
        const ts = json['timestamp'];
        const ms = typeof ts === 'string' ? parseZonedTimestamp(ts, zone) : NaN;
        return { ms, what: `timestamp ${JSON.stringify(ts)?.slice(0, 64)} (${zone} when it has no zone)` };
      });
      if (timeMs instanceof Rejection) return timeMs;
      // The seed's simulator draws TXN- plus 6 random digits, which collide (≈5 % of ids at 10,000
      // transactions): the identity is the whole transaction, so a redelivery dedupes and two sales sharing an id both count.
      const id = sha256(`${asText(json['transaction_id'])}|${asText(json['timestamp'])}|${amount}|${asText(json['store_id'])}`).slice(
        0,
        32,
      );
      return [{ id, key: 'all', timeMs, values: { amount } }];
    },
  },
  windowS: 30,
  configurable: true,
  aggregates: [
    { column: 'total_transactions', fn: 'count' },
    { column: 'total_amount_sum', fn: 'sum', field: 'amount', round: 2 },
    { column: 'avg_transaction_amount', fn: 'mean', field: 'amount', round: 2 },
    { column: 'max_amount', fn: 'max', field: 'amount', round: 2 },
    { column: 'min_amount', fn: 'min', field: 'amount', round: 2 },
  ],
  table: { name: 'transaction_windows', time: 'window_start_time', cluster: [] },
  row: (_key, start, end, a) => ({
    row_id: String(start),
    window_start_time: iso(start),
    window_end_time: iso(end),
    total_transactions: a['total_transactions']!,
    total_amount_sum: a['total_amount_sum']!,
    avg_transaction_amount: a['avg_transaction_amount']!,
    max_amount: a['max_amount']!,
    min_amount: a['min_amount']!,
  }),
});
