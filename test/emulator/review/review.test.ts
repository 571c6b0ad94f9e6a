import { mkdtempSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FaultPoint } from '../../../shared/core/faults.js';
import { fineIdOf, type FineRecord } from '../../../shared/fines/fine-record.js';
import type { TextDetector } from '../../../shared/fines/ports.js';
import { LocalObjectStore } from '../../../shared/platform/local-object-store.js';
import { setRuntime } from '../../../shared/runtime.js';
import { inbound, testWorld } from '../../support/fixtures.js';
import { speedingDecision, useReviewServer } from '../../support/review-server.js';

const TOKEN = 'test-review-token-0123456789';
const { ocr, base } = useReviewServer();

/** A world whose runtime serves the review function (the server above calls runtime()). */
function world(detector: TextDetector = ocr, more: Record<string, string> = {}) {
  const objects = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'objects-')));
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  const logger = {
    debug() {},
    info: (message: string, fields: Record<string, unknown> = {}) => void lines.push({ message, fields }),
    warn() {},
    error: (message: string, fields: Record<string, unknown> = {}) => void lines.push({ message, fields }),
  };
  const env = { SPEEDCAM_REVIEW_AUTH: 'token', SPEEDCAM_REVIEW_TOKEN: TOKEN, SPEEDCAM_REVIEW_CLAIM_S: '300', ...more };
  const t = testWorld(env, { objects, ocr: detector, logger });
  setRuntime(t.rt);
  const notices = () => t.publisher.on(t.config.topics.fineNotifications);
  const fine = (msg: ReturnType<typeof inbound>) => t.rt.fines.handle(msg);
  return { ...t, objects, lines, notices, fine, flush: () => t.rt.flush.run() };
}
type World = ReturnType<typeof world>;

/** A speeding decision of a timed section (photos as the cameras name them); `photo: 'garbage'` stores bytes no decoder reads. */
async function speeding(w: World, vehicleId: string, opts: { plate?: string; photo?: 'garbage'; reported?: string } = {}) {
  const { passageId, message } = await speedingDecision(w, w.objects, vehicleId, {
    plate: opts.plate ?? 'KXT4821',
    reported: opts.reported,
    garbage: opts.photo === 'garbage' ? Buffer.from('not a photo at all') : undefined,
    avgSpeed: 61.5,
  });
  const fine = (await w.fine(message))!;
  return { fine, fineId: fineIdOf(passageId) };
}

const auth = (reviewer?: string) => ({ authorization: `Bearer ${TOKEN}`, ...(reviewer ? { 'x-speedcam-reviewer': reviewer } : {}) });
const get = (path: string, headers: Record<string, string> = auth()) => fetch(`${base()}${path}`, { headers });
const post = (path: string, body: unknown, headers: Record<string, string> = auth()) =>
  fetch(`${base()}${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const reviewRows = (w: World) =>
  w.query(
    'SELECT row_id, fine_id, decision, status, plate_before, plate_after, reviewer, reason FROM speedcam.fine_reviews ORDER BY reviewed_at',
  );

/** A held fine (a photo no decoder reads) whose correction to KXT4821 crashes at `fault`: answered 500. */
async function correctionCrashingAt(vehicleId: string, fault: FaultPoint) {
  const w = world();
  const { fineId } = await speeding(w, vehicleId, { photo: 'garbage' });
  w.faults.arm(fault);
  expect((await post(`/reviews/${fineId}`, { decision: 'correct', plate: 'KXT4821' })).status).toBe(500);
  return { w, fineId };
}

/** The fine's notifications so far are exactly one, matching `expected`; its body. */
function theOneNotice(w: World, expected: Record<string, unknown>) {
  expect(w.notices()).toHaveLength(1);
  const data = w.notices()[0]!.data;
  expect(data).toMatchObject(expected);
  return data;
}
/** What a notice says of a fine the local reviewer corrected to KXT4821. */
const CORRECTED_KXT4821 = { license_plate: 'KXT4821', status: 'corrected', reviewed_by: 'local:reviewer' };

describe('held fines and their review', () => {
  it('SPEEDCAM_REVIEW_EVERY_FINE: a plate read surely is held too, and its one notice leaves only after a person confirms it', async () => {
    const w = world(ocr, { SPEEDCAM_REVIEW_EVERY_FINE: 'true' });
    const { fine, fineId } = await speeding(w, 'Sure01');
    // the read itself is trusted: no review reason, yet held
    expect(fine).toMatchObject({ status: 'pending_review', review_reason: null, license_plate: 'KXT4821' });
    await w.flush();
    expect(w.notices()).toHaveLength(0);
    const list = await (await get('/reviews?status=pending')).json();
    expect(list.reviews.map((r: { fine_id: string }) => r.fine_id)).toEqual([fineId]);
    const res = await post(`/reviews/${fineId}`, { decision: 'confirm' });
    expect(res.status).toBe(200);
    theOneNotice(w, { fine_id: fineId, license_plate: 'KXT4821', status: 'confirmed' });
    // by default (the rule) a trusted read is notified at once
    const d = world();
    const issued = await speeding(d, 'Sure02');
    expect(issued.fine).toMatchObject({ status: 'issued', review_reason: null });
    expect(d.notices()).toHaveLength(1);
  });

  it('a photo that cannot be read: no notice until a decision, exactly one after it, with the plate and the reviewer', async () => {
    const w = world();
    const { fine, fineId } = await speeding(w, 'Blur01', { photo: 'garbage' });
    expect(fine).toMatchObject({ status: 'pending_review', review_reason: 'photo_unreadable', license_plate: null });
    // (The flush's exports run on commit times: the test clock moves past them only after the decisions.
    // test/emulator/fines/fines.test.ts shows the flush sending nothing for a held fine it exports.)
    await w.flush();
    expect(w.notices()).toHaveLength(0);

    const list = await (await get('/reviews?status=pending')).json();
    expect(list.reviews.map((r: { fine_id: string }) => r.fine_id)).toEqual([fineId]);
    expect(list.reviews[0]).toMatchObject({ review_reason: 'photo_unreadable', avg_speed: 61.5, speed_limit: 40, license_plate: null });

    // Nothing read: confirming is refused (400, naming the field); correcting with the plate the photo shows decides it.
    const nothingRead = await post(`/reviews/${fineId}`, { decision: 'confirm' });
    expect(await nothingRead.json()).toMatchObject({ error: 'invalid_body', field: 'decision' });
    const res = await post(`/reviews/${fineId}`, { decision: 'correct', plate: 'kxt 4821' });
    expect(res.status).toBe(200);
    const { outcome } = await res.json();
    expect(outcome).toMatchObject({
      fine_id: fineId,
      decision: 'correct',
      status: 'corrected',
      license_plate: 'KXT4821',
      reviewed_by: 'local:reviewer',
      notified: true,
    });
    const notice = theOneNotice(w, { fine_id: fineId, ...CORRECTED_KXT4821, reviewed_at: outcome.reviewed_at, is_Ticketed: true });
    expect(notice).not.toHaveProperty('plate_alternatives');

    // A second decision: 409, nothing changes; the flush sends nothing more.
    const again = await post(`/reviews/${fineId}`, { decision: 'reject', reason: 'second thoughts' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'already_decided', status: 'corrected', reviewed_by: 'local:reviewer' });
    w.clock.advance(60_000);
    expect((await w.flush()).republished).toBe(0);
    expect(w.notices()).toHaveLength(1);
    expect(await (await get('/reviews?status=pending')).json()).toEqual({ reviews: [] });
    expect(await w.query('SELECT status, license_plate, reviewed_by FROM speedcam.fined_vehicles')).toEqual([
      { status: 'corrected', license_plate: 'KXT4821', reviewed_by: 'local:reviewer' },
    ]);
    expect(await reviewRows(w)).toMatchObject([
      { fine_id: fineId, decision: 'correct', status: 'corrected', plate_before: null, plate_after: 'KXT4821' },
    ]);
    expect(await reviewRows(w)).toMatchObject([{ reviewer: 'local:reviewer', reason: null }]);
    // The flush logs the queue each run (the dashboard's metrics and the alert read this line).
    const queue = w.lines.filter((l) => l.message === 'review queue').at(-1)!.fields;
    expect(queue).toMatchObject({ pending: 0, oldest_pending_age_s: 0, decisions_last_hour: 1 });
  });

  it('confirm: the photo re-drawn with the plate as a new evidence object; the detail: entry and exit photos, alternatives', async () => {
    const w = world();
    const { fine, fineId } = await speeding(w, 'KXT4821', { plate: 'KXT4821', reported: 'ABC1234' });
    expect(fine).toMatchObject({ status: 'pending_review', review_reason: 'plate_mismatch', license_plate: 'KXT4821' });
    const detail = await (await get(`/reviews/${fineId}`)).json();
    expect(detail).toMatchObject({
      fine_id: fineId,
      license_plate: 'KXT4821',
      radar_name: expect.any(String),
      plate_box: expect.objectContaining({ x0: expect.any(Number) }),
    });
    expect(detail.plate_alternatives[0]).toMatchObject({ plate: 'KXT4821', confidence: expect.any(Number) });
    const kinds = detail.photos.map((p: { kind: string; label: string }) => [p.kind, p.label.split(' ')[0]]);
    expect(kinds).toEqual([
      ['analysed', 'analysed'],
      ['capture', 'entry'],
      ['capture', 'exit'],
    ]);
    for (const p of detail.photos) {
      const photo = await get(`/${p.url}`);
      expect(photo.status, p.url).toBe(200);
      expect(photo.headers.get('content-type')).toBe('image/png');
      expect((await photo.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    expect((await get(`/reviews/${fineId}/photos/9`)).status).toBe(404);
    // The photo the OCR read (the exit camera's) is the zoom's source, served from the copy kept with the
    // evidence: it stays after the captures bucket's lifecycle deleted the capture.
    const sources = detail.photos.filter((p: { source: boolean }) => p.source);
    expect(sources.map((p: { label: string }) => p.label.split(' ')[0])).toEqual(['exit']);
    expect(fine.capture_copy_uri).toMatch(new RegExp(`^gs://${w.config.buckets.evidence}/`));
    unlinkSync(fileURLToPath(w.objects.viewUrl(fine.capture_uri!)));
    expect((await get(`/${sources[0].url}`)).status).toBe(200);

    const original = (await w.objects.get(fine.image_uri!))!;
    const { outcome } = await (await post(`/reviews/${fineId}`, { decision: 'confirm' })).json();
    expect(outcome).toMatchObject({ status: 'confirmed', license_plate: 'KXT4821' });
    const note = w.notices()[0]!.data as unknown as FineRecord;
    expect(note.image_uri).toMatch(new RegExp(`/${fineId}-reviewed-[0-9a-f]{12}\\.png$`));
    expect(note.image_uri).not.toBe(fine.image_uri);
    expect((await w.objects.get(note.image_uri!))!.subarray(0, 4).toString('latin1')).toBe('\x89PNG');
    // The first analysed photo is kept as it was (create-once evidence).
    expect((await w.objects.get(fine.image_uri!))!.equals(original)).toBe(true);
  });

  it('reject: nothing is sent, the reason is recorded in the fine and in fine_reviews', async () => {
    const w = world();
    const { fineId } = await speeding(w, 'Rej001', { photo: 'garbage' });
    const vans = 'entry and exit show two different vans';
    const rejected = await post(`/reviews/${fineId}`, { decision: 'reject', reason: vans });
    expect(await rejected.json()).toMatchObject({ outcome: { status: 'rejected', notified: false, reason: vans } });
    w.clock.advance(60_000);
    await w.flush();
    expect(w.notices()).toHaveLength(0);
    const rows = await w.query('SELECT status, review_note FROM speedcam.fined_vehicles');
    expect(rows).toEqual([{ status: 'rejected', review_note: 'entry and exit show two different vans' }]);
    expect(await reviewRows(w)).toMatchObject([{ decision: 'reject', plate_after: null, reason: vans }]);
  });

  it('two concurrent decisions on one fine: one 200, one 409, one notice, one fine_reviews row', async () => {
    const w = world();
    const { fineId } = await speeding(w, 'Race01', { photo: 'garbage' });
    const answers = await Promise.all([
      post(`/reviews/${fineId}`, { decision: 'correct', plate: 'AAA1111' }),
      post(`/reviews/${fineId}`, { decision: 'correct', plate: 'BBB2222' }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(w.notices()).toHaveLength(1);
    w.clock.advance(60_000);
    await w.flush();
    expect(await reviewRows(w)).toHaveLength(1);
    const winner = (await reviewRows(w))[0]!['plate_after'];
    expect(w.notices()[0]!.data['license_plate']).toBe(winner);
  });

  it('a claim: another reviewer gets 409 while it holds, and may decide once it lapses', async () => {
    const w = world();
    const { fineId } = await speeding(w, 'Claim1', { photo: 'garbage' });
    expect((await post(`/reviews/${fineId}/claim`, {}, auth('ana'))).status).toBe(200);
    expect((await post(`/reviews/${fineId}/claim`, {}, auth('ana'))).status).toBe(200);
    const other = await post(`/reviews/${fineId}/claim`, {}, auth('ben'));
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ error: 'claimed', claimed_by: 'local:ana' });
    expect((await post(`/reviews/${fineId}`, { decision: 'reject', reason: 'not a car' }, auth('ben'))).status).toBe(409);
    expect((await (await get('/reviews?status=pending')).json()).reviews).toHaveLength(1);
    w.clock.advance(301_000);
    expect((await post(`/reviews/${fineId}`, { decision: 'reject', reason: 'not a car' }, auth('ben'))).status).toBe(200);
    expect((await post(`/reviews/${fineId}/claim`, {}, auth('ana'))).status).toBe(409);
  });

  it('a crash after the decision, before the publish: the flush sends the notice, exactly once', async () => {
    const { w, fineId } = await correctionCrashingAt('Crash1', 'review.afterDecision');
    expect(w.notices()).toHaveLength(0);
    // Retrying the decision finds it made: 409, nothing changes.
    expect((await post(`/reviews/${fineId}`, { decision: 'correct', plate: 'KXT4821' })).status).toBe(409);
    w.clock.advance(60_000);
    expect((await w.flush()).republished).toBe(1);
    w.clock.advance(60_000);
    expect((await w.flush()).republished).toBe(0);
    theOneNotice(w, { fine_id: fineId, ...CORRECTED_KXT4821 });
  });

  it('a crash between the publish and its mark: the flush re-sends the same notice (same fine_id and body), then never again', async () => {
    const { w, fineId } = await correctionCrashingAt('Crash2', 'fine.afterPublish');
    expect(w.notices()).toHaveLength(1);
    w.clock.advance(60_000);
    await w.flush();
    w.clock.advance(60_000);
    await w.flush();
    expect(w.notices()).toHaveLength(2);
    expect(w.notices()[1]!.data).toEqual(w.notices()[0]!.data);
    expect(new Set(w.notices().map((n) => n.attributes['fine_id']))).toEqual(new Set([fineId]));
  });

  it('401 without or with a wrong token, 404 for an unknown fine, 400 naming the field; the page needs no token', async () => {
    const w = world();
    const { fineId } = await speeding(w, 'Bad001', { photo: 'garbage' });
    expect((await get('/reviews?status=pending', {})).status).toBe(401);
    expect((await get('/reviews?status=pending', { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    expect((await post(`/reviews/${fineId}`, { decision: 'confirm' }, {})).status).toBe(401);
    expect((await get(`/reviews/${fineId}/photos/0`, {})).status).toBe(401);
    expect((await get('/reviews/FNOSUCHFINE0000000000')).status).toBe(404);
    expect((await post('/reviews/FNOSUCHFINE0000000000', { decision: 'reject', reason: 'nothing there' })).status).toBe(404);
    expect((await get('/reviews?status=decided')).status).toBe(400);
    const field = async (body: unknown) => {
      const r = await post(`/reviews/${fineId}`, body);
      expect(r.status).toBe(400);
      return (await r.json()).field;
    };
    expect((await post(`/reviews/${fineId}`, '{"decision": "confirm"')).status).toBe(400);
    expect(await field({ decision: 'maybe' })).toBe('decision');
    expect(await field({})).toBe('decision');
    expect(await field({ decision: 'correct' })).toBe('plate');
    expect(await field({ decision: 'correct', plate: '!!' })).toBe('plate');
    expect(await field({ decision: 'reject' })).toBe('reason');
    expect(await field({ decision: 'reject', reason: 'ok', extra: 1 })).toBe('reason');
    // Nothing changed by the refused requests.
    expect((await (await get('/reviews?status=pending')).json()).reviews).toHaveLength(1);
    expect(w.notices()).toHaveLength(0);
    const page = await get('/', {});
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('Held fines');
  });

  it('fine_reviews is append-only: one row per decision, kept through later flushes and later decisions', async () => {
    const w = world();
    const a = await speeding(w, 'Append1', { photo: 'garbage' });
    const b = await speeding(w, 'Append2', { photo: 'garbage' });
    expect((await post(`/reviews/${a.fineId}`, { decision: 'correct', plate: 'AAA1111' })).status).toBe(200);
    expect((await post(`/reviews/${b.fineId}`, { decision: 'reject', reason: 'two vehicles' })).status).toBe(200);
    expect((await post(`/reviews/${a.fineId}`, { decision: 'reject', reason: 'overwrite?' })).status).toBe(409);
    w.clock.advance(60_000);
    await w.flush();
    const first = await reviewRows(w);
    expect(first).toHaveLength(2);
    // Every decision's document exported again (as a flush retried after a crash would): the same rows.
    const { reviewsExporter } = await import('../../../shared/review/review-export.js');
    const again = await reviewsExporter({ reviews: w.rt.stores.reviews }).scan(0, Date.now() + 60_000, 100);
    expect(again).toHaveLength(2);
    const { DuckDbWarehouse } = await import('../../../shared/platform/duckdb-warehouse.js');
    const wh = await DuckDbWarehouse.open(w.warehousePath);
    await wh.upsert(
      'fine_reviews',
      again.map((r) => reviewsExporter({ reviews: w.rt.stores.reviews }).toRow(r)),
    );
    await wh.close();
    w.clock.advance(60_000);
    await w.flush();
    const rows = await reviewRows(w);
    expect(rows).toEqual(first);
    expect(rows.map((r) => r['decision'])).toEqual(['correct', 'reject']);
    expect(new Set(rows.map((r) => r['row_id'])).size).toBe(2);
    // Firestore: one decision document each, created once.
    const docs = await w.rt.stores.db.collection(w.config.collections.fineReviews).get();
    expect(docs.docs.map((d) => d.data()['fine_id']).sort()).toEqual([a.fineId, b.fineId].sort());
  });
});
