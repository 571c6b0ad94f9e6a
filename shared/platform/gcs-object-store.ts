import type { Storage } from '@google-cloud/storage';
import { parseGsUri } from '../fines/object-names.js';
import { ObjectAccessDenied, type ObjectStore } from '../fines/ports.js';

const status = (err: unknown) => (err as { code?: number }).code;

/**
 * Cloud Storage. Buckets are private (uniform access, public access prevention); `viewUrl` is the
 * authenticated browser URL, which works for anyone granted read on the bucket and never expires.
 */
export class GcsObjectStore implements ObjectStore {
  constructor(private readonly storage: Pick<Storage, 'bucket'>) {}

  async get(uri: string): Promise<Buffer | null> {
    const { bucket, name } = parseGsUri(uri);
    try {
      const [bytes] = await this.storage.bucket(bucket).file(name).download();
      return bytes;
    } catch (err) {
      if (status(err) === 404) return null;
      if (status(err) === 403 || status(err) === 401) throw new ObjectAccessDenied(`${uri}: ${(err as Error).message}`);
      throw err;
    }
  }

  async put(uri: string, bytes: Buffer, opts: { contentType: string; metadata?: Record<string, string> }): Promise<void> {
    const { bucket, name } = parseGsUri(uri);
    await this.storage
      .bucket(bucket)
      .file(name)
      .save(bytes, { resumable: false, contentType: opts.contentType, metadata: { metadata: opts.metadata ?? {} } });
  }

  async create(
    uri: string,
    bytes: Buffer,
    opts: { contentType: string; metadata?: Record<string, string> },
  ): Promise<'created' | 'exists'> {
    const { bucket, name } = parseGsUri(uri);
    try {
      // With the precondition the upload is idempotent, so the client library may retry it safely.
      await this.storage
        .bucket(bucket)
        .file(name)
        .save(bytes, {
          resumable: false,
          contentType: opts.contentType,
          metadata: { metadata: opts.metadata ?? {} },
          preconditionOpts: { ifGenerationMatch: 0 },
        });
      return 'created';
    } catch (err) {
      if (status(err) === 412) return 'exists';
      if (status(err) === 403 || status(err) === 401) throw new ObjectAccessDenied(`${uri}: ${(err as Error).message}`);
      throw err;
    }
  }

  async list(prefixUri: string): Promise<string[]> {
    const { bucket, name } = parseGsUri(prefixUri.endsWith('/') ? prefixUri + '_' : prefixUri);
    const prefix = prefixUri.endsWith('/') ? name.slice(0, -1) : name;
    try {
      const [files] = await this.storage.bucket(bucket).getFiles({ prefix });
      return files.map((f) => `gs://${bucket}/${f.name}`).sort();
    } catch (err) {
      if (status(err) === 403 || status(err) === 401) throw new ObjectAccessDenied(`${prefixUri}: ${(err as Error).message}`);
      throw err;
    }
  }

  viewUrl(uri: string): string {
    const { bucket, name } = parseGsUri(uri);
    return `https://storage.cloud.google.com/${bucket}/${name.split('/').map(encodeURIComponent).join('/')}`;
  }
}
