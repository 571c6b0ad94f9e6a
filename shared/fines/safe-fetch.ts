import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';

/** What a photo fetch may reach, and how much it may take. */
export interface FetchPolicy {
  /** host names (`storage.googleapis.com`), `*.example.com` for subdomains, optionally with `:port` */
  allowedHosts: readonly string[];
  /** loopback addresses (127.0.0.0/8, ::1): only the local stack and tests allow them */
  allowLoopback: boolean;
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export type FetchFailureKind = 'missing' | 'forbidden' | 'unreadable';

/** A fetch that will fail the same way if retried (404, 403, not an image, off the allowlist, too big). */
export class PermanentFetchError extends Error {
  override name = 'PermanentFetchError';
  constructor(
    readonly kind: FetchFailureKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A fetch worth retrying later (timeout, 5xx, 429, a network error). */
export class TransientFetchError extends Error {
  override name = 'TransientFetchError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Addresses a fetch never connects to, whatever the allowlist says: link-local (169.254/16 holds the
 * metadata server, fe80::/10), "this network", multicast, broadcast, and the unique-local range AWS
 * and others use for metadata (fd00:ec2::/32). Loopback is added unless the policy allows it.
 */
const NEVER = new BlockList();
NEVER.addSubnet('169.254.0.0', 16, 'ipv4');
NEVER.addSubnet('0.0.0.0', 8, 'ipv4');
NEVER.addSubnet('224.0.0.0', 4, 'ipv4');
NEVER.addAddress('255.255.255.255', 'ipv4');
NEVER.addSubnet('fe80::', 10, 'ipv6');
NEVER.addSubnet('ff00::', 8, 'ipv6');
NEVER.addSubnet('fd00:ec2::', 32, 'ipv6');
NEVER.addAddress('::', 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Host names of metadata servers: refused before any DNS lookup. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.google.internal.', 'metadata', 'metadata.']);

/** Why an address may not be reached, or null when it may. IPv4-mapped IPv6 is checked as IPv4. */
export function blockedAddress(address: string, allowLoopback: boolean): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const addr = mapped ? mapped[1]! : address;
  const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
  if (NEVER.check(addr, family)) return `${address} is a link-local, metadata or non-unicast address`;
  if (!allowLoopback && LOOPBACK.check(addr, family)) return `${address} is a loopback address`;
  return null;
}

export function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowedHosts.some((entry) => {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim().toLowerCase());
    if (!m) return false;
    const pattern = m[1]!.replace(/^\[|\]$/g, '');
    if (m[2] && m[2] !== port) return false;
    return pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern;
  });
}

/** Checks a URL against the policy before any connection: scheme, allowlist, metadata names, IP literals. */
export function checkUrl(raw: string, policy: FetchPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PermanentFetchError('forbidden', `not a URL: ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new PermanentFetchError('forbidden', `scheme ${url.protocol} is not fetched (http and https only)`);
  if (url.username || url.password) throw new PermanentFetchError('forbidden', 'URLs with credentials are not fetched');
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (METADATA_HOSTS.has(host)) throw new PermanentFetchError('forbidden', `${host} is a metadata server`);
  if (!hostAllowed(url, policy.allowedHosts))
    throw new PermanentFetchError('forbidden', `host ${url.host} is not on the photo host allowlist (SPEEDCAM_PHOTO_HOSTS)`);
  if (isIP(host)) {
    const why = blockedAddress(host, policy.allowLoopback);
    if (why) throw new PermanentFetchError('forbidden', why);
  }
  return url;
}

export interface Fetched {
  bytes: Buffer;
  contentType: string;
  /** the URL that answered, after redirects */
  url: string;
}

/**
 * GET with the policy: every hop (redirects are followed by hand) is checked against the allowlist, and
 * the resolved addresses are checked at connect time (the check and the connection use the same
 * lookup, so a DNS answer cannot change in between). The body is capped at maxBytes and the whole
 * exchange at timeoutMs. `accept` checks the answer's content type: image/jpeg, png or webp, or JSON.
 */
export async function safeGet(raw: string, policy: FetchPolicy, accept: 'image' | 'json'): Promise<Fetched> {
  let url = checkUrl(raw, policy);
  const deadline = Date.now() + policy.timeoutMs;
  for (let hop = 0; ; hop++) {
    const res = await getOnce(url, policy, deadline, accept);
    if (res.status >= 300 && res.status < 400 && res.location) {
      if (hop >= policy.maxRedirects) throw new PermanentFetchError('forbidden', `more than ${policy.maxRedirects} redirects from ${raw}`);
      url = checkUrl(new URL(res.location, url).href, policy);
      continue;
    }
    return { bytes: res.body!, contentType: res.contentType, url: url.href };
  }
}

const IMAGE_TYPES = /^image\/(jpeg|jpg|pjpeg|png|webp)$/;

function getOnce(
  url: URL,
  policy: FetchPolicy,
  deadline: number,
  accept: 'image' | 'json',
): Promise<{ status: number; location?: string; contentType: string; body?: Buffer }> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new TransientFetchError(`timed out after ${policy.timeoutMs} ms: ${url.href}`));
  const lookup: RequestOptions['lookup'] = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return (callback as (e: Error) => void)(err);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const why = blockedAddress(a.address, policy.allowLoopback);
        if (why) return (callback as (e: Error) => void)(new PermanentFetchError('forbidden', `${hostname} resolves to ${why}`));
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, list);
      (callback as (e: null, a: string, f: number) => void)(null, list[0]!.address, list[0]!.family);
    });
  };
  return new Promise((resolveOnce, rejectOnce) => {
    // Settled once: destroying a response emits 'aborted' and 'error' after the failure that caused it.
    let settled = false;
    const resolve = (v: { status: number; location?: string; contentType: string; body?: Buffer }) => {
      if (settled) return;
      settled = true;
      resolveOnce(v);
    };
    const reject = (e: Error) => {
      if (settled) return;
      settled = true;
      rejectOnce(e);
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      url,
      {
        method: 'GET',
        lookup,
        headers: { accept: accept === 'image' ? 'image/jpeg, image/png, image/webp' : 'application/json', 'user-agent': 'speedcam-fines' },
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const contentType = String(res.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        const fail = (e: Error) => {
          reject(e);
          res.destroy();
        };
        if (status >= 300 && status < 400) {
          res.resume();
          return resolve({ status, location: res.headers.location, contentType });
        }
        const failure = classifyStatus(status, url);
        if (failure) return fail(failure);
        if (accept === 'image' && !IMAGE_TYPES.test(contentType))
          return fail(
            new PermanentFetchError(
              'unreadable',
              `${url.href} answered ${contentType || 'no content type'}, not a JPEG, PNG or WebP image`,
            ),
          );
        if (accept === 'json' && !/json/.test(contentType))
          return fail(new PermanentFetchError('unreadable', `${url.href} answered ${contentType || 'no content type'}, not JSON`));
        const declared = Number(res.headers['content-length']);
        if (declared > policy.maxBytes)
          return fail(new PermanentFetchError('unreadable', `${url.href} is ${declared} bytes, over the ${policy.maxBytes}-byte limit`));
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > policy.maxBytes) fail(new PermanentFetchError('unreadable', `${url.href} is over the ${policy.maxBytes}-byte limit`));
          else chunks.push(c);
        });
        res.on('end', () => resolve({ status, contentType, body: Buffer.concat(chunks) }));
        res.on('error', (e) =>
          reject(
            e instanceof PermanentFetchError || e instanceof TransientFetchError ? e : new TransientFetchError(`${url.href}: ${e.message}`),
          ),
        );
        res.on('aborted', () => reject(new TransientFetchError(`${url.href}: connection closed mid-answer`)));
      },
    );
    // The whole exchange, not just an idle socket, must end by the deadline (a slow drip is a timeout too).
    const timer = setTimeout(() => req.destroy(new TransientFetchError(`timed out after ${policy.timeoutMs} ms: ${url.href}`)), remaining);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) =>
      reject(
        e instanceof PermanentFetchError || e instanceof TransientFetchError ? e : new TransientFetchError(`${url.href}: ${e.message}`),
      ),
    );
    req.end();
  });
}

/** HTTP statuses: which failures are permanent (the photo will not appear by retrying) and which are not. */
export function classifyStatus(status: number, url: URL): Error | null {
  if (status >= 200 && status < 300) return null;
  if (status === 404 || status === 410) return new PermanentFetchError('missing', `${url.href} answered ${status}`, status);
  if (status === 401 || status === 403) return new PermanentFetchError('forbidden', `${url.href} answered ${status}`, status);
  if (status === 408 || status === 425 || status === 429 || status >= 500)
    return new TransientFetchError(`${url.href} answered ${status}`, status);
  return new PermanentFetchError('unreadable', `${url.href} answered ${status}`, status);
}
