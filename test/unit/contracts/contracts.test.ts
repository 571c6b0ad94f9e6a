import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { clickRow, malformed, randomUserResponse as randomUserResponseText, transactionMessage } from '../../../cli/generators/events.js';
import { spotSpeedVehicleMessages, timedVehicleMessages } from '../../../cli/generators/traffic.js';
import { clickEvent } from '../../../shared/contracts/click-event.js';
import { deadLetter } from '../../../shared/contracts/dead-letter.js';
import { fineNotification } from '../../../shared/contracts/fine-notification.js';
import { FLUSH_TICK, flushTick } from '../../../shared/contracts/flush-tick.js';
import { nonFinedVehicle } from '../../../shared/contracts/non-fined-vehicle.js';
import { speedingVehicle, speedingVehicleAccepted } from '../../../shared/contracts/speeding-vehicle.js';
import { TOPIC, TOPICS, type TopicKey } from '../../../shared/contracts/topics.js';
import { transaction } from '../../../shared/contracts/transaction.js';
import { randomUserResponse, randomUserResult } from '../../../shared/contracts/user-registration.js';
import { spotSpeedObservation, timedObservation } from '../../../shared/contracts/vehicle-observation.js';
import { Faults } from '../../../shared/core/faults.js';
import { silentLogger } from '../../../shared/core/logger.js';
import { Rejection } from '../../../shared/core/rejection.js';
import { rejectedRowLetter } from '../../../shared/dead-letters/export.js';
import { sendToDeadLetters } from '../../../shared/dead-letters/send.js';
import { recordDeadLetter } from '../../../shared/dead-letters/sink.js';
import { notifyFine, type FineRecord } from '../../../shared/fines/fine-record.js';
import { publishDecisionMessage } from '../../../shared/speed/decision.js';
import { close, type PassageState } from '../../../shared/speed/passage.js';
import type { DecisionRef } from '../../../shared/speed/passage-store.js';
import { windowPipeline } from '../../../shared/windows/pipeline.js';
import { WINDOW_PIPELINES } from '../../../shared/windows/pipelines/index.js';
import { inbound, ManualClock, RecordingPublisher, testConfig } from '../../support/fixtures.js';

/** Each topic's contract module in shared/contracts/: one, and only one, per topic. */
const HOMES: Record<TopicKey, string> = {
  vehicleObservations: 'vehicle-observation.ts',
  nonFinedVehicles: 'non-fined-vehicle.ts',
  speedingVehicles: 'speeding-vehicle.ts',
  fineNotifications: 'fine-notification.ts',
  deadLetters: 'dead-letter.ts',
  flushTicks: 'flush-tick.ts',
  userRegistrations: 'user-registration.ts',
  clickEvents: 'click-event.ts',
  transactions: 'transaction.ts',
};
/** the topic list itself, and the decision both decision topics carry */
const SHARED = ['topics.ts', 'passage-decision.ts'];

const config = testConfig();
const radar = config.radars.get(config.defaultRadarId)!;
const seeded = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
/** the message as its consumer receives it: JSON text, parsed */
const wire = (data: unknown) => JSON.parse(JSON.stringify(data)) as unknown;
/** parses and keeps every field: a field the producer sends but the contract does not declare is stripped, and the two differ */
const roundTrip = (schema: z.ZodType, data: unknown) => expect(schema.parse(wire(data))).toEqual(wire(data));

/** A closed passage of the default radar at `kmh` from entry to exit, as the speed check decides it. */
function decided(kmh: number, opts: { photos?: boolean; cameras?: 1 | 2 } = {}): DecisionRef {
  const travelMs = Math.round((radar.lengthKm / kmh) * 3_600_000);
  const t0 = Date.parse('2026-11-21T10:00:00Z');
  const image = (c: string) => (opts.photos ? `gs://${config.buckets.captures}/${radar.id}/V1/${c}.png` : null);
  const obs: PassageState['obs'] = {
    a: { t: t0, lat: radar.entry[0], lon: radar.entry[1], v: null, c: 'entry', p: 'KXT4821', i: image('entry'), pub: t0 + 20 },
  };
  if (opts.cameras !== 1) {
    obs['b'] = {
      t: t0 + travelMs,
      lat: radar.exit[0],
      lon: radar.exit[1],
      v: null,
      c: 'exit',
      p: 'KXT4821',
      i: image('exit'),
      pub: t0 + travelMs,
    };
  }
  const state: PassageState = {
    radarId: radar.id,
    vehicleId: 'V1',
    status: 'open',
    obs,
    firstSeenMs: t0,
    lastSeenMs: t0 + travelMs,
    lastArrivalMs: t0 + travelMs,
    decision: null,
  };
  const closedAt = t0 + travelMs + 16_000;
  // publishing reads only the decision (where it is stored is the store's business)
  return { decision: close(state, radar, opts.cameras === 1 ? 'gap' : 'exit', closedAt).decision! } as DecisionRef;
}

async function published(ref: DecisionRef) {
  const publisher = new RecordingPublisher();
  await publishDecisionMessage({ config, publisher, logger: silentLogger }, ref);
  expect(publisher.messages).toHaveLength(1);
  return publisher.messages[0]!;
}

describe('shared/contracts/: one home per topic', () => {
  it('every topic has its contract module, and every module there is a topic’s (or the topic list, or the shared decision)', () => {
    expect(Object.keys(HOMES).sort()).toEqual(TOPICS.map((t) => t.key).sort());
    const files = readdirSync('shared/contracts').sort();
    expect(files).toEqual([...Object.values(HOMES), ...SHARED].sort());
  });

  it('docs/contracts.md names each topic with its contract file', () => {
    const doc = readFileSync('docs/contracts.md', 'utf8');
    const rows = doc.split('\n').filter((l) => l.startsWith('| `'));
    for (const t of TOPICS) {
      const row = rows.find((l) => l.startsWith(`| \`${t.name}\``));
      expect(row, t.name).toBeDefined();
      expect(row, t.name).toContain(`shared/contracts/${HOMES[t.key]}`);
    }
  });

  it('each window pipeline with a topic takes it from the contracts (their names are the terraform topics)', () => {
    for (const p of WINDOW_PIPELINES) if (p.input.kind === 'topic') expect(TOPICS).toContain(p.input.topic);
    expect(TOPIC.clickEvents).toEqual({ key: 'clickEvents', env: 'TOPIC_CLICK_EVENTS', name: 'click-events' });
  });

  it('the modules that publish or decode a topic message import its contract', () => {
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const io = sources('shared').filter((f) => {
      if (/^shared\/(contracts|core|platform)\//.test(f) || f === 'shared/windows/pipeline.ts') return false;
      const s = readFileSync(f, 'utf8');
      return s.includes('publisher.publish(') || s.includes('decodeJsonObject(');
    });
    const topicPipelines = WINDOW_PIPELINES.filter((p) => p.input.kind === 'topic').map((p) => `shared/windows/pipelines/${p.name}.ts`);
    const all = [...io, ...topicPipelines];
    expect(all.length).toBeGreaterThanOrEqual(9);
    expect(all.filter((f) => !/from '(\.\.\/)+contracts\//.test(readFileSync(f, 'utf8')))).toEqual([]);
  });
});

describe('internal topics: what the producer publishes, the consumer’s schema takes', () => {
  it('speeding-vehicles: a fined decision, with its photos, passes the contract and the fine function’s schema', async () => {
    const m = await published(decided(80, { photos: true }));
    expect(m.topic).toBe(config.topics.speedingVehicles);
    expect(m.data).toMatchObject({ is_Ticketed: true, license_plate: 'KXT4821' });
    roundTrip(speedingVehicle, m.data);
    expect(speedingVehicleAccepted.safeParse(wire(m.data)).success).toBe(true);
    expect(m.attributes).toEqual({ passage_id: m.data['passage_id'], radar_id: radar.id, event_id: m.data['passage_id'] });
  });

  it('non-fined-vehicles: slow, and one camera only (no speed), pass their contract; the fine function refuses them', async () => {
    for (const ref of [decided(20), decided(20, { cameras: 1 })]) {
      const m = await published(ref);
      expect(m.topic).toBe(config.topics.nonFinedVehicles);
      roundTrip(nonFinedVehicle, m.data);
      expect(speedingVehicleAccepted.safeParse(wire(m.data)).success).toBe(false);
      expect(m.attributes['event_id']).toBe(m.data['passage_id']);
    }
    expect((await published(decided(20, { cameras: 1 }))).data).toMatchObject({ avg_speed: null, review_reason: 'insufficient_data' });
  });

  it('the contract catches a field the producer adds without declaring it, or a value of the wrong type', async () => {
    const m = await published(decided(80));
    expect(() => roundTrip(speedingVehicle, { ...m.data, fined_twice: true })).toThrow();
    expect(speedingVehicle.safeParse({ ...m.data, method: 'median' }).success).toBe(false);
  });

  it('fine-notifications: a notified fine passes its contract; a held one is never published', async () => {
    const publisher = new RecordingPublisher();
    const marked: string[] = [];
    const deps = { config, publisher, faults: new Faults(), fines: { markNotified: async (id: string) => void marked.push(id) } };
    const record: FineRecord = {
      fine_id: 'F0123456789ABCDEF012',
      passage_id: 'p1',
      radar_id: radar.id,
      vehicle_id: 'V1',
      avg_speed: 61.5,
      speed_limit: 40,
      speed_threshold: 40,
      tolerance: null,
      coordinates: [...radar.exit],
      license_plate: 'KXT4821',
      plate_confidence: 0.97,
      review_reason: null,
      image_url: 'file:///tmp/x.png',
      image_uri: 'gs://evidence/x.png',
      image_sha256: 'ab'.repeat(32),
      capture_uri: 'gs://captures/x.png',
      capture_copy_uri: 'gs://evidence/x-capture.png',
      photo_source: 'capture',
      first_seen: '2026-11-21T10:00:00.000Z',
      last_seen: '2026-11-21T10:00:30.000Z',
      issued_at: '2026-11-21T10:00:47.000Z',
      ocr_ms: 310,
      status: 'issued',
      plate_box: { x0: 1, y0: 2, x1: 3, y1: 4 },
      plate_alternatives: [{ plate: 'KXT4821', confidence: 0.97 }],
      captures: [{ camera: 'exit', uri: 'gs://captures/x.png', at: '2026-11-21T10:00:30.000Z' }],
    };
    await notifyFine(deps, record);
    await notifyFine(deps, { ...record, fine_id: 'F2', status: 'corrected', read_plate: 'KXT4B21', reviewed_by: 'a@b.c' });
    await notifyFine(deps, { ...record, fine_id: 'F3', status: 'pending_review', review_reason: 'low_confidence' });
    expect(publisher.messages.map((m) => m.attributes['event_id'])).toEqual([record.fine_id, 'F2']);
    for (const m of publisher.messages) roundTrip(fineNotification, m.data);
    expect(publisher.messages[0]!.data).not.toHaveProperty('plate_box');
    expect(fineNotification.safeParse({ ...publisher.messages[0]!.data, status: 'pending_review' }).success).toBe(false);
  });

  it('dead-letters: what a function sends, the sink keeps as it is (not re-wrapped); the warehouse’s refusals too', async () => {
    const publisher = new RecordingPublisher();
    const clock = new ManualClock();
    const deps = { config, publisher, logger: silentLogger, clock, faults: new Faults() };
    const sent = await sendToDeadLetters(deps, 'vehicle-observations', inbound('{"speed":'), new Rejection('malformed_json', 'cut short'));
    const m = publisher.messages[0]!;
    roundTrip(deadLetter, m.data);
    expect(m.attributes['event_id']).toBe(sent.dead_letter_id);
    const saved: unknown[] = [];
    const kept = await recordDeadLetter(
      { store: { save: async (dl) => void saved.push(dl) }, logger: silentLogger, clock, faults: new Faults() },
      inbound(JSON.stringify(m.data), { attributes: m.attributes }),
    );
    expect(kept).toEqual(sent);
    roundTrip(deadLetter, rejectedRowLetter('users', { row: { row_id: 'u1' }, reason: 'invalid', error: 'no such field' }, clock.now()));
  });

  it('flush-ticks: every producer publishes the contract’s body (the deploy job, Terraform’s job, the stack)', () => {
    roundTrip(flushTick, FLUSH_TICK);
    const tf = readFileSync('terraform/scheduler.tf', 'utf8');
    expect(tf).toContain(`base64encode(${JSON.stringify(JSON.stringify(FLUSH_TICK))})`);
    expect(readFileSync('cli/deploy.ts', 'utf8')).toContain('`--message-body=${JSON.stringify(FLUSH_TICK)}`');
    expect(readFileSync('cli/stack.ts', 'utf8')).toContain('publishMessage({ json: FLUSH_TICK })');
  });
});

describe('input topics: the generators’ messages (the seeds’ producers) pass the wire schemas', () => {
  const random = seeded(7);

  it('vehicle-observations: the radar generator’s and the timed cameras’', () => {
    for (const text of spotSpeedVehicleMessages(radar, random, 0.5).messages) roundTrip(spotSpeedObservation, JSON.parse(text));
    const timed = timedVehicleMessages(radar, random, 1, Date.now(), 'KXT4821', 'gs://captures/exit.png', 'gs://captures/entry.png');
    for (const text of timed.messages) roundTrip(timedObservation, JSON.parse(text));
    expect(timedObservation.safeParse({ ...JSON.parse(timed.messages[0]!), sped: true }).success).toBe(false);
  });

  it('user-registrations: a randomuser.me response and each of its results', () => {
    const body = JSON.parse(randomUserResponseText(5, random)) as { results: unknown[] };
    expect(randomUserResponse.safeParse(body).success).toBe(true);
    for (const r of body.results) roundTrip(randomUserResult, r);
  });

  it('click-events and transactions: the whole-message schema and the pipeline’s parser agree on every message', () => {
    const payloadTime = testConfig({ SPEEDCAM_PIPELINES: '{"clicks":{"event_time":"payload"},"transactions":{"event_time":"payload"}}' });
    const cases: [string, z.ZodType, string[]][] = [
      ['clicks', clickEvent, [clickRow('u1', Date.now() - 5000, random)]],
      ['transactions', transaction, [transactionMessage(Date.now() - 5000, random)]],
    ];
    for (const [name, schema, good] of cases) {
      const kind = name as 'clicks' | 'transactions';
      const texts = [...good, ...Array.from({ length: 40 }, () => malformed(kind, good[0]!, random))];
      texts.push(JSON.stringify({ ...JSON.parse(good[0]!), user_pseudo_id: '', event_timestamp: '1.5', amount: '1_000.5' }));
      const pipeline = windowPipeline(kind, payloadTime);
      let accepted = 0;
      for (const text of texts) {
        const byParser = !(pipeline.parse(inbound(text), Date.now()) instanceof Rejection);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          expect(byParser, text).toBe(false);
          continue;
        }
        expect(schema.safeParse(json).success, `${name}: ${text.slice(0, 120)}`).toBe(byParser);
        if (byParser) accepted++;
      }
      expect(accepted, name).toBeGreaterThan(0);
      expect(accepted, name).toBeLessThan(texts.length);
    }
  });
});
