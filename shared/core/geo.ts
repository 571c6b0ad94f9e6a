/** [latitude, longitude] in degrees, the order the seed generator uses. */
export type LatLon = readonly [number, number];

/** Mean Earth radius (IUGG), km. */
export const EARTH_RADIUS_KM = 6371.0088;

const rad = (deg: number) => (deg * Math.PI) / 180;

export function haversineKm(a: LatLon, b: LatLon): number {
  const dLat = rad(b[0] - a[0]);
  const dLon = rad(b[1] - a[1]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[0])) * Math.cos(rad(b[0])) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Where a point lies along the segment entry→exit, as a fraction (0 at entry, 1 at exit), and how far
 * it is from the segment in km. Uses a local equirectangular projection: exact enough for road
 * sections of a few kilometres.
 */
export function projectOnSection(p: LatLon, entry: LatLon, exit: LatLon): { fraction: number; offsetKm: number } {
  const k = Math.cos(rad((entry[0] + exit[0]) / 2));
  const toXY = (q: LatLon) => [rad(q[1] - entry[1]) * k * EARTH_RADIUS_KM, rad(q[0] - entry[0]) * EARTH_RADIUS_KM] as const;
  const [ex, ey] = toXY(exit);
  const [px, py] = toXY(p);
  const len2 = ex * ex + ey * ey;
  const fraction = len2 === 0 ? 0 : (px * ex + py * ey) / len2;
  const clamped = Math.min(1, Math.max(0, fraction));
  const dx = px - clamped * ex;
  const dy = py - clamped * ey;
  return { fraction, offsetKm: Math.hypot(dx, dy) };
}
