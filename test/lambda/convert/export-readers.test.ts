import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { convertExport } from '../../../lambda/convert/conversion/convert-export';
import type { ConversionReport } from '../../../lambda/convert/conversion/report';
import { openExport, sniffFormat } from '../../../lambda/convert/export-input';
import type { ExportFormat } from '../../../lambda/convert/export-item';
import { checkOutputLocation, removeStaleOutput } from '../../../lambda/convert/output-folder';
import { VOC_PALETTE } from '../../../lambda/convert/readers/voc';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import { S3ObjectStore } from '../../../lambda/convert/stores/s3-object-store';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../local/embedded-s3-server';
import { sha256 } from '../../helpers/files';
import {
  cocoFixture,
  cocoPanopticFixture,
  cvatFixture,
  type FormatFixture,
  grid,
  H,
  jpeg,
  labelStudioFixture,
  lookoutForVisionFixture,
  lookoutForVisionTemplateFixture,
  vocFixture,
  W,
  zipFolder,
} from '../../helpers/format-fixtures';
import { readMasksWithPil } from '../../helpers/pil';

const work = mkdtempSync(join(tmpdir(), 'segpipe-formats-'));

async function convertFolder(
  fixture: FormatFixture,
  out: string,
  extra: { localRoot?: string; format?: ExportFormat; classes?: string[]; range?: { first: number; last: number } } = {},
): Promise<ConversionReport> {
  const local = new FolderObjectStore(extra.localRoot);
  const opened = await openExport({ input: fixture.input, images: fixture.images, format: extra.format, local, sources: local });
  try {
    return await convertExport({
      reader: opened.reader,
      out,
      output: new FolderObjectStore(),
      classes: extra.classes,
      validationFraction: 0.5,
      range: extra.range,
    });
  } finally {
    opened.close();
  }
}

/** Every truth converted, its mask read back by PIL as mode L holding exactly the truth; the skips as expected. */
function expectConverted(report: ConversionReport, fixture: FormatFixture, out: string): void {
  expect(report.classes).toEqual(fixture.classes);
  expect(report.items.map((i) => i.source)).toEqual(fixture.truths.map((t) => t.source));
  const files = report.items.map((i) => join(out, `${i.split}_annotation`, `${i.name}.png`));
  const readings = readMasksWithPil(files);
  readings.forEach((reading, i) => {
    expect({ source: fixture.truths[i].source, mode: reading.mode, sha256: reading.sha256 }).toEqual({
      source: fixture.truths[i].source,
      mode: 'L',
      sha256: sha256(Buffer.from(fixture.truths[i].indices)),
    });
  });
  expect(report.skipped.map((s) => s.source)).toEqual(fixture.skips.map((s) => s.source));
  report.skipped.forEach((s, i) => {
    expect(s.reason).toMatch(fixture.skips[i].reason);
  });
}

describe.each([
  ['lookoutvision', lookoutForVisionFixture, { localRoot: 'buckets' }],
  ['cvat', cvatFixture, {}],
  ['voc', vocFixture, {}],
  ['coco', cocoFixture, {}],
  ['labelstudio', labelStudioFixture, {}],
] as const)('%s export', (format, build, options) => {
  let fixture: FormatFixture;
  let report: ConversionReport;
  const dir = join(work, format);
  const out = join(work, `${format}-out`);

  beforeAll(async () => {
    fixture = await build(dir);
    report = await convertFolder(fixture, out, { localRoot: 'localRoot' in options ? join(dir, options.localRoot) : undefined });
  });

  test('is recognised from its content', () => {
    expect(report.format).toBe(format);
  });

  test('every item with its image converts, each pixel of the class the export says; the rest is reported', () => {
    expectConverted(report, fixture, out);
  });

  test("converted an entry at a time, as the workflow's chunks do, it gives the same items, splits and skips", async () => {
    const lastEntry = Math.max(...report.items.map((i) => i.line), ...report.skipped.map((s) => s.line));
    const localRoot = 'localRoot' in options ? join(dir, options.localRoot) : undefined;
    const chunks: ConversionReport[] = [];
    for (let entry = 1; entry <= lastEntry; entry++)
      chunks.push(
        await convertFolder(fixture, join(work, `${format}-chunk-${entry}`), { localRoot, range: { first: entry, last: entry } }),
      );
    expect(chunks.flatMap((c) => c.items).map((i) => [i.line, i.name, i.split])).toEqual(
      report.items.map((i) => [i.line, i.name, i.split]),
    );
    expect(chunks.flatMap((c) => c.skipped)).toEqual(report.skipped);
    expect(chunks.every((c) => JSON.stringify(c.classes) === JSON.stringify(report.classes))).toBe(true);
  });
});

describe("relative references in a manifest (Lookout for Vision's sample template.manifest)", () => {
  const dir = join(work, 'l4v-template');
  let fixture: FormatFixture;
  beforeAll(async () => {
    fixture = await lookoutForVisionTemplateFixture(dir);
  });

  test("resolve against the manifest's folder, then its parent, with no local root and no S3", async () => {
    const out = join(work, 'l4v-template-out');
    // S3 is a store that fails the test if anything is read from it.
    const s3 = new Proxy(
      {},
      {
        get: () => () => {
          throw new Error('S3 was read');
        },
      },
    ) as never;
    const local = new FolderObjectStore();
    const opened = await openExport({ input: fixture.input, local, s3, sources: s3 });
    const report = await convertExport({ reader: opened.reader, out, output: local, validationFraction: 0.5 });
    expect(report.format).toBe('lookoutvision');
    expectConverted(report, fixture, out);
  });

  test("resolve inside a zip of the data set as well (its manifests/ folder's parent is the zip's top level)", async () => {
    const zip = join(work, 'l4v-template.zip');
    zipFolder(join(dir, 'dataset-files'), zip);
    const out = join(work, 'l4v-template-zip-out');
    const local = new FolderObjectStore();
    const opened = await openExport({ input: zip, local, sources: local });
    try {
      const report = await convertExport({ reader: opened.reader, out, output: local, validationFraction: 0.5 });
      expectConverted(report, fixture, out);
    } finally {
      opened.close();
    }
  });

  test('resolve against --images first, and a reference never leaves the folder it resolves in', async () => {
    const images = join(work, 'l4v-template-images');
    mkdirSync(join(images, 'training-images'), { recursive: true });
    const other = await jpeg(99);
    writeFileSync(join(images, 'training-images', 'anomaly-1.jpg'), other);
    const manifest = join(dir, 'dataset-files', 'manifests', 'escape.manifest');
    const line = JSON.parse(readFileSync(fixture.input, 'utf8').split('\n')[0]);
    writeFileSync(join(dir, 'secret.jpg'), await jpeg(98));
    writeFileSync(manifest, `${JSON.stringify(line)}\n${JSON.stringify({ ...line, 'source-ref': '../../secret.jpg' })}\n`);
    const out = join(work, 'l4v-template-images-out');
    const local = new FolderObjectStore();
    const opened = await openExport({ input: manifest, images, local, sources: local });
    const report = await convertExport({ reader: opened.reader, out, output: local, validationFraction: 0.5 });
    expect(report.items.map((i) => i.source)).toEqual(['training-images/anomaly-1.jpg']);
    expect(sha256(readFileSync(join(out, report.items[0].split, `${report.items[0].name}.jpg`)))).toBe(sha256(other));
    // `..` segments are dropped: secret.jpg, beside dataset-files/, is under none of --images, manifests/ and dataset-files/.
    expect(report.skipped).toEqual([
      {
        line: 2,
        source: '../../secret.jpg',
        reason: `image not found: ../../secret.jpg (a relative reference; looked under ${images}, ${join(dir, 'dataset-files', 'manifests')}, ${join(dir, 'dataset-files')})`,
      },
    ]);
  });
});

describe('a CVAT "Segmentation mask 1.1" folder without its labelmap.txt', () => {
  const dir = join(work, 'cvat-no-labelmap');
  let fixture: FormatFixture;
  beforeAll(async () => {
    fixture = await cvatFixture(dir);
    renameSync(join(dir, 'labelmap.txt'), join(work, 'cvat-labelmap.txt'));
  });

  test("is refused, saying its masks are not Pascal VOC's colours and naming --labelmap, instead of converting every labelled pixel to 255", async () => {
    await expect(convertFolder(fixture, join(work, 'cvat-no-labelmap-out'))).rejects.toThrow(
      /has no labelmap\.txt, and its mask SegmentationClass\/frame_000\.png holds the colour 250,50,83, which is none of Pascal VOC's classes: it looks like a CVAT "Segmentation mask 1\.1" export without its labelmap\.txt .* --labelmap FILE/,
    );
  });

  test('converts right with --labelmap', async () => {
    const out = join(work, 'cvat-labelmap-out');
    const local = new FolderObjectStore();
    const opened = await openExport({ input: fixture.input, labelMap: join(work, 'cvat-labelmap.txt'), local, sources: local });
    const report = await convertExport({ reader: opened.reader, out, output: local, validationFraction: 0.5 });
    expect(report.format).toBe('cvat');
    expectConverted(report, fixture, out);
  });

  test('--labelmap on an export that is no CVAT folder, or with --format voc, is refused', async () => {
    const local = new FolderObjectStore();
    const coco = await cocoFixture(join(work, 'coco-labelmap'));
    await expect(openExport({ input: coco.input, labelMap: join(work, 'cvat-labelmap.txt'), local, sources: local })).rejects.toThrow(
      /--labelmap is for a CVAT "Segmentation mask 1\.1" folder or zip; \S+ is a file/,
    );
    await expect(
      openExport({ input: fixture.input, format: 'voc', labelMap: join(work, 'cvat-labelmap.txt'), local, sources: local }),
    ).rejects.toThrow("--labelmap gives CVAT's classes; --format voc reads Pascal VOC's own: give one of them");
  });

  test("black-and-white masks (255 the object) are refused, not read as VOC's ignored borders; a label map reads them", async () => {
    const dir = join(work, 'binary-masks');
    const crack = grid((x, y) => (x > y ? 255 : 0));
    for (const name of ['m1', 'm2']) {
      mkdirSync(join(dir, 'JPEGImages'), { recursive: true });
      mkdirSync(join(dir, 'SegmentationClass'), { recursive: true });
      writeFileSync(join(dir, 'JPEGImages', `${name}.jpg`), await jpeg(40));
      writeFileSync(
        join(dir, 'SegmentationClass', `${name}.png`),
        await sharp(Buffer.from(crack), { raw: { width: W, height: H, channels: 1 } })
          .toColourspace('b-w')
          .png()
          .toBuffer(),
      );
    }
    const binary: FormatFixture = {
      input: dir,
      classes: ['background', 'crack'],
      truths: ['m1', 'm2'].map((n) => ({ source: `JPEGImages/${n}.jpg`, indices: crack.map((v) => (v ? 1 : 0)) })),
      skips: [],
    };
    await expect(convertFolder(binary, join(work, 'binary-out'))).rejects.toThrow(
      /its mask SegmentationClass\/m1\.png holds only 0 and 255, as every mask checked does: they look like black-and-white masks whose 255 is the object, not Pascal VOC's ignored borders .*--labelmap FILE/,
    );
    const labelMap = join(work, 'binary-labelmap.txt');
    writeFileSync(labelMap, 'background:0,0,0::\ncrack:255,255,255::\n');
    const local = new FolderObjectStore();
    const out = join(work, 'binary-labelmap-out');
    const report = await convertExport({
      reader: (await openExport({ input: dir, labelMap, local, sources: local })).reader,
      out,
      output: local,
      validationFraction: 0.5,
    });
    expectConverted(report, binary, out);
  });

  test('a label map that misses the colour of most labelled pixels converts with a loud warning in the report', async () => {
    const partial = join(work, 'cvat-partial-labelmap.txt');
    writeFileSync(partial, 'Background:10,10,10::\nrock:61,61,245::\n');
    const local = new FolderObjectStore();
    const opened = await openExport({ input: fixture.input, labelMap: partial, local, sources: local });
    const report = await convertExport({
      reader: opened.reader,
      out: join(work, 'cvat-partial-out'),
      output: local,
      validationFraction: 0.5,
    });
    expect(report.counts.unknownPixels).toBeGreaterThan(0);
    expect(report.warnings).toEqual([
      expect.stringMatching(
        /^\d+\.\d % of the labelled pixels \(\d+ of \d+, in 1 of 2 items\) have a colour no class of the export has, and are ignored \(255\): the masks' colours do not match the export's classes \(most in JPEGImages\/frame_000\.jpg\)/,
      ),
    ]);
  });
});

describe('COCO panoptic (segments_info, segment ids as PNG colours)', () => {
  test.each([
    [true, 'ignored (255) when stuff categories label every pixel'],
    [false, 'the background when every category is a thing'],
  ])('is read, each segment painted with its category; unlabelled pixels are %s', async (stuff) => {
    const fixture = await cocoPanopticFixture(join(work, `panoptic-${stuff}`), stuff);
    const out = join(work, `panoptic-${stuff}-out`);
    const report = await convertFolder(fixture, out);
    expect(report.format).toBe('coco');
    expectConverted(report, fixture, out);
    expect(report.items.map((i) => i.notPainted)).toEqual([undefined, { 'segment of unknown category 99': 1 }]);
    // The stray colour (a segment id nothing lists) and the unknown category's pixels are unknown; void is not.
    expect(report.items.map((i) => i.unknownPixels)).toEqual([1, 8 * H]);
  });

  test("PNGs still zipped beside the JSON (as COCO's annotations download ships them) are named in each item's reason", async () => {
    const fixture = await cocoPanopticFixture(join(work, 'panoptic-zipped'), false);
    const folder = join(work, 'panoptic-zipped', 'annotations', 'panoptic_val');
    zipFolder(folder, `${folder}.zip`);
    rmSync(folder, { recursive: true });
    const report = await convertFolder(fixture, join(work, 'panoptic-zipped-out'));
    expect(report.items).toEqual([]);
    expect(report.skipped.map((s) => s.reason)).toEqual(
      ['p1.png', 'p2.png'].map(
        (png) =>
          `panoptic PNG not found: ${png} (a relative reference; looked under ${folder}, ${join(work, 'panoptic-zipped', 'annotations')}); ${folder}.zip holds the PNGs still zipped: unzip it beside the JSON`,
      ),
    );
  });

  test('a folder holding instance and panoptic JSONs side by side is refused, not merged', async () => {
    const dir = join(work, 'panoptic-and-instances');
    await cocoPanopticFixture(dir, true);
    await cocoFixture(join(work, 'instances-beside'));
    writeFileSync(
      join(dir, 'annotations', 'instances_val.json'),
      readFileSync(join(work, 'instances-beside', 'annotations', 'instances_default.json')),
    );
    const local = new FolderObjectStore();
    await expect(openExport({ input: join(dir, 'annotations'), local, sources: local })).rejects.toThrow(
      /holds 2 export files of different annotations \(such as instances_ and panoptic_ JSONs: they are not merged\)/,
    );
  });

  test('a JSON mixing panoptic and instance annotations is refused', async () => {
    const dir = join(work, 'panoptic-mixed');
    const fixture = await cocoPanopticFixture(dir, false);
    const json = JSON.parse(readFileSync(fixture.input, 'utf8'));
    json.annotations.push({ id: 9, image_id: 1, category_id: 1, segmentation: [[0, 0, 4, 0, 4, 4]] });
    writeFileSync(fixture.input, JSON.stringify(json));
    await expect(convertFolder(fixture, join(dir, 'out'))).rejects.toThrow(
      /mixes 2 panoptic annotations \(segments_info and a PNG\) with 1 instance ones \(segmentation\): give one kind/,
    );
  });
});

describe('format quirks', () => {
  test('Lookout for Vision: key "0" is a defect, the background is added, transparent pixels (alpha < 128) are background', async () => {
    const fixture = await lookoutForVisionFixture(join(work, 'l4v-quirks'));
    const report = await convertFolder(fixture, join(work, 'l4v-quirks-out'), { localRoot: join(work, 'l4v-quirks', 'buckets') });
    expect(report.classes).toEqual(['BACKGROUND', 'scratch', 'dent']);
    expect(report.counts.ignoredPixels).toBe(0);
  });

  test('the same Lookout for Vision manifest read as Ground Truth would make key "0" the background: the formats differ', async () => {
    const fixture = await lookoutForVisionFixture(join(work, 'l4v-as-gt'));
    const report = await convertFolder(fixture, join(work, 'l4v-as-gt-out'), {
      localRoot: join(work, 'l4v-as-gt', 'buckets'),
      format: 'groundtruth',
    });
    expect(report.classes).toEqual(['scratch', 'dent']);
  });

  test('COCO: a small object on a large one stays visible; an unknown category is counted, not painted', async () => {
    const fixture = await cocoFixture(join(work, 'coco-quirks'));
    const report = await convertFolder(fixture, join(work, 'coco-quirks-out'));
    const first = report.items.find((i) => i.source === 'photos/c1.jpg')!;
    expect(first.pixelsPerClass.turtle).toBeGreaterThan(50);
    expect(first.notPainted).toEqual({ 'annotation of unknown category 99': 1 });
    expect(report.counts.shapesNotPainted).toBe(1);
  });

  test('Label Studio: rectangles are counted, the newest annotation wins over older and cancelled ones', async () => {
    const fixture = await labelStudioFixture(join(work, 'ls-quirks'));
    const report = await convertFolder(fixture, join(work, 'ls-quirks-out'));
    expect(report.items[0].notPainted).toEqual({ rectanglelabels: 1 });
    // The cancelled annotation would have painted everything rock; the older one nothing.
    expect(report.items[0].pixelsPerClass.turtle).toBeGreaterThan(0);
  });

  test('VOC: a mask another tool saved as RGB is read by the VOC colours, to the same classes', async () => {
    const dir = join(work, 'voc-rgb');
    const fixture = await vocFixture(dir);
    const mask = join(dir, 'SegmentationClass', '2007_000032.png');
    writeFileSync(mask, await sharp(readFileSync(mask)).toColourspace('srgb').png().toBuffer());
    expect((await sharp(mask).metadata()).channels).toBe(3);
    const out = join(work, 'voc-rgb-out');
    expectConverted(await convertFolder(fixture, out), fixture, out);
  });

  test('--classes fixes the order across formats, matched by name', async () => {
    const fixture = await cvatFixture(join(work, 'cvat-classes'));
    const report = await convertFolder(fixture, join(work, 'cvat-classes-out'), { classes: ['rock', 'turtle'] });
    expect(report.classes).toEqual(['Background', 'rock', 'turtle']);
  });

  test('a label map of more classes than the algorithm takes is one clear error, unless --classes chooses', async () => {
    const dir = join(work, 'cvat-many');
    const fixture = await cvatFixture(dir);
    writeFileSync(
      join(dir, 'labelmap.txt'),
      `background:0,0,0::\n${Array.from({ length: 300 }, (_, i) => `c${i}:${i % 256},${Math.floor(i / 256)},9::`).join('\n')}\n`,
    );
    await expect(convertFolder(fixture, join(work, 'cvat-many-out'))).rejects.toThrow(
      /declares 300 classes besides the background; the algorithm takes at most 253: choose the ones to train with --classes/,
    );
    const report = await convertFolder(fixture, join(work, 'cvat-many-out'), { classes: ['c1', 'c2'] });
    expect(report.classes).toEqual(['background', 'c1', 'c2']);
  });
});

describe('inputs as users have them', () => {
  test('a CVAT zip, wrapped in a folder as CVAT downloads it, is read in place', async () => {
    const fixture = await cvatFixture(join(work, 'cvat-zip'));
    const zip = join(work, 'task_1-segmentation_mask_1.1.zip');
    zipFolder(fixture.input, zip, 'task_1');
    const out = join(work, 'cvat-zip-out');
    const report = await convertFolder({ ...fixture, input: zip }, out);
    expect(report.format).toBe('cvat');
    expectConverted(report, fixture, out);
  });

  test('a Roboflow COCO zip, one JSON per split with its images beside it, converts as one export', async () => {
    const dir = join(work, 'roboflow');
    const rectangle = [4, 4, 20, 4, 20, 12, 4, 12];
    for (const [i, split] of ['train', 'valid'].entries()) {
      mkdirSync(join(dir, split), { recursive: true });
      writeFileSync(join(dir, split, `${split}-photo_jpg.rf.0123.jpg`), await jpeg(i));
      writeFileSync(
        join(dir, split, '_annotations.coco.json'),
        JSON.stringify({
          categories: [
            { id: 0, name: 'turtles', supercategory: 'none' },
            { id: 1, name: 'turtle', supercategory: 'turtles' },
          ],
          images: [{ id: 0, file_name: `${split}-photo_jpg.rf.0123.jpg`, width: W, height: H }],
          annotations: [{ id: 0, image_id: 0, category_id: 1, segmentation: [rectangle], area: 128, bbox: [4, 4, 16, 8], iscrowd: 0 }],
        }),
      );
    }
    const zip = join(work, 'roboflow.zip');
    zipFolder(dir, zip);
    const out = join(work, 'roboflow-out');
    const report = await convertFolder({ input: zip, classes: [], truths: [], skips: [] }, out);
    expect(report.format).toBe('coco');
    // Roboflow's category 0 names the data set (the others' supercategory) and labels nothing: not a class.
    expect(report.classes).toEqual(['BACKGROUND', 'turtle']);
    expect(report.items.map((i) => [i.source, i.pixelsPerClass.turtle])).toEqual([
      ['train-photo_jpg.rf.0123.jpg', 128],
      ['valid-photo_jpg.rf.0123.jpg', 128],
    ]);
  });

  test("COCO's own layout (CVAT's COCO 1.0 zip): annotations/instances_default.json, its images in images/ beside annotations/", async () => {
    const dir = join(work, 'coco-layout');
    mkdirSync(join(dir, 'annotations'), { recursive: true });
    mkdirSync(join(dir, 'images'), { recursive: true });
    writeFileSync(join(dir, 'images', 'photo.jpg'), await jpeg(0));
    writeFileSync(
      join(dir, 'annotations', 'instances_default.json'),
      JSON.stringify({
        categories: [{ id: 1, name: 'turtle', supercategory: '' }],
        images: [{ id: 1, file_name: 'photo.jpg', width: W, height: H }],
        annotations: [
          { id: 1, image_id: 1, category_id: 1, segmentation: [[4, 4, 20, 4, 20, 12, 4, 12]], area: 128, bbox: [4, 4, 16, 8], iscrowd: 0 },
        ],
      }),
    );
    const zip = join(work, 'coco-layout.zip');
    zipFolder(dir, zip);
    for (const input of [dir, zip]) {
      const report = await convertFolder({ input, classes: [], truths: [], skips: [] }, join(work, 'coco-layout-out'));
      expect({ input, converted: report.items.map((i) => [i.source, i.pixelsPerClass.turtle]), skipped: report.skipped }).toEqual({
        input,
        converted: [['photo.jpg', 128]],
        skipped: [],
      });
    }
  });

  describe('on S3 (embedded S3 server)', () => {
    let server: EmbeddedS3Server;
    let store: S3ObjectStore;
    let ranged = 0;
    let gets = 0;

    beforeAll(async () => {
      server = await startEmbeddedS3Server({ buckets: ['exports', 'channels'] });
      const client = server.client();
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'GetObjectCommand') {
            gets += 1;
            if ((args.input as { Range?: string }).Range) ranged += 1;
          }
          return next(args);
        },
        { step: 'initialize', name: 'countGets' },
      );
      store = new S3ObjectStore(client);
    });

    afterAll(async () => {
      store?.client.destroy();
      await server?.close();
    });

    test('a CVAT zip on S3 converts to S3 through ranged reads of its central directory and entries', async () => {
      const fixture = await cvatFixture(join(work, 'cvat-s3'));
      const zip = join(work, 'cvat-s3.zip');
      zipFolder(fixture.input, zip);
      await store.client.send(new PutObjectCommand({ Bucket: 'exports', Key: 'cvat/export.zip', Body: readFileSync(zip) }));
      const opened = await openExport({ input: 's3://exports/cvat/export.zip', local: new FolderObjectStore(), s3: store, sources: store });
      const report = await convertExport({ reader: opened.reader, out: 's3://channels/cvat', output: store, validationFraction: 0.5 });
      opened.close();
      expect(report.format).toBe('cvat');
      expect(report.skipped.map((s) => s.source)).toEqual(fixture.skips.map((s) => s.source));
      expect(report.items).toHaveLength(fixture.truths.length);
      expect(ranged).toBe(gets);
      for (const [i, item] of report.items.entries()) {
        const mask = await store.read(`s3://channels/cvat/${item.split}_annotation/${item.name}.png`);
        const local = join(work, `cvat-s3-mask-${i}.png`);
        writeFileSync(local, mask);
        expect(readMasksWithPil([local])[0].sha256).toBe(sha256(Buffer.from(fixture.truths[i].indices)));
      }
    });

    test('a previous output on S3 is replaced: files this conversion did not write are removed', async () => {
      const fixture = await cvatFixture(join(work, 'cvat-s3-again'));
      const out = 's3://channels/again';
      const stale = `${out}/validation/stale-00000000.jpg`;
      await store.write(`${out}/report.json`, Buffer.from('{}'), 'application/json');
      await store.write(stale, Buffer.from('old'), 'image/jpeg');
      const previous = await checkOutputLocation(store, out);
      expect(previous).toEqual([`${out}/report.json`, stale]);
      const opened = await openExport({ input: fixture.input, local: new FolderObjectStore(), sources: store });
      const report = await convertExport({ reader: opened.reader, out, output: store, validationFraction: 0.5 });
      expect(await removeStaleOutput(store, out, previous, report)).toBe(1);
      expect(await store.listUnder(out)).toEqual(
        [
          `${out}/report.json`,
          ...report.items.flatMap((i) => [`${out}/${i.split}/${i.name}.jpg`, `${out}/${i.split}_annotation/${i.name}.png`]),
        ].sort(),
      );
      await store.write(`${out}/notes.txt`, Buffer.from('mine'), 'text/plain');
      await expect(checkOutputLocation(store, out)).rejects.toThrow(
        /is not empty and not a segpipe output \(it holds s3:\/\/channels\/again\/notes\.txt\)/,
      );
    });

    test('a COCO JSON on S3 finds its images under an S3 prefix', async () => {
      const fixture = await cocoFixture(join(work, 'coco-s3'));
      const local = new FolderObjectStore();
      for (const file of await local.listUnder(join(work, 'coco-s3'))) {
        const key = `coco/${file.slice(join(work, 'coco-s3').length + 1)}`;
        await store.client.send(new PutObjectCommand({ Bucket: 'exports', Key: key, Body: readFileSync(file) }));
      }
      const opened = await openExport({
        input: 's3://exports/coco/annotations/instances_default.json',
        images: 's3://exports/coco/images',
        local,
        s3: store,
        sources: store,
      });
      const report = await convertExport({ reader: opened.reader, out: 's3://channels/coco', output: store, validationFraction: 0.5 });
      expect(report.items.map((i) => i.source)).toEqual(fixture.truths.map((t) => t.source));
    });
  });
});

describe('recognising an export', () => {
  test('decides from the content, not the name', () => {
    expect(sniffFormat(Buffer.from('[{"id":1,"data":{}}]'), 'x.txt')).toBe('labelstudio');
    expect(sniffFormat(Buffer.from('{\n  "info": {},\n  "images": []\n}'), 'x.manifest')).toBe('coco');
    expect(sniffFormat(Buffer.from('{"source-ref":"s3://b/k.jpg","a-ref":"s3://b/m.png"}\n'), 'x.json')).toBe('groundtruth');
  });

  test('an input it cannot recognise is one line naming the formats it knows, without its bytes', () => {
    const jpegBytes = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46]);
    expect(() => sniffFormat(jpegBytes, 'photo.jpg')).toThrow(
      /^photo\.jpg is not an export segpipe recognises: it reads groundtruth .*, lookoutvision .*, cvat .*, voc .*, coco .*, labelstudio .*$/,
    );
    try {
      sniffFormat(jpegBytes, 'photo.jpg');
    } catch (err) {
      expect((err as Error).message).not.toMatch(/[^\x20-\x7e]/);
    }
  });
});

describe("a Pascal VOC folder's masks, checked before it is read", () => {
  /** A VOC folder of one image per mask, named m00, m01, ... in the order given. */
  async function vocFolder(name: string, masks: readonly Buffer[]): Promise<string> {
    const dir = join(work, name);
    mkdirSync(join(dir, 'JPEGImages'), { recursive: true });
    mkdirSync(join(dir, 'SegmentationClass'), { recursive: true });
    for (const [i, mask] of masks.entries()) {
      const id = `m${String(i).padStart(2, '0')}`;
      writeFileSync(join(dir, 'JPEGImages', `${id}.jpg`), await jpeg(50 + i));
      writeFileSync(join(dir, 'SegmentationClass', `${id}.png`), mask);
    }
    return dir;
  }
  /** The classes of a VOC folder, as a conversion reads them first; the masks are checked then. */
  async function declared(dir: string): Promise<string[]> {
    const local = new FolderObjectStore();
    const opened = await openExport({ input: dir, format: 'voc', local, sources: local });
    try {
      return (await opened.reader.declaredClasses()).map((c) => c.name);
    } finally {
      opened.close();
    }
  }
  const rgbOf = (value: number) => [VOC_PALETTE[value] >> 16, (VOC_PALETTE[value] >> 8) & 255, VOC_PALETTE[value] & 255];
  /** An RGB mask in VOC's colours (an editor re-saved it without its palette). */
  const rgbMask = (values: Uint8Array) =>
    sharp(Buffer.from(Array.from(values).flatMap(rgbOf)), { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
  const greyMask = (values: Uint8Array) =>
    sharp(Buffer.from(values), { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
  const object = grid((x) => (x < 10 ? 0 : x === 10 ? 255 : 15));
  const bordersOnly = grid((x) => (x === 10 ? 255 : 0));

  test("masks in VOC's colours without their palette are VOC's: objects and borders", async () => {
    const dir = await vocFolder('voc-rgb', [await rgbMask(object), await rgbMask(bordersOnly)]);
    expect(await declared(dir)).toHaveLength(21);
  });

  test('masks that hold only the background and the border colour, every one, are refused as black-and-white', async () => {
    const dir = await vocFolder('voc-rgb-borders', [await rgbMask(bordersOnly), await rgbMask(bordersOnly)]);
    await expect(declared(dir)).rejects.toThrow(/its mask SegmentationClass\/m00\.png holds only 0 and 255, as every mask checked does/);
  });

  test('one mask with borders only beside another with an object is VOC', async () => {
    const dir = await vocFolder('voc-grey-mixed', [await greyMask(bordersOnly), await greyMask(object)]);
    expect(await declared(dir)).toHaveLength(21);
  });

  test("a class-number mask with values past VOC's 21 classes is refused, counting them", async () => {
    const dir = await vocFolder('voc-grey-past', [await greyMask(grid((x) => (x < 4 ? 21 : 0)))]);
    await expect(declared(dir)).rejects.toThrow(
      `holds ${4 * H} pixels of values past VOC's 21 classes, which is none of Pascal VOC's classes`,
    );
  });

  test('the masks checked are a sample spread over the export: of ten, every second', async () => {
    const stranger = await greyMask(grid(() => 200));
    const good = await greyMask(object);
    const unchecked = await vocFolder('voc-sample-1', [good, stranger, good, good, good, good, good, good, good, good]);
    expect(await declared(unchecked)).toHaveLength(21);
    const checked = await vocFolder('voc-sample-2', [good, good, stranger, good, good, good, good, good, good, good]);
    await expect(declared(checked)).rejects.toThrow(/its mask SegmentationClass\/m02\.png holds/);
  });

  test('only the PNGs directly in SegmentationClass/ are checked', async () => {
    const dir = await vocFolder('voc-beside', [await greyMask(object)]);
    const stranger = await greyMask(grid(() => 200));
    mkdirSync(join(dir, 'SegmentationClass', 'old'), { recursive: true });
    mkdirSync(join(dir, 'OldSegmentationClass'), { recursive: true });
    writeFileSync(join(dir, 'SegmentationClass', 'old', 'm00.png'), stranger);
    writeFileSync(join(dir, 'SegmentationClass', 'm00.png.orig'), stranger);
    writeFileSync(join(dir, 'OldSegmentationClass', 'm00.png'), stranger);
    expect(await declared(dir)).toHaveLength(21);
  });
});
