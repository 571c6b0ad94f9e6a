/**
 * Group commit: concurrent submissions for the same key that reach the same instance share one commit.
 * The speed check uses it twice: per vehicle (a seed burst of 10 observations is one write when it
 * reaches one instance whole), and per radar for the observation log (the parts of many vehicles'
 * bursts that an instance received share one log document).
 *
 * A batch launches when it reaches `maxBatch(key)` items, when `complete` says its items need no more (a
 * vehicle's burst that forms a whole passage), or `waitMs` after its first item, whichever is first; if a
 * commit of the same key is still in flight then, the batch keeps taking items and launches as soon as that
 * commit settles (so a slow commit makes the next batch bigger, not later).
 * Every caller's promise settles with its own item's result, or rejects if the batch failed (so the
 * platform redelivers every message of a failed batch: the commit is idempotent).
 */
export class GroupCommitter<I, R> {
  private pending = new Map<string, Batch<I, R>>();
  private inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly commit: (key: string, items: readonly I[]) => Promise<readonly R[]>,
    private readonly opts: { waitMs: number; maxBatch: (key: string) => number; complete?: (key: string, items: readonly I[]) => boolean },
  ) {}

  /** Whether a batch of this key is gathering items (not launched yet). */
  gathering(key: string): boolean {
    return this.pending.has(key);
  }

  submit(key: string, item: I): Promise<R> {
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { items: [], waiters: [], timer: null, due: false };
      this.pending.set(key, batch);
      const b = batch;
      b.timer = setTimeout(() => {
        b.due = true;
        this.launchIfIdle(key, b);
      }, this.opts.waitMs);
    }
    const result = new Promise<R>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    batch.items.push(item);
    if (batch.items.length >= this.opts.maxBatch(key) || this.isComplete(key, batch.items)) {
      batch.due = true;
      this.launchIfIdle(key, batch);
    }
    return result;
  }

  /** A `complete` that throws says "not yet": the batch still launches on its timer (the item is in it already). */
  private isComplete(key: string, items: readonly I[]): boolean {
    try {
      return this.opts.complete?.(key, items) ?? false;
    } catch {
      return false;
    }
  }

  private launchIfIdle(key: string, batch: Batch<I, R>): void {
    if (this.pending.get(key) !== batch || this.inFlight.has(key)) return; // launched, or launches when the commit in flight settles
    this.pending.delete(key);
    if (batch.timer) clearTimeout(batch.timer);
    const run = this.commit(key, batch.items)
      .then(
        (results) => batch.waiters.forEach((w, i) => w.resolve(results[i]!)),
        (err: unknown) => batch.waiters.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        this.inFlight.delete(key);
        const next = this.pending.get(key);
        if (next?.due) this.launchIfIdle(key, next);
      });
    this.inFlight.set(key, run);
  }
}

interface Batch<I, R> {
  items: I[];
  waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[];
  timer: ReturnType<typeof setTimeout> | null;
  /** its wait is over (or it is full): it launches as soon as no commit of its key is in flight */
  due: boolean;
}
