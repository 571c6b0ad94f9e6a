import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** shared/'s TypeScript files, relative to the repository. */
const sources = (readdirSync('shared', { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join('shared', f));

describe('adapters and ports', () => {
  it('no adapter in shared/platform/ has the file name of a module outside it (a port and its adapter are told apart by name)', () => {
    const inPlatform = (f: string) => f.startsWith(join('shared', 'platform') + '/');
    const adapters = sources.filter(inPlatform);
    const others = new Map(sources.filter((f) => !inPlatform(f)).map((f) => [basename(f), f]));
    expect(adapters.length).toBeGreaterThan(10);
    expect(adapters.filter((f) => others.has(basename(f))).map((f) => `${f} ~ ${others.get(basename(f))}`)).toEqual([]);
  });
});
