import { describe, expect, it } from 'vitest';
import { asText } from '../../../shared/core/payload.js';
import { Rejection } from '../../../shared/core/rejection.js';
import { defineWindowPipeline } from '../../../shared/windows/declaration.js';
import { eventTimeOf } from '../../../shared/windows/event-time.js';
import { resolvePipeline } from '../../../shared/windows/pipeline.js';
import { inbound, testConfig } from '../../support/fixtures.js';

/** The README's worked example ("Adding a window pipeline"), as written there. */
const pageViews = defineWindowPipeline({
  name: 'pageviews',
  input: {
    kind: 'topic',
    topic: { key: 'pageViews', env: 'TOPIC_PAGE_VIEWS', name: 'page-views' },
    required: ['page', 'time'],
    parse(json, msg, ctx) {
      const timeMs = eventTimeOf(msg, ctx, () => ({ ms: Date.parse(String(json['time'])), what: `time ${JSON.stringify(json['time'])}` }));
      if (timeMs instanceof Rejection) return timeMs;
      return [{ id: msg.messageId, key: asText(json['page']), timeMs, values: {} }];
    },
  },
  windowS: 300,
  configurable: true,
  aggregates: [{ column: 'views', fn: 'count' }],
  table: { name: 'page_view_counts', time: 'window_start', cluster: ['page'] },
  row: (key, start, end, a) => ({ row_id: `${start}~${key}`, page: key, views: a['views']!, window_start: new Date(start).toISOString(), window_end: new Date(end).toISOString() }),
});

describe('a declared window pipeline (the README example)', () => {
  const config = testConfig();
  const p = resolvePipeline(pageViews, config);

  it('is resolved with the defaults: its topic, publish time, a 5-minute window, the table it declares', () => {
    expect(p).toMatchObject({ name: 'pageviews', inputTopic: 'page-views', window: { kind: 'fixed', sizeMs: 300_000 }, late: 'dead_letter', table: 'page_view_counts' });
    expect(p.allowedLatenessMs).toBe(config.windowLatenessMs);
    expect(p.row('/home', 0, 300_000, { views: 3 })).toEqual({ row_id: '0~/home', page: '/home', views: 3, window_start: '1970-01-01T00:00:00.000Z', window_end: '1970-01-01T00:05:00.000Z' });
  });

  it('parses a message into its event, keyed by page, at the publish time', () => {
    const msg = inbound(JSON.stringify({ page: '/home', time: '2026-11-22T10:00:00Z' }), { messageId: 'pv1', publishTimeMs: Date.parse('2026-11-22T10:01:00Z') });
    expect(p.parse(msg, Date.parse('2026-11-22T10:01:01Z'))).toEqual([{ id: 'pv1', key: '/home', timeMs: Date.parse('2026-11-22T10:01:00Z'), values: {} }]);
  });

  it('the payload prelude runs before its parser: empty, not JSON, not an object, a required field missing', () => {
    const reasons = ['', 'no json', '[]', '{"page":"/home"}'].map((data) => {
      const r = p.parse(inbound(data), Date.now());
      return r instanceof Rejection ? [r.reason, r.detail] : r;
    });
    expect(reasons).toEqual([
      ['empty_payload', 'message has no data'],
      ['malformed_json', expect.stringContaining('payload is not JSON')],
      ['not_an_object', 'payload is JSON array, expected an object'],
      ['invalid_fields', 'missing field(s) time'],
    ]);
  });
});
