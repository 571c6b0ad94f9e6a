import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../shared/platform/local-object-store.js';
import { inspectPhoto, UnreadablePhoto } from '../../../shared/fines/image.js';
import { findPhoto, type PhotoSourceConfig } from '../../../shared/fines/photo-sources.js';
import { ObjectAccessDenied, type ObjectStore } from '../../../shared/fines/ports.js';
import { blockedAddress, PermanentFetchError, safeGet, TransientFetchError, type FetchPolicy } from '../../../shared/fines/safe-fetch.js';

/** A real photo file from the evaluation set (JPEG), and the same picture as PNG and WebP. */
const JPEG = readFileSync('test/fixtures/plates/005-se.jpg');
let PNG: Buffer;
let WEBP: Buffer;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let base: string;
const routes = new Map<string, Handler>();
const seen: string[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  PNG = await sharp(JPEG).png().toBuffer();
  WEBP = await sharp(JPEG).webp().toBuffer();
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (route) return route(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const image =
    (bytes: () => Buffer, type: string): Handler =>
    (_q, res) =>
      res.writeHead(200, { 'content-type': type }).end(bytes());
  routes.set(
    '/car.jpg',
    image(() => JPEG, 'image/jpeg'),
  );
  routes.set(
    '/car.png',
    image(() => PNG, 'image/png'),
  );
  routes.set(
    '/car.webp',
    image(() => WEBP, 'image/webp'),
  );
  routes.set('/forbidden.jpg', (_q, res) => res.writeHead(403).end('no'));
  routes.set('/unavailable.jpg', (_q, res) => res.writeHead(503).end());
  routes.set('/throttled.jpg', (_q, res) => res.writeHead(429).end());
  routes.set('/page.html', (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not a photo</html>'));
  routes.set('/lying.jpg', (_q, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end('GIF89a this is no jpeg'));
  routes.set('/big.jpg', (_q, res) => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(50_000_000) }).end());
  routes.set('/chunked-big.jpg', (_q, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    const push = () => {
      while (sent < 40 && res.write(chunk)) sent++;
      if (sent < 40) res.once('drain', push);
      else res.end();
    };
    push();
  });
  routes.set('/slow.jpg', (_q, res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' });
    res.write(JPEG.subarray(0, 100)); // and never the rest
  });
  routes.set('/redirect-ok.jpg', (_q, res) => res.writeHead(302, { location: '/car.jpg' }).end());
  routes.set('/redirect-away.jpg', (_q, res) => res.writeHead(302, { location: 'http://169.254.169.254/computeMetadata/v1/' }).end());
  routes.set('/redirect-offlist.jpg', (_q, res) => res.writeHead(301, { location: 'https://elsewhere.example/car.jpg' }).end());
  routes.set('/loop.jpg', (_q, res) => res.writeHead(302, { location: '/loop.jpg' }).end());
  routes.set('/cars', (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const v = u.searchParams.get('vehicle_id');
    if (v === 'nophoto') return res.writeHead(404).end();
    if (v === 'garbled') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"image_url": ');
    if (v === 'down') return res.writeHead(502).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ image_url: `${base}/car.jpg` }));
  });
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const policy = (over: Partial<FetchPolicy> = {}): FetchPolicy => ({
  allowedHosts: ['127.0.0.1'],
  allowLoopback: true,
  maxBytes: 1_000_000,
  timeoutMs: 1500,
  maxRedirects: 3,
  ...over,
});

function store(): LocalObjectStore {
  const d = mkdtempSync(join(tmpdir(), 'photos-'));
  dirs.push(d);
  return new LocalObjectStore(d);
}
const cfg = (over: Partial<PhotoSourceConfig> = {}): PhotoSourceConfig => ({
  capturesBucket: 'speedcam-captures',
  carsApi: null,
  fetch: policy(),
  ...over,
});
const T = Date.parse('2026-11-21T10:00:00Z');
const lookup = (over: Partial<Parameters<typeof findPhoto>[2]> = {}) => ({
  radarId: 'r1',
  vehicleId: 'aB3xY9',
  imageUri: null,
  firstSeenMs: T,
  lastSeenMs: T + 30_000,
  ...over,
});

describe('photo formats', () => {
  it('reads JPEG, PNG and WebP, and refuses anything else with a reason', async () => {
    expect(await inspectPhoto(JPEG)).toMatchObject({ format: 'jpeg' });
    expect(await inspectPhoto(PNG)).toMatchObject({ format: 'png' });
    expect(await inspectPhoto(WEBP)).toMatchObject({ format: 'webp' });
    const gif = await sharp(JPEG).gif().toBuffer();
    await expect(inspectPhoto(gif)).rejects.toThrow(/unsupported image format gif/);
    await expect(inspectPhoto(Buffer.from('not a photo at all'))).rejects.toBeInstanceOf(UnreadablePhoto);
    await expect(inspectPhoto(JPEG.subarray(0, JPEG.length / 2))).rejects.toBeInstanceOf(UnreadablePhoto); // truncated
  });
});

describe('photo sources, first that has one', () => {
  it("the observation's gs:// image_uri", async () => {
    const s = store();
    await s.put('gs://speedcam-captures/cam/1.webp', WEBP, { contentType: 'image/webp' });
    const r = await findPhoto(s, cfg(), lookup({ imageUri: 'gs://speedcam-captures/cam/1.webp' }));
    expect(r.photo).toMatchObject({ source: 'image_uri', uri: 'gs://speedcam-captures/cam/1.webp', info: { format: 'webp' } });
  });

  it("the observation's https image_uri on the allowlist; off the allowlist it is never fetched", async () => {
    const s = store();
    const r = await findPhoto(s, cfg(), lookup({ imageUri: `${base}/car.png` }));
    expect(r.photo).toMatchObject({ source: 'image_uri', info: { format: 'png' } });
    const before = seen.length;
    const off = await findPhoto(
      s,
      cfg({ fetch: policy({ allowedHosts: ['storage.googleapis.com'] }) }),
      lookup({ imageUri: `${base}/car.png` }),
    );
    expect(off).toMatchObject({ photo: null, problem: 'photo_forbidden' });
    expect(seen.length).toBe(before);
  });

  it('the camera capture in the captures bucket, the one closest to the passage, JPEG too', async () => {
    const s = store();
    await s.put(`gs://speedcam-captures/r1/aB3xY9/${T - 3_600_000}.png`, PNG, { contentType: 'image/png' }); // an hour earlier: another passage
    await s.put(`gs://speedcam-captures/r1/aB3xY9/${T + 31_000}.jpg`, JPEG, { contentType: 'image/jpeg' });
    const r = await findPhoto(s, cfg(), lookup());
    expect(r.photo).toMatchObject({
      source: 'capture',
      uri: `gs://speedcam-captures/r1/aB3xY9/${T + 31_000}.jpg`,
      info: { format: 'jpeg' },
    });
  });

  it('the cars API: GET with vehicle_id and radar_id, then the image it names', async () => {
    const s = store();
    const r = await findPhoto(s, cfg({ carsApi: `${base}/cars?key=abc` }), lookup());
    expect(r.photo).toMatchObject({ source: 'cars_api', uri: `${base}/car.jpg`, info: { format: 'jpeg' } });
    const call = seen.filter((u) => u.startsWith('/cars')).at(-1)!;
    expect(new URL(call, 'http://x').searchParams.get('vehicle_id')).toBe('aB3xY9');
    expect(new URL(call, 'http://x').searchParams.get('radar_id')).toBe('r1');
    expect(new URL(call, 'http://x').searchParams.get('key')).toBe('abc');
  });

  it('in order: image_uri before the capture before the cars API; a missing one falls through', async () => {
    const s = store();
    await s.put(`gs://speedcam-captures/r1/aB3xY9/${T}.png`, PNG, { contentType: 'image/png' });
    const both = await findPhoto(s, cfg({ carsApi: `${base}/cars` }), lookup({ imageUri: `${base}/car.webp` }));
    expect(both.photo?.source).toBe('image_uri');
    const gone = await findPhoto(s, cfg({ carsApi: `${base}/cars` }), lookup({ imageUri: `${base}/gone.jpg` }));
    expect(gone.photo?.source).toBe('capture');
    expect(gone.tried).toEqual([expect.objectContaining({ source: 'image_uri', problem: 'photo_missing' })]);
    const noCapture = await findPhoto(store(), cfg({ carsApi: `${base}/cars` }), lookup({ imageUri: `${base}/gone.jpg` }));
    expect(noCapture.photo?.source).toBe('cars_api');
  });

  it('none anywhere: photo_missing with what was tried', async () => {
    const r = await findPhoto(store(), cfg({ carsApi: `${base}/cars` }), lookup({ vehicleId: 'nophoto' }));
    expect(r).toMatchObject({ photo: null, problem: 'photo_missing' });
    expect(r.tried.map((t) => t.source)).toEqual(['capture', 'cars_api']);
  });
});

describe('fetch failures: permanent ones flag the fine, transient ones are thrown (retried)', () => {
  const one = (imageUri: string, fetch = policy()) => findPhoto(store(), cfg({ fetch }), lookup({ imageUri }));

  it.each([
    ['403', '/forbidden.jpg', 'photo_forbidden'],
    ['HTML instead of an image', '/page.html', 'photo_unreadable'],
    ['an image content type over bytes that are not one', '/lying.jpg', 'photo_unreadable'],
    ['over the size limit (declared)', '/big.jpg', 'photo_unreadable'],
    ['over the size limit (streamed)', '/chunked-big.jpg', 'photo_unreadable'],
    ['a redirect to the metadata server', '/redirect-away.jpg', 'photo_forbidden'],
    ['a redirect off the allowlist', '/redirect-offlist.jpg', 'photo_forbidden'],
    ['endless redirects', '/loop.jpg', 'photo_forbidden'],
  ])('%s', async (_name, path, problem) => {
    expect(await one(`${base}${path}`)).toMatchObject({ photo: null, problem });
  });

  it('a redirect within the allowlist is followed', async () => {
    expect((await one(`${base}/redirect-ok.jpg`)).photo).toMatchObject({ info: { format: 'jpeg' } });
  });

  it.each([
    ['503', '/unavailable.jpg'],
    ['429', '/throttled.jpg'],
    ['a timeout (an answer that never ends)', '/slow.jpg'],
  ])('%s is transient: thrown', async (_name, path) => {
    await expect(one(`${base}${path}`, policy({ timeoutMs: 400 }))).rejects.toBeInstanceOf(TransientFetchError);
  });

  it('a refused connection is transient', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    await expect(one(`http://127.0.0.1:${port}/car.jpg`)).rejects.toBeInstanceOf(TransientFetchError);
  });

  it('the cars API down (5xx) is transient; a garbled answer is permanent', async () => {
    await expect(findPhoto(store(), cfg({ carsApi: `${base}/cars` }), lookup({ vehicleId: 'down' }))).rejects.toBeInstanceOf(
      TransientFetchError,
    );
    expect(await findPhoto(store(), cfg({ carsApi: `${base}/cars` }), lookup({ vehicleId: 'garbled' }))).toMatchObject({
      photo: null,
      problem: 'photo_unreadable',
    });
  });

  it('an object store that may not read the object (403): forbidden, not thrown; other storage errors are thrown', async () => {
    const denied: ObjectStore = {
      ...store(),
      get: async () => {
        throw new ObjectAccessDenied('403 on gs://speedcam-captures/cam/1.jpg');
      },
      list: async () => [],
    } as unknown as ObjectStore;
    expect(await findPhoto(denied, cfg(), lookup({ imageUri: 'gs://speedcam-captures/cam/1.jpg' }))).toMatchObject({
      photo: null,
      problem: 'photo_forbidden',
    });
    const listDenied = {
      ...denied,
      list: async () => {
        throw new ObjectAccessDenied('403 listing');
      },
    } as unknown as ObjectStore;
    expect(await findPhoto(listDenied, cfg(), lookup())).toMatchObject({ photo: null, problem: 'photo_forbidden' });
    const flaky = {
      ...denied,
      get: async () => {
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
    } as unknown as ObjectStore;
    await expect(findPhoto(flaky, cfg(), lookup({ imageUri: 'gs://speedcam-captures/cam/1.jpg' }))).rejects.toThrow(/hang up/);
  });

  it('file:// and other schemes are never read', async () => {
    expect(await one('file:///etc/passwd')).toMatchObject({ photo: null, problem: 'photo_forbidden' });
  });
});

describe('addresses a fetch never reaches', () => {
  it('link-local and metadata, loopback unless allowed, IPv4-mapped IPv6 too', async () => {
    expect(blockedAddress('169.254.169.254', true)).toMatch(/link-local/);
    expect(blockedAddress('fe80::1', true)).toMatch(/link-local/);
    expect(blockedAddress('::ffff:169.254.169.254', true)).toMatch(/link-local/);
    expect(blockedAddress('127.0.0.1', false)).toMatch(/loopback/);
    expect(blockedAddress('::ffff:127.0.0.1', false)).toMatch(/loopback/);
    expect(blockedAddress('::1', false)).toMatch(/loopback/);
    expect(blockedAddress('127.0.0.1', true)).toBeNull();
    expect(blockedAddress('142.250.74.91', false)).toBeNull();
    const p = policy({ allowLoopback: false, allowedHosts: ['127.0.0.1', 'localhost', 'metadata.google.internal', '169.254.169.254'] });
    await expect(safeGet(`${base}/car.jpg`, p, 'image')).rejects.toMatchObject({ kind: 'forbidden' });
    // a name that resolves to loopback: checked on the resolved address, at connect time
    await expect(safeGet(`${base.replace('127.0.0.1', 'localhost')}/car.jpg`, p, 'image')).rejects.toMatchObject({
      kind: 'forbidden',
      message: expect.stringMatching(/loopback/),
    });
    await expect(safeGet('http://metadata.google.internal/computeMetadata/v1/', p, 'image')).rejects.toBeInstanceOf(PermanentFetchError);
    await expect(safeGet('http://169.254.169.254/latest/meta-data/', p, 'image')).rejects.toMatchObject({ kind: 'forbidden' });
  });

  it('credentials in a URL are refused', async () => {
    await expect(safeGet(`http://user:pw@127.0.0.1/car.jpg`, policy(), 'image')).rejects.toMatchObject({ kind: 'forbidden' });
  });
});
