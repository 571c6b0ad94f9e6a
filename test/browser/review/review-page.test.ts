import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../../../cli/demo/report-browser.js';
import { fineIdOf } from '../../../shared/fines/fine-record.js';
import { LocalObjectStore } from '../../../shared/platform/local-object-store.js';
import { setRuntime } from '../../../shared/runtime.js';
import { testWorld } from '../../support/fixtures.js';
import { speedingDecision, useReviewServer } from '../../support/review-server.js';

const TOKEN = 'browser-review-token-0123456789';
const SHOTS = resolve('.speedcam/review-page-test');
const { ocr, base } = useReviewServer();

describe.skipIf(!hasChromium())('the review page in Chromium', () => {
  it('a reviewer decides three held fines with the keyboard: confirm, correct (typing the plate), reject (typing why)', async () => {
    const objects = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'objects-')));
    const w = testWorld({ SPEEDCAM_REVIEW_AUTH: 'token', SPEEDCAM_REVIEW_TOKEN: TOKEN }, { objects, ocr });
    setRuntime(w.rt);
    /** A held fine of a timed section: entry and exit photos; `garbage` = an exit photo nothing can read. */
    const held = async (vehicleId: string, o: { plate: string; reported?: string; garbage?: boolean }) => {
      const decision = await speedingDecision(w, objects, vehicleId, {
        plate: o.plate,
        reported: o.reported,
        garbage: o.garbage ? Buffer.from('unreadable') : undefined,
        avgSpeed: 63.2,
      });
      const fine = await w.rt.fines.handle(decision.message);
      expect(fine!.status).toBe('pending_review');
      w.clock.advance(1000);
      return fineIdOf(decision.passageId);
    };
    const confirmId = await held('KXT4821', { plate: 'KXT4821', reported: 'ABC1234' });
    const correctId = await held('Blur01', { plate: 'MYJ4650', garbage: true });
    const rejectId = await held('Blur02', { plate: 'ZZZ0000', garbage: true });
    expect(w.publisher.on(w.config.topics.fineNotifications)).toHaveLength(0);

    mkdirSync(SHOTS, { recursive: true });
    const browser = await launchChromium();
    const errors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      // The token as `npm run stack` prints it in the page's URL fragment (never sent to the server).
      await page.goto(`${base()}/#token=${TOKEN}`, { waitUntil: 'load' });
      const showing = (id: string) => page.waitForFunction((want) => document.getElementById('fine-id')?.textContent === want, id);

      // The oldest first: the plate the OCR read (KXT4821) against the camera's report; both photos and the zoom.
      await showing(confirmId);
      expect(await page.locator('#queue li').count()).toBe(3);
      expect(await page.textContent('#plate')).toBe('KXT4821');
      expect(await page.textContent('#reason')).toBe('plate_mismatch');
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('#main-photo img, #captures img')].filter((i) => (i as HTMLImageElement).naturalWidth > 0)
            .length === 3,
      );
      expect(await page.locator('#captures figcaption', { hasText: 'entry' }).count()).toBe(1);
      expect(await page.locator('#captures figcaption', { hasText: 'exit' }).count()).toBe(1);
      expect(await page.$eval('#zoom canvas', (c) => (c as HTMLCanvasElement).height)).toBeGreaterThan(20);
      await page.screenshot({ path: join(SHOTS, 'review-page.png'), fullPage: true });
      await page.keyboard.press('c');

      // Next: a photo nothing could read; `e`, type the plate, Enter.
      await showing(correctId);
      expect(await page.textContent('#status-line')).toContain(`${confirmId}: confirmed`);
      expect(await page.textContent('#plate')).toBe('not read');
      await page.keyboard.press('e');
      await page.keyboard.type('myj 4650');
      await page.keyboard.press('Enter');

      // Last: `r`, type why, Enter.
      await showing(rejectId);
      expect(await page.textContent('#status-line')).toContain(`${correctId}: corrected · MYJ4650 · notice sent`);
      await page.keyboard.press('r');
      await page.keyboard.type('entry and exit show two different vans');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#empty');
      expect(await page.textContent('#status-line')).toContain(`${rejectId}: rejected · no notice`);
      expect(await page.locator('#queue li').count()).toBe(0);
    } finally {
      await browser.close();
    }
    expect(errors).toEqual([]);

    // What the keys did: two notices (confirmed and corrected plates), the reject sent nothing; every decision recorded.
    const notes = w.publisher.on(w.config.topics.fineNotifications).map((n) => n.data);
    expect(notes.map((n) => [n['fine_id'], n['license_plate'], n['status'], n['reviewed_by']])).toEqual([
      [confirmId, 'KXT4821', 'confirmed', 'local:reviewer'],
      [correctId, 'MYJ4650', 'corrected', 'local:reviewer'],
    ]);
    const fines = w.rt.stores.db.collection(w.config.collections.fines);
    const rejected = (await fines.doc(rejectId).get()).data();
    expect(rejected).toMatchObject({ status: 'rejected', review_note: 'entry and exit show two different vans' });
    expect(rejected).toMatchObject({ reviewed_by: 'local:reviewer' });
    const reviews = await w.rt.stores.db.collection(w.config.collections.fineReviews).get();
    expect(reviews.docs.map((d) => [d.data()['fine_id'], d.data()['decision'], d.data()['plate_after']]).sort()).toEqual(
      [
        [confirmId, 'confirm', 'KXT4821'],
        [correctId, 'correct', 'MYJ4650'],
        [rejectId, 'reject', null],
      ].sort(),
    );
    const api = await fetch(`${base()}/reviews?status=pending`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await api.json()).toEqual({ reviews: [] });
  });
});
