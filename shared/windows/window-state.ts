import { createHash } from 'node:crypto';
import type { Accumulator } from './aggregate.js';

/**
 * What an exported window remembers, compactly enough for any window size: per key its running
 * aggregate (so a late event revises the row exactly) and an 8-byte digest of every counted event id
 * (so an event counted already, redelivered after the export, is recognised and not counted again).
 * Large windows are split into shards (a Firestore document holds at most 1 MiB): a key's aggregate
 * lives in shard hash(key) mod S, an id's digest in shard digest mod S.
 */

export const DIGEST_BYTES = 8;
/** digests per shard: 400 KB of ids, leaving room for aggregates in the same document */
const IDS_PER_SHARD = 50_000;
/** characters of aggregates (JSON) per shard */
const ACC_CHARS_PER_SHARD = 400_000;

/** 64 bits of SHA-256: a false "already counted" has probability about n / 2^64 per late event. */
export function digestOf(id: string): Buffer {
  return createHash('sha256').update(id).digest().subarray(0, DIGEST_BYTES);
}

function shardOfBytes(b: Buffer, shards: number): number {
  return shards === 1 ? 0 : b.readUInt32BE(0) % shards;
}
export const shardOfDigest = shardOfBytes;
export function shardOfKey(key: string, shards: number): number {
  return shards === 1 ? 0 : shardOfBytes(createHash('sha256').update(key).digest(), shards);
}

/** A set of digests as one sorted Buffer (what Firestore stores): membership by binary search. */
export class DigestSet {
  private constructor(private readonly sorted: Buffer) {}

  static fromDigests(digests: Iterable<Buffer>): DigestSet {
    const unique = new Map<string, Buffer>();
    for (const d of digests) unique.set(d.toString('hex'), d);
    const list = [...unique.values()].sort(Buffer.compare);
    return new DigestSet(Buffer.concat(list));
  }
  /** From stored bytes; anything else (an older version's list of ids) is an empty set. */
  static fromBytes(bytes: unknown): DigestSet {
    return new DigestSet(bytes instanceof Uint8Array && bytes.length % DIGEST_BYTES === 0 ? Buffer.from(bytes) : Buffer.alloc(0));
  }

  get size(): number {
    return this.sorted.length / DIGEST_BYTES;
  }
  get bytes(): Buffer {
    return this.sorted;
  }

  has(d: Buffer): boolean {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = Buffer.compare(this.sorted.subarray(mid * DIGEST_BYTES, (mid + 1) * DIGEST_BYTES), d);
      if (c === 0) return true;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  with(more: Iterable<Buffer>): DigestSet {
    const all: Buffer[] = [];
    for (let i = 0; i < this.size; i++) all.push(this.sorted.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES));
    return DigestSet.fromDigests([...all, ...more]);
  }
}

/** One shard of an exported window: aggregates of its keys, digests of its ids. */
export interface WindowShard {
  acc: Map<string, Accumulator>;
  ids: DigestSet;
}

/** How many shards a window of this size needs. */
export function shardCount(acc: ReadonlyMap<string, Accumulator>, ids: number): number {
  const accChars = [...acc].reduce((n, [k, a]) => n + k.length + 16 + Object.keys(a.fields).length * 64, 0);
  return Math.max(1, Math.ceil(ids / IDS_PER_SHARD), Math.ceil(accChars / ACC_CHARS_PER_SHARD));
}

/** Splits a window's aggregates and digests into `shards` shards. */
export function splitShards(acc: ReadonlyMap<string, Accumulator>, digests: Iterable<Buffer>, shards: number): WindowShard[] {
  const accs = Array.from({ length: shards }, () => new Map<string, Accumulator>());
  const ids = Array.from({ length: shards }, () => [] as Buffer[]);
  for (const [k, a] of acc) accs[shardOfKey(k, shards)]!.set(k, a);
  for (const d of digests) ids[shardOfDigest(d, shards)]!.push(d);
  return accs.map((a, i) => ({ acc: a, ids: DigestSet.fromDigests(ids[i]!) }));
}

/** Aggregates as stored: one JSON string (a map field with a key per user would be indexed field by field). */
export function encodeAcc(acc: ReadonlyMap<string, Accumulator>): string {
  return JSON.stringify([...acc].map(([k, a]) => [k, a.n, a.fields]));
}
export function decodeAcc(text: string | undefined): Map<string, Accumulator> {
  const out = new Map<string, Accumulator>();
  if (!text) return out;
  for (const [k, n, fields] of JSON.parse(text) as [string, number, Accumulator['fields']][]) out.set(k, { n, fields });
  return out;
}
