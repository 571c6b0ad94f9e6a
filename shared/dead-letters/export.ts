import { sha256 } from '../core/hashing.js';
import { CLOCK_SKEW_LAG_MS, type Exporter, type RefusedRows } from '../export/exporter.js';
import type { RejectedRow, Row, TableDeclaration } from '../export/warehouse.js';
import type { DeadLetter } from '../contracts/dead-letter.js';
import type { DeadLetterStore } from './dead-letter.js';
import { iso } from '../core/clock.js';

/** Every dead letter: day-partitioned by its time, clustered by source and reason (what dashboards filter on). */
export const DEAD_LETTERS: TableDeclaration = { name: 'dead_letters', time: 'timestamp', cluster: ['source', 'reason'] };

/** A dead_letters row: the dead letter as it travelled, keyed by its id. */
export function deadLetterRow(dl: DeadLetter): Row {
  return {
    row_id: dl.dead_letter_id,
    timestamp: dl.timestamp,
    source: dl.source,
    reason: dl.reason,
    error: dl.error,
    payload: dl.payload,
    payload_encoding: dl.payload_encoding,
    attributes: dl.attributes,
    message_id: dl.message_id,
    publish_time: dl.publish_time,
  };
}

/** The dead letter of a row the warehouse refused: same id for the same row, so a re-export collapses onto it. */
export function rejectedRowLetter(table: string, r: RejectedRow, nowMs: number): DeadLetter {
  return {
    dead_letter_id: sha256(`warehouse:${table}\n${r.row.row_id}`).slice(0, 32),
    timestamp: iso(nowMs),
    source: `warehouse:${table}`,
    reason: 'warehouse_rejected',
    error: `${r.reason}: ${r.error}`.slice(0, 2000),
    payload: JSON.stringify(r.row),
    payload_encoding: 'utf8',
    attributes: { table, row_id: r.row.row_id },
    message_id: '',
    publish_time: iso(nowMs),
  };
}

/**
 * dead_letters: the dead letters the sink kept, and (written by the flush directly) the rows the
 * warehouse refused in any other table, each with the warehouse's reason and the row itself.
 */
export function deadLettersExporter(deps: { store: Pick<DeadLetterStore, 'scanForExport'> }): Exporter<{ dl: DeadLetter }> & RefusedRows {
  return {
    name: 'dead_letters',
    table: DEAD_LETTERS.name,
    lagMs: CLOCK_SKEW_LAG_MS,
    scan: (from, to, limit) => deps.store.scanForExport(from, to, limit),
    toRow: ({ dl }) => deadLetterRow(dl),
    rowOf(table, refused, nowMs) {
      const dl = rejectedRowLetter(table, refused, nowMs);
      return { row: deadLetterRow(dl), log: { dead_letter_id: dl.dead_letter_id, source: dl.source, reason: dl.reason, error: dl.error } };
    },
  };
}
