import { defineWindowPipeline } from '../declaration.js';
import { iso } from '../../core/clock.js';

/**
 * Section traffic: completed passages per radar per minute (of the exit): vehicles, fined, mean and
 * max average speed. Fed by the flush from the passages it exports, each once (its id is the passage's).
 */
export const sectionTraffic = defineWindowPipeline({
  name: 'section_traffic',
  input: {
    kind: 'passages',
    eventTime: 'passage (last observation)',
    event: (p) => ({
      id: p.passageId,
      key: p.radarId,
      timeMs: p.lastSeenMs,
      values: { fined: p.isTicketed ? 1 : 0, ...(p.avgSpeedKmh !== null ? { speed: p.avgSpeedKmh } : {}) },
    }),
  },
  windowS: 60,
  configurable: false,
  aggregates: [
    { column: 'vehicles', fn: 'count' },
    { column: 'fined', fn: 'sum', field: 'fined' },
    { column: 'mean_avg_speed', fn: 'mean', field: 'speed', round: 2 },
    { column: 'max_avg_speed', fn: 'max', field: 'speed', round: 2 },
  ],
  table: { name: 'section_traffic_minute', time: 'minute_start', cluster: ['radar_id'] },
  row: (key, start, end, a) => ({
    row_id: `${start}~${key}`,
    radar_id: key,
    minute_start: iso(start),
    minute_end: iso(end),
    vehicles: a['vehicles']!,
    fined: a['fined']!,
    mean_avg_speed: a['mean_avg_speed'] ?? null,
    max_avg_speed: a['max_avg_speed'] ?? null,
  }),
});
