/**
 * Group commit: concurrent deliveries for the same key (one vehicle at one radar) that reach the same
 * instance share one Firestore transaction. The seed generator sends a vehicle's 10 observations in one
 * burst, so a burst costs one read and one write instead of ten of each, and the transactions of one
 * key never contend with each other inside an instance.
 *
 * A batch commits when it reaches `maxBatch(key)` items or `waitMs` after its first item, whichever is
 * first; while a key's batch commits, new arrivals form the next batch, which commits after it.
 * Every caller's promise settles with its own item's result, or rejects if the batch failed (so the
 * platform redelivers every message of a failed batch: the commit is idempotent).
 */
export class GroupCommitter<I, R> {
  private pending = new Map<string, Batch<I, R>>();
  private inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly commit: (key: string, items: readonly I[]) => Promise<readonly R[]>,
    private readonly opts: { waitMs: number; maxBatch: (key: string) => number },
  ) {}

  submit(key: string, item: I): Promise<R> {
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { items: [], waiters: [], timer: null };
      this.pending.set(key, batch);
      const b = batch;
      b.timer = setTimeout(() => this.launch(key, b), this.opts.waitMs);
    }
    const result = new Promise<R>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    batch.items.push(item);
    if (batch.items.length >= this.opts.maxBatch(key)) this.launch(key, batch);
    return result;
  }

  private launch(key: string, batch: Batch<I, R>): void {
    if (this.pending.get(key) !== batch) return; // already launched
    this.pending.delete(key);
    if (batch.timer) clearTimeout(batch.timer);
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const run = previous
      .then(() => this.commit(key, batch.items))
      .then(
        (results) => batch.waiters.forEach((w, i) => w.resolve(results[i]!)),
        (err: unknown) => batch.waiters.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        if (this.inFlight.get(key) === run) this.inFlight.delete(key);
      });
    this.inFlight.set(key, run);
  }
}

interface Batch<I, R> {
  items: I[];
  waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[];
  timer: ReturnType<typeof setTimeout> | null;
}
