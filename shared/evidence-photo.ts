import { decodePng, renderSvg } from './image.js';
import type { Box } from './plate.js';

export interface Annotation {
  plate: string | null;
  plateConfidence: number | null;
  plateBox: Box | null;
  avgSpeedKmh: number;
  speedLimitKmh: number;
  radarName: string;
  observedAt: string;
  fineId: string;
}

/** Box stroke colour: tests look for it where the plate is. */
export const PLATE_BOX_COLOUR: readonly [number, number, number] = [255, 23, 68];

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The analysed photo kept as evidence: the camera photo, a box around the plate that was read, and a
 * banner with the measured speed, the limit, the radar and the time.
 */
export function drawAnalysedPhoto(photo: Buffer, a: Annotation): Buffer {
  const { width: W, height: H } = decodePng(photo);
  const banner = 56;
  const [r, g, b] = PLATE_BOX_COLOUR;
  const box = a.plateBox;
  const label = a.plate ? `${a.plate}${a.plateConfidence !== null ? ` (${Math.round(a.plateConfidence * 100)} %)` : ''}` : 'plate not read: manual review';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H + banner}">
  <image x="0" y="0" width="${W}" height="${H}" href="data:image/png;base64,${photo.toString('base64')}"/>
  ${box ? `<rect x="${box.x0 - 4}" y="${box.y0 - 4}" width="${box.x1 - box.x0 + 8}" height="${box.y1 - box.y0 + 8}" fill="none" stroke="rgb(${r},${g},${b})" stroke-width="4"/>
  <rect x="${box.x0 - 6}" y="${Math.max(0, box.y0 - 34)}" width="${Math.max(120, label.length * 11)}" height="26" fill="rgb(${r},${g},${b})"/>
  <text x="${box.x0}" y="${Math.max(0, box.y0 - 34) + 19}" font-family="DejaVu Sans Mono" font-weight="bold" font-size="17" fill="#ffffff">${esc(label)}</text>` : ''}
  <rect x="0" y="${H}" width="${W}" height="${banner}" fill="#111111"/>
  <text x="12" y="${H + 23}" font-family="DejaVu Sans" font-weight="bold" font-size="18" fill="#ffffff">${a.avgSpeedKmh.toFixed(1)} km/h average · limit ${a.speedLimitKmh} km/h${box ? '' : ` · ${esc(label)}`}</text>
  <text x="12" y="${H + 45}" font-family="DejaVu Sans" font-size="12" fill="#cccccc">${esc(a.radarName)} · ${esc(a.observedAt.replace(/\.\d+Z$/, 'Z'))} · fine ${esc(a.fineId)}</text>
</svg>`;
  return renderSvg(svg);
}
