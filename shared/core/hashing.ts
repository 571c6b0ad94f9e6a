import { createHash } from 'node:crypto';

/** Content-derived ids: the same message, observation or row always gets the same id. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
