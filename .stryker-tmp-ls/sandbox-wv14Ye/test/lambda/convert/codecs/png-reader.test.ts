import { deflateSync } from 'node:zlib';
import { readPngDirect } from '../../../../lambda/convert/codecs/png-reader';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG chunk; the reader does not check CRCs, so theirs is left zero. */
function chunk(type: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, data, Buffer.alloc(4)]);
}

function ihdr(width: number, height: number, options: { bitDepth?: number; colourType?: number; interlace?: number } = {}): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = options.bitDepth ?? 8;
  data[9] = options.colourType ?? 0;
  data[12] = options.interlace ?? 0;
  return chunk('IHDR', data);
}

/** Rows with filter type None. */
const rows = (width: number, height: number, channels: number, value = 1) =>
  Buffer.concat(Array.from({ length: height }, () => Buffer.concat([Buffer.from([0]), Buffer.alloc(width * channels, value)])));

const png = (...chunks: Buffer[]) => Buffer.concat([SIGNATURE, ...chunks]);

describe('PNG read without a decoder', () => {
  test('grey, split over several IDAT chunks', async () => {
    const data = deflateSync(rows(3, 2, 1, 9));
    const read = await readPngDirect(
      png(
        ihdr(3, 2),
        chunk('IDAT', data.subarray(0, 5)),
        chunk('tEXt', Buffer.from('a\0b')),
        chunk('IDAT', data.subarray(5)),
        chunk('IEND'),
      ),
      100,
    );
    expect(read).toEqual({ width: 3, height: 2, channels: 1, data: Buffer.alloc(6, 9), palette: undefined, paletteAlpha: undefined });
  });

  test("an indexed PNG brings its palette and alpha; a grey one's tRNS is not a palette alpha", async () => {
    const plte = Buffer.from([0, 0, 0, 255, 0, 0]);
    const trns = Buffer.from([0, 255]);
    const indexed = await readPngDirect(
      png(
        ihdr(2, 1, { colourType: 3 }),
        chunk('PLTE', plte),
        chunk('tRNS', trns),
        chunk('IDAT', deflateSync(rows(2, 1, 1))),
        chunk('IEND'),
      ),
      100,
    );
    expect(indexed).toMatchObject({ channels: 1, palette: plte, paletteAlpha: trns });
    const grey = await readPngDirect(
      png(ihdr(2, 1), chunk('tRNS', Buffer.from([0, 1])), chunk('IDAT', deflateSync(rows(2, 1, 1))), chunk('IEND')),
      100,
    );
    expect(grey).toMatchObject({ palette: undefined, paletteAlpha: undefined });
    // An RGB PNG may carry a suggested palette (PLTE): its pixels are colours, not indices.
    const rgb = await readPngDirect(
      png(ihdr(1, 1, { colourType: 2 }), chunk('PLTE', plte), chunk('IDAT', deflateSync(rows(1, 1, 3, 5))), chunk('IEND')),
      100,
    );
    expect(rgb).toEqual({ width: 1, height: 1, channels: 3, data: Buffer.alloc(3, 5), palette: undefined, paletteAlpha: undefined });
    const rgba = await readPngDirect(
      png(ihdr(1, 1, { colourType: 6 }), chunk('IDAT', deflateSync(rows(1, 1, 4, 200))), chunk('IEND')),
      100,
    );
    expect(rgba).toMatchObject({ channels: 4, data: Buffer.alloc(4, 200) });
    const greyAlpha = await readPngDirect(
      png(ihdr(1, 1, { colourType: 4 }), chunk('IDAT', deflateSync(rows(1, 1, 2, 7))), chunk('IEND')),
      100,
    );
    expect(greyAlpha).toMatchObject({ channels: 2, data: Buffer.alloc(2, 7) });
  });

  test.each([
    ['16-bit samples', { bitDepth: 16 }],
    ['4-bit samples', { bitDepth: 4 }],
    ['interlacing', { interlace: 1 }],
    ['an unknown colour type', { colourType: 5 }],
  ])('a PNG with %s is left to the decoder', async (_what, options) => {
    expect(await readPngDirect(png(ihdr(2, 2, options), chunk('IEND'), Buffer.alloc(8)), 100)).toBeUndefined();
  });

  test.each([
    ['a GIF', Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(40)]), 'not a PNG'],
    ['a signature alone', Buffer.concat([SIGNATURE, Buffer.alloc(8)]), 'not a PNG'],
    [
      'a chunk past the end',
      png(ihdr(2, 2), chunk('IDAT', Buffer.alloc(40)).subarray(0, 30)),
      'PNG is truncated (its IDAT chunk ends past the file)',
    ],
    ['no header', png(chunk('tEXt', Buffer.alloc(20)), chunk('IEND')), 'PNG has no IHDR chunk'],
    [
      'a last chunk cut after its type',
      png(ihdr(2, 1), chunk('IDAT', deflateSync(rows(2, 1, 1))), chunk('IEND').subarray(0, 8)),
      'PNG is truncated (its IEND chunk ends past the file)',
    ],
    ['no end', png(ihdr(2, 1), chunk('IDAT', deflateSync(rows(2, 1, 1)))), 'PNG is truncated (no IEND chunk)'],
    [
      'an index without a palette',
      png(ihdr(2, 1, { colourType: 3 }), chunk('IDAT', deflateSync(rows(2, 1, 1))), chunk('IEND')),
      'indexed PNG has no palette',
    ],
    [
      'too little image data',
      png(ihdr(2, 2), chunk('IDAT', deflateSync(rows(2, 1, 1))), chunk('IEND')),
      'PNG image data holds 3 bytes, its 2×2 header needs 6',
    ],
  ])('%s is refused', async (_what, data, reason) => {
    await expect(readPngDirect(data, 100)).rejects.toThrow(reason);
  });

  test('a header declaring more pixels than allowed is refused before any inflation; exactly the limit is read', async () => {
    const image = png(ihdr(10, 10), chunk('IDAT', deflateSync(rows(10, 10, 1))), chunk('IEND'));
    await expect(readPngDirect(image, 99)).rejects.toThrow('PNG declares 10×10 pixels, more than the 99 accepted');
    expect(await readPngDirect(image, 100)).toMatchObject({ width: 10, height: 10 });
  });

  test('image data that inflates past what the header declares is refused, not held', async () => {
    const image = png(ihdr(2, 1), chunk('IDAT', deflateSync(rows(2, 50, 1))), chunk('IEND'));
    await expect(readPngDirect(image, 100)).rejects.toThrow();
  });
});
