import { BadObjectUri, gsUri, objectName, parseGsUri } from './object-names.js';
import { inspectPhoto, UnreadablePhoto, type PhotoInfo } from './image.js';
import { ObjectAccessDenied, type ObjectStore } from './ports.js';
import { PermanentFetchError, safeGet, type FetchPolicy } from './safe-fetch.js';

/** Where the photo of a passage came from. */
export type PhotoSource = 'image_uri' | 'capture' | 'cars_api';

/** A permanent reason a fine has no photo to read: it is issued and flagged for review with it. */
export type PhotoProblem = 'photo_missing' | 'photo_forbidden' | 'photo_unreadable';

export interface Photo {
  bytes: Buffer;
  info: PhotoInfo;
  /** the photo's address: gs:// for Cloud Storage, else the URL it was fetched from */
  uri: string;
  source: PhotoSource;
}

export interface PhotoLookup {
  radarId: string;
  vehicleId: string;
  /** the observation's own photo, when the camera sent one */
  imageUri: string | null;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface PhotoSourceConfig {
  capturesBucket: string;
  /** the radar producer's cars API: GET <url>?vehicle_id=…&radar_id=… answers {"image_url": …} */
  carsApi: string | null;
  fetch: FetchPolicy;
}

export type PhotoResult =
  | { photo: Photo; tried: PhotoAttempt[] }
  | { photo: null; problem: PhotoProblem; detail: string; uri: string | null; tried: PhotoAttempt[] };

export interface PhotoAttempt {
  source: PhotoSource;
  uri: string | null;
  problem: PhotoProblem;
  detail: string;
}

/** A source's permanent failure; anything else a source throws is transient (the fine is retried). */
class NoPhoto extends Error {
  constructor(
    readonly problem: PhotoProblem,
    message: string,
    readonly uri: string | null,
  ) {
    super(message);
  }
}

/**
 * The passage's photo, from the first source that has one: the observation's `image_uri` (gs://, or
 * http(s) on the host allowlist), the camera's capture in the captures bucket, then the cars API.
 * Permanent failures (404, 403, not an image, off the allowlist) move on to the next source and, when
 * none has a photo, say why (the most telling failure: forbidden or unreadable before missing).
 * Transient failures (timeouts, 5xx, 429, storage errors) are thrown, so the platform retries the fine.
 */
export async function findPhoto(objects: ObjectStore, cfg: PhotoSourceConfig, p: PhotoLookup): Promise<PhotoResult> {
  const tried: PhotoAttempt[] = [];
  const sources: [PhotoSource, () => Promise<{ bytes: Buffer | null; uri: string | null }>][] = [];
  if (p.imageUri) sources.push(['image_uri', async () => ({ bytes: await readUri(objects, cfg.fetch, p.imageUri!), uri: p.imageUri })]);
  sources.push([
    'capture',
    async () => {
      const uri = await findCapture(objects, cfg.capturesBucket, p.radarId, p.vehicleId, p.firstSeenMs, p.lastSeenMs);
      return { bytes: uri ? await readUri(objects, cfg.fetch, uri) : null, uri };
    },
  ]);
  if (cfg.carsApi) sources.push(['cars_api', () => fromCarsApi(objects, cfg, cfg.carsApi!, p)]);

  for (const [source, read] of sources) {
    try {
      const { bytes, uri } = await read();
      if (!bytes) {
        tried.push({ source, uri, problem: 'photo_missing', detail: uri ? `${uri} does not exist` : 'none there' });
        continue;
      }
      let info: PhotoInfo;
      try {
        info = await inspectPhoto(bytes);
      } catch (err) {
        if (!(err instanceof UnreadablePhoto)) throw err;
        throw new NoPhoto('photo_unreadable', err.message, uri);
      }
      return { photo: { bytes, info, uri: uri!, source }, tried };
    } catch (err) {
      const failure = asNoPhoto(err);
      if (!failure) throw err;
      tried.push({ source, uri: failure.uri, problem: failure.problem, detail: failure.message });
    }
  }
  const rank: Record<PhotoProblem, number> = { photo_forbidden: 2, photo_unreadable: 1, photo_missing: 0 };
  const worst = [...tried].sort((a, b) => rank[b.problem] - rank[a.problem])[0];
  return {
    photo: null,
    problem: worst?.problem ?? 'photo_missing',
    detail: tried.map((t) => `${t.source}: ${t.detail}`).join('; '),
    uri: worst?.uri ?? null,
    tried,
  };
}

function asNoPhoto(err: unknown): NoPhoto | null {
  if (err instanceof NoPhoto) return err;
  if (err instanceof ObjectAccessDenied) return new NoPhoto('photo_forbidden', err.message, null);
  if (err instanceof PermanentFetchError)
    return new NoPhoto(
      err.kind === 'forbidden' ? 'photo_forbidden' : err.kind === 'unreadable' ? 'photo_unreadable' : 'photo_missing',
      err.message,
      null,
    );
  return null;
}

/** A photo by its address: gs:// from the object store, http(s) through the safe fetch. Null when absent. */
async function readUri(objects: ObjectStore, policy: FetchPolicy, uri: string): Promise<Buffer | null> {
  if (uri.startsWith('gs://')) {
    try {
      parseGsUri(uri);
    } catch (err) {
      if (!(err instanceof BadObjectUri)) throw err;
      throw new NoPhoto('photo_forbidden', err.message, uri);
    }
    try {
      return await objects.get(uri);
    } catch (err) {
      if (err instanceof ObjectAccessDenied) throw new NoPhoto('photo_forbidden', err.message, uri);
      throw err;
    }
  }
  if (/^https?:\/\//i.test(uri)) {
    try {
      return (await safeGet(uri, policy, 'image')).bytes;
    } catch (err) {
      if (err instanceof PermanentFetchError) {
        if (err.kind === 'missing') return null;
        throw new NoPhoto(err.kind === 'forbidden' ? 'photo_forbidden' : 'photo_unreadable', err.message, uri);
      }
      throw err;
    }
  }
  throw new NoPhoto('photo_forbidden', `${uri.slice(0, 200)}: only gs:// and http(s):// photos are read`, uri);
}

/**
 * The radar producer's cars API: GET <api>?vehicle_id=…&radar_id=… answers {"image_url": "https://…"}; the image
 * is then fetched (the API's own host is allowed, as are the configured photo hosts).
 */
async function fromCarsApi(
  objects: ObjectStore,
  cfg: PhotoSourceConfig,
  api: string,
  p: PhotoLookup,
): Promise<{ bytes: Buffer | null; uri: string | null }> {
  const url = new URL(api);
  url.searchParams.set('vehicle_id', p.vehicleId);
  url.searchParams.set('radar_id', p.radarId);
  const policy: FetchPolicy = { ...cfg.fetch, allowedHosts: [...cfg.fetch.allowedHosts, url.host] };
  let answer: unknown;
  try {
    const res = await safeGet(url.href, { ...policy, maxBytes: Math.min(policy.maxBytes, 65_536) }, 'json');
    answer = JSON.parse(res.bytes.toString('utf8'));
  } catch (err) {
    if (err instanceof SyntaxError) throw new NoPhoto('photo_unreadable', `cars API answered malformed JSON: ${err.message}`, url.href);
    if (err instanceof PermanentFetchError && err.kind === 'missing') return { bytes: null, uri: url.href };
    throw err;
  }
  const imageUrl = (answer as { image_url?: unknown } | null)?.image_url;
  if (typeof imageUrl !== 'string' || imageUrl.length === 0 || imageUrl.length > 2048) {
    throw new NoPhoto('photo_missing', `cars API answered without an image_url: ${JSON.stringify(answer).slice(0, 200)}`, url.href);
  }
  return { bytes: await readUri(objects, policy, imageUrl), uri: imageUrl };
}

/**
 * Seed-format observations carry no photo: the camera stores it by convention at
 * captures/<radar>/<vehicle>/<time ms>.<jpg|png|webp>; the capture closest to the passage (within a
 * minute) is it.
 */
export async function findCapture(
  objects: ObjectStore,
  bucket: string,
  radarId: string,
  vehicleId: string,
  firstMs: number,
  lastMs: number,
): Promise<string | null> {
  const prefix = gsUri(bucket, `${objectName(radarId, vehicleId)}/`);
  const uris = await objects.list(prefix);
  let best: { uri: string; d: number } | null = null;
  for (const uri of uris) {
    const t = Number(/\/(\d+)\.(png|jpe?g|webp)$/.exec(parseGsUri(uri).name)?.[1]);
    if (!Number.isFinite(t)) continue;
    const d = t < firstMs ? firstMs - t : t > lastMs ? t - lastMs : 0;
    if (d <= 60_000 && (!best || d < best.d)) best = { uri, d };
  }
  return best?.uri ?? null;
}
