import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { convertGroundTruthManifest } from '../../../../lambda/convert/conversion/convert-export';
import type { ConversionReport } from '../../../../lambda/convert/conversion/report';
import { outputNameFor } from '../../../../lambda/convert/naming';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import type { ReadStartMore } from '../../../../lambda/convert/stores/object-store';
import { hashTree, sha256 } from '../../../helpers/files';
import { buildGroundTruthFixture, type GroundTruthFixture, GT_BUCKET } from '../../../helpers/ground-truth-fixture';
import { readMasksWithPil } from '../../../helpers/pil';

describe('convertGroundTruthManifest, folder to folder', () => {
  let fixture: GroundTruthFixture;
  let out: string;
  let report: ConversionReport;
  let sourcesBefore: Record<string, string>;

  const convert = (target: string, extra: Partial<Parameters<typeof convertGroundTruthManifest>[0]> = {}) => {
    const store = new FolderObjectStore(fixture.root);
    return convertGroundTruthManifest({
      manifest: `s3://${GT_BUCKET}/turtles/manifests/output/output.manifest`,
      out: target,
      stores: { manifest: store, sources: store, output: new FolderObjectStore() },
      ...extra,
    });
  };
  const itemOf = (source: string) => {
    const item = report.items.find((i) => i.source === source);
    if (!item) throw new Error(`${source} was not converted; skipped: ${JSON.stringify(report.skipped)}`);
    return item;
  };
  const outputPaths = (source: string) => {
    const item = itemOf(source);
    const images = item.split === 'train' ? 'train' : 'validation';
    return { image: join(out, images, `${item.name}.jpg`), mask: join(out, `${images}_annotation`, `${item.name}.png`) };
  };

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'segpipe-convert-'));
    fixture = await buildGroundTruthFixture(join(work, 'buckets'));
    sourcesBefore = hashTree(fixture.root);
    out = join(work, 'channels');
    report = await convert(out, { validationFraction: 0.3 });
  });

  test('every good item is converted, in manifest order, with the class of every pixel right', async () => {
    expect(report.items.map((i) => i.source)).toEqual(fixture.expected.map((e) => e.source));
    for (const expected of fixture.expected) {
      const path = outputPaths(expected.source).mask;
      const { channels } = await sharp(path).metadata();
      const { data, info } = await sharp(path).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect({ source: expected.source, width: info.width, height: info.height, channels }).toEqual({
        source: expected.source,
        width: expected.width,
        height: expected.height,
        channels: 1,
      });
      expect(sha256(data)).toBe(sha256(expected.classIndices));
    }
  });

  test('PIL reads every mask as 8-bit single-channel L with class indices, exactly the truth', () => {
    const expectedBySha = new Map(fixture.expected.map((e) => [outputPaths(e.source).mask, sha256(e.classIndices)]));
    const readings = readMasksWithPil([...expectedBySha.keys()]);
    for (const reading of readings) {
      expect(reading.mode).toBe('L');
      expect(reading.values.every((v) => v <= 2 || v === 255)).toBe(true);
      expect(reading.sha256).toBe(expectedBySha.get(reading.file));
    }
    expect(readings.find((r) => r.file.includes('smoothed'))?.values).toContain(255);
  });

  test('every bad item is reported with its reason, and nothing else is skipped', () => {
    expect(report.skipped).toHaveLength(fixture.skips.length);
    for (const skip of fixture.skips) {
      const reported = report.skipped.filter((s) => s.source === skip.source && skip.reason.test(s.reason));
      expect({ skip: String(skip.reason), reported: reported.length }).toEqual({ skip: String(skip.reason), reported: 1 });
    }
    expect(report.skipped.every((s) => Number.isInteger(s.line) && s.line > 0)).toBe(true);
  });

  test('classes are identified by name across merged jobs, the background first', () => {
    expect(report.classes).toEqual(['BACKGROUND', 'turtle', 'rock']);
  });

  test('JPEGs without rotation are copied byte for byte; PNG and EXIF-rotated sources are re-encoded', async () => {
    for (const expected of fixture.expected) {
      expect({ source: expected.source, image: itemOf(expected.source).image }).toEqual({ source: expected.source, image: expected.image });
      const written = readFileSync(outputPaths(expected.source).image);
      const source = readFileSync(join(fixture.root, expected.source.slice('s3://'.length)));
      if (expected.image === 'copied') expect(written.equals(source)).toBe(true);
      const meta = await sharp(written).metadata();
      expect({
        source: expected.source,
        format: meta.format,
        width: meta.width,
        height: meta.height,
        orientation: meta.orientation,
      }).toEqual({ source: expected.source, format: 'jpeg', width: expected.width, height: expected.height, orientation: undefined });
    }
  });

  test('an EXIF-rotated image keeps the stored pixel grid its mask was drawn on, unless the mask matches the rotated view', async () => {
    const stored = itemOf('s3://inbox/images/batch/rotated.jpg');
    expect([stored.width, stored.height]).toEqual([96, 64]);
    const view = itemOf('s3://inbox/images/batch/rotated-view.jpg');
    expect([view.width, view.height]).toEqual([64, 96]);
  });

  test('names are safe, stable and unique, also for keys with spaces, unicode, + and a shared base name', () => {
    const names = report.items.map((i) => i.name);
    expect(new Set(names).size).toBe(names.length);
    for (const item of report.items) {
      expect(item.name).toMatch(/^[A-Za-z0-9._-]+$/);
      expect(item.name).toBe(outputNameFor(item.source));
    }
    expect(itemOf('s3://inbox/images/batch/turtle 1.jpg').name).not.toBe(itemOf('s3://inbox/images/batch/sub/turtle 1.jpg').name);
    expect(itemOf('s3://inbox/images/batch/tortue-é+1.jpg').name).toMatch(/^tortue-e_1-[0-9a-f]{8}$/);
  });

  test('the report holds classes, items with their lineage and pixel counts, skips and counts', () => {
    const written = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(written).toEqual(JSON.parse(JSON.stringify(report)));
    const item = itemOf(fixture.expected[0].source);
    expect(Object.keys(item.pixelsPerClass)).toEqual(['BACKGROUND', 'turtle', 'rock']);
    expect(Object.values(item.pixelsPerClass).reduce((a, b) => a + b, 0) + item.ignoredPixels).toBe(item.width * item.height);
    expect(written.counts).toEqual({
      lines: expect.any(Number),
      converted: fixture.expected.length,
      skipped: fixture.skips.length,
      train: report.items.filter((i) => i.split === 'train').length,
      validation: report.items.filter((i) => i.split === 'validation').length,
      imagesCopied: fixture.expected.filter((e) => e.image === 'copied').length,
      imagesReencoded: fixture.expected.filter((e) => e.image === 're-encoded').length,
      ignoredPixels: 10,
      // The 10 are of a colour the colour map lacks: a small share, so no warning.
      unknownPixels: 10,
      shapesNotPainted: 0,
      duplicatesAcrossSplits: 0,
    });
    expect(written.warnings).toBeUndefined();
    expect(written.duplicatesAcrossSplits).toEqual([]);
    expect(written.counts.train).toBeGreaterThan(0);
    expect(written.counts.validation).toBeGreaterThan(0);
  });

  test('nothing stray: the output holds the four channels of the converted items and the report', () => {
    const expectedFiles = report.items.flatMap((i) => [`${i.split}/${i.name}.jpg`, `${i.split}_annotation/${i.name}.png`]);
    expect(Object.keys(hashTree(out)).sort()).toEqual([...expectedFiles, 'report.json'].sort());
  });

  test('a second run writes identical bytes, and sources are never modified', async () => {
    const first = hashTree(out);
    await convert(out, { validationFraction: 0.3 });
    expect(hashTree(out)).toEqual(first);
    expect(hashTree(fixture.root)).toEqual(sourcesBefore);
  });

  test('with resizeMasks, a mask of the wrong size is scaled to its image with nearest-neighbour', async () => {
    const resized = await convert(join(out, '..', 'resized'), { resizeMasks: true });
    const item = resized.items.find((i) => i.source.endsWith('wrong-size.jpg'));
    expect(item).toMatchObject({ width: 96, height: 64 });
    expect(resized.skipped.some((s) => s.source?.endsWith('wrong-size.jpg'))).toBe(false);
  });

  test('configured classes fix the order; unknown classes follow', async () => {
    const ordered = await convert(join(out, '..', 'ordered'), { classes: ['rock', 'turtle'] });
    expect(ordered.classes).toEqual(['BACKGROUND', 'rock', 'turtle']);
    const item = ordered.items[0];
    const mask = await sharp(join(out, '..', 'ordered', `${item.split}_annotation`, `${item.name}.png`))
      .extractChannel(0)
      .raw()
      .toBuffer();
    const truth = fixture.expected[0].classIndices;
    expect(sha256(mask)).toBe(sha256(Uint8Array.from(truth, (c) => [0, 2, 1][c])));
  });

  test('an unreadable manifest is an error naming it', async () => {
    const store = new FolderObjectStore(fixture.root);
    await expect(
      convertGroundTruthManifest({
        manifest: join(fixture.root, 'no-such.manifest'),
        out: join(out, '..', 'none'),
        stores: { manifest: store, sources: store, output: store },
      }),
    ).rejects.toThrow(/cannot read the manifest .*no-such\.manifest/);
  });

  test('a manifest that refers to URL-encoded keys finds the raw ones', async () => {
    const manifest = join(out, '..', 'encoded.manifest');
    const original = fixture.manifestText
      .replace(/^\ufeff/, '')
      .split(/\r?\n/)
      .find((l) => l.includes('tortue'));
    writeFileSync(manifest, `${original!.replace('tortue-é+1.jpg', encodeURIComponent('tortue-é+1.jpg'))}\n`);
    const store = new FolderObjectStore(fixture.root);
    const encoded = await convertGroundTruthManifest({
      manifest,
      out: join(out, '..', 'encoded'),
      stores: { manifest: store, sources: store, output: store },
    });
    expect(encoded.skipped).toEqual([]);
    expect(encoded.items[0].source).toBe('s3://inbox/images/batch/tortue-%C3%A9%2B1.jpg');
  });

  test('a reference to a bucket the converter may not read is reported per item, and the rest converts', async () => {
    const store = new FolderObjectStore(fixture.root);
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    // What S3 answers for a bucket outside import.readBuckets.
    const guarded = Object.assign(Object.create(store), {
      readStart: (location: string, max: number) =>
        location.startsWith('s3://foreign/') ? Promise.reject(denied) : store.readStart(location, max),
    });
    const manifest = join(out, '..', 'foreign.manifest');
    const lines = fixture.manifestText
      .replace(/^\ufeff/, '')
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .slice(0, 2);
    writeFileSync(manifest, `${lines[0]}\n${lines[1].replace('s3://inbox/', 's3://foreign/')}\n`);
    const result = await convertGroundTruthManifest({
      manifest,
      out: join(out, '..', 'foreign'),
      stores: { manifest: store, sources: guarded, output: new FolderObjectStore() },
    });
    expect(result.counts.converted).toBe(1);
    expect(result.skipped).toEqual([
      {
        line: 2,
        source: expect.stringMatching(/^s3:\/\/foreign\//),
        reason: expect.stringMatching(/^image s3:\/\/foreign\/.* cannot be read: Access Denied$/),
      },
    ]);
  });
  test('a JPEG copied from a folder is opened once: its header, end, hash and copy come from one read', async () => {
    const opened: string[] = [];
    class Recording extends FolderObjectStore {
      override async readStart(location: string, maxBytes: number, more?: ReadStartMore) {
        opened.push(location);
        return super.readStart(location, maxBytes, more);
      }
      override async read(location: string) {
        opened.push(location);
        return super.read(location);
      }
      override async readRange(location: string, start: number, end: number) {
        opened.push(location);
        return super.readRange(location, start, end);
      }
      override async readStream(location: string) {
        opened.push(location);
        return super.readStream(location);
      }
    }
    const store = new Recording(fixture.root);
    const again = await convertGroundTruthManifest({
      manifest: `s3://${GT_BUCKET}/turtles/manifests/output/output.manifest`,
      out: join(mkdtempSync(join(tmpdir(), 'segpipe-convert-')), 'channels'),
      stores: { manifest: store, sources: store, output: new FolderObjectStore() },
      validationFraction: 0.3,
    });
    const copied = again.items.filter((i) => i.image === 'copied');
    expect(copied.length).toBeGreaterThan(3);
    for (const item of copied) expect(opened.filter((location) => location === item.source)).toEqual([item.source]);
    expect(again.items.map((i) => i.imageSha256)).toEqual(report.items.map((i) => i.imageSha256));
  });
});
