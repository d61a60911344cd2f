import sharp from 'sharp';
import { endsWithEndOfImage, exifOrientation, orientationSwapsAxes, readJpegHeader } from '../../../../lambda/convert/codecs/jpeg';

const rangeOf = (data: Buffer) => async (start: number, end: number) => data.subarray(start, end + 1);
const headerOf = (data: Buffer) => readJpegHeader(data.subarray(0, 1024), data.length, rangeOf(data));
const SOI = Buffer.from([0xff, 0xd8]);

/** An APP1 Exif segment's body (after the length) with a TIFF header in the given byte order and IFD0's entries. */
function exif(order: string, entries: [tag: number, value: number][], options: { count?: number; ifd?: number } = {}): Buffer {
  const little = order === 'II';
  const tiff = Buffer.alloc(10 + entries.length * 12 + 4);
  tiff.write(order, 0, 'latin1');
  const u16 = (v: number, at: number) => (little ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (little ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at));
  u16(42, 2);
  u32(options.ifd ?? 8, 4);
  u16(options.count ?? entries.length, 8);
  entries.forEach(([tag, value], i) => {
    u16(tag, 10 + i * 12);
    u16(3, 12 + i * 12);
    u32(1, 14 + i * 12);
    u16(value, 18 + i * 12);
  });
  return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
}

describe('JPEG header: what real files hold between markers', () => {
  let jpeg: Buffer;
  beforeAll(async () => {
    jpeg = await sharp({ create: { width: 33, height: 21, channels: 3, background: '#884422' } })
      .jpeg()
      .toBuffer();
  });
  const body = () => jpeg.subarray(2);

  test('fill bytes before a marker and standalone markers (TEM, RST) are stepped over', async () => {
    expect(await headerOf(Buffer.concat([SOI, Buffer.from([0xff, 0xff, 0xff]), body()]))).toEqual({
      width: 33,
      height: 21,
      components: 3,
      precision: 8,
      orientation: 1,
    });
    expect(await headerOf(Buffer.concat([SOI, Buffer.from([0xff, 0x01, 0xff, 0xd0, 0xff, 0xd7]), body()]))).toEqual({
      width: 33,
      height: 21,
      components: 3,
      precision: 8,
      orientation: 1,
    });
  });

  test.each([
    ['an end of image before any scan', [0xff, 0xd9, 0, 0, 0, 0], 'JPEG ends before its image data'],
    ['a byte where a marker should be', [0xff, 0xe0, 0x00, 0x02, 0x00, 0xd9, 0, 0, 0, 0], 'JPEG header is corrupt (no marker at byte 6)'],
    ['a segment length below 2', [0xff, 0xe0, 0x00, 0x01, 0, 0], 'JPEG header is corrupt (segment length 1 at byte 2)'],
    ['a frame header shorter than 8 bytes', [0xff, 0xc0, 0x00, 0x05, 8, 0, 1, 0, 1, 0xff, 0xda, 0, 2], 'JPEG frame header is corrupt'],
    ['a frame of width 0', [0xff, 0xc2, 0x00, 0x0b, 8, 0, 21, 0, 0, 3, 0, 0, 0, 0, 0xff, 0xda, 0, 2], 'JPEG declares a 0×21 frame'],
  ])('refuses %s', async (_what, bytes, reason) => {
    const data = Buffer.concat([SOI, Buffer.from(bytes)]);
    expect(await readJpegHeader(data, data.length, rangeOf(data))).toBe(reason);
  });

  test('a header running past 1 MiB of metadata is refused as truncated, however large the file', async () => {
    const app = Buffer.alloc(60_000 + 4);
    app.writeUInt16BE(0xffe2, 0);
    app.writeUInt16BE(60_002, 2);
    const segments = Array.from({ length: 18 }, () => app);
    // Each segment holds an APP1 so the parser must read every one of them.
    const big = Buffer.concat([SOI, ...segments, Buffer.from([0xff, 0xe1, 0x00, 0x10]), Buffer.alloc(14), body()]);
    expect(await readJpegHeader(big.subarray(0, 65_536), big.length, rangeOf(big))).toBe('JPEG header is truncated');
  });

  test('the EXIF orientation of an APP1 segment is read; other APP1 data leaves it at 1', async () => {
    const app1 = (payload: Buffer) => {
      const head = Buffer.from([0xff, 0xe1, 0, 0]);
      head.writeUInt16BE(payload.length + 2, 2);
      return Buffer.concat([head, payload]);
    };
    expect(
      await headerOf(
        Buffer.concat([
          SOI,
          app1(
            exif('MM', [
              [0x0100, 33],
              [0x0112, 6],
            ]),
          ),
          body(),
        ]),
      ),
    ).toMatchObject({ orientation: 6 });
    expect(await headerOf(Buffer.concat([SOI, app1(Buffer.from('http://ns.adobe.com/xap/1.0/\0<x/>')), body()]))).toMatchObject({
      orientation: 1,
    });
  });
});

describe('exifOrientation', () => {
  test.each([
    ['little-endian', exif('II', [[0x0112, 3]]), 3],
    [
      'big-endian, after another tag',
      exif('MM', [
        [0x0100, 640],
        [0x0112, 8],
      ]),
      8,
    ],
    ['an orientation of 0', exif('II', [[0x0112, 0]]), undefined],
    ['an orientation of 9', exif('II', [[0x0112, 9]]), undefined],
    ['no orientation tag', exif('II', [[0x0100, 640]]), undefined],
    ['an unknown byte order', exif('XX', [[0x0112, 3]]), undefined],
    ['an IFD past the end', exif('II', [[0x0112, 3]], { ifd: 400 }), undefined],
    ['more entries declared than held', exif('II', [[0x0100, 640]], { count: 5 }), undefined],
    ['XMP, not Exif', Buffer.from('http://ns.adobe.com/xap/1.0/\0'), undefined],
    ['a segment too short for a TIFF header', Buffer.from('Exif\0\0II*\0', 'latin1'), undefined],
  ])('%s', (_what, app1, orientation) => {
    expect(exifOrientation(app1)).toBe(orientation);
  });
});

describe('the end of a JPEG', () => {
  const withEnd = Buffer.from([0x12, 0x34, 0xff, 0xd9]);
  test.each([
    ['ends with the end-of-image marker', withEnd, true],
    ['is padded with zeros after it', Buffer.concat([withEnd, Buffer.alloc(7)]), true],
    ['is cut short', withEnd.subarray(0, 3), false],
    ["is only the marker's second byte", Buffer.from([0xd9]), false],
    ['ends in 0xD9 after another byte than 0xFF', Buffer.from([0x00, 0x12, 0xd9]), false],
    ['is empty', Buffer.alloc(0), false],
  ])('a file that %s', async (_what, data, whole) => {
    expect(await endsWithEndOfImage(data.length, rangeOf(data))).toBe(whole);
  });

  test('orientations 5 to 8 turn the image by 90 degrees', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(orientationSwapsAxes)).toEqual([false, false, false, false, true, true, true, true]);
    expect(orientationSwapsAxes(9)).toBe(false);
  });
});

describe('JPEG header: reading past the first bytes', () => {
  /** A range reader over `data` that refuses a range outside the file and counts its reads. */
  function strictRange(data: Buffer) {
    const reads: [number, number][] = [];
    const read = async (start: number, end: number) => {
      if (start > end || end >= data.length) throw new Error(`range ${start}-${end} outside a file of ${data.length} bytes`);
      reads.push([start, end]);
      return data.subarray(start, end + 1);
    };
    return { reads, read };
  }
  const frame = Buffer.from([0xff, 0xc0, 0x00, 0x0b, 8, 0, 21, 0, 33, 3, 0, 0, 0]);
  const app = (bodyBytes: number) =>
    Buffer.concat([Buffer.from([0xff, 0xe0, (bodyBytes + 2) >> 8, (bodyBytes + 2) & 0xff]), Buffer.alloc(bodyBytes)]);

  test('a header ending exactly at the end of the file is read, with ranges inside the file only', async () => {
    const data = Buffer.concat([SOI, frame, Buffer.from([0xff, 0xda, 0x00, 0x02])]);
    const { reads, read } = strictRange(data);
    // The first bytes stop two short: the scan marker's length is the file's last two bytes.
    expect(await readJpegHeader(data.subarray(0, data.length - 2), data.length, read)).toEqual({
      width: 33,
      height: 21,
      components: 3,
      precision: 8,
      orientation: 1,
    });
    expect(reads).toEqual([[data.length - 2, data.length - 1]]);
  });

  test('segments past the first read are fetched 64 KiB at a time, not segment by segment', async () => {
    const data = Buffer.concat([
      SOI,
      ...Array.from({ length: 25 }, () => app(4000)),
      frame,
      Buffer.from([0xff, 0xda, 0x00, 0x02]),
      Buffer.alloc(200_000),
    ]);
    const { reads, read } = strictRange(data);
    expect(await readJpegHeader(data.subarray(0, 64 * 1024), data.length, read)).toEqual({
      width: 33,
      height: 21,
      components: 3,
      precision: 8,
      orientation: 1,
    });
    expect(reads).toEqual([[64 * 1024, 128 * 1024 - 1]]);
  });

  test('a file that yields fewer bytes than it declared, or a frame cut by its end, is truncated', async () => {
    const data = Buffer.concat([SOI, app(100), frame, Buffer.from([0xff, 0xda, 0x00, 0x02])]);
    const shrunk = async (start: number, end: number) => data.subarray(start, Math.min(end + 1, start + 10));
    expect(await readJpegHeader(data.subarray(0, 4), data.length, shrunk)).toBe('JPEG header is truncated');
    const cut = Buffer.concat([SOI, frame.subarray(0, 8)]);
    expect(await readJpegHeader(cut, cut.length, strictRange(cut).read)).toBe('JPEG header is truncated');
  });

  test('an APP1 segment that is not Exif has no orientation, whatever follows its name', () => {
    const tiff = exif('II', [[0x0112, 6]]);
    expect(exifOrientation(tiff)).toBe(6);
    expect(exifOrientation(Buffer.concat([Buffer.from('Exim\0\0', 'latin1'), tiff.subarray(6)]))).toBeUndefined();
  });
});
