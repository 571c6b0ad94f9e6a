import { describe, expect, it } from 'vitest';
import { Rejection } from '../../../shared/core/rejection.js';
import { parseIsoTimestamp, parseObservation, type Observation } from '../../../shared/speed/observation.js';
import { spotSpeedMessage } from '../../../cli/generators/traffic.js';
import { inbound, testConfig } from '../../support/fixtures.js';

const config = testConfig({
  SPEEDCAM_RADARS: JSON.stringify([
    { id: 'nyc-5th-ave-apple-zara', entry: [40.76384258989008, -73.97296227572797], exit: [40.7601385362864, -73.97629590579231] },
    { id: 'radar-2', entry: [40.75, -73.99], exit: [40.752, -73.985] },
  ]),
});
const NOW = Date.parse('2026-11-21T10:00:00Z');
const parse = (data: string | Buffer, attributes?: Record<string, string>) =>
  parseObservation(inbound(data, { attributes, publishTimeMs: NOW - 500 }), config, NOW);

describe('seed format', () => {
  it('parses the seed generator message exactly as Python json.dumps writes it', () => {
    const o = parse(spotSpeedMessage('aB3xY9', 57.31, [40.7638, -73.9729])) as Observation;
    expect(o).toMatchObject({
      format: 'seed',
      vehicleId: 'aB3xY9',
      speedKmh: 57.31,
      location: [40.7638, -73.9729],
      radarId: 'nyc-5th-ave-apple-zara',
      eventTimeMs: NOW - 500,
      camera: null,
    });
  });
  it('takes the radar from the radar_id attribute', () => {
    const o = parse('{"vehicle_id":"aB3xY9","speed":30.5,"location":[40.751,-73.987]}', { radar_id: 'radar-2' }) as Observation;
    expect(o.radarId).toBe('radar-2');
  });
  it('gives the same observation the same id however it is serialised or delivered', () => {
    const a = parse(spotSpeedMessage('aB3xY9', 57.31, [40.7638, -73.9729])) as Observation;
    const b = parse('{"location":[40.7638,-73.9729],"speed":57.31,"vehicle_id":"aB3xY9"}') as Observation;
    expect(a.obsId).toBe(b.obsId);
  });
});

describe('timed format', () => {
  it('parses entry/exit observations with ISO timestamps; no zone means UTC', () => {
    const o = parse(
      JSON.stringify({
        radar_id: 'radar-2',
        vehicle_id: 'KXT4821',
        timestamp: '2026-11-21T09:59:30.123456',
        location: [40.75, -73.99],
        camera: 'entry',
        plate: 'KXT4821',
      }),
    ) as Observation;
    expect(o).toMatchObject({
      format: 'timed',
      radarId: 'radar-2',
      camera: 'entry',
      plate: 'KXT4821',
      eventTimeMs: Date.parse('2026-11-21T09:59:30.123Z'),
    });
    expect(parseIsoTimestamp('2026-11-21T10:00:00+02:00')).toBe(Date.parse('2026-11-21T08:00:00Z'));
  });
});

const timed = (over: Record<string, unknown>) =>
  JSON.stringify({
    radar_id: 'radar-2',
    vehicle_id: 'KXT4821',
    timestamp: '2026-11-21T09:59:30Z',
    location: [40.75, -73.99],
    camera: 'entry',
    ...over,
  });

/** The bad-input corpus: every case must be rejected with its reason. */
const corpus: [string, string | Buffer, string, Record<string, string>?][] = [
  ['empty payload', '', 'empty_payload'],
  ['oversized payload', `{"vehicle_id":"${'x'.repeat(70_000)}"}`, 'oversized'],
  ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not_utf8'],
  ['truncated JSON', '{"vehicle_id": "aB3xY9", "speed": 57.3', 'malformed_json'],
  ["Python's NaN literal", '{"vehicle_id": "aB3xY9", "speed": NaN, "location": [40.7638, -73.9729]}', 'malformed_json'],
  ['JSON array', '[1,2,3]', 'not_an_object'],
  ['JSON string', '"hello"', 'not_an_object'],
  ['JSON null', 'null', 'not_an_object'],
  ['missing speed', '{"vehicle_id":"aB3xY9","location":[40.7638,-73.9729]}', 'invalid_fields'],
  ['missing location', '{"vehicle_id":"aB3xY9","speed":30}', 'invalid_fields'],
  ['extra field', '{"vehicle_id":"aB3xY9","speed":30,"location":[40.7638,-73.9729],"colour":"red"}', 'invalid_fields'],
  ['speed as string', '{"vehicle_id":"aB3xY9","speed":"30","location":[40.7638,-73.9729]}', 'invalid_fields'],
  ['location of three numbers', '{"vehicle_id":"aB3xY9","speed":30,"location":[40.7638,-73.9729,1]}', 'invalid_fields'],
  ['vehicle id with a path', '{"vehicle_id":"../../etc","speed":30,"location":[40.7638,-73.9729]}', 'invalid_fields'],
  ['vehicle id with control chars', '{"vehicle_id":"ab\\u0000\\n","speed":30,"location":[40.7638,-73.9729]}', 'invalid_fields'],
  ['negative speed', '{"vehicle_id":"aB3xY9","speed":-5,"location":[40.7638,-73.9729]}', 'speed_out_of_range'],
  ['zero speed', '{"vehicle_id":"aB3xY9","speed":0,"location":[40.7638,-73.9729]}', 'speed_out_of_range'],
  ['absurd speed', '{"vehicle_id":"aB3xY9","speed":1e308,"location":[40.7638,-73.9729]}', 'speed_out_of_range'],
  ['latitude out of range', '{"vehicle_id":"aB3xY9","speed":30,"location":[91,-73.9729]}', 'coordinates_out_of_range'],
  ['longitude out of range', '{"vehicle_id":"aB3xY9","speed":30,"location":[40.76,-181]}', 'coordinates_out_of_range'],
  ['far from the section', '{"vehicle_id":"aB3xY9","speed":30,"location":[40.70,-74.0]}', 'off_section'],
  ['unknown radar attribute', '{"vehicle_id":"aB3xY9","speed":30,"location":[40.7638,-73.9729]}', 'unknown_radar', { radar_id: 'nope' }],
  ['unknown radar in timed payload', timed({ radar_id: 'radar-9' }), 'unknown_radar'],
  ['timed without camera', timed({ camera: undefined }), 'invalid_fields'],
  ['timed with a non-ISO timestamp', timed({ timestamp: '21/11/2026 10:00' }), 'invalid_fields'],
  ['timed impossible date', timed({ timestamp: '2026-02-31T10:00:00Z' }), 'timestamp_out_of_range'],
  ['timed far past', timed({ timestamp: '1999-01-01T00:00:00Z' }), 'timestamp_out_of_range'],
  ['timed far future', timed({ timestamp: '2030-01-01T00:00:00Z' }), 'timestamp_out_of_range'],
  ['timed image_uri with spaces', timed({ image_uri: 'gs://b/a b.png' }), 'invalid_fields'],
  ['timed speed NaN-like string', timed({ speed: 'NaN' }), 'invalid_fields'],
];

describe('bad-input corpus', () => {
  it.each(corpus)('%s → %s', (_name, data, reason, attributes) => {
    const r = parse(data, attributes);
    expect(r).toBeInstanceOf(Rejection);
    expect((r as Rejection).reason).toBe(reason);
    expect((r as Rejection).detail.length).toBeGreaterThan(0);
  });
});
