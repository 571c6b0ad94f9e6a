import { CLICK_EVENT_REQUIRED, eventTimestampMicros, userPseudoId } from '../../contracts/click-event.js';
import { TOPIC } from '../../contracts/topics.js';
import { sha256 } from '../../core/hashing.js';
import { asText } from '../../core/payload.js';
import { Rejection } from '../../core/rejection.js';
import { defineWindowPipeline } from '../declaration.js';
import { eventTimeOf } from '../event-time.js';
import { iso } from '../../core/clock.js';

/** GA4 clicks: events per user_pseudo_id per minute. What a message holds and must hold: shared/contracts/click-event.ts. */
export const clicks = defineWindowPipeline({
  name: 'clicks',
  input: {
    kind: 'topic',
    topic: TOPIC.clickEvents,
    required: CLICK_EVENT_REQUIRED,
    parse(json, msg, ctx) {
      const user = userPseudoId.safeParse(json['user_pseudo_id']);
      if (!user.success) return new Rejection('invalid_fields', 'user_pseudo_id: a string of 1-256 characters (the key of the window)');
      const timeMs = eventTimeOf(msg, ctx, () => {
        const ts = json['event_timestamp'];
        const micros = eventTimestampMicros.safeParse(ts);
        if (!micros.success) {
          return new Rejection(
            'invalid_fields',
            `click event: event_timestamp ${JSON.stringify(ts)?.slice(0, 64)} is not microseconds since the epoch (a number or a string of digits)`,
          );
        }
        return { ms: Number(BigInt(micros.data) / 1000n), what: `event_timestamp ${micros.data} (µs)` };
      });
      if (timeMs instanceof Rejection) return timeMs;
      // GA4 rows carry no event id: the row itself is the identity (a redelivery or a re-publish is the same row).
      return [{ id: sha256(msg.data).slice(0, 32), key: asText(user.data), timeMs, values: {} }];
    },
  },
  windowS: 60,
  configurable: true,
  // Seed 002's dashboard: an early result every 60 s while a minute window is open.
  earlyS: 60,
  aggregates: [{ column: 'event_count', fn: 'count' }],
  table: { name: 'user_event_counts', time: 'window_start', cluster: ['user_pseudo_id'] },
  row: (key, start, end, a) => ({
    row_id: `${start}~${key}`,
    user_pseudo_id: key,
    event_count: a['event_count']!,
    window_start: iso(start),
    window_end: iso(end),
  }),
});
