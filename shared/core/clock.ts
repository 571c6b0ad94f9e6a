/** Time is injected: production reads the system clock, tests move their own. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
