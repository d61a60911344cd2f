import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { S3ObjectStore } from '../../../lambda/convert/stores/s3-object-store';
import { convertChunk, planConversion, readClassList, runTag } from '../../../lambda/workflow/dataset';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../local/embedded-s3-server';
import { H, jpeg, lookoutForVisionTemplateFixture, W } from '../../helpers/format-fixtures';

/** A COCO export under labeled/<batch>/ naming images it does not hold: they were uploaded under images/<batch>/. */
const coco = {
  categories: [{ id: 1, name: 'turtle' }],
  images: [
    { id: 1, file_name: 'a.jpg', width: W, height: H },
    { id: 2, file_name: 'b.jpg', width: W, height: H },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, segmentation: [[0, 0, 20, 0, 20, H, 0, H]], area: 20 * H, bbox: [], iscrowd: 0 },
    { id: 2, image_id: 2, category_id: 1, segmentation: [[0, 0, 20, 0, 20, H, 0, H]], area: 20 * H, bbox: [], iscrowd: 0 },
  ],
};

describe('a conversion chunk (embedded S3 server)', () => {
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;
  const location = (batch?: string) => ({
    export: 's3://inbox/labeled/b1/coco.json',
    batch,
    inboxBucket: 'inbox',
    allowList: [
      { bucket: 'inbox', prefix: 'labeled/b1/' },
      { bucket: 'inbox', prefix: 'images/b1/' },
    ],
  });

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: ['inbox', 'artifacts', 'other'] });
    store = new S3ObjectStore(server.client());
    await store.write('s3://inbox/labeled/b1/coco.json', Buffer.from(JSON.stringify(coco)), 'application/json');
    await store.write('s3://inbox/images/b1/a.jpg', await jpeg(1), 'image/jpeg');
    await store.write('s3://inbox/images/b1/b.jpg', await jpeg(2), 'image/jpeg');
  });
  afterAll(async () => {
    store.client.destroy();
    await server.close();
  });

  test("converts only its entries into the run's staging area, named by batch and run, with the plan's class numbers, its report under the run; images the export lacks come from the batch", async () => {
    // The dataset already knows rock, so turtle is class 2 for every chunk.
    await store.write('s3://artifacts/datasets/main/classes.json', Buffer.from('["BACKGROUND","rock"]'), 'application/json');
    const plan = await planConversion({
      ...location('b1'),
      store,
      bucket: 'artifacts',
      runId: 'r',
      configuredClasses: [],
      chunkEntries: 1,
    });
    expect(plan).toMatchObject({
      format: 'coco',
      entries: 2,
      chunks: [
        { index: 0, first: 1, last: 1 },
        { index: 1, first: 2, last: 2 },
      ],
    });
    expect(await readClassList(store, plan.classes)).toEqual(['BACKGROUND', 'rock', 'turtle']);
    const common = {
      ...location('b1'),
      store,
      bucket: 'artifacts',
      runId: 'r',
      classes: plan.classes,
      exportVersion: plan.exportVersion,
      validationFraction: 0.5,
      seed: 'segpipe',
    };
    expect(await convertChunk({ ...common, chunk: plan.chunks[1] })).toEqual({ index: 1, converted: 1, skipped: 0 });
    const report = JSON.parse((await store.read('s3://artifacts/runs/r/conversion/chunk-00001.json')).toString());
    expect(report.items).toEqual([expect.objectContaining({ source: 'b.jpg', line: 2 })]);
    const { name, split } = report.items[0];
    // The batch names the item (no other batch's upload can write its name); the run's tag makes its objects the run's own.
    expect(name).toMatch(new RegExp(`^b1--b-[0-9a-f]{8}-${runTag('r')}$`));
    expect((await store.list('artifacts', 'datasets/main/')).map((o) => o.key)).toEqual(['datasets/main/classes.json']);
    const keys = (await store.list('artifacts', 'runs/r/staging/')).map((o) => o.key);
    expect(keys.sort()).toEqual([`runs/r/staging/${split}/${name}.jpg`, `runs/r/staging/${split}_annotation/${name}.png`]);
    const png = await store.read(`s3://artifacts/runs/r/staging/${split}_annotation/${name}.png`);
    expect(await sharp(png).metadata()).toMatchObject({ channels: 1, width: W, height: H });
    expect(new Set(await sharp(png).extractChannel(0).raw().toBuffer())).toEqual(new Set([2, 0]));
  });

  test('the split follows the seed and the validation fraction it is given', async () => {
    const plan = await planConversion({ ...location('b1'), store, bucket: 'other', runId: 'plan', configuredClasses: [], chunkEntries: 2 });
    const splits = async (runId: string, validationFraction: number, seed: string) => {
      await convertChunk({
        ...location('b1'),
        store,
        bucket: 'other',
        runId,
        classes: plan.classes,
        exportVersion: plan.exportVersion,
        validationFraction,
        seed,
        chunk: plan.chunks[0],
      });
      return JSON.parse((await store.read(`s3://other/runs/${runId}/conversion/chunk-00000.json`)).toString()).items.map(
        (i: { split: string }) => i.split,
      );
    };
    expect(await splits('all-train', 0.0001, 'segpipe')).toEqual(['train', 'train']);
    expect(await splits('all-validation', 0.9999, 'segpipe')).toEqual(['validation', 'validation']);
    const bySeed = await Promise.all(['s1', 's2', 's3', 's4', 's5', 's6'].map((seed, i) => splits(`seed-${i}`, 0.5, seed)));
    expect(new Set(bySeed.map((s) => s.join())).size).toBeGreaterThan(1);
  });

  test('an export written again after its plan is refused by every chunk, not converted as another version', async () => {
    await store.write('s3://inbox/labeled/b1/moving.json', Buffer.from(JSON.stringify(coco)), 'application/json');
    const at = { ...location('b1'), export: 's3://inbox/labeled/b1/moving.json' };
    const plan = await planConversion({ ...at, store, bucket: 'other', runId: 'moving', configuredClasses: [], chunkEntries: 1 });
    expect(plan.exportVersion).toMatch(/^"[0-9a-f]{32}"$/);
    await store.write(
      's3://inbox/labeled/b1/moving.json',
      Buffer.from(JSON.stringify({ ...coco, images: coco.images.slice(0, 1) })),
      'application/json',
    );
    const chunk = {
      ...at,
      store,
      bucket: 'other',
      runId: 'moving',
      classes: plan.classes,
      exportVersion: plan.exportVersion,
      validationFraction: 0.5,
      seed: 'segpipe',
      chunk: plan.chunks[1],
    };
    await expect(convertChunk(chunk)).rejects.toThrow(
      expect.objectContaining({
        name: 'ExportChangedError',
        message: expect.stringContaining('s3://inbox/labeled/b1/moving.json changed while this run converted it'),
      }),
    );
    expect(await store.list('other', 'runs/moving/staging/')).toEqual([]);
  });

  test("a manifest of relative references (Lookout for Vision's sample) resolves them beside its manifests/ folder, inside the import", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segpipe-l4v-s3-'));
    const fixture = await lookoutForVisionTemplateFixture(dir);
    const root = join(fixture.input, '..', '..');
    for (const file of [
      'manifests/template.manifest',
      'training-images/anomaly-1.jpg',
      'training-images/anomaly-2.jpg',
      'training-images/normal-1.jpg',
      'mask-images/anomaly-1.png',
    ]) {
      await store.write(`s3://inbox/labeled/b2/${file}`, readFileSync(join(root, file)), 'application/octet-stream');
    }
    rmSync(dir, { recursive: true, force: true });
    const l4v = {
      export: 's3://inbox/labeled/b2/manifests/template.manifest',
      batch: 'b2',
      inboxBucket: 'inbox',
      allowList: [
        { bucket: 'inbox', prefix: 'labeled/b2/' },
        { bucket: 'inbox', prefix: 'images/b2/' },
      ],
    };
    const plan = await planConversion({ ...l4v, store, bucket: 'other', runId: 'l4v', configuredClasses: [] });
    expect(
      await convertChunk({
        ...l4v,
        store,
        bucket: 'other',
        runId: 'l4v',
        classes: plan.classes,
        exportVersion: plan.exportVersion,
        validationFraction: 0.5,
        seed: 'segpipe',
        chunk: plan.chunks[0],
      }),
    ).toEqual({ index: 0, converted: 2, skipped: 1 });
    const report = JSON.parse((await store.read('s3://other/runs/l4v/conversion/chunk-00000.json')).toString());
    expect(report.items.map((i: { source: string }) => i.source)).toEqual([
      'training-images/anomaly-1.jpg',
      'training-images/normal-1.jpg',
    ]);
    expect(report.skipped.map((i: { reason: string }) => i.reason)).toEqual([
      'mask not found: mask-images/anomaly-2.png (a relative reference; looked under s3://inbox/labeled/b2/manifests, s3://inbox/labeled/b2, s3://inbox/images/b2/)',
    ]);
  });

  test('without the batch, images the export lacks are reported missing, not looked for elsewhere', async () => {
    const plan = await planConversion({ ...location(), store, bucket: 'artifacts', runId: 'no-batch', configuredClasses: [] });
    expect(
      await convertChunk({
        ...location(),
        store,
        bucket: 'artifacts',
        runId: 'no-batch',
        classes: plan.classes,
        exportVersion: plan.exportVersion,
        validationFraction: 0.5,
        seed: 'segpipe',
        chunk: plan.chunks[0],
      }),
    ).toEqual({ index: 0, converted: 0, skipped: 2 });
    const report = JSON.parse((await store.read('s3://artifacts/runs/no-batch/conversion/chunk-00000.json')).toString());
    expect(report.skipped.map((s: { reason: string }) => s.reason)).toEqual([
      expect.stringMatching(/image not found: a\.jpg/),
      expect.stringMatching(/image not found: b\.jpg/),
    ]);
  });
});
