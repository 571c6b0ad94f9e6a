import { join } from 'node:path';
import type { Config } from '../../shared/config.js';
import type { ReadyInfo } from '../stack.js';
import type { DemoSummary } from './summary.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DuckDbWarehouse } from '../../shared/platform/duckdb-warehouse.js';
import { renderReport, type ReportData, thumbnail } from './report-html.js';
import { fileURLToPath } from 'node:url';
import { hasChromium, openInChromium } from './report-browser.js';

/** The report's lines, from the summary: the measured latencies and the headline counts. */
export function reportLines(s: Omit<DemoSummary, 'report' | 'screenshot'>): {
  latencies: [string, string][];
  headline: [string, string][];
} {
  return {
    latencies: [
      ['decision latency (publish → decision)', `p50 ${s.decision_latency_ms.p50} ms, p95 ${s.decision_latency_ms.p95} ms`],
      ['OCR per photo', `p50 ${s.ocr_ms.p50} ms, p95 ${s.ocr_ms.p95} ms`],
      ['Wait for the reader', `p50 ${s.ocr_wait_ms.p50} ms, p95 ${s.ocr_wait_ms.p95} ms`],
      ['throughput', `${s.vehicles_per_second} vehicles/s`],
    ],
    headline: [
      ['vehicles', String(s.vehicles)],
      ['fined', String(s.fines_issued)],
      ['plates read exactly', `${s.plates_read_exactly}/${s.fines_issued}`],
      ['clicks counted', `${s.windows.clicks.counted}/${s.windows.clicks.distinct_sent}`],
      ['transactions counted', `${s.windows.transactions.counted}/${s.windows.transactions.distinct_sent}`],
      ['users', `${s.windows.users.rows}/${s.windows.users.distinct_sent}`],
      ['dead letters', `${s.dead_lettered}/${s.malformed_sent}`],
    ],
  };
}

/** The HTML report (and, where Chromium is installed, its screenshot) in <dataDir>/report/. */
export async function writeReport(
  opts: { dataDir: string; log: (line: string) => void },
  info: ReadyInfo,
  config: Config,
  fines: Record<string, unknown>[],
  truth: Map<string, string>,
  latencies: [string, string][],
  headline: [string, string][],
): Promise<{ file: string; screenshot: string | null }> {
  const dir = join(opts.dataDir, 'report');
  mkdirSync(dir, { recursive: true });
  const wh = await DuckDbWarehouse.open(info.warehouse, { readOnly: true });
  let data: ReportData;
  try {
    const minutes = await wh.query(
      "SELECT radar_id, strftime(minute_start, '%Y-%m-%dT%H:%M:%S.000Z') AS minute, vehicles, fined FROM speedcam.section_traffic_minute ORDER BY minute",
    );
    const speeds = await wh.query('SELECT radar_id, avg_speed FROM speedcam.vehicle_passages WHERE avg_speed IS NOT NULL');
    data = {
      generatedAt: new Date().toISOString(),
      headline,
      fines: await Promise.all(
        fines.map(async (f) => {
          const url = typeof f['image_url'] === 'string' ? String(f['image_url']) : null;
          const file = url?.startsWith('file:') ? fileURLToPath(url) : null;
          return {
            fine_id: String(f['fine_id']),
            vehicle_id: String(f['vehicle_id']),
            plate_read: (f['license_plate'] as string | null) ?? null,
            plate_truth: truth.get(String(f['vehicle_id'])) ?? null,
            plate_confidence: (f['plate_confidence'] as number | null) ?? null,
            review_reason: (f['review_reason'] as string | null) ?? null,
            avg_speed: Number(f['avg_speed']),
            photo:
              file && existsSync(file) && file.endsWith('.png') && !file.includes('captures') ? await thumbnail(readFileSync(file)) : null,
          };
        }),
      ),
      radars: [...config.radars.values()].map((r) => ({
        radar_id: r.id,
        name: r.name,
        speed_limit: r.speedLimitKmh,
        minutes: minutes
          .filter((m) => m['radar_id'] === r.id)
          .map((m) => ({ minute: String(m['minute']), vehicles: Number(m['vehicles']), fined: Number(m['fined']) })),
        speeds: speeds.filter((x) => x['radar_id'] === r.id).map((x) => Number(x['avg_speed'])),
      })),
      clickWindows: (await wh.query(
        "SELECT strftime(window_start, '%H:%M') AS window_start, user_pseudo_id, event_count FROM speedcam.user_event_counts ORDER BY window_start, event_count DESC",
      )) as ReportData['clickWindows'],
      transactionWindows: await wh.query(
        "SELECT strftime(window_start_time, '%H:%M:%S') AS window_start, total_transactions, total_amount_sum, avg_transaction_amount, max_amount, min_amount FROM speedcam.transaction_windows ORDER BY window_start",
      ),
      deadLetters: (await wh.query(
        'SELECT reason, source, count(*) AS n FROM speedcam.dead_letters GROUP BY reason, source ORDER BY n DESC, reason',
      )) as ReportData['deadLetters'],
      latencies,
    };
  } finally {
    await wh.close();
  }
  const file = join(dir, 'index.html');
  writeFileSync(file, renderReport(data));
  if (!hasChromium()) return { file, screenshot: null };
  const screenshot = join(dir, 'screenshot.png');
  const errors = await openInChromium(file, screenshot).catch((err: unknown) => {
    // Installed without development dependencies: the report stands without its screenshot.
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    return null;
  });
  if (errors === null) {
    opts.log('report: no screenshot (playwright-core, a development dependency, is not installed)');
    return { file, screenshot: null };
  }
  if (errors.length > 0) opts.log(`report: Chromium reported ${errors.length} console error(s): ${errors[0]}`);
  return { file, screenshot };
}
