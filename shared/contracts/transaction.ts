import { z } from 'zod';

/**
 * transactions: one sale per message (the sales producer's stream). Consumer: the transactions window pipeline
 * (shared/windows/pipelines/transactions.ts): statistics per 30-second window. As the seed: the four fields
 * must be present and float(amount) > 0 (Python's float, pythonFloat); the timestamp (local time in the
 * pipeline's zone when it has none) is read only when event time comes from the payload. Other fields are ignored.
 */
export const TRANSACTION_FIELDS = ['transaction_id', 'amount', 'timestamp', 'store_id'] as const;

/**
 * Python's float() on a JSON value, as the sales producer's pipeline applies it to `amount`: numbers as they are;
 * strings with surrounding whitespace, underscores between digits, exponents ("1e3", " 12.5 ", "1_000.5").
 * Unlike the seed, booleans, NaN and infinities are refused (float(True) is 1.0; a NaN amount passes
 * the seed's `> 0` check): null then.
 */
export function pythonFloat(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const s = v.trim();
  const digits = String.raw`\d(?:_?\d)*`;
  if (!new RegExp(String.raw`^[+-]?(?:${digits}(?:\.(?:${digits})?)?|\.${digits})(?:[eE][+-]?${digits})?$`).test(s)) return null;
  const n = Number(s.replace(/_/g, ''));
  return Number.isFinite(n) ? n : null;
}

const present = z.custom<unknown>((v) => v !== undefined, 'required');

/**
 * The message as a whole when event time comes from the payload (timestamp then a string; its zone is the
 * pipeline's setting, so transactions.ts parses it), with amount as the number float() makes of it.
 */
export const transaction = z
  .object({
    transaction_id: present,
    amount: present.transform(pythonFloat).refine((n): n is number => n !== null && n > 0, 'amount: float(amount) > 0'),
    timestamp: z.string(),
    store_id: present,
  })
  .passthrough();
export type Transaction = z.infer<typeof transaction>;
