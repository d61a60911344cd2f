import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import { type ConversionReport, mergeConversionReports } from '../../../../lambda/convert/conversion/report';
import type { ExportItem, ExportReader, ExportSkip, ObjectRef } from '../../../../lambda/convert/export-item';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { ObjectNotFoundError, ReadRefusedError } from '../../../../lambda/convert/stores/object-store';
import { H, jpeg, W } from '../../../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-guards-'));
const files = new FolderObjectStore();

/** A reader of the given items, declaring no classes. */
function readerOf(items: (ExportItem | ExportSkip)[]): ExportReader {
  return {
    format: 'coco',
    input: 'in-memory',
    declaredClasses: async () => [],
    items: async function* () {
      yield* items;
    },
  };
}

/** An item painted with one polygon of its class over the whole image. */
function shapeItem(line: number, className: string, findImage: () => Promise<ObjectRef>): ExportItem {
  return {
    line,
    source: `s${line}.jpg`,
    findImage,
    mask: { kind: 'shapes', size: { width: W, height: H }, shapes: [{ kind: 'polygon', className, rings: [[0, 0, W, 0, W, H, 0, H]] }] },
  };
}

describe('convertExport guards', () => {
  let image: ObjectRef;
  beforeAll(async () => {
    writeFileSync(join(work, 'a.jpg'), await jpeg(1));
    image = { store: files, locations: [join(work, 'a.jpg')] };
  });

  test.each([
    [{ validationFraction: 0 }, 'validation fraction must be between 0 and 1 (exclusive), received 0'],
    [{ validationFraction: 1 }, 'validation fraction must be between 0 and 1 (exclusive), received 1'],
    [{ validationFraction: Number.NaN }, 'validation fraction must be between 0 and 1 (exclusive), received NaN'],
    [{ concurrency: 0 }, 'concurrency must be a positive integer, received 0'],
    [{ concurrency: 1.5 }, 'concurrency must be a positive integer, received 1.5'],
    [{ shard: { index: 2, count: 2 } }, 'shard 2 of 2 is not one of 0..count-1'],
    [{ shard: { index: -1, count: 2 } }, 'shard -1 of 2 is not one of 0..count-1'],
    [{ shard: { index: 0, count: 0 } }, 'shard 0 of 0 is not one of 0..count-1'],
    [{ shard: { index: 0.5, count: 2 } }, 'shard 0.5 of 2 is not one of 0..count-1'],
    [{ shard: { index: 0, count: 1.5 } }, 'shard 0 of 1.5 is not one of 0..count-1'],
  ])('refuses %j before reading anything', async (option, message) => {
    const reader = { ...readerOf([]), declaredClasses: jest.fn(async () => []) };
    await expect(convertExport({ reader, out: join(work, 'never'), output: files, ...option })).rejects.toThrow(message);
    expect(reader.declaredClasses).not.toHaveBeenCalled();
  });

  test('the last shard and a fraction just inside the bounds are accepted', async () => {
    const report = await convertExport({
      reader: readerOf([]),
      out: join(work, 'edge'),
      output: files,
      shard: { index: 1, count: 2 },
      validationFraction: 0.999,
      concurrency: 1,
    });
    expect(report.counts.converted).toBe(0);
    await expect(
      convertExport({ reader: readerOf([]), out: join(work, 'one-shard'), output: files, shard: { index: 0, count: 1 } }),
    ).resolves.toBeDefined();
  });

  test("an image that cannot be found, may not be read or is denied is that item's skip; any other failure stops the conversion", async () => {
    const denied = Object.assign(new Error('Access Denied'), { $metadata: { httpStatusCode: 403 } });
    const report = await convertExport({
      reader: readerOf([
        shapeItem(1, 'turtle', async () => {
          throw new ObjectNotFoundError('s3://in/gone.jpg');
        }),
        shapeItem(2, 'turtle', async () => {
          throw new ReadRefusedError('s3://elsewhere/a.jpg is outside what this run may read');
        }),
        shapeItem(3, 'turtle', async () => {
          throw denied;
        }),
        shapeItem(4, 'turtle', async () => image),
      ]),
      out: join(work, 'skips'),
      output: files,
      concurrency: 1,
    });
    expect(report.skipped).toEqual([
      { line: 1, source: 's1.jpg', reason: 'not found: s3://in/gone.jpg' },
      { line: 2, source: 's2.jpg', reason: 's3://elsewhere/a.jpg is outside what this run may read' },
      { line: 3, source: 's3.jpg', reason: 'cannot read a source: Access Denied' },
    ]);
    expect(report.counts.converted).toBe(1);
    for (const status of [500, 404]) {
      const failing = Object.assign(new Error(`status ${status}`), { $metadata: { httpStatusCode: status } });
      await expect(
        convertExport({
          reader: readerOf([
            shapeItem(1, 'turtle', async () => {
              throw failing;
            }),
          ]),
          out: join(work, `fails-${status}`),
          output: files,
        }),
      ).rejects.toThrow(`status ${status}`);
    }
    // An error that is not the SDK's (no $metadata) stops the conversion with its own message.
    await expect(
      convertExport({
        reader: readerOf([
          shapeItem(1, 'turtle', async () => {
            throw new Error('disk on fire');
          }),
        ]),
        out: join(work, 'fails-plain'),
        output: files,
      }),
    ).rejects.toThrow(/^disk on fire$/);
    for (const status of [400, 416]) {
      const skipped = Object.assign(new Error(`status ${status}`), { $metadata: { httpStatusCode: status } });
      const one = await convertExport({
        reader: readerOf([
          shapeItem(1, 'turtle', async () => {
            throw skipped;
          }),
        ]),
        out: join(work, `skips-${status}`),
        output: files,
      });
      expect(one.skipped.map((s) => s.reason)).toEqual([`cannot read a source: status ${status}`]);
    }
  });

  test('a class past the 254 the algorithm takes skips its item with the reason; the others convert', async () => {
    const items = Array.from({ length: 254 }, (_, i) => shapeItem(i + 1, `c${i + 1}`, async () => image));
    // A class-number mask's classes past the limit too (its file is never read).
    const classNumbers: ExportItem = {
      line: 255,
      source: 'v255.jpg',
      findImage: async () => image,
      mask: {
        kind: 'index-png',
        file: image,
        classOfValue: [
          { name: 'c1', background: false },
          { name: 'c300', background: false },
        ],
        colourOfValue: [],
      },
    };
    const report = await convertExport({
      reader: readerOf([...items, classNumbers]),
      out: join(work, 'classes'),
      output: files,
      concurrency: 4,
    });
    expect(report.classes).toHaveLength(254);
    expect(report.skipped).toEqual([
      { line: 254, source: 's254.jpg', reason: 'class "c254" would be class number 255; the algorithm takes at most 254' },
      { line: 255, source: 'v255.jpg', reason: 'class "c300" would be class number 255; the algorithm takes at most 254' },
    ]);
    expect(report.counts.converted).toBe(253);
  }, 120_000);

  test("a PNG source whose image data does not decode is skipped with the decoder's reason", async () => {
    const png = await sharp({ create: { width: W, height: H, channels: 3, background: '#336699' } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const idat = png.indexOf('IDAT');
    // The zlib stream's header: nothing after it inflates.
    png.fill(0xff, idat + 4, idat + 12);
    writeFileSync(join(work, 'broken.png'), png);
    const report = await convertExport({
      reader: readerOf([shapeItem(1, 'turtle', async () => ({ store: files, locations: [join(work, 'broken.png')] }))]),
      out: join(work, 'broken'),
      output: files,
    });
    expect(report.skipped).toEqual([{ line: 1, source: 's1.jpg', reason: expect.stringMatching(/^image cannot be decoded: .+/) }]);
  });

  test('progress counts items done of those seen, and says when the export has been read to its end', async () => {
    const calls: unknown[] = [];
    await convertExport({
      reader: readerOf([shapeItem(1, 'turtle', async () => image), { line: 2, source: 'gone.jpg', reason: 'no mask' }]),
      out: join(work, 'progress'),
      output: files,
      concurrency: 1,
      onProgress: (p) => calls.push({ ...p }),
    });
    expect(calls[calls.length - 1]).toEqual({ done: 2, seen: 2, readAll: true });
    expect(calls).toContainEqual({ done: 1, seen: 1, readAll: false });
  });

  test('shard reports that disagree on the classes are not merged', () => {
    const report = (classes: string[]) => ({ classes, items: [], skipped: [], counts: { lines: 0 } }) as unknown as ConversionReport;
    expect(() => mergeConversionReports([report(['BACKGROUND', 'a']), report(['BACKGROUND', 'b'])])).toThrow(
      'the shards of a conversion disagree on the classes: BACKGROUND,a / BACKGROUND,b',
    );
  });
});

describe('convertExport: files refused before they are decoded', () => {
  const at = (name: string, body: Buffer) => {
    writeFileSync(join(work, name), body);
    return { store: files, locations: [join(work, name)] };
  };
  const skipsOf = async (items: ExportItem[], extra: { maxFileBytes?: number } = {}) =>
    (await convertExport({ reader: readerOf(items), out: join(work, `refused-${items[0].line}`), output: files, ...extra })).skipped.map(
      (s) => s.reason,
    );

  test('an image or a mask over the size limit, an empty image, one that declares no pixels and a broken JPEG header are each named', async () => {
    const image = await jpeg(2);
    const imageRef = at('limit.jpg', image);
    const bigMask = await sharp(Buffer.alloc(W * H * 3, 7), { raw: { width: W, height: H, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(bigMask.length).toBeGreaterThan(image.length);
    const maskRef = at('big-mask.png', bigMask);
    const colourItem = (line: number, findImage: () => Promise<ObjectRef>): ExportItem => ({
      line,
      source: `c${line}.jpg`,
      findImage,
      mask: { kind: 'colour-png', file: maskRef, colours: [], transparentIsBackground: false },
    });
    expect(await skipsOf([shapeItem(1, 'turtle', async () => imageRef)], { maxFileBytes: image.length - 1 })).toEqual([
      `image is ${image.length} bytes, more than the ${image.length - 1} accepted`,
    ]);
    expect(await skipsOf([colourItem(2, async () => imageRef)], { maxFileBytes: image.length })).toEqual([
      `mask is ${bigMask.length} bytes, more than the ${image.length} accepted`,
    ]);

    const noPixels = await sharp({ create: { width: W, height: H, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    noPixels.writeUInt32BE(0, 16);
    const empty = at('empty.jpg', Buffer.alloc(0));
    expect(
      await skipsOf([
        shapeItem(3, 'turtle', async () => empty),
        shapeItem(4, 'turtle', async () => at('no-pixels.png', noPixels)),
        shapeItem(5, 'turtle', async () => at('broken-header.jpg', Buffer.from([0xff, 0xd8, 0xff, 0xd9]))),
      ]),
    ).toEqual([`image ${empty.locations[0]} is empty`, `image declares an empty 0×${H} size`, 'image JPEG header is truncated']);
  });

  test("a read the run's allow-list refuses is named by the refusal", async () => {
    const refusing = Object.assign(Object.create(files), {
      readStart: async () => {
        throw new ReadRefusedError('s3://elsewhere/a.jpg is outside what this run may read');
      },
    });
    expect(await skipsOf([shapeItem(6, 'turtle', async () => ({ store: refusing, locations: ['s3://elsewhere/a.jpg'] }))])).toEqual([
      'image s3://elsewhere/a.jpg is outside what this run may read',
    ]);
  });

  test('two sources whose output names collide (same base name, same 8-hex hash) keep the first; the second is skipped naming it', async () => {
    // Found by search: sha256 of each starts 63846a9d.
    const first = 's3://inbox/images/batch/78802/photo.jpg';
    const second = 's3://inbox/images/batch/82716/photo.jpg';
    const imageRef = at('collide.jpg', await jpeg(3));
    const item = (line: number, source: string): ExportItem => ({ ...shapeItem(line, 'turtle', async () => imageRef), source });
    const report = await convertExport({ reader: readerOf([item(7, first), item(8, second)]), out: join(work, 'collide'), output: files });
    expect(report.items.map((i) => [i.source, i.name])).toEqual([[first, 'photo-63846a9d']]);
    expect(report.skipped).toEqual([{ line: 8, source: second, reason: `output name photo-63846a9d is already taken by ${first}` }]);
  });

  describe('what an item declares is checked before it is allocated', () => {
    let image: ObjectRef;
    beforeAll(async () => {
      writeFileSync(join(work, 'declared.jpg'), await jpeg(2));
      image = { store: files, locations: [join(work, 'declared.jpg')] };
    });
    const polygonItem = (line: number, ring: number[], size = { width: W, height: H }): ExportItem => ({
      line,
      source: `p${line}.jpg`,
      findImage: async () => image,
      mask: { kind: 'shapes', size, shapes: [{ kind: 'polygon', className: 'turtle', rings: [ring] }] },
    });

    test('a polygon of more vertices, or more row crossings, than an item may have is skipped with the reason; a drawn one converts', async () => {
      const tooManyVertices = Array.from({ length: 500_001 }, (_, k) => [k % W, k % H]).flat();
      const zigzag = Array.from({ length: 20_000 }, (_, k) => [k / 1000, k % 2 === 0 ? 0 : 2000]).flat();
      const report = await convertExport({
        reader: readerOf([
          polygonItem(1, tooManyVertices),
          polygonItem(2, zigzag, { width: W, height: 2000 }),
          polygonItem(3, [0, 0, W, 0, W, H]),
        ]),
        out: join(work, 'polygons'),
        output: files,
        resizeMasks: true,
        concurrency: 1,
      });
      expect(report.skipped).toEqual([
        { line: 1, source: 'p1.jpg', reason: 'its polygons have 500001 vertices, more than the 500000 one item may have' },
        {
          line: 2,
          source: 'p2.jpg',
          reason: expect.stringMatching(/^its shapes cross 40000000 pixel rows, more than the 16777216 one item may/),
        },
      ]);
      expect(report.counts.converted).toBe(1);
    });

    test('an item needing more memory than the items in flight may hold is skipped; the others wait their turn and convert', async () => {
      // Each item reserves about 7 bytes a pixel: a budget of 8 lets one in at a time.
      const items = [1, 2, 3, 4].map((line) => shapeItem(line, 'turtle', async () => image));
      const small = await convertExport({
        reader: readerOf(items),
        out: join(work, 'budget'),
        output: files,
        concurrency: 4,
        memoryBudgetBytes: 8 * W * H,
      });
      expect(small.counts.converted).toBe(4);
      const tiny = await convertExport({
        reader: readerOf(items.slice(0, 1)),
        out: join(work, 'budget-tiny'),
        output: files,
        memoryBudgetBytes: 100,
      });
      expect(tiny.skipped).toEqual([
        { line: 1, source: 's1.jpg', reason: 'item needs about 1 MiB, more than the 1 MiB the items in flight may hold' },
      ]);
    });

    test('a mask file larger than its declared pixels can need is refused from its header, not read whole', async () => {
      const png = await sharp({ create: { width: W, height: H, channels: 3, background: '#000000' } })
        .png()
        .toBuffer();
      // A private chunk of 5 MiB before IEND: valid PNG, but not what a 48×32 mask needs.
      const padding = Buffer.alloc(12 + 5 * 1024 * 1024);
      padding.writeUInt32BE(5 * 1024 * 1024, 0);
      padding.write('prVt', 4, 'latin1');
      writeFileSync(join(work, 'padded.png'), Buffer.concat([png.subarray(0, png.length - 12), padding, png.subarray(png.length - 12)]));
      const mask = { store: files, locations: [join(work, 'padded.png')] };
      const read = jest.spyOn(files, 'read');
      const report = await convertExport({
        reader: readerOf([
          {
            line: 1,
            source: 'm.jpg',
            findImage: async () => image,
            mask: {
              kind: 'colour-png',
              file: mask,
              colours: [{ name: 'turtle', background: false, rgb: 0xff0000 }],
              transparentIsBackground: false,
            },
          },
        ]),
        out: join(work, 'padded'),
        output: files,
      });
      expect(report.skipped).toEqual([
        { line: 1, source: 'm.jpg', reason: expect.stringMatching(/^mask is 52\d+ bytes, more than a 48×32 PNG can need \(\d+\)$/) },
      ]);
      expect(read).not.toHaveBeenCalledWith(join(work, 'padded.png'));
      read.mockRestore();
    });

    test("a skip's source and reason from the upload are cut in the report", async () => {
      const long = `${'x'.repeat(10_000)}.jpg`;
      const report = await convertExport({
        reader: readerOf([{ line: 1, source: long, reason: `bad: ${'y'.repeat(10_000)}` }]),
        out: join(work, 'cut'),
        output: files,
      });
      expect(report.skipped[0].source).toBe(`${'x'.repeat(300)}...(9704 more characters)`);
      expect(report.skipped[0].reason).toHaveLength(1000 + '...(9005 more characters)'.length);
    });
  });
});
