import type { z } from 'zod';
import type { Radar } from './radar.js';
import type { SpeedConfig } from './settings.js';
import { ISO_TIMESTAMP, isTimedObservation, spotSpeedObservation, timedObservation } from '../contracts/vehicle-observation.js';
import { Rejection } from '../core/rejection.js';
import { sha256 } from '../core/hashing.js';
import { projectOnSection, type LatLon } from '../core/geo.js';
import { decodeJsonObject } from '../core/payload.js';
import type { InboundMessage } from '../core/pubsub-message.js';

/** One radar observation of one vehicle, normalised from either input format. */
export interface Observation {
  /** content-derived id: the same observation published or delivered twice has the same id */
  obsId: string;
  format: 'seed' | 'timed';
  radarId: string;
  vehicleId: string;
  /** event time, ms: the payload's timestamp, else the Pub/Sub publish time */
  eventTimeMs: number;
  publishTimeMs: number;
  location: LatLon;
  speedKmh: number | null;
  camera: string | null;
  plate: string | null;
  imageUri: string | null;
  messageId: string;
}

/** Parses an ISO-8601 timestamp; no zone means UTC. Sub-millisecond digits are truncated. */
export function parseIsoTimestamp(s: string): number {
  const m = ISO_TIMESTAMP.exec(s);
  if (!m) return NaN;
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, '0') : '';
  return Date.parse(`${m[1]}${frac}${m[3] ?? 'Z'}`);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 8)
    .map((i) => {
      const at = i.path.length ? i.path.join('.') : '(root)';
      return i.code === 'unrecognized_keys' ? `${at}: unexpected field(s) ${i.keys.join(', ')}` : `${at}: ${i.message}`;
    })
    .join('; ');
}

/** Decodes, validates and normalises one message; a Rejection says why it goes to the dead letters. */
export function parseObservation(msg: InboundMessage, config: SpeedConfig, nowMs: number): Observation | Rejection {
  const json = decodeJsonObject(msg, config.maxMessageBytes);
  if (json instanceof Rejection) return json;
  return isTimedObservation(json) ? parseTimed(json, msg, config, nowMs) : parseSpotSpeeds(json, msg, config);
}

function parseSpotSpeeds(json: object, msg: InboundMessage, config: SpeedConfig): Observation | Rejection {
  const r = spotSpeedObservation.safeParse(json);
  if (!r.success) return new Rejection('invalid_fields', `seed format: ${describeIssues(r.error)}`);
  const radarId = msg.attributes['radar_id'] ?? config.defaultRadarId;
  const radar = config.radars.get(radarId);
  if (!radar) return unknownRadar(radarId, config);
  const { vehicle_id, speed, location } = r.data;
  const obsId = sha256(`seed|${radarId}|${vehicle_id}|${location[0]}|${location[1]}|${speed}`).slice(0, 24);
  const rejection = checkValues(radar, location, speed, config, obsId);
  if (rejection) return rejection;
  return {
    obsId,
    format: 'seed',
    radarId,
    vehicleId: vehicle_id,
    eventTimeMs: msg.publishTimeMs,
    publishTimeMs: msg.publishTimeMs,
    location,
    speedKmh: speed,
    camera: null,
    plate: null,
    imageUri: null,
    messageId: msg.messageId,
  };
}

function parseTimed(json: object, msg: InboundMessage, config: SpeedConfig, nowMs: number): Observation | Rejection {
  const r = timedObservation.safeParse(json);
  if (!r.success) return new Rejection('invalid_fields', `timed format: ${describeIssues(r.error)}`);
  const d = r.data;
  const radar = config.radars.get(d.radar_id);
  if (!radar) return unknownRadar(d.radar_id, config);
  const eventTimeMs = parseIsoTimestamp(d.timestamp);
  const obsId = sha256(`timed|${d.radar_id}|${d.vehicle_id}|${eventTimeMs}|${d.camera}`).slice(0, 24);
  if (!Number.isFinite(eventTimeMs)) return new Rejection('timestamp_out_of_range', `timestamp ${d.timestamp} is not a valid date`, obsId);
  if (eventTimeMs < nowMs - config.maxEventAgeMs || eventTimeMs > nowMs + config.maxEventFutureMs) {
    return new Rejection(
      'timestamp_out_of_range',
      `timestamp ${d.timestamp} is outside [now - ${config.maxEventAgeMs / 3600_000} h, now + ${config.maxEventFutureMs / 1000} s]`,
      obsId,
    );
  }
  const rejection = checkValues(radar, d.location, d.speed ?? null, config, obsId);
  if (rejection) return rejection;
  return {
    obsId,
    format: 'timed',
    radarId: d.radar_id,
    vehicleId: d.vehicle_id,
    eventTimeMs,
    publishTimeMs: msg.publishTimeMs,
    location: d.location,
    speedKmh: d.speed ?? null,
    camera: d.camera,
    plate: d.plate ?? null,
    imageUri: d.image_uri ?? null,
    messageId: msg.messageId,
  };
}

function unknownRadar(radarId: string, config: SpeedConfig): Rejection {
  const known = [...config.radars.keys()];
  return new Rejection('unknown_radar', `radar "${radarId.slice(0, 64)}" is not configured; known: ${known.slice(0, 10).join(', ')}`);
}

function checkValues(radar: Radar, location: LatLon, speed: number | null, config: SpeedConfig, obsId: string): Rejection | null {
  const [lat, lon] = location;
  if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) {
    return new Rejection('coordinates_out_of_range', `location [${lat}, ${lon}] is not a valid [lat, lon]`, obsId);
  }
  const { offsetKm } = projectOnSection(location, radar.entry, radar.exit);
  if (offsetKm > radar.offSectionToleranceKm) {
    return new Rejection(
      'off_section',
      `location [${lat}, ${lon}] is ${(offsetKm * 1000).toFixed(0)} m from radar ${radar.id}'s section (tolerance ${(radar.offSectionToleranceKm * 1000).toFixed(0)} m)`,
      obsId,
    );
  }
  if (speed !== null && !(speed > 0 && speed <= config.maxSpotSpeedKmh)) {
    return new Rejection('speed_out_of_range', `speed ${speed} km/h is outside (0, ${config.maxSpotSpeedKmh}]`, obsId);
  }
  return null;
}
