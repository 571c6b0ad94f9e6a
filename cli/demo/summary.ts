import { existsSync } from 'node:fs';
import type { GeneratedEvents } from '../generators/events.js';
import type { GeneratedVehicle } from '../generators/traffic.js';
import { costOf, type FormatCost, type Ops, round } from './cost.js';
import type { OutputWatch } from './outputs.js';
import type { Landed } from './warehouse.js';
import { fileURLToPath } from 'node:url';

export interface DemoSummary {
  vehicles: number;
  observations_published: number;
  passages_decided: number;
  fined: number;
  non_fined: number;
  flagged_for_review: number;
  duplicate_decision_messages: number;
  /** output messages their topic's contract refused (shared/contracts/), the first few with their problem */
  off_contract_messages: { count: number; first: string[] };
  warehouse_passages: number;
  fines_issued: number;
  /** notices sent: fines with no review reason (the others wait for a person) */
  fines_notified: number;
  /** the review queue at the end: fines held (pending_review) and decisions made */
  review_queue: { pending: number; decided: number };
  duplicate_fine_notifications: number;
  warehouse_fines: number;
  plates_read_exactly: number;
  plate_accuracy: number;
  fines_flagged_for_review: Record<string, number>;
  analysed_photos_on_disk: number;
  /** the reader's time per photo, and the photo's wait behind the instance's other photos before it */
  ocr_ms: { p50: number; p95: number };
  ocr_wait_ms: { p50: number; p95: number };
  example_fine: Record<string, unknown> | null;
  windows: {
    clicks: { distinct_sent: number; duplicates_sent: number; counted: number; late: number };
    transactions: { distinct_sent: number; duplicates_sent: number; counted: number; late: number };
    firestore_per_event: number;
    users: { distinct_sent: number; duplicates_sent: number; rows: number };
    section_traffic: { passages: number; counted: number };
  };
  malformed_sent: number;
  report: string;
  screenshot: string | null;
  dead_lettered: number;
  dead_letters_by_reason: Record<string, number>;
  mean_avg_speed_kmh: number;
  decision_latency_ms: { p50: number; p95: number; max: number };
  vehicles_per_second: number;
  /** Firestore operations counted while each format ran: ingest, decision, publish mark and the flush runs of that time */
  firestore: { seed: FormatCost; timed: FormatCost };
  wall_seconds: number;
}

/** What the demo measured, from which the summary is made. */
export interface DemoRun {
  startedMs: number;
  generatorsStartedMs: number;
  seed: readonly GeneratedVehicle[];
  timed: readonly GeneratedVehicle[];
  clicks: GeneratedEvents;
  transactions: GeneratedEvents;
  registrations: GeneratedEvents;
  usersSent: number;
  malformedSent: number;
  outputs: OutputWatch;
  /** fines held for review (no notice sent) */
  held: readonly Record<string, unknown>[];
  reviewQueue: { pending: number; decided: number };
  landed: Landed;
  topics: { clickEvents: string; transactions: string };
  ops: { seed: Ops; timed: Ops; windows: Ops };
}

const percentile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

/** The summary of a run (its report's paths filled in once the report is written). */
export function summarize(r: DemoRun): DemoSummary {
  const { outputs, landed } = r;
  const vehicles = [...r.seed, ...r.timed];
  const observations = vehicles.reduce((n, v) => n + v.messages.length, 0);
  const spotObs = r.seed.reduce((n, v) => n + v.messages.length, 0);
  const latencies = landed.passages.map((p) => Number(p['latency_ms'])).sort((a, b) => a - b);
  const speeds = landed.passages.map((p) => p['avg_speed']).filter((x): x is number => typeof x === 'number');
  const bodies = [...outputs.decisions.values()].map((d) => d.body);
  const truth = new Map(vehicles.map((v) => [v.vehicleId, v.plate]));
  const fineList = [...outputs.fines.values(), ...r.held];
  const exact = fineList.filter((f) => f['license_plate'] === truth.get(String(f['vehicle_id']))).length;
  const sorted = (field: string) =>
    fineList
      .map((f) => f[field])
      .filter((x): x is number => typeof x === 'number')
      .sort((a, b) => a - b);
  const ocrMs = sorted('ocr_ms');
  const ocrWaitMs = sorted('ocr_wait_ms');
  const photosResolve = fineList.filter(
    (f) => typeof f['image_url'] === 'string' && existsSync(fileURLToPath(String(f['image_url']))),
  ).length;
  const reviewByReason: Record<string, number> = {};
  for (const f of fineList)
    if (f['review_reason']) reviewByReason[String(f['review_reason'])] = (reviewByReason[String(f['review_reason'])] ?? 0) + 1;
  const deadByReason = Object.fromEntries(landed.deadLetters.map((d) => [String(d['reason']), Number(d['n'])]));
  const decided = outputs.decisions.size;
  const perSecond = round(decided / ((outputs.lastDecisionMs - r.generatorsStartedMs) / 1000), 1);
  return {
    report: '',
    screenshot: null,
    vehicles: vehicles.length,
    observations_published: observations,
    passages_decided: decided,
    fined: bodies.filter((b) => b['is_Ticketed'] === true).length,
    non_fined: bodies.filter((b) => b['is_Ticketed'] === false).length,
    flagged_for_review: bodies.filter((b) => b['review_reason'] !== null).length,
    duplicate_decision_messages: outputs.duplicateDecisions,
    off_contract_messages: { count: outputs.offContract.length, first: outputs.offContract.slice(0, 3) },
    warehouse_passages: landed.passages.length,
    fines_issued: fineList.length,
    fines_notified: outputs.fines.size,
    review_queue: r.reviewQueue,
    duplicate_fine_notifications: outputs.duplicateFines,
    warehouse_fines: landed.fines.length,
    plates_read_exactly: exact,
    plate_accuracy: round(exact / Math.max(1, fineList.length), 4),
    fines_flagged_for_review: reviewByReason,
    analysed_photos_on_disk: photosResolve,
    ocr_ms: { p50: percentile(ocrMs, 0.5), p95: percentile(ocrMs, 0.95) },
    ocr_wait_ms: { p50: percentile(ocrWaitMs, 0.5), p95: percentile(ocrWaitMs, 0.95) },
    example_fine: fineList[0] ?? null,
    windows: {
      clicks: {
        distinct_sent: r.clicks.messages.length,
        duplicates_sent: r.clicks.duplicates,
        counted: landed.totals.clicks,
        late: landed.late[r.topics.clickEvents] ?? 0,
      },
      transactions: {
        distinct_sent: r.transactions.messages.length,
        duplicates_sent: r.transactions.duplicates,
        counted: landed.totals.transactions,
        late: landed.late[r.topics.transactions] ?? 0,
      },
      firestore_per_event: round(
        (r.ops.windows.writes + r.ops.windows.reads) / Math.max(1, r.clicks.messages.length + r.transactions.messages.length + r.usersSent),
        4,
      ),
      users: { distinct_sent: r.usersSent, duplicates_sent: r.registrations.duplicates, rows: landed.totals.users },
      section_traffic: { passages: decided, counted: landed.totals.sectionVehicles },
    },
    malformed_sent: r.malformedSent,
    dead_lettered: Object.values(deadByReason).reduce((a, b) => a + b, 0),
    dead_letters_by_reason: deadByReason,
    mean_avg_speed_kmh: round(speeds.reduce((a, b) => a + b, 0) / speeds.length, 2),
    decision_latency_ms: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), max: latencies[latencies.length - 1] ?? NaN },
    vehicles_per_second: perSecond,
    firestore: {
      seed: costOf(r.ops.seed, spotObs, r.seed.length),
      timed: costOf(r.ops.timed, observations - spotObs, r.timed.length),
    },
    wall_seconds: round((Date.now() - r.startedMs) / 1000, 1),
  };
}

/** Whether every vehicle was decided and exported, every event counted once or dead-lettered, every fine issued with its photo. */
export function isComplete(s: DemoSummary): boolean {
  return (
    s.passages_decided === s.vehicles &&
    s.warehouse_passages === s.vehicles &&
    s.dead_lettered - s.windows.clicks.late - s.windows.transactions.late === s.malformed_sent &&
    s.windows.clicks.counted + s.windows.clicks.late === s.windows.clicks.distinct_sent &&
    s.windows.transactions.counted + s.windows.transactions.late === s.windows.transactions.distinct_sent &&
    s.windows.users.rows === s.windows.users.distinct_sent &&
    s.windows.section_traffic.counted === s.passages_decided &&
    s.fines_issued === s.fined &&
    s.fines_notified + s.review_queue.pending === s.fines_issued &&
    s.warehouse_fines === s.fines_issued &&
    s.analysed_photos_on_disk === s.fines_issued
  );
}

export function formatSummary(s: DemoSummary): string {
  const rows: [string, string][] = [
    ['vehicles', String(s.vehicles)],
    ['observations published', String(s.observations_published)],
    ['passages decided', `${s.passages_decided} (fined ${s.fined}, non-fined ${s.non_fined}, flagged for review ${s.flagged_for_review})`],
    ['passages in warehouse', String(s.warehouse_passages)],
    ['duplicate decision messages', String(s.duplicate_decision_messages)],
    [
      'messages off their contract',
      `${s.off_contract_messages.count} (decisions and notifications read by shared/contracts/)${s.off_contract_messages.first.map((x) => `; ${x}`).join('')}`,
    ],
    [
      'fines issued',
      `${s.fines_issued} (in warehouse ${s.warehouse_fines}, duplicate notifications ${s.duplicate_fine_notifications}, flagged for review ${JSON.stringify(s.fines_flagged_for_review)})`,
    ],
    [
      'review queue',
      `${s.review_queue.pending} fines held for review (no notice until a person decides), ${s.review_queue.decided} decided; ${s.fines_notified} notices sent`,
    ],
    [
      'plates read exactly',
      `${s.plates_read_exactly}/${s.fines_issued} = ${(s.plate_accuracy * 100).toFixed(1)} % (OCR against the generator's plates)`,
    ],
    ['OCR time per photo', `p50 ${s.ocr_ms.p50} ms, p95 ${s.ocr_ms.p95} ms (PP-OCRv4 model: detect + recognise)`],
    [
      'wait for the reader',
      `p50 ${s.ocr_wait_ms.p50} ms, p95 ${s.ocr_wait_ms.p95} ms (behind the instance's other photos: it reads one at a time)`,
    ],
    [
      'analysed photos',
      `${s.analysed_photos_on_disk}/${s.fines_issued} image_url resolve to a PNG on disk${s.example_fine ? `, e.g. ${String(s.example_fine['image_url'])}` : ''}`,
    ],
    [
      'clicks (events per user per minute)',
      `${s.windows.clicks.counted}/${s.windows.clicks.distinct_sent} counted, ${s.windows.clicks.late} late (${s.windows.clicks.duplicates_sent} duplicates sent)`,
    ],
    [
      'transactions (30 s windows)',
      `${s.windows.transactions.counted}/${s.windows.transactions.distinct_sent} counted, ${s.windows.transactions.late} late (${s.windows.transactions.duplicates_sent} duplicates sent)`,
    ],
    [
      'registrations',
      `${s.windows.users.rows}/${s.windows.users.distinct_sent} users (${s.windows.users.duplicates_sent} duplicate responses sent)`,
    ],
    ['section traffic per minute', `${s.windows.section_traffic.counted}/${s.windows.section_traffic.passages} passages counted`],
    ['window pipelines, Firestore', `${s.windows.firestore_per_event} operations per event`],
    [
      'dead-lettered',
      `${s.dead_lettered}: ${s.malformed_sent} malformed sent + ${s.windows.clicks.late + s.windows.transactions.late} late ${JSON.stringify(s.dead_letters_by_reason)}`,
    ],
    ['mean average speed', `${s.mean_avg_speed_kmh} km/h`],
    [
      'decision latency',
      `p50 ${s.decision_latency_ms.p50} ms, p95 ${s.decision_latency_ms.p95} ms, max ${s.decision_latency_ms.max} ms (publish → decision)`,
    ],
    ['throughput', `${s.vehicles_per_second} vehicles/s through the local stack`],
    ...(['seed', 'timed'] as const).map((f): [string, string] => {
      const c = s.firestore[f];
      return [
        `cost, ${f} format`,
        `${c.reads_per_observation} reads + ${c.writes_per_observation} writes per observation, ${c.transactions_per_vehicle} transactions per vehicle → $${c.usd_per_million_observations} per 1M observations, $${c.usd_per_million_vehicles} per 1M vehicles`,
      ];
    }),
    ['wall time', `${s.wall_seconds} s`],
    ['report', `${s.report}${s.screenshot ? ` (screenshot: ${s.screenshot})` : ''}`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** How to open the review page (the demo's stack is gone when it ends; `npm run stack` serves one). */
export function reviewPageHowTo(s: Pick<DemoSummary, 'review_queue'>): string {
  return [
    `${s.review_queue.pending} fines wait for a person. To review fines in the page:`,
    '  1. npm run stack                       (its READY line ends with review: {"url": …, "token": …})',
    '  2. node dist/cli/speedcam.js generate traffic --mode timed --vehicles 50 --emulator <READY pubsub>   (traffic to fine)',
    '  3. open <review.url>#token=<review.token> in a browser; keys: c confirm · e correct · r reject · n next',
    '     or: curl -H "Authorization: Bearer <review.token>" "<review.url>reviews?status=pending"',
    '  (docs/review.md: the API, the keys, and how reviewers sign in in Google Cloud)',
  ].join('\n');
}
