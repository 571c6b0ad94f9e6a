import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PhotoFormat } from '../shared/fines/image.js';
import { renderCapturePhoto } from './generators/capture-photo.js';
import { plateForVehicle } from './generators/plates.js';

export interface CarsApiRequest {
  path: string;
  vehicleId: string | null;
  radarId: string | null;
}

export interface CarsApi {
  /** GET `${url}?vehicle_id=…&radar_id=…` answers {"image_url": …} */
  url: string;
  /** the last 10,000 requests, for tests and the demo */
  requests: CarsApiRequest[];
  close(): Promise<void>;
}

/**
 * A local stand-in for the radar producer's cars API (its pipeline's `--cars_api`): `GET /cars?vehicle_id=…`
 * answers `{"image_url": "<this server>/photos/<vehicle>.jpg"}`, and that URL serves a camera photo of
 * the vehicle (the generator's renderer, seeded by the id, JPEG like the seed's photo host). The seed's
 * API ignores the vehicle and answers a random photo; this one answers the vehicle's own, so the fines'
 * plates can be checked against the truth. Listens on 127.0.0.1 only.
 */
export async function startCarsApi(opts: { port?: number; format?: PhotoFormat; cacheSize?: number } = {}): Promise<CarsApi> {
  const format = opts.format ?? 'jpeg';
  const ext = format === 'jpeg' ? 'jpg' : format;
  const requests: CarsApiRequest[] = [];
  const cache = new Map<string, Promise<Buffer>>();
  const photo = (vehicleId: string) => {
    let p = cache.get(vehicleId);
    if (!p) {
      const h = createHash('sha256').update(`photo|${vehicleId}`).digest();
      let s = h.readUInt32BE(0) % 2147483646 || 1;
      const random = () => (s = (s * 48271) % 2147483647) / 2147483647;
      p = renderCapturePhoto(plateForVehicle(vehicleId), random, format).then((r) => r.image);
      cache.set(vehicleId, p);
      if (cache.size > (opts.cacheSize ?? 256)) cache.delete(cache.keys().next().value!);
    }
    return p;
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const vehicleId = url.searchParams.get('vehicle_id');
    requests.push({ path: url.pathname, vehicleId, radarId: url.searchParams.get('radar_id') });
    if (requests.length > 10_000) requests.shift();
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'GET only');
    if (url.pathname === '/cars' || url.pathname === '/') {
      if (!vehicleId || !/^[A-Za-z0-9._-]{1,64}$/.test(vehicleId))
        return send(400, 'application/json', JSON.stringify({ error: 'vehicle_id: 1-64 letters, digits, . _ -' }));
      return send(
        200,
        'application/json',
        JSON.stringify({ image_url: `http://${req.headers.host}/photos/${encodeURIComponent(vehicleId)}.${ext}` }),
      );
    }
    const m = new RegExp(`^/photos/([A-Za-z0-9._-]{1,64})\\.${ext}$`).exec(url.pathname);
    if (!m) return send(404, 'text/plain', 'not found');
    photo(decodeURIComponent(m[1]!)).then(
      (bytes) => send(200, `image/${format}`, bytes),
      (err: unknown) => send(500, 'text/plain', String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/cars`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
