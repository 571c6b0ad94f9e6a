import sharp, { type Metadata, type Sharp } from 'sharp';
import { ensureFonts } from './fonts.js';

/** Photo formats the fine path reads (what cameras and the seed's cars API serve). */
export const PHOTO_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type PhotoFormat = (typeof PHOTO_FORMATS)[number];
export const PHOTO_CONTENT_TYPES: Record<PhotoFormat, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

/** Refuses decompression bombs: a camera photo is a few megapixels. */
export const MAX_PIXELS = 50_000_000;

/** Bytes that are not a JPEG, PNG or WebP photo sharp can decode. */
export class UnreadablePhoto extends Error {
  override name = 'UnreadablePhoto';
}

export interface PhotoInfo {
  format: PhotoFormat;
  width: number;
  height: number;
}

/** The photo's format and size (after its EXIF orientation); throws UnreadablePhoto for anything else. */
export async function inspectPhoto(bytes: Buffer): Promise<PhotoInfo> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: MAX_PIXELS }).metadata();
  } catch (err) {
    throw new UnreadablePhoto(`not an image: ${(err as Error).message}`);
  }
  const format = meta.format as string;
  if (!(PHOTO_FORMATS as readonly string[]).includes(format))
    throw new UnreadablePhoto(`unsupported image format ${format}; read: ${PHOTO_FORMATS.join(', ')}`);
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height : meta.width;
  const height = swap ? meta.width : meta.height;
  if (!width || !height) throw new UnreadablePhoto('image without dimensions');
  // Decoding is what proves the bytes are a photo (a truncated JPEG has valid headers).
  try {
    await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'truncated' }).resize(8, 8, { fit: 'fill' }).raw().toBuffer();
  } catch (err) {
    throw new UnreadablePhoto(`undecodable ${format}: ${(err as Error).message}`);
  }
  return { format: format as PhotoFormat, width, height };
}

/** SVG to PNG (text with the fonts from ensureFonts). */
export async function renderSvg(svg: string): Promise<Buffer> {
  ensureFonts();
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * Zero-mean sensor noise of the given amplitude over an image, drawn from `random` (so a seeded
 * generator gives the same photo), blended by sharp.
 */
export async function withSensorNoise(img: Sharp, width: number, height: number, amplitude: number, random: () => number): Promise<Sharp> {
  const noise = Buffer.alloc(width * height);
  let seed = Math.floor(random() * 2 ** 31) | 1;
  for (let i = 0; i < noise.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    noise[i] = Math.max(0, Math.min(255, 128 + ((seed >>> 0) / 2 ** 32 - 0.5) * amplitude));
  }
  // Hard light of a mid-grey layer is the identity; its deviations brighten or darken each pixel.
  const base = await img.removeAlpha().png({ compressionLevel: 0 }).toBuffer();
  return sharp(base).composite([{ input: noise, raw: { width, height, channels: 1 }, blend: 'hard-light' }]);
}
