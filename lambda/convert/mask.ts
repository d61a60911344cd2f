import sharp from 'sharp';
import { IGNORE_INDEX } from './classes';

/** A colour of a mask and the class index it stands for. */
export interface ColourIndex {
  readonly rgb: number;
  readonly index: number;
}

export interface ClassIndexMask {
  /** One class index (or 255) per pixel, row by row. */
  readonly indices: Buffer;
  readonly width: number;
  readonly height: number;
  /** Pixels per class index (0..255). */
  readonly pixelsPerIndex: Uint32Array;
}

/**
 * Colour → class index for every 24-bit colour, 255 by default. One table serves every mask: the
 * entries of a mask's colours are set, the mask is mapped, and the entries are reset, all
 * synchronously, so concurrent conversions never see each other's colours.
 */
let colourTable: Uint8Array | undefined;

/**
 * Maps decoded mask pixels to class indices by colour (never by palette index: Ground Truth once
 * wrote wrong palette indices). Takes sharp's raw output with 1 to 4 channels; alpha is ignored.
 */
export function mapColoursToIndices(pixels: Buffer, channels: number, colours: readonly ColourIndex[]): { indices: Buffer; pixelsPerIndex: Uint32Array } {
  const table = (colourTable ??= new Uint8Array(1 << 24).fill(IGNORE_INDEX));
  const count = pixels.length / channels;
  const indices = Buffer.allocUnsafe(count);
  const pixelsPerIndex = new Uint32Array(256);
  for (const { rgb, index } of colours) table[rgb] = index;
  try {
    if (channels >= 3) {
      for (let i = 0, p = 0; i < count; i++, p += channels) {
        const value = table[(pixels[p] << 16) | (pixels[p + 1] << 8) | pixels[p + 2]];
        indices[i] = value;
        pixelsPerIndex[value]++;
      }
    } else {
      for (let i = 0, p = 0; i < count; i++, p += channels) {
        const value = table[pixels[p] * 0x010101];
        indices[i] = value;
        pixelsPerIndex[value]++;
      }
    }
  } finally {
    for (const { rgb } of colours) table[rgb] = IGNORE_INDEX;
  }
  return { indices, pixelsPerIndex };
}

/**
 * Decodes a colour mask PNG of any type (RGB, RGBA, palette, grey) and maps it to class indices.
 * With `resizeTo`, the mask is first scaled with nearest-neighbour, which keeps its colours exact.
 */
export async function decodeColourMask(
  png: Buffer,
  colours: readonly ColourIndex[],
  options: { limitInputPixels: number; resizeTo?: { width: number; height: number } },
): Promise<ClassIndexMask> {
  let pipeline = sharp(png, { limitInputPixels: options.limitInputPixels, failOn: 'error' });
  if (options.resizeTo) pipeline = pipeline.resize(options.resizeTo.width, options.resizeTo.height, { kernel: 'nearest', fit: 'fill' });
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const { indices, pixelsPerIndex } = mapColoursToIndices(data, info.channels, colours);
  return { indices, width: info.width, height: info.height, pixelsPerIndex };
}

/** PNG options shared by the converter and its benchmark floor. */
export const CLASS_MASK_PNG_OPTIONS = { compressionLevel: 6, adaptiveFiltering: false } as const;

/** An 8-bit single-channel (greyscale) PNG of class indices: what the algorithm reads as mode `L`. */
export function encodeClassIndexPng(indices: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(indices, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png(CLASS_MASK_PNG_OPTIONS)
    .toBuffer();
}
