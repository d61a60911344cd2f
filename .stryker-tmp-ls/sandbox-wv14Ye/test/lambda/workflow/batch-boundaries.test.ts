import { createHash } from 'node:crypto';
import {
  batchExecutionName,
  batchReadiness,
  batchStateKey,
  classifyInboxKey,
  EMPTY_BATCH_STATE,
  newImages,
  readBatchState,
  updateBatchState,
} from '../../../lambda/workflow/batch';
import { importExecutionName } from '../../../lambda/workflow/import-turns';
import { datasetLayout, runLayout, s3Uri } from '../../../lambda/workflow/layout';

/**
 * The edges of a batch's life: what an inbox key means, exactly when a batch is ready, what a
 * snapshot takes, where its state lives; and where a run and the dataset keep their objects
 * (found missing by `npm run mutate`: the other tests stop short of these boundaries).
 */
const hash8 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

describe('what an inbox key means, with the reason for what is ignored', () => {
  test.each([
    ['images/t/a.JPG', { kind: 'image', batch: 't', key: 'images/t/a.JPG' }],
    [
      'images/t/a.jpeg.txt',
      { kind: 'ignored', key: 'images/t/a.jpeg.txt', reason: 'not an image Ground Truth labels (.jpg, .jpeg, .png)' },
    ],
    ['labeled/t/_START', { kind: 'start-marker', batch: 't', key: 'labeled/t/_START' }],
    [
      'images/t/sub/_START',
      { kind: 'ignored', key: 'images/t/sub/_START', reason: 'not an image Ground Truth labels (.jpg, .jpeg, .png)' },
    ],
    ['labeled/t/a.manifest', { kind: 'export', batch: 't', key: 'labeled/t/a.manifest' }],
    [
      'labeled/t/sub/a.manifest',
      {
        kind: 'ignored',
        key: 'labeled/t/sub/a.manifest',
        reason: 'under labeled/<batch>/ only an export file (.manifest, .jsonl, .json, .zip) starts an import',
      },
    ],
    [
      'labeled/t/a.manifest.bak',
      {
        kind: 'ignored',
        key: 'labeled/t/a.manifest.bak',
        reason: 'under labeled/<batch>/ only an export file (.manifest, .jsonl, .json, .zip) starts an import',
      },
    ],
    ['images/a.jpg', { kind: 'ignored', key: 'images/a.jpg', reason: 'not under images/<batch>/ or labeled/<batch>/' }],
    ['x/images/t/a.jpg', { kind: 'ignored', key: 'x/images/t/a.jpg', reason: 'not under images/<batch>/ or labeled/<batch>/' }],
    ['images/t/a\nb.jpg', { kind: 'image', batch: 't', key: 'images/t/a\nb.jpg' }],
  ])('%j', (key, expected) => {
    expect(classifyInboxKey(key)).toStrictEqual(expected);
  });
});

describe('names and keys of a batch', () => {
  test("an execution name is the batch made name-safe (50 characters at most), a hash of the batch, and the generation or the manifest's hash", () => {
    expect(batchExecutionName('My Turtles', 3)).toBe(`my-turtles-${hash8('My Turtles')}-g3`);
    expect(batchExecutionName('ÉÉ', 0)).toBe(`batch-${hash8('ÉÉ')}-g0`);
    expect(batchExecutionName('a'.repeat(60), 1)).toBe(`${'a'.repeat(50)}-${hash8('a'.repeat(60))}-g1`);
    expect(importExecutionName('My Turtles', 'labeled/x.manifest', 0)).toBe(
      `my-turtles-${hash8('My Turtles')}-m${hash8('labeled/x.manifest')}-g0`,
    );
    expect(importExecutionName('!!', 'k', 12)).toBe(`batch-${hash8('!!')}-m${hash8('k')}-g12`);
  });

  test("a batch's state is kept under batches/<hash of the batch>/", () => {
    expect(batchStateKey('My Turtles')).toBe(`batches/${hash8('My Turtles')}/state.json`);
  });

  test('a batch never seen has the empty state; a stored one is read over it', async () => {
    const reads: string[] = [];
    const store = (body: string | undefined) => ({
      readStart: async (location: string) => {
        reads.push(location);
        return body === undefined ? undefined : { data: Buffer.from(body), size: body.length };
      },
    });
    expect(await readBatchState(store(undefined), 'art', 't')).toStrictEqual({ generation: 0 });
    expect(reads).toEqual([`s3://art/batches/${hash8('t')}/state.json`]);
    expect(await readBatchState(store('{"generation":2,"snapshotAt":"x"}'), 'art', 't')).toStrictEqual({ generation: 2, snapshotAt: 'x' });
    expect(EMPTY_BATCH_STATE).toStrictEqual({ generation: 0 });
  });

  test("an update sees the empty state filled in, and writes to the batch's key", async () => {
    const written: { location: string; body: string }[] = [];
    const store = {
      readStart: async () => undefined,
      readVersioned: async () => undefined,
      write: async (location: string, body: Buffer) => {
        written.push({ location, body: body.toString() });
      },
      writeIfUnchanged: async (location: string, body: Buffer) => {
        written.push({ location, body: body.toString() });
        return true;
      },
    };
    let seen: unknown;
    const updated = await updateBatchState(store as never, 'art', 't', (state) => {
      seen = state;
      return { ...state, generation: state.generation + 1 };
    });
    expect(seen).toStrictEqual({ generation: 0 });
    expect(updated).toMatchObject({ generation: 1 });
    expect(written.map((w) => w.location)).toEqual([`s3://art/batches/${hash8('t')}/state.json`]);
  });
});

describe('when a batch is ready', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 10, 29, 12, 0, seconds));
  const images = [
    { key: 'images/t/a.jpg', lastModified: at(0) },
    { key: 'images/t/b.png', lastModified: at(10) },
  ];

  test('quiet for exactly the window is ready; a second less is not; both say how long', () => {
    const state = { generation: 0 };
    expect(batchReadiness(images, state, 60, at(70))).toStrictEqual({ ready: true, reason: 'quiet for 60 s', images: 2 });
    expect(batchReadiness(images, state, 60, new Date(at(70).getTime() - 500))).toStrictEqual({
      ready: false,
      reason: 'last upload 59 s ago; waiting for 60 s of quiet',
      images: 2,
    });
  });

  test('the newest object counts, whatever it is; the images are counted apart', () => {
    const withNote = [...images, { key: 'images/t/notes.txt', lastModified: at(50) }];
    expect(batchReadiness(withNote, { generation: 0 }, 60, at(70))).toStrictEqual({
      ready: false,
      reason: 'last upload 20 s ago; waiting for 60 s of quiet',
      images: 2,
    });
  });

  test('a _START is fresh only when newer than the last snapshot, not when as old', () => {
    const marker = { key: 'images/t/_START', lastModified: at(40) };
    const ready = { ready: true, reason: '_START is present', images: 2 };
    expect(batchReadiness([...images, marker], { generation: 1, snapshotAt: at(39).toISOString() }, 600, at(41))).toStrictEqual(ready);
    expect(batchReadiness([...images, marker], { generation: 1, snapshotAt: at(40).toISOString() }, 600, at(41))).toMatchObject({
      ready: false,
    });
  });

  test('an empty batch has been quiet since the epoch', () => {
    expect(batchReadiness([], { generation: 0 }, 60, at(0))).toMatchObject({ ready: true, images: 0 });
  });
});

describe('a snapshot', () => {
  test('takes every image in key order: no cap per run', () => {
    const objects = Array.from({ length: 5002 }, (_, i) => ({
      key: `images/t/${String(i).padStart(5, '0')}.jpg`,
      lastModified: new Date(0),
    })).reverse();
    const { images, ignored } = newImages(objects, 'in', new Set());
    expect(images).toHaveLength(5002);
    expect(images[0]).toBe('s3://in/images/t/00000.jpg');
    expect(images.at(-1)).toBe('s3://in/images/t/05001.jpg');
    expect(ignored).toEqual([]);
  });

  test('leaves out the start marker and the manifests without calling them ignored', () => {
    const objects = [
      { key: 'images/t/_START', lastModified: new Date(0) },
      { key: 'labeled/t/a.manifest', lastModified: new Date(0) },
      { key: 'images/t/a.jpg', lastModified: new Date(0) },
    ];
    expect(newImages(objects, 'in', new Set())).toStrictEqual({ images: ['s3://in/images/t/a.jpg'], ignored: [] });
  });
});

describe('where a run and the dataset keep their objects', () => {
  test("a run's keys", () => {
    const run = runLayout('r-1');
    expect(run).toMatchObject({
      prefix: 'runs/r-1/',
      inputManifest: 'runs/r-1/labeling/input.manifest',
      labelCategories: 'runs/r-1/labeling/label-categories.json',
      uiTemplate: 'runs/r-1/labeling/template.liquid',
      labelingOutput: 'runs/r-1/labeling/output/',
      channels: 'runs/r-1/channels/',
      report: 'runs/r-1/report.json',
      model: 'models/r-1/',
    });
    expect(run.conversionReport(7)).toBe('runs/r-1/conversion/chunk-00007.json');
    expect(run.channelManifest('validation_annotation')).toBe('runs/r-1/channels/validation_annotation.manifest');
    expect(s3Uri('b', 'k/x')).toBe('s3://b/k/x');
  });

  test("the dataset's keys, images and masks in the algorithm's channel folders", () => {
    const dataset = datasetLayout();
    expect(dataset).toMatchObject({
      prefix: 'datasets/main/',
      classes: 'datasets/main/classes.json',
      legacyItems: 'datasets/main/items.json',
      index: 'datasets/main/index/',
    });
    expect(dataset.indexShard('r-1')).toBe('datasets/main/index/r-1.jsonl');
    expect(dataset.channelPrefix('train_annotation')).toBe('datasets/main/train_annotation/');
    expect(dataset.image('train', 'a')).toBe('datasets/main/train/a.jpg');
    expect(dataset.mask('train', 'a')).toBe('datasets/main/train_annotation/a.png');
    expect(dataset.image('validation', 'a')).toBe('datasets/main/validation/a.jpg');
    expect(dataset.mask('validation', 'a')).toBe('datasets/main/validation_annotation/a.png');
    expect(datasetLayout('other').index).toBe('datasets/other/index/');
  });
});
