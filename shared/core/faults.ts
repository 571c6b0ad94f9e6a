/**
 * Fault injection for crash-retry tests and the chaos run: each named point calls `check`, which
 * throws when a test armed that point. Off (a no-op) unless something arms it.
 */
export class Faults {
  private armed = new Map<string, number>();
  /** how many faults were injected, by point */
  readonly injected = new Map<string, number>();

  /**
   * @param chances probability per call of a fault at each point (the chaos run's transient failures);
   *   empty by default, so production code never fails on purpose.
   */
  constructor(
    private readonly chances: ReadonlyMap<string, number> = new Map(),
    private readonly random: () => number = Math.random,
  ) {}

  /** "point:probability,point:probability" (SPEEDCAM_FAULTS) */
  static fromSpec(spec: string): Faults {
    const chances = new Map<string, number>();
    for (const part of spec
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const [point, p] = part.split(':');
      const n = Number(p);
      if (!point || !(n >= 0 && n <= 1)) throw new Error(`SPEEDCAM_FAULTS: "${part}" is not point:probability (0-1)`);
      chances.set(point, n);
    }
    return new Faults(chances);
  }

  arm(point: FaultPoint, times = 1): void {
    this.armed.set(point, (this.armed.get(point) ?? 0) + times);
  }
  check(point: FaultPoint): void {
    const n = this.armed.get(point) ?? 0;
    const chance = this.chances.get(point) ?? 0;
    if (n > 0 || (chance > 0 && this.random() < chance)) {
      if (n > 0) this.armed.set(point, n - 1);
      this.injected.set(point, (this.injected.get(point) ?? 0) + 1);
      throw new InjectedFault(point);
    }
  }
}

export type FaultPoint =
  | 'observation.beforeCommit'
  | 'observation.afterCommit'
  | 'sweep.beforeCommit'
  | 'sweep.afterCommit'
  | 'decision.afterPublish'
  | 'deadLetter.beforePublish'
  | 'deadLetterSink.beforeWrite'
  | 'flush.afterClose'
  | 'flush.afterWarehouse'
  | 'fine.beforeRecord'
  | 'fine.afterRecord'
  | 'fine.afterPublish'
  | 'review.afterDecision'
  | 'window.beforeCommit'
  | 'window.afterCommit'
  | 'window.afterWarehouse'
  | 'window.afterMark'
  | 'window.afterEarlyPane';

export class InjectedFault extends Error {
  constructor(readonly point: string) {
    super(`injected fault at ${point}`);
    this.name = 'InjectedFault';
  }
}
