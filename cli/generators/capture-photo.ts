import sharp from 'sharp';
import { ensureFonts } from '../../shared/fines/fonts.js';
import { withSensorNoise, type PhotoFormat } from '../../shared/fines/image.js';
import type { Box } from '../../shared/fines/plate.js';

const CAR_COLOURS = ['#8b1a1a', '#1a3a8b', '#222222', '#777777', '#dddddd', '#2f6b2f', '#c9c9c9', '#4a2a6a'];

/**
 * A synthetic camera photo of a car's rear with a NY-style plate. Position, scale, rotation, plate
 * colours, ink contrast and noise vary with `random`, so the OCR is exercised honestly.
 * Returns the image (PNG by default, or JPEG/WebP as a camera or the cars API serves) and where the
 * plate is (the truth for tests).
 */
export async function renderCapturePhoto(
  plate: string,
  random: () => number,
  format: PhotoFormat = 'png',
): Promise<{ image: Buffer; plateBox: Box }> {
  const W = 640;
  const H = 480;
  const sc = 0.8 + random() * 0.5;
  const pw = 220 * sc;
  const ph = 110 * sc;
  const px = W / 2 - pw / 2 + (random() - 0.5) * 160;
  const py = 300 + (random() - 0.5) * 60;
  const rot = (random() - 0.5) * 8;
  const car = CAR_COLOURS[Math.floor(random() * CAR_COLOURS.length)]!;
  const plateBg = random() < 0.5 ? '#f4f1e6' : '#f2c230';
  const ink = `rgb(${(20 + random() * 40) | 0},${(30 + random() * 40) | 0},${(90 + random() * 60) | 0})`;
  const noise = 20 + random() * 35;
  // librsvg (sharp) ignores textLength: the size makes the plate's characters fill 86 % of its width.
  const size = Math.min(46 * sc, (pw * 0.86) / (plate.length * 0.74));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
  <rect width="${W}" height="${H}" fill="#5a5d60"/>
  <rect x="60" y="120" width="520" height="300" rx="40" fill="${car}"/>
  <rect x="120" y="140" width="400" height="110" rx="20" fill="#1c2630"/>
  <circle cx="130" cy="300" r="28" fill="#f5f5d0"/><circle cx="510" cy="300" r="28" fill="#f5f5d0"/>
  <g transform="rotate(${rot.toFixed(2)} ${px + pw / 2} ${py + ph / 2})">
    <rect x="${px}" y="${py}" width="${pw}" height="${ph}" rx="${8 * sc}" fill="${plateBg}" stroke="${ink}" stroke-width="${4 * sc}"/>
    <text x="${px + pw / 2}" y="${py + 22 * sc}" font-family="DejaVu Sans" font-size="${14 * sc}" fill="${ink}" text-anchor="middle">NEW YORK</text>
    <text x="${px + pw / 2}" y="${py + 80 * sc}" font-family="DejaVu Sans" font-weight="bold" font-size="${size}" fill="${ink}" text-anchor="middle">${plate}</text>
  </g>
</svg>`;
  // The rotated plate's axis-aligned bounds.
  const c = Math.abs(Math.cos((rot * Math.PI) / 180));
  const s = Math.abs(Math.sin((rot * Math.PI) / 180));
  const bw = pw * c + ph * s;
  const bh = pw * s + ph * c;
  const cx = px + pw / 2;
  const cy = py + ph / 2;
  ensureFonts();
  const noisy = await withSensorNoise(sharp(Buffer.from(svg)), W, H, noise, random);
  // Fast deflate: noise compresses poorly anyway, and the camera must keep up with traffic.
  const image = await (
    format === 'jpeg' ? noisy.jpeg({ quality: 85 }) : format === 'webp' ? noisy.webp({ quality: 85 }) : noisy.png({ compressionLevel: 1 })
  ).toBuffer();
  return { image, plateBox: { x0: cx - bw / 2, y0: cy - bh / 2, x1: cx + bw / 2, y1: cy + bh / 2 } };
}
