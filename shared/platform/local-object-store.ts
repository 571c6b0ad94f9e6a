import { link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseGsUri } from '../fines/object-names.js';
import { ObjectAccessDenied, type ObjectStore } from '../fines/ports.js';

/** Cloud Storage stand-in: gs://bucket/name is the file <root>/bucket/name. */
export class LocalObjectStore implements ObjectStore {
  private readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  path(uri: string): string {
    const { bucket, name } = parseGsUri(uri);
    const p = resolve(this.root, bucket, name);
    // Defence in depth: parseGsUri already refuses '..'.
    if (!p.startsWith(resolve(this.root, bucket) + sep)) throw new Error(`object path escapes its bucket: ${uri}`);
    return p;
  }

  async get(uri: string): Promise<Buffer | null> {
    try {
      return await readFile(this.path(uri));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if ((err as NodeJS.ErrnoException).code === 'EACCES') throw new ObjectAccessDenied(`${uri}: ${(err as Error).message}`);
      throw err;
    }
  }

  async put(uri: string, bytes: Buffer, opts: { contentType: string; metadata?: Record<string, string> }): Promise<void> {
    const p = this.path(uri);
    await mkdir(dirname(p), { recursive: true });
    // Write then rename: a reader never sees half an object, as with Cloud Storage.
    const tmp = `${p}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, p);
    if (opts.metadata) await writeFile(`${p}.metadata.json`, JSON.stringify({ contentType: opts.contentType, ...opts.metadata }));
  }

  async create(
    uri: string,
    bytes: Buffer,
    opts: { contentType: string; metadata?: Record<string, string> },
  ): Promise<'created' | 'exists'> {
    const p = this.path(uri);
    await mkdir(dirname(p), { recursive: true });
    // The object appears whole and only if absent (link fails on an existing name), as Cloud Storage's
    // ifGenerationMatch: 0 does.
    const tmp = `${p}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    try {
      await link(tmp, p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    if (opts.metadata) await writeFile(`${p}.metadata.json`, JSON.stringify({ contentType: opts.contentType, ...opts.metadata }));
    return 'created';
  }

  async list(prefixUri: string): Promise<string[]> {
    const { bucket, name } = parseGsUri(prefixUri.endsWith('/') ? prefixUri + '_' : prefixUri);
    const prefix = prefixUri.endsWith('/') ? name.slice(0, -1) : name;
    const bucketDir = resolve(this.root, bucket);
    const dir = resolve(bucketDir, dirname(prefix + 'x'));
    let entries: string[];
    try {
      entries = await readdir(dir, { recursive: true });
    } catch {
      return [];
    }
    return entries
      .map((e) => relative(bucketDir, join(dir, e)).split(sep).join('/'))
      .filter((n) => n.startsWith(prefix) && !n.endsWith('.metadata.json') && !n.endsWith('.tmp'))
      .sort()
      .map((n) => `gs://${bucket}/${n}`);
  }

  viewUrl(uri: string): string {
    return pathToFileURL(this.path(uri)).href;
  }
}
