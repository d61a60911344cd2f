import sharp from 'sharp';
import { type ColourIndex, decodeColourMask, decodeIndexMask, mapColoursToIndices } from '../../../../lambda/convert/codecs/mask';

/**
 * Edges of the colour mapping that the differential tests (unfilter-map, jpeg-mask) do not reach:
 * the pixel values the run detection starts from, buffers at odd offsets, transparency mapped to a
 * class other than 0, and the sharp path (masks resized to their image).
 */

const counts = (pixelsPerIndex: Uint32Array) => Object.fromEntries([...pixelsPerIndex.entries()].filter(([, n]) => n > 0));

describe('mapColoursToIndices', () => {
  const greys: ColourIndex[] = [
    { rgb: 0x000000, index: 1 },
    { rgb: 0x010101, index: 2 },
    { rgb: 0x020202, index: 3 },
  ];

  test("one-byte pixels at an odd offset of their buffer (a slice of a decoder's pool) map as aligned ones do", () => {
    const values = [0, 1, 2, 2, 2, 2, 1, 0, 0, 9];
    const pool = new Uint8Array(values.length + 1);
    pool.set(values, 1);
    const unaligned = pool.subarray(1);
    expect(unaligned.byteOffset % 4).toBe(1);
    const mapped = mapColoursToIndices(unaligned, 1, greys);
    expect([...mapped.indices]).toEqual([1, 2, 3, 3, 3, 3, 2, 1, 1, 255]);
    expect(counts(mapped.pixelsPerIndex)).toEqual({ 1: 3, 2: 2, 3: 4, 255: 1 });
  });

  test('one-byte pixels whose four bytes read as the number 1 are mapped, first and last', () => {
    // Little-endian, bytes 1 0 0 0 are the 32-bit word 1: a run detector must not take it for "no run yet".
    const mapped = mapColoursToIndices(Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0]), 1, greys);
    expect([...mapped.indices]).toEqual([2, 1, 1, 1, 2, 1, 1, 1]);
    expect(counts(mapped.pixelsPerIndex)).toEqual({ 1: 6, 2: 2 });
  });

  test('a first pixel of colour 0x000001 is mapped (no run comes before it)', () => {
    const mapped = mapColoursToIndices(Uint8Array.from([0, 0, 1, 0, 0, 1, 9, 9, 9]), 3, [{ rgb: 0x000001, index: 4 }]);
    expect([...mapped.indices]).toEqual([4, 4, 255]);
    expect(counts(mapped.pixelsPerIndex)).toEqual({ 4: 2, 255: 1 });
  });

  test('transparent pixels take the index given for them, whatever their colour', () => {
    const red = { rgb: 0xff0000, index: 1 };
    const rgba = Uint8Array.from([255, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 127, 255, 0, 0, 128]);
    expect([...mapColoursToIndices(rgba, 4, [red], 7).indices]).toEqual([1, 7, 7, 1]);
    const greyAlpha = Uint8Array.from([0, 255, 0, 0]);
    expect([...mapColoursToIndices(greyAlpha, 2, greys, 9).indices]).toEqual([1, 9]);
  });
});

describe('decodeIndexMask', () => {
  test('refuses a class-number mask that is not an 8-bit palette or grey PNG, saying what it must be', async () => {
    const rgb = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#010203' } })
      .png()
      .toBuffer();
    const grey16 = await sharp(Buffer.alloc(8), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect((await sharp(grey16).metadata()).depth).toBe('ushort');
    for (const png of [rgb, grey16]) {
      await expect(decodeIndexMask(png, new Uint8Array(256), { limitInputPixels: 100 })).rejects.toThrow(
        'a class-number mask must be an 8-bit palette or grey PNG',
      );
    }
  });
});

describe('decodeColourMask, a mask resized to its image', () => {
  const colours: ColourIndex[] = [
    { rgb: 0xff0000, index: 1 },
    { rgb: 0x0000ff, index: 2 },
  ];
  const redBlue = () =>
    sharp(Buffer.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
      .png()
      .toBuffer();

  test('is scaled with nearest-neighbour to exactly the size asked, the aspect changed, no colour invented', async () => {
    const mask = await decodeColourMask(await redBlue(), colours, { limitInputPixels: 100, resizeTo: { width: 6, height: 3 } });
    expect([mask.width, mask.height]).toEqual([6, 3]);
    expect([...mask.indices]).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
    expect(counts(mask.pixelsPerIndex)).toEqual({ 1: 9, 2: 9 });
  });

  test('is refused when it holds more pixels than allowed, as an unresized one is', async () => {
    const large = await sharp({ create: { width: 60, height: 60, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    await expect(decodeColourMask(large, colours, { limitInputPixels: 1000, resizeTo: { width: 10, height: 10 } })).rejects.toThrow(
      /pixel limit/,
    );
  });
});
