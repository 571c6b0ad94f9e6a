import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('adapters and ports', () => {
  it('no adapter in shared/platform/ has the file name of a module outside it (a port and its adapter are told apart by name)', () => {
    const adapters = tsFiles('shared/platform');
    const others = new Map(
      tsFiles('shared')
        .filter((f) => !f.startsWith(join('shared', 'platform')))
        .map((f) => [basename(f), f]),
    );
    expect(adapters.length).toBeGreaterThan(10);
    expect(adapters.filter((f) => others.has(basename(f))).map((f) => `${f} ~ ${others.get(basename(f))}`)).toEqual([]);
  });
});
