/** gs://bucket/name helpers. Object names built from message fields go through `objectName`. */

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/** A gs:// address that is not one, or names an object outside its bucket's plain names: never read. */
export class BadObjectUri extends Error {
  override name = 'BadObjectUri';
}

export function parseGsUri(uri: string): { bucket: string; name: string } {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m || !BUCKET.test(m[1]!)) throw new BadObjectUri(`not a gs://bucket/object URI: ${JSON.stringify(uri.slice(0, 200))}`);
  const name = m[2]!;
  if (name.split('/').some((seg) => seg === '..' || seg === '.' || seg === '') || /[\u0000-\u001f\u007f\\]/.test(name)) {
    throw new BadObjectUri(`unsafe object name in ${JSON.stringify(uri.slice(0, 200))}`);
  }
  return { bucket: m[1]!, name };
}

export function gsUri(bucket: string, name: string): string {
  return `gs://${bucket}/${name}`;
}

/**
 * An object name from untrusted parts: each part keeps letters, digits, '.', '_' and '-' (anything else
 * becomes '_'), cannot be '.' or '..', and is capped at 100 characters; parts are joined with '/'.
 */
export function objectName(...parts: string[]): string {
  return parts
    .map((p) => {
      const safe = p.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
      return safe === '' || safe === '.' || safe === '..' ? '_' : safe;
    })
    .join('/');
}
