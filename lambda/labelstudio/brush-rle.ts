import { decodeBinary, encodeBinary } from '@thi.ng/rle-pack';

/** The value of index-mask pixels that are ignored (the algorithm's ignore label): never a region. */
export const IGNORE_INDEX = 255;

/**
 * Label Studio's brush RLE of the pixels where `mask` holds `index`: the image's RGBA bytes, row by row
 * from the top left, with R=G=B=A=255 on the region and 0 elsewhere (the frontend counts a pixel as
 * painted when its alpha is not 0), packed by `@thi.ng/rle-pack`'s binary encoder with its defaults
 * (8-bit words, repeat classes 3, 4, 8, 16), as the frontend's own `Canvas.Region2RLE` does.
 * `rgba` is a buffer of `mask.length * 4` bytes to reuse between classes (it is overwritten).
 */
export function brushRle(mask: Uint8Array, index: number, rgba = new Uint8Array(mask.length * 4)): number[] {
  if (rgba.length !== mask.length * 4) throw new Error(`the RGBA buffer holds ${rgba.length} bytes, not ${mask.length * 4}`);
  for (let p = 0; p < mask.length; p++) {
    const on = mask[p] === index ? 255 : 0;
    rgba[p * 4] = on;
    rgba[p * 4 + 1] = on;
    rgba[p * 4 + 2] = on;
    rgba[p * 4 + 3] = on;
  }
  return Array.from(encodeBinary(rgba, rgba.length));
}

/** The alpha channel of a brush RLE (the frontend's painted pixels where it is not 0); `undefined` when it is not `width × height` pixels. */
export function brushAlpha(rle: readonly number[], width: number, height: number): Uint8Array | undefined {
  const rgba = decodeBinary(Uint8Array.from(rle));
  if (rgba.length !== width * height * 4) return undefined;
  const alpha = new Uint8Array(width * height);
  for (let p = 0; p < alpha.length; p++) alpha[p] = rgba[p * 4 + 3];
  return alpha;
}

/** The class indices a mask holds, ascending, without the background (0) and the ignore label. */
export function classesInMask(mask: Uint8Array): number[] {
  const seen = new Uint8Array(256);
  for (const index of mask) seen[index] = 1;
  const present: number[] = [];
  for (let i = 1; i < 256; i++) if (seen[i] && i !== IGNORE_INDEX) present.push(i);
  return present;
}
