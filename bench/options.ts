import { parseArgs } from 'node:util';

type Parsed<T> = { [K in keyof T]: T[K] extends boolean ? boolean : T[K] extends string ? string : string | undefined };

/** A bench's command line: each option with its default (a string; a boolean for a flag; undefined for none). */
export function benchArgs<T extends Record<string, string | boolean | undefined>>(defaults: T): Parsed<T> {
  const options = Object.fromEntries(
    Object.entries(defaults).map(([name, d]) => [
      name,
      typeof d === 'boolean' ? { type: 'boolean', default: d } : d === undefined ? { type: 'string' } : { type: 'string', default: d },
    ]),
  );
  return parseArgs({ options } as Parameters<typeof parseArgs>[0]).values as Parsed<T>;
}

/** The emulators' and the functions' ports (0: a free one) and the data directory, as the benches that run a stack take them. */
export const STACK_OPTIONS = { 'pubsub-port': '0', 'firestore-port': '0', 'functions-port': '0', 'data-dir': undefined } as const;
