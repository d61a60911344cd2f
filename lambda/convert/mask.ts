import sharp from 'sharp';
import { IGNORE_INDEX } from './classes';
import { readPngDirect } from './png-reader';

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
 * Maps one-byte pixels (palette indices, grey levels) through a 256-entry table, four at a time:
 * masks are long runs of one value, so a 32-bit word equal to the previous one reuses its mapping,
 * and counting happens once per run.
 */
function mapBytes(pixels: Uint8Array, table: Uint8Array): { indices: Buffer; pixelsPerIndex: Uint32Array } {
  const count = pixels.length;
  const groups = count >>> 2;
  // Word views need 4-byte alignment; a decoder's buffer may be a slice of a pool.
  const input = pixels.byteOffset % 4 === 0 ? pixels : Uint8Array.from(pixels);
  const words = new Uint32Array(input.buffer, input.byteOffset, groups);
  const indices = Buffer.alloc(count);
  const indexWords = new Uint32Array(indices.buffer, indices.byteOffset, groups);
  const perValue = new Float64Array(256);
  let previous = -1;
  let mapped = 0;
  let runStart = 0;
  for (let g = 0; g < groups; g++) {
    const word = words[g];
    if (word !== previous) {
      if (previous !== -1) countWordRun(perValue, previous, g - runStart);
      previous = word;
      runStart = g;
      const pixel = g * 4;
      for (let k = 0; k < 4; k++) indices[pixel + k] = table[input[pixel + k]];
      mapped = indexWords[g];
    } else {
      indexWords[g] = mapped;
    }
  }
  if (previous !== -1) countWordRun(perValue, previous, groups - runStart);
  for (let i = groups * 4; i < count; i++) {
    indices[i] = table[input[i]];
    perValue[input[i]]++;
  }
  const pixelsPerIndex = new Uint32Array(256);
  perValue.forEach((n, value) => (pixelsPerIndex[table[value]] += n));
  return { indices, pixelsPerIndex };
}

/** Adds `run` repetitions of the four bytes of `word` to the per-value counts. */
function countWordRun(perValue: Float64Array, word: number, run: number): void {
  perValue[word & 0xff] += run;
  perValue[(word >>> 8) & 0xff] += run;
  perValue[(word >>> 16) & 0xff] += run;
  perValue[word >>> 24] += run;
}

/** Alpha below this is transparent: Lookout for Vision's anti-aliased edges and background. */
const OPAQUE_FROM = 128;
/** A run key no 24-bit colour has: a transparent pixel. */
const TRANSPARENT = -2;

/**
 * Maps multi-byte pixels (RGB, RGBA, grey+alpha) through the colour table, once per run of one colour.
 * With `transparentIndex`, a pixel whose alpha is below 128 takes that index whatever its colour.
 */
function mapColourPixels(pixels: Uint8Array, channels: number, table: Uint8Array, transparentIndex?: number): { indices: Buffer; pixelsPerIndex: Uint32Array } {
  const count = pixels.length / channels;
  const indices = Buffer.allocUnsafe(count);
  const pixelsPerIndex = new Uint32Array(256);
  const grey = channels < 3;
  const alphaAt = transparentIndex !== undefined && (channels === 2 || channels === 4) ? channels - 1 : -1;
  let previous = -1;
  let value = IGNORE_INDEX;
  let runStart = 0;
  for (let i = 0, p = 0; i < count; i++, p += channels) {
    const rgb = alphaAt >= 0 && pixels[p + alphaAt] < OPAQUE_FROM
      ? TRANSPARENT
      : grey ? pixels[p] * 0x010101 : (pixels[p] << 16) | (pixels[p + 1] << 8) | pixels[p + 2];
    if (rgb !== previous) {
      pixelsPerIndex[value] += i - runStart;
      runStart = i;
      previous = rgb;
      value = rgb === TRANSPARENT ? transparentIndex! : table[rgb];
    }
    indices[i] = value;
  }
  pixelsPerIndex[value] += count - runStart;
  return { indices, pixelsPerIndex };
}

/**
 * Maps decoded mask pixels to class indices by colour (never by palette index: Ground Truth once
 * wrote wrong palette indices). Takes raw pixels with 1 to 4 channels; alpha is ignored unless
 * `transparentIndex` is given.
 */
export function mapColoursToIndices(
  pixels: Uint8Array,
  channels: number,
  colours: readonly ColourIndex[],
  transparentIndex?: number,
): { indices: Buffer; pixelsPerIndex: Uint32Array } {
  const table = (colourTable ??= new Uint8Array(1 << 24).fill(IGNORE_INDEX));
  for (const { rgb, index } of colours) table[rgb] = index;
  try {
    if (channels === 1) return mapBytes(pixels, Uint8Array.from({ length: 256 }, (_, grey) => table[grey * 0x010101]));
    return mapColourPixels(pixels, channels, table, transparentIndex);
  } finally {
    for (const { rgb } of colours) table[rgb] = IGNORE_INDEX;
  }
}

/**
 * Maps an indexed image by the colour of each palette entry (never by the index itself); with
 * `transparentIndex`, an entry whose tRNS alpha is below 128 takes that index.
 */
function mapPaletteToIndices(
  paletteIndices: Uint8Array,
  palette: Buffer,
  paletteAlpha: Buffer | undefined,
  colours: readonly ColourIndex[],
  transparentIndex?: number,
): { indices: Buffer; pixelsPerIndex: Uint32Array } {
  const classOfEntry = new Uint8Array(256).fill(IGNORE_INDEX);
  const classOfColour = new Map(colours.map(({ rgb, index }) => [rgb, index]));
  for (let entry = 0; entry * 3 + 2 < palette.length; entry++) {
    const transparent = transparentIndex !== undefined && paletteAlpha !== undefined && entry < paletteAlpha.length && paletteAlpha[entry] < OPAQUE_FROM;
    classOfEntry[entry] = transparent ? transparentIndex : classOfColour.get(palette.readUIntBE(entry * 3, 3)) ?? IGNORE_INDEX;
  }
  return mapBytes(paletteIndices, classOfEntry);
}

/**
 * Maps a PNG whose pixel values are class numbers (Pascal VOC's palette indices, or grey levels)
 * through `classOfValue`: what the value means comes from the format, not from the colour.
 */
export async function decodeIndexMask(png: Buffer, classOfValue: Uint8Array, options: { limitInputPixels: number; resizeTo?: { width: number; height: number } }): Promise<ClassIndexMask> {
  const direct = await readPngDirect(png, options.limitInputPixels);
  if (!direct || direct.channels !== 1) throw new Error('a class-number mask must be an 8-bit palette or grey PNG');
  const mapped = mapBytes(direct.data, classOfValue);
  const mask = { ...mapped, width: direct.width, height: direct.height };
  return options.resizeTo ? resizeClassIndexMask(mask, options.resizeTo.width, options.resizeTo.height) : mask;
}

/** Scales a class-index mask with nearest-neighbour, which keeps its values exact. */
export function resizeClassIndexMask(mask: ClassIndexMask, width: number, height: number): ClassIndexMask {
  if (mask.width === width && mask.height === height) return mask;
  const indices = Buffer.allocUnsafe(width * height);
  const pixelsPerIndex = new Uint32Array(256);
  const columns = Int32Array.from({ length: width }, (_, x) => Math.min(mask.width - 1, Math.floor(((x + 0.5) * mask.width) / width)));
  for (let y = 0; y < height; y++) {
    const row = Math.min(mask.height - 1, Math.floor(((y + 0.5) * mask.height) / height)) * mask.width;
    for (let x = 0; x < width; x++) {
      const value = mask.indices[row + columns[x]];
      indices[y * width + x] = value;
      pixelsPerIndex[value]++;
    }
  }
  return { indices, width, height, pixelsPerIndex };
}

/**
 * Decodes a colour mask PNG of any type (RGB, RGBA, palette, grey) and maps it to class indices.
 * 8-bit PNGs are read directly (see `readPngDirect`); others go through sharp. With `resizeTo`, the
 * mask is first scaled with nearest-neighbour, which keeps its colours exact.
 */
export async function decodeColourMask(
  png: Buffer,
  colours: readonly ColourIndex[],
  options: { limitInputPixels: number; resizeTo?: { width: number; height: number }; transparentIndex?: number },
): Promise<ClassIndexMask> {
  const { transparentIndex } = options;
  const direct = options.resizeTo ? undefined : await readPngDirect(png, options.limitInputPixels);
  if (direct) {
    const mapped = direct.palette
      ? mapPaletteToIndices(direct.data, direct.palette, direct.paletteAlpha, colours, transparentIndex)
      : mapColoursToIndices(direct.data, direct.channels, colours, transparentIndex);
    return { ...mapped, width: direct.width, height: direct.height };
  }
  let pipeline = sharp(png, { limitInputPixels: options.limitInputPixels, failOn: 'error' });
  if (options.resizeTo) pipeline = pipeline.resize(options.resizeTo.width, options.resizeTo.height, { kernel: 'nearest', fit: 'fill' });
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const { indices, pixelsPerIndex } = mapColoursToIndices(data, info.channels, colours, transparentIndex);
  return { indices, width: info.width, height: info.height, pixelsPerIndex };
}

/**
 * Sets libvips to one thread per operation. The converter keeps several items in flight on the
 * thread pool, and per-operation threads on top of that oversubscribe the cores (measured on 2 cores:
 * 76 → 107 items/s). Entry points call this: it is process-wide.
 */
export function useSharpForConcurrentItems(): void {
  sharp.concurrency(1);
}

/**
 * PNG options shared by the converter and its benchmark floor. Level 3 encodes a 1280×720 mask in
 * ~2 ms against ~4.7 ms at the default 6, for ~4.3 KiB against ~3.4 KiB (measured here).
 */
export const CLASS_MASK_PNG_OPTIONS = { compressionLevel: 3, adaptiveFiltering: false } as const;

/** An 8-bit single-channel (greyscale) PNG of class indices: what the algorithm reads as mode `L`. */
export function encodeClassIndexPng(indices: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(indices, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png(CLASS_MASK_PNG_OPTIONS)
    .toBuffer();
}
