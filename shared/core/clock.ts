/** Time is injected: production reads the system clock, tests move their own. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A time in ms as ISO 8601 UTC text, the form every message and row carries. */
export const iso = (ms: number): string => new Date(ms).toISOString();
