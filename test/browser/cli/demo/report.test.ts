import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawAnalysedPhoto } from '../../../../shared/fines/evidence-photo.js';
import { renderCapturePhoto } from '../../../../cli/generators/capture-photo.js';
import { renderReport, thumbnail, type ReportData, type ReportFine } from '../../../../cli/demo/report-html.js';
import { openInChromium } from '../../../../cli/demo/report-browser.js';

export const REPORT_DIR = resolve('.speedcam/report-test');

async function data(): Promise<ReportData> {
  let s = 17;
  const random = () => (s = (s * 48271) % 2147483647) / 2147483647;
  const fines: ReportFine[] = [];
  // what the report must tell apart: a right read, a wrong read issued unflagged, a wrong read flagged for review
  const cases = [
    { truth: 'KXT4821', read: 'KXT4821', confidence: 0.96, review: null },
    { truth: 'ABC1234', read: 'ABC1284', confidence: 0.93, review: null },
    { truth: 'MYJ4650', read: 'MYJ465', confidence: 0.42, review: 'low_confidence' },
  ];
  for (const [i, c] of cases.entries()) {
    const { image, plateBox } = await renderCapturePhoto(c.truth, random);
    const photo = await thumbnail(
      await drawAnalysedPhoto(image, {
        plate: c.read,
        plateConfidence: c.confidence,
        plateBox,
        avgSpeedKmh: 55 + i,
        speedLimitKmh: 40,
        radarName: '5th Avenue',
        observedAt: '2026-11-21T10:00:00Z',
        fineId: `F${i}`,
      }),
    );
    fines.push({
      fine_id: `F${i}`,
      vehicle_id: `v${i}`,
      plate_read: c.read,
      plate_truth: c.truth,
      plate_confidence: c.confidence,
      review_reason: c.review,
      avg_speed: 55 + i,
      photo,
    });
  }
  const missing: ReportFine = {
    fine_id: 'F9',
    vehicle_id: 'v9',
    plate_read: null,
    plate_truth: 'ZZZ0000',
    plate_confidence: null,
    review_reason: 'photo_missing',
    avg_speed: 61,
    photo: null,
  };
  return {
    generatedAt: '2026-11-21T10:05:00Z',
    headline: [
      ['vehicles', '300'],
      ['fined', '84'],
      ['plates read exactly', '98.8 %'],
    ],
    fines: [...fines, missing],
    radars: [
      {
        radar_id: 'nyc-5th-ave-apple-zara',
        name: '5th Avenue: Apple Store to Zara',
        speed_limit: 40,
        minutes: [
          { minute: '2026-11-21T10:00:00.000Z', vehicles: 120, fined: 30 },
          { minute: '2026-11-21T10:01:00.000Z', vehicles: 180, fined: 54 },
        ],
        speeds: Array.from({ length: 300 }, () => 25 + random() * 40),
      },
    ],
    clickWindows: [{ window_start: '2026-11-21T10:00:00Z', user_pseudo_id: '111.1', event_count: 12 }],
    transactionWindows: [{ window_start_time: '2026-11-21T10:00:00Z', total_transactions: 60, total_amount_sum: 15432.1 }],
    deadLetters: [{ reason: 'malformed_json', source: 'click-events', n: 3 }],
    latencies: [['decision p50', '89 ms']],
  };
}

describe('the demo report', () => {
  it('renders in headless Chromium: photos loaded, charts drawn, a wrong read and a flagged fine shown as such, no console errors; screenshot saved', async () => {
    mkdirSync(REPORT_DIR, { recursive: true });
    const file = join(REPORT_DIR, 'index.html');
    writeFileSync(file, renderReport(await data()));
    const errors = await openInChromium(file, join(REPORT_DIR, 'screenshot.png'), async (page) => {
      const images = await page.$$eval('img.evidence', (els) =>
        els.map((e) => ({ complete: (e as HTMLImageElement).complete, width: (e as HTMLImageElement).naturalWidth })),
      );
      expect(images).toHaveLength(3);
      expect(images.every((i) => i.complete && i.width === 320)).toBe(true);
      expect(await page.$$eval('svg.chart rect.bar', (els) => els.length)).toBe(2);
      expect(
        await page.$$eval('svg.chart rect.bin', (els) => els.filter((e) => Number(e.getAttribute('height')) > 0).length),
      ).toBeGreaterThan(3);
      expect(await page.$$eval('svg.chart line.limit', (els) => els.length)).toBe(1);
      expect(await page.locator('text=photo_missing').count()).toBe(1);
      const fine = (id: string) => page.locator('figure.fine', { has: page.locator(`img[alt="analysed photo of fine ${id}"]`) });
      expect(await page.locator('h2', { hasText: 'Fines' }).textContent()).toContain('plates read exactly: 1/4');
      // the right read: marked equal to the truth, no review
      expect(await fine('F0').locator('span.ok').textContent()).toBe('= truth');
      expect(await fine('F0').locator('i').count()).toBe(0);
      // the wrong read issued without review: the read, and the truth marked as differing
      expect(await fine('F1').locator('b').textContent()).toBe('ABC1284');
      expect(await fine('F1').locator('span.ok').count()).toBe(0);
      expect(await fine('F1').locator('span.bad').textContent()).toBe('truth ABC1234');
      expect(await fine('F1').locator('i').count()).toBe(0);
      // the flagged fine: wrong, and its review reason shown
      expect(await fine('F2').locator('span.bad').textContent()).toBe('truth MYJ4650');
      expect(await fine('F2').locator('i').textContent()).toBe('review: low_confidence');
      expect(await fine('F2').textContent()).toContain('confidence 42 %');
      expect(await page.locator('figure.fine span.ok').count()).toBe(1);
      expect(await page.locator('figure.fine span.bad').count()).toBe(3);
    });
    expect(errors).toEqual([]);
  });
});
