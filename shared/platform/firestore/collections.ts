import type { Config } from '../../config.js';
import { LOG_ENTRIES } from './firestore-passage-storage.js';

type IndexMode = 'none' | 'ascending';

/** What Terraform (and `speedcam deploy`) sets on a collection: a TTL policy on expireAt, and single-field index exemptions. */
interface CollectionFields {
  /** its documents carry `expireAt`: Firestore's TTL deletes them after the retention */
  ttl: boolean;
  /**
   * Fields never queried lose every single-field index ("none": the large maps would add hundreds of
   * index entries per write, increasing values would make hot spots); fields the flush queries by range
   * keep the ascending index only ("ascending").
   */
  indexes: Record<string, IndexMode>;
}

type CollectionKey = Exclude<keyof Config['collections'], 'windowBatchesPrefix'>;

/** Every collection the stores write, by its key in the configuration (the names are config.collections'). */
const FIELDS: Record<CollectionKey, CollectionFields> = {
  passages: {
    ttl: true,
    indexes: {
      obs: 'none',
      lastArrivalMs: 'none',
      firstSeenMs: 'none',
      lastSeenMs: 'none',
      decision: 'none',
      expiresAt: 'ascending',
      exportAt: 'ascending',
    },
  },
  archive: { ttl: true, indexes: { obs: 'none', decision: 'none', exportAt: 'ascending' } },
  // The radars' documents of the observation log are never written; their entries are (below).
  passageLog: { ttl: false, indexes: {} },
  // One lease document per radar, rewritten at every sweep commit.
  passageSweeps: { ttl: false, indexes: {} },
  published: { ttl: true, indexes: { createdAt: 'none' } },
  deadLetters: { ttl: true, indexes: { payload: 'none', exportAt: 'ascending' } },
  // Held fines carry no expireAt until decided, and held_since_ms (the review queue: ordered by it, its
  // ascending index only) until decided (shared/platform/firestore/firestore-fine-store.ts, firestore-review-store.ts).
  fines: { ttl: true, indexes: { issued_at: 'none', exportAt: 'ascending', held_since_ms: 'ascending' } },
  // One document per review decision, created once: the flush exports them to fine_reviews; the queue's
  // "decisions in the last hour" ranges over reviewed_at_ms.
  fineReviews: { ttl: true, indexes: { exportAt: 'ascending', reviewed_at_ms: 'ascending' } },
  users: { ttl: true, indexes: { exportAt: 'ascending' } },
  windowState: { ttl: true, indexes: { ids: 'none', acc: 'none' } },
  // The flush's lease and watermarks: one document, kept.
  control: { ttl: false, indexes: {} },
};
/** The observation log's entries: a subcollection of each radar's document, one collection group. */
const LOG_ENTRY_FIELDS: CollectionFields = { ttl: true, indexes: { items: 'none' } };
/** A window pipeline's batch documents (wb_<pipeline>). */
const WINDOW_BATCH_FIELDS: CollectionFields = { ttl: true, indexes: { events: 'none', createdAt: 'none' } };

/**
 * The TTL policies and index exemptions of every collection, for resources.json (what Terraform and the
 * deploy script read): the configuration's collection names, unprefixed, and a batch collection per
 * window pipeline.
 */
export function firestoreResources(
  config: Config,
  pipelines: readonly string[],
): { ttl_collections: string[]; index_exemptions: Record<string, IndexMode> } {
  const c = config.collections;
  const all: [string, CollectionFields][] = [
    ...(Object.entries(FIELDS) as [CollectionKey, CollectionFields][]).map(([key, f]): [string, CollectionFields] => [c[key], f]),
    [LOG_ENTRIES, LOG_ENTRY_FIELDS],
    ...pipelines.map((p): [string, CollectionFields] => [`${c.windowBatchesPrefix}${p}`, WINDOW_BATCH_FIELDS]),
  ];
  return {
    ttl_collections: all.filter(([, f]) => f.ttl).map(([name]) => name),
    index_exemptions: Object.fromEntries(
      all.flatMap(([name, f]) => Object.entries(f.indexes).map(([field, mode]) => [`${name}/${field}`, mode])),
    ),
  };
}
