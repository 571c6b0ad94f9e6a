import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../../shared/core/group-commit.js';

/** A commit function the test releases by hand, recording each batch it was given. */
function gate() {
  const batches: string[][] = [];
  const releases: (() => void)[] = [];
  const commit = (_key: string, items: readonly string[]) => {
    batches.push([...items]);
    return new Promise<string[]>((resolve) => releases.push(() => resolve(items.map((i) => `done:${i}`))));
  };
  return { batches, releases, commit };
}

describe('group commit', () => {
  it('a full batch commits at once; each caller gets its own result', async () => {
    const g = gate();
    const c = new GroupCommitter(g.commit, { waitMs: 60_000, maxBatch: () => 3 });
    const results = ['a', 'b', 'c'].map((x) => c.submit('k', x));
    expect(g.batches).toEqual([['a', 'b', 'c']]);
    g.releases[0]!();
    expect(await Promise.all(results)).toEqual(['done:a', 'done:b', 'done:c']);
  });

  it('a batch that `complete` says needs nothing more commits at once, below maxBatch and before its wait', async () => {
    const g = gate();
    const c = new GroupCommitter(g.commit, { waitMs: 60_000, maxBatch: () => 10, complete: (_k, items) => items.includes('exit') });
    const entry = c.submit('k', 'entry');
    expect(c.gathering('k')).toBe(true);
    expect(g.batches).toEqual([]);
    const exit = c.submit('k', 'exit');
    expect(g.batches).toEqual([['entry', 'exit']]);
    expect(c.gathering('k')).toBe(false);
    g.releases[0]!();
    expect(await Promise.all([entry, exit])).toEqual(['done:entry', 'done:exit']);
  });

  it('what arrives while a commit of the same key is in flight waits for it, then goes in one commit', async () => {
    const g = gate();
    const c = new GroupCommitter(g.commit, { waitMs: 0, maxBatch: () => 100 });
    const first = c.submit('k', 'a');
    await new Promise((r) => setTimeout(r, 5)); // the wait is over: 'a' commits alone
    expect(g.batches).toEqual([['a']]);
    const later = ['b', 'c', 'd'].map((x) => c.submit('k', x));
    await new Promise((r) => setTimeout(r, 5));
    expect(g.batches).toHaveLength(1); // still waiting for the commit in flight
    g.releases[0]!();
    await first;
    await new Promise((r) => setTimeout(r, 0));
    expect(g.batches).toEqual([['a'], ['b', 'c', 'd']]);
    g.releases[1]!();
    expect(await Promise.all(later)).toEqual(['done:b', 'done:c', 'done:d']);
  });

  it('keys commit independently, and a failed commit rejects every caller of its batch only', async () => {
    const c = new GroupCommitter(
      async (key: string, items: readonly string[]) => {
        if (key === 'bad') throw new Error('UNAVAILABLE');
        return items.map((i) => `${key}:${i}`);
      },
      { waitMs: 0, maxBatch: () => 100 },
    );
    const bad = [c.submit('bad', 'x'), c.submit('bad', 'y')];
    const good = c.submit('good', 'z');
    await expect(Promise.all(bad)).rejects.toThrow('UNAVAILABLE');
    await expect(Promise.allSettled(bad)).resolves.toEqual([
      { status: 'rejected', reason: expect.any(Error) },
      { status: 'rejected', reason: expect.any(Error) },
    ]);
    expect(await good).toBe('good:z');
    // a later batch of that key is committed, not stuck behind the failed one
    expect(await c.submit('bad', 'w').catch(() => 'failed again')).toBe('failed again');
  });
});
