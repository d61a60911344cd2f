import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { endsWithEndOfImage, exifOrientation, readJpegHeader } from '../../../../lambda/convert/codecs/jpeg';
import { decodeColourMask, encodeClassIndexPng, mapColoursToIndices } from '../../../../lambda/convert/codecs/mask';
import { encodePalettePng, encodePng } from '../../../../local/png';
import { readMasksWithPil } from '../../../helpers/pil';

const rangeOf = (data: Buffer) => async (start: number, end: number) => data.subarray(start, end + 1);

describe('JPEG header', () => {
  test('reads size, components and EXIF orientation without decoding', async () => {
    const jpeg = await sharp({ create: { width: 33, height: 21, channels: 3, background: '#884422' } })
      .jpeg()
      .withMetadata({ orientation: 8 })
      .toBuffer();
    expect(await readJpegHeader(jpeg.subarray(0, 1024), jpeg.length, rangeOf(jpeg))).toEqual({
      width: 33,
      height: 21,
      components: 3,
      precision: 8,
      orientation: 8,
    });
    expect(await endsWithEndOfImage(jpeg.length, rangeOf(jpeg))).toBe(true);
    expect(await endsWithEndOfImage(jpeg.length - 10, rangeOf(jpeg.subarray(0, jpeg.length - 10)))).toBe(false);
  });

  test('reads past a first read when large metadata comes before the frame header', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    // Insert three 60 KiB APP2 segments after SOI.
    const app = Buffer.alloc(60_000 + 4);
    app.writeUInt16BE(0xffe2, 0);
    app.writeUInt16BE(60_002, 2);
    const big = Buffer.concat([jpeg.subarray(0, 2), app, app, app, jpeg.subarray(2)]);
    const reads: number[][] = [];
    const header = await readJpegHeader(big.subarray(0, 65_536), big.length, async (s, e) => {
      reads.push([s, e]);
      return big.subarray(s, e + 1);
    });
    expect(header).toEqual({ width: 8, height: 8, components: 3, precision: 8, orientation: 1 });
    expect(reads.length).toBeGreaterThan(0);
  });

  test.each([
    [Buffer.from('GIF89a........'), /not a JPEG/],
    [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), /truncated/],
    [Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x04, 0x00, 0x00]), /no frame header/],
  ])('refuses a broken header %#', async (data, reason) => {
    expect(await readJpegHeader(data, data.length, rangeOf(data))).toMatch(reason);
  });

  test('exifOrientation reads big- and little-endian TIFF', () => {
    for (const little of [true, false]) {
      const tiff = Buffer.alloc(26);
      tiff.write(little ? 'II' : 'MM', 0, 'latin1');
      const u16 = (v: number, at: number) => (little ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
      const u32 = (v: number, at: number) => (little ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
      u16(42, 2);
      u32(8, 4);
      u16(1, 8);
      u16(0x0112, 10);
      u16(3, 12);
      u32(1, 14);
      u16(6, 18);
      expect(exifOrientation(Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]))).toBe(6);
    }
  });
});

describe('colour masks', () => {
  const colours = [
    { rgb: 0xffffff, index: 0 },
    { rgb: 0x1f77b4, index: 1 },
    { rgb: 0x7f7f7f, index: 2 },
  ];
  const pixels = [0xffffff, 0x1f77b4, 0x7f7f7f, 0x123456];

  test.each([
    ['RGB', 3],
    ['RGBA', 4],
  ])('%s masks map by colour, an unknown colour to 255', async (_name, channels) => {
    const raw = Buffer.alloc(pixels.length * channels, 255);
    pixels.forEach((rgb, i) => {
      raw.writeUIntBE(rgb, i * channels, 3);
    });
    const png = await sharp(raw, { raw: { width: 4, height: 1, channels: channels as 3 | 4 } })
      .png()
      .toBuffer();
    const mask = await decodeColourMask(png, colours, { limitInputPixels: 100 });
    expect([...mask.indices]).toEqual([0, 1, 2, 255]);
    expect(mask.pixelsPerIndex[255]).toBe(1);
  });

  test('greyscale masks map grey levels to the colours that have them', async () => {
    const png = await sharp(Buffer.from([255, 127, 3]), { raw: { width: 3, height: 1, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(png).metadata()).channels).toBe(1);
    expect([...(await decodeColourMask(png, colours, { limitInputPixels: 100 })).indices]).toEqual([0, 2, 255]);
  });

  test('the colour table is left clean for the next mask', () => {
    mapColoursToIndices(Buffer.from([0x1f, 0x77, 0xb4]), 3, colours);
    expect([...mapColoursToIndices(Buffer.from([0x1f, 0x77, 0xb4]), 3, []).indices]).toEqual([255]);
  });

  test('a mask declaring more pixels than allowed is refused before decoding', async () => {
    const png = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    await expect(decodeColourMask(png, colours, { limitInputPixels: 1000 })).rejects.toThrow(
      /declares 200×200 pixels, more than the 1000 accepted/,
    );
  });

  test('class masks are written as 8-bit greyscale PNGs', async () => {
    const png = await encodeClassIndexPng(Buffer.from([0, 1, 2, 255]), 2, 2);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.channels, meta.depth, meta.space]).toEqual(['png', 1, 'uchar', 'b-w']);
  });

  test('PIL reads a class mask as mode L with exactly its values (every value 0..255, odd sizes, long runs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segpipe-mask-png-'));
    try {
      const cases = [
        [1, 1],
        [3, 5],
        [257, 3],
        [1280, 720],
      ].map(([width, height], k) => {
        const indices = new Uint8Array(width * height);
        for (let i = 0; i < indices.length; i++) indices[i] = k === 2 ? i % 256 : [0, 1, 2, 3, 255][Math.floor(i / 97) % 5];
        return { width, height, indices, file: join(dir, `${k}.png`) };
      });
      for (const c of cases) writeFileSync(c.file, await encodeClassIndexPng(c.indices, c.width, c.height));
      const read = readMasksWithPil(cases.map((c) => c.file));
      cases.forEach((c, k) => {
        expect(read[k]).toMatchObject({
          mode: 'L',
          width: c.width,
          height: c.height,
          sha256: createHash('sha256').update(c.indices).digest('hex'),
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a class mask whose indices do not fill its size is refused, not written', async () => {
    await expect(encodeClassIndexPng(Buffer.alloc(5), 2, 3)).rejects.toThrow('a 2×3 mask holds 6 indices, received 5');
  });
});

describe('mapping agrees with a plain per-pixel lookup', () => {
  const colours = [
    { rgb: 0xffffff, index: 0 },
    { rgb: 0x1f77b4, index: 1 },
    { rgb: 0xff7f0e, index: 2 },
    { rgb: 0x000000, index: 3 },
  ];
  const palette = [0xffffff, 0x1f77b4, 0xff7f0e, 0x000000, 0x123456];

  /** Runs of random length and value, as masks have, with odd sizes so the last group is partial. */
  function runs(seed: number, length: number, values: number): Uint8Array {
    let state = seed;
    const random = () => (state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; ) {
      const value = Math.floor(random() * values);
      const run = 1 + Math.floor(random() * 9);
      out.fill(value, i, Math.min(length, i + run));
      i += run;
    }
    return out;
  }

  test.each([
    [1, 37, 7],
    [2, 64, 5],
    [3, 13, 1],
    [4, 1, 1],
    [5, 6, 11],
  ])('seed %i, %i×%i', async (seed, width, height) => {
    const slots = runs(seed, width * height, palette.length);
    const expectedIndices = Array.from(slots, (s) => colours.find((c) => c.rgb === palette[s])?.index ?? 255);
    const expectedCounts = new Map<number, number>();
    for (const v of expectedIndices) expectedCounts.set(v, (expectedCounts.get(v) ?? 0) + 1);

    const indexed = encodePalettePng(slots, width, height, palette);
    const rgb = Buffer.alloc(slots.length * 3);
    slots.forEach((s, i) => {
      rgb.writeUIntBE(palette[s], i * 3, 3);
    });
    const raw = { raw: { width, height, channels: 3 as const } };
    // Adaptive filtering makes libpng pick Sub, Up, Average or Paeth per row; 16-bit goes through sharp.
    const filtered = await sharp(rgb, raw).png({ adaptiveFiltering: true, compressionLevel: 9 }).toBuffer();
    const rgba = await sharp(rgb, raw).ensureAlpha().png().toBuffer();
    const sixteenBit = await sharp(rgb, raw).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(sixteenBit).metadata()).depth).toBe('ushort');
    // Every row filter, on an indexed and an RGB image.
    const rowFilter = (row: number) => row % 5;
    const everyFilterIndexed = encodePng({ width, height, colourType: 3, data: slots, palette, rowFilter });
    const everyFilterRgb = encodePng({ width, height, colourType: 2, data: rgb, rowFilter });
    expect((await sharp(everyFilterRgb).raw().toBuffer()).equals(rgb)).toBe(true);
    for (const png of [indexed, filtered, rgba, sixteenBit, everyFilterIndexed, everyFilterRgb]) {
      const mask = await decodeColourMask(png, colours, { limitInputPixels: 1e6 });
      expect([...mask.indices]).toEqual(expectedIndices);
      for (const [value, n] of expectedCounts) expect(mask.pixelsPerIndex[value]).toBe(n);
      expect(mask.pixelsPerIndex.reduce((a, b) => a + b, 0)).toBe(width * height);
    }
  });
});
