import sharp from 'sharp';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConversionReport, convertExport, mergeConversionReports } from '../../../lambda/convert/convert-manifest';
import { ExportItem, ExportReader, ObjectRef } from '../../../lambda/convert/export-item';
import { FolderObjectStore } from '../../../lambda/convert/folder-object-store';
import { ObjectNotFoundError, ReadRefusedError } from '../../../lambda/convert/object-store';
import { H, W, jpeg } from '../../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-guards-'));
const files = new FolderObjectStore();

/** A reader of the given items, declaring no classes. */
function readerOf(items: ExportItem[]): ExportReader {
  return { format: 'coco', input: 'in-memory', declaredClasses: async () => [], items: async function* () { yield* items; } };
}

/** An item painted with one polygon of its class over the whole image. */
function shapeItem(line: number, className: string, findImage: () => Promise<ObjectRef>): ExportItem {
  return { line, source: `s${line}.jpg`, findImage, mask: { kind: 'shapes', size: { width: W, height: H }, shapes: [{ kind: 'polygon', className, rings: [[0, 0, W, 0, W, H, 0, H]] }] } };
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
    const report = await convertExport({ reader: readerOf([]), out: join(work, 'edge'), output: files, shard: { index: 1, count: 2 }, validationFraction: 0.999, concurrency: 1 });
    expect(report.counts.converted).toBe(0);
  });

  test('an image that cannot be found, may not be read or is denied is that item\'s skip; any other failure stops the conversion', async () => {
    const denied = Object.assign(new Error('Access Denied'), { $metadata: { httpStatusCode: 403 } });
    const report = await convertExport({
      reader: readerOf([
        shapeItem(1, 'turtle', async () => { throw new ObjectNotFoundError('s3://in/gone.jpg'); }),
        shapeItem(2, 'turtle', async () => { throw new ReadRefusedError('s3://elsewhere/a.jpg is outside what this run may read'); }),
        shapeItem(3, 'turtle', async () => { throw denied; }),
        shapeItem(4, 'turtle', async () => image),
      ]),
      out: join(work, 'skips'), output: files, concurrency: 1,
    });
    expect(report.skipped).toEqual([
      { line: 1, source: 's1.jpg', reason: 'not found: s3://in/gone.jpg' },
      { line: 2, source: 's2.jpg', reason: 's3://elsewhere/a.jpg is outside what this run may read' },
      { line: 3, source: 's3.jpg', reason: 'cannot read a source: Access Denied' },
    ]);
    expect(report.counts.converted).toBe(1);
    for (const status of [500, 404]) {
      const failing = Object.assign(new Error(`status ${status}`), { $metadata: { httpStatusCode: status } });
      await expect(convertExport({ reader: readerOf([shapeItem(1, 'turtle', async () => { throw failing; })]), out: join(work, `fails-${status}`), output: files }))
        .rejects.toThrow(`status ${status}`);
    }
    for (const status of [400, 416]) {
      const skipped = Object.assign(new Error(`status ${status}`), { $metadata: { httpStatusCode: status } });
      const one = await convertExport({ reader: readerOf([shapeItem(1, 'turtle', async () => { throw skipped; })]), out: join(work, `skips-${status}`), output: files });
      expect(one.skipped.map((s) => s.reason)).toEqual([`cannot read a source: status ${status}`]);
    }
  });

  test('a class past the 254 the algorithm takes skips its item with the reason; the others convert', async () => {
    const items = Array.from({ length: 254 }, (_, i) => shapeItem(i + 1, `c${i + 1}`, async () => image));
    const report = await convertExport({ reader: readerOf(items), out: join(work, 'classes'), output: files, concurrency: 4 });
    expect(report.classes).toHaveLength(254);
    expect(report.skipped).toEqual([{ line: 254, source: 's254.jpg', reason: 'class "c254" would be class number 255; the algorithm takes at most 254' }]);
    expect(report.counts.converted).toBe(253);
  }, 120_000);

  test('a PNG source whose image data does not decode is skipped with the decoder\'s reason', async () => {
    const png = await sharp({ create: { width: W, height: H, channels: 3, background: '#336699' } }).png({ compressionLevel: 0 }).toBuffer();
    const idat = png.indexOf('IDAT');
    // The zlib stream's header: nothing after it inflates.
    png.fill(0xff, idat + 4, idat + 12);
    writeFileSync(join(work, 'broken.png'), png);
    const report = await convertExport({ reader: readerOf([shapeItem(1, 'turtle', async () => ({ store: files, locations: [join(work, 'broken.png')] }))]), out: join(work, 'broken'), output: files });
    expect(report.skipped).toEqual([{ line: 1, source: 's1.jpg', reason: expect.stringMatching(/^image cannot be decoded: .+/) }]);
  });

  test('shard reports that disagree on the classes are not merged', () => {
    const report = (classes: string[]) => ({ classes, items: [], skipped: [], counts: { lines: 0 } }) as unknown as ConversionReport;
    expect(() => mergeConversionReports([report(['BACKGROUND', 'a']), report(['BACKGROUND', 'b'])])).toThrow('the shards of a conversion disagree on the classes: BACKGROUND,a / BACKGROUND,b');
  });
});
