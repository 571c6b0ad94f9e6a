import type { Storage } from '@google-cloud/storage';
import { parseGsUri } from '../object-names.js';
import type { ObjectStore } from '../ports.js';

/**
 * Cloud Storage. Buckets are private (uniform access, public access prevention); `viewUrl` is the
 * authenticated browser URL, which works for anyone granted read on the bucket and never expires.
 */
export class GcsObjectStore implements ObjectStore {
  constructor(private readonly storage: Storage) {}

  async get(uri: string): Promise<Buffer | null> {
    const { bucket, name } = parseGsUri(uri);
    try {
      const [bytes] = await this.storage.bucket(bucket).file(name).download();
      return bytes;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  }

  async put(uri: string, bytes: Buffer, opts: { contentType: string; metadata?: Record<string, string> }): Promise<void> {
    const { bucket, name } = parseGsUri(uri);
    await this.storage.bucket(bucket).file(name).save(bytes, { resumable: false, contentType: opts.contentType, metadata: { metadata: opts.metadata ?? {} } });
  }

  async list(prefixUri: string): Promise<string[]> {
    const { bucket, name } = parseGsUri(prefixUri.endsWith('/') ? prefixUri + '_' : prefixUri);
    const prefix = prefixUri.endsWith('/') ? name.slice(0, -1) : name;
    const [files] = await this.storage.bucket(bucket).getFiles({ prefix });
    return files.map((f) => `gs://${bucket}/${f.name}`).sort();
  }

  viewUrl(uri: string): string {
    const { bucket, name } = parseGsUri(uri);
    return `https://storage.cloud.google.com/${bucket}/${name.split('/').map(encodeURIComponent).join('/')}`;
  }
}
