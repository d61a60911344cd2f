import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { type ColourIndex, decodeColourMask, decodeIndexMask, mapColoursToIndices } from '../../../../lambda/convert/codecs/mask';
import { readPngDirect } from '../../../../lambda/convert/codecs/png-reader';
import { encodePng } from '../../../../local/png';

/**
 * decodeColourMask and decodeIndexMask undo the row filters and map pixels in one pass, skipping
 * the zero residuals of Sub and Up rows (see mask.ts `unfilterAndMap`). Each case is checked against
 * the simple path (readPngDirect's byte-by-byte unfiltering, then mapColoursToIndices) and against
 * sharp's decoding.
 */

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;
type ColourType = keyof typeof CHANNELS;

function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/**
 * Pixels of `channels` bytes that look like a mask: runs of a few values (so Sub rows have zero
 * spans), rows repeating the row above (Up rows of zeros), and some single odd pixels.
 */
function maskPixels(seed: number, width: number, height: number, channels: number, values: readonly Buffer[]): Buffer {
  const random = generator(seed);
  const out = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    if (y > 0 && random() < 0.4) {
      out.copy(out, row, row - width * channels, row);
      continue;
    }
    for (let x = 0; x < width; ) {
      const value = values[Math.floor(random() * values.length)];
      const run = random() < 0.2 ? 1 : 1 + Math.floor(random() * 12);
      for (let k = 0; k < run && x < width; k++, x++) value.copy(out, row + x * channels);
    }
  }
  return out;
}

/** The PNG with a tRNS chunk (the alpha of the first palette entries) inserted before its IDAT. */
function withTrns(png: Buffer, alpha: readonly number[]): Buffer {
  const at = png.indexOf('IDAT') - 4;
  const body = Buffer.concat([Buffer.from('tRNS', 'latin1'), Buffer.from(alpha)]);
  const chunk = Buffer.alloc(body.length + 8);
  chunk.writeUInt32BE(alpha.length, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), body.length + 4);
  return Buffer.concat([png.subarray(0, at), chunk, png.subarray(at)]);
}

const COLOURS: ColourIndex[] = [
  { rgb: 0x000000, index: 0 },
  { rgb: 0xfa3253, index: 1 },
  { rgb: 0x3d3df5, index: 2 },
  { rgb: 0x808080, index: 3 },
];
/** Colours of the generated masks: mapped ones, and 0x123456, which maps to 255. */
const PALETTE = [0x000000, 0xfa3253, 0x3d3df5, 0x808080, 0x123456];
const ALPHAS = [0, 127, 128, 255];

/** The bytes of one pixel of each kind of value a mask of this colour type holds. */
function pixelValues(colourType: ColourType): Buffer[] {
  const rgb = (c: number) => [(c >> 16) & 0xff, (c >> 8) & 0xff, c & 0xff];
  switch (colourType) {
    case 0:
      return [0x00, 0x80, 0x7f, 0xff].map((g) => Buffer.from([g]));
    case 3:
      return PALETTE.map((_, entry) => Buffer.from([entry]));
    case 2:
      return PALETTE.map((c) => Buffer.from(rgb(c)));
    case 4:
      return [0x00, 0x80, 0x7f].flatMap((g) => ALPHAS.map((a) => Buffer.from([g, a])));
    case 6:
      return PALETTE.flatMap((c) => ALPHAS.map((a) => Buffer.from([...rgb(c), a])));
  }
}

/** What the simple path maps: every pixel as RGB or RGBA (a palette expanded, with its tRNS alpha). */
async function simplePath(png: Buffer, transparentIndex: number | undefined) {
  const direct = (await readPngDirect(png, 1e7))!;
  if (!direct.palette) return mapColoursToIndices(direct.data, direct.channels, COLOURS, transparentIndex);
  const rgba = Buffer.alloc(direct.data.length * 4);
  direct.data.forEach((entry, i) => {
    direct.palette!.copy(rgba, i * 4, entry * 3, entry * 3 + 3);
    rgba[i * 4 + 3] = direct.paletteAlpha && entry < direct.paletteAlpha.length ? direct.paletteAlpha[entry] : 255;
  });
  return mapColoursToIndices(rgba, 4, COLOURS, transparentIndex);
}

const SIZES = [
  [1, 1],
  [1, 7],
  [2, 3],
  [3, 5],
  [5, 4],
  [7, 9],
  [13, 6],
  [64, 5],
  [101, 11],
];
/** Every row one filter (None, Sub, Up, Average, Paeth), or the five in turn, or a random one per row. */
const FILTERS: [string, (seed: number) => (row: number) => number][] = [
  ...[0, 1, 2, 3, 4].map((f): [string, (seed: number) => (row: number) => number] => [`filter ${f}`, () => () => f]),
  ['filters in turn', () => (row) => row % 5],
  [
    'random filters',
    (seed) => {
      const random = generator(seed * 7919);
      const filters: number[] = [];
      return (row) => (filters[row] ??= Math.floor(random() * 5));
    },
  ],
];

describe.each([0, 2, 3, 4, 6] as ColourType[])('colour type %i', (colourType) => {
  const channels = CHANNELS[colourType];
  test.each(FILTERS)('%s: the one-pass decoding equals the simple path and sharp', async (_, filtersFor) => {
    let seed = colourType * 1000;
    for (const [width, height] of SIZES) {
      seed++;
      const data = maskPixels(seed, width, height, channels, pixelValues(colourType));
      let png = encodePng({
        width,
        height,
        colourType,
        data,
        palette: colourType === 3 ? PALETTE : undefined,
        rowFilter: filtersFor(seed),
      });
      if (colourType === 3) png = withTrns(png, [255, 0, 200, 127]);
      const decoded = sharp(png).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      for (const transparentIndex of [undefined, 0]) {
        const fast = await decodeColourMask(png, COLOURS, { limitInputPixels: 1e7, transparentIndex });
        const simple = await simplePath(png, transparentIndex);
        const where = `${width}×${height}, seed ${seed}, transparentIndex ${transparentIndex}`;
        expect({ where, indices: [...fast.indices] }).toEqual({ where, indices: [...simple.indices] });
        expect({ where, counts: [...fast.pixelsPerIndex] }).toEqual({ where, counts: [...simple.pixelsPerIndex] });
        expect([fast.width, fast.height]).toEqual([width, height]);
        const { data: pixels, info } = await decoded;
        const bySharp = mapColoursToIndices(pixels, info.channels, COLOURS, transparentIndex);
        expect({ where, indices: [...fast.indices] }).toEqual({ where, indices: [...bySharp.indices] });
      }
    }
  });
});

describe('palette transparency (tRNS)', () => {
  const data = Buffer.from([0, 1, 2, 3, 4, 1]);
  const palettePng = () => encodePng({ width: 3, height: 2, colourType: 3, data, palette: PALETTE });

  test('a palette mask without tRNS maps by colour when transparent pixels have an index', async () => {
    const mask = await decodeColourMask(palettePng(), COLOURS, { limitInputPixels: 100, transparentIndex: 0 });
    expect([...mask.indices]).toEqual([0, 1, 2, 3, 255, 1]);
  });

  test('an entry of alpha 127 is transparent, one of 128 is opaque', async () => {
    const mask = await decodeColourMask(withTrns(palettePng(), [255, 127, 128]), COLOURS, { limitInputPixels: 100, transparentIndex: 0 });
    expect([...mask.indices]).toEqual([0, 0, 2, 3, 255, 0]);
  });
});

describe('class-number masks', () => {
  test.each(FILTERS)('%s: decodeIndexMask maps each value through the table', async (_, filtersFor) => {
    const classOfValue = new Uint8Array(256).fill(255);
    classOfValue.set([0, 1, 2, 3, 4], 0);
    let seed = 77;
    for (const [width, height] of SIZES) {
      for (const colourType of [0, 3] as const) {
        seed++;
        const data = maskPixels(
          seed,
          width,
          height,
          1,
          [0, 1, 2, 4, 9, 255].map((v) => Buffer.from([v])),
        );
        const png = encodePng({
          width,
          height,
          colourType,
          data,
          palette: colourType === 3 ? Array.from({ length: 256 }, (_, i) => i) : undefined,
          rowFilter: filtersFor(seed),
        });
        const mask = await decodeIndexMask(png, classOfValue, { limitInputPixels: 1e7 });
        const expected = Array.from(data, (v) => classOfValue[v]);
        expect([...mask.indices]).toEqual(expected);
        const counts = new Array(256).fill(0);
        for (const v of expected) counts[v]++;
        expect([...mask.pixelsPerIndex]).toEqual(counts);
      }
    }
  });
});

test('a row with an unknown filter type is refused, naming the row', async () => {
  const png = encodePng({ width: 3, height: 2, colourType: 2, data: Buffer.alloc(18), rowFilter: (row) => row });
  const at = png.indexOf('IDAT') + 4;
  // Rebuild the image data with filter type 5 on row 1.
  const { deflateSync, inflateSync } = await import('node:zlib');
  const rows = inflateSync(png.subarray(at, png.indexOf('IEND') - 8));
  rows[10] = 5;
  const idat = deflateSync(rows);
  const chunk = Buffer.alloc(idat.length + 12);
  chunk.writeUInt32BE(idat.length, 0);
  chunk.write('IDAT', 4, 'latin1');
  idat.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + idat.length)), 8 + idat.length);
  const broken = Buffer.concat([png.subarray(0, at - 8), chunk, png.subarray(png.indexOf('IEND') - 4)]);
  await expect(decodeColourMask(broken, COLOURS, { limitInputPixels: 100 })).rejects.toThrow('PNG row 1 has an unknown filter type 5');
  await expect(readPngDirect(broken, 100)).rejects.toThrow('PNG row 1 has an unknown filter type 5');
});
