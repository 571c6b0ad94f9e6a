import { createHash, randomInt } from 'node:crypto';

/** New York's plate letters (no I, O or Q). */
const LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';

/**
 * The plate of a vehicle as the local cars API photographs it: New York's LLLDDDD, derived from the
 * vehicle id, so whoever knows the id (the generator's manifest, a test) knows the truth.
 */
export function plateForVehicle(vehicleId: string): string {
  const h = createHash('sha256').update(`plate|${vehicleId}`).digest();
  const letters = [0, 1, 2].map((i) => LETTERS[h[i]! % LETTERS.length]).join('');
  return letters + String(h.readUInt32BE(4) % 10_000).padStart(4, '0');
}

/** NY-style plate: three letters, four digits. */
export function plateId(): string {
  return Array.from({ length: 3 }, () => LETTERS[randomInt(LETTERS.length)]).join('') + String(randomInt(10_000)).padStart(4, '0');
}
