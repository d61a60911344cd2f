import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS_OF_COLOUR_TYPE: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export interface PngImage {
  readonly width: number;
  readonly height: number;
  /** PNG colour type: 0 grey, 2 RGB, 3 indexed, 4 grey+alpha, 6 RGBA (8 bits a sample). */
  readonly colourType: 0 | 2 | 3 | 4 | 6;
  /** Pixel bytes, row by row. */
  readonly data: Uint8Array;
  /** For an indexed PNG, the colour of each palette entry as 0xRRGGBB. */
  readonly palette?: readonly number[];
  /**
   * The filter of each row (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth).
   * @default - None for every row
   */
  readonly rowFilter?: (row: number) => number;
}

/**
 * An 8-bit PNG with exactly the given bytes. sharp cannot write an exact indexed PNG: its palette
 * output quantizes and reorders indices. Ground Truth writes indexed masks, so the local stand-in and
 * the fixtures need this; the row filters let tests cover every filter a decoder must undo.
 */
export function encodePng(image: PngImage): Buffer {
  const { width, height, colourType, data, palette } = image;
  const bpp = CHANNELS_OF_COLOUR_TYPE[colourType];
  const stride = width * bpp;
  if (data.length !== stride * height) throw new Error(`expected ${stride * height} bytes of pixels, received ${data.length}`);
  if (colourType === 3 && (!palette || palette.length === 0 || palette.length > 256))
    throw new Error('an indexed PNG needs a palette of 1 to 256 colours');
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = colourType;
  const rows = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const filter = image.rowFilter?.(y) ?? 0;
    const out = y * (stride + 1);
    rows[out] = filter;
    for (let x = 0; x < stride; x++) {
      const at = y * stride + x;
      const a = x >= bpp ? data[at - bpp] : 0;
      const b = y > 0 ? data[at - stride] : 0;
      const c = x >= bpp && y > 0 ? data[at - stride - bpp] : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      rows[out + 1 + x] = (data[at] - predictor) & 0xff;
    }
  }
  const chunks = [chunk('IHDR', header)];
  if (palette) chunks.push(chunk('PLTE', Buffer.from(palette.flatMap((rgb) => [(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff]))));
  chunks.push(chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([SIGNATURE, ...chunks]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** An indexed PNG with exactly these palette indices and palette. */
export function encodePalettePng(indices: Uint8Array, width: number, height: number, palette: readonly number[]): Buffer {
  return encodePng({ width, height, colourType: 3, data: indices, palette });
}
