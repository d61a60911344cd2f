import { HeadObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { MAX_CLASSES } from '../../../lambda/convert/classes';
import { S3ObjectStore } from '../../../lambda/convert/stores/s3-object-store';
import {
  assembleChannels,
  ChannelCheckError,
  type ClassListRef,
  MAX_CHUNKS,
  planConversion,
  readClassList,
  writeClassList,
} from '../../../lambda/workflow/dataset';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../local/embedded-s3-server';
import { groundTruthManifestLine, labelingClasses } from '../../../local/ground-truth-output';
import { encodePalettePng, encodePng } from '../../../local/png';
import { useEmbeddedS3 } from '../../helpers/embedded-s3';

describe('conversion plan and channel checks (embedded S3 server)', () => {
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;
  const bucket = 'artifacts';
  // One bucket per channel-check case: each starts from an empty dataset.
  const CHECK_BUCKETS = Array.from({ length: 17 }, (_, i) => `check-${i}`);
  const FIRST_RUN_BUCKET = 'first-run';

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: [bucket, FIRST_RUN_BUCKET, ...CHECK_BUCKETS] });
    store = new S3ObjectStore(server.client());
  });
  afterAll(async () => {
    store.client.destroy();
    await server.close();
  });

  test("the plan fixes the class order (dataset, configured, first-seen; the dataset's background kept) and cuts lines into chunks", async () => {
    // The dataset began with another tool's export, whose background had another name: it stays the background.
    await store.write(`s3://${bucket}/datasets/main/classes.json`, Buffer.from('["_background_","rock"]'), 'application/json');
    const classes = labelingClasses(['kelp', 'turtle', 'rock']);
    const lines = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify(
        groundTruthManifestLine({ source: `s3://in/${i}.jpg`, mask: `s3://in/${i}.png`, attribute: 'a-ref', jobName: 'j', classes }),
      ),
    );
    await store.write(`s3://${bucket}/runs/r/output.manifest`, Buffer.from(`${lines.join('\n')}\n\nnot json\n`), 'application/x-ndjson');
    const plan = await planConversion({
      store,
      bucket,
      runId: 'r',
      export: `s3://${bucket}/runs/r/output.manifest`,
      allowList: [{ bucket, prefix: 'runs/r/' }],
      configuredClasses: ['turtle'],
      chunkEntries: 3,
    });
    expect(await readClassList(store, plan.classes)).toEqual(['_background_', 'rock', 'turtle', 'kelp']);
    expect(plan.classes).toEqual({
      location: `s3://${bucket}/runs/r/conversion/classes.json`,
      version: expect.stringMatching(/^[0-9a-f]{16}$/),
      count: 4,
    });
    expect(plan).toMatchObject({ export: `s3://${bucket}/runs/r/output.manifest`, format: 'groundtruth', entries: 7 });
    expect(plan.chunks).toEqual([
      { index: 0, first: 1, last: 3 },
      { index: 1, first: 4, last: 6 },
      { index: 2, first: 7, last: 7 },
    ]);
    // The plan writes nothing to the dataset: classes join it only at a commit, with items that hold them.
    expect(JSON.parse((await store.read(`s3://${bucket}/datasets/main/classes.json`)).toString())).toEqual(['_background_', 'rock']);
  });

  test("the first plan, with no dataset yet, takes the export's classes whole: background first, configured, then first-seen", async () => {
    const b = FIRST_RUN_BUCKET;
    const classes = labelingClasses(['kelp', 'turtle']);
    const line = JSON.stringify(
      groundTruthManifestLine({ source: 's3://in/0.jpg', mask: 's3://in/0.png', attribute: 'a-ref', jobName: 'j', classes }),
    );
    await store.write(`s3://${b}/runs/r/output.manifest`, Buffer.from(`${line}\n`), 'application/x-ndjson');
    const plan = await planConversion({
      store,
      bucket: b,
      runId: 'r',
      export: `s3://${b}/runs/r/output.manifest`,
      allowList: [{ bucket: b, prefix: 'runs/r/' }],
      configuredClasses: ['turtle'],
    });
    expect(await readClassList(store, plan.classes)).toEqual(['BACKGROUND', 'turtle', 'kelp']);
    expect(await store.readStart(`s3://${b}/datasets/main/classes.json`, 1)).toBeUndefined();
  });

  test('a large export gets larger chunks, never more than MAX_CHUNKS: their list stays far below the 256 KiB state', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ 'source-ref': `s3://in/${i}.jpg` }));
    await store.write(`s3://${bucket}/runs/big/output.manifest`, Buffer.from(`${lines.join('\n')}\n`), 'application/x-ndjson');
    const plan = await planConversion({
      store,
      bucket,
      runId: 'big',
      export: `s3://${bucket}/runs/big/output.manifest`,
      allowList: [{ bucket, prefix: 'runs/big/' }],
      configuredClasses: ['turtle'],
      chunkEntries: 2,
    });
    expect(MAX_CHUNKS).toBe(1000);
    expect(plan.chunks).toHaveLength(834);
    expect(plan.chunks[0]).toEqual({ index: 0, first: 1, last: 3 });
    expect(plan.chunks.at(-1)).toEqual({ index: 833, first: 2500, last: 2500 });
    expect(plan.chunks.every((c, i) => i === 0 || c.first === plan.chunks[i - 1].last + 1)).toBe(true);
    expect(JSON.stringify(plan).length).toBeLessThan(64 * 1024);
  });

  test('channels that are not fit to train on stop the run with every problem named', async () => {
    await store.write(`s3://${bucket}/datasets/main/classes.json`, Buffer.from('["BACKGROUND","turtle"]'), 'application/json');
    const mask = (values: number[]) => encodePng({ width: values.length, height: 1, colourType: 0, data: Uint8Array.from(values) });
    await store.write(`s3://${bucket}/runs/check/staging/train/a.jpg`, Buffer.from('jpeg'), 'image/jpeg');
    await store.write(`s3://${bucket}/runs/check/staging/train_annotation/a.png`, mask([0, 1, 7]), 'image/png');
    const report = {
      items: [{ source: 's3://in/a.jpg', name: 'a', split: 'train', width: 3, height: 1, pixelsPerClass: { turtle: 1 } }],
      skipped: [],
    };
    await store.write(`s3://${bucket}/runs/check/conversion/chunk-00000.json`, Buffer.from(JSON.stringify(report)), 'application/json');
    const classes = await writeClassList(store, `s3://${bucket}/runs/check/conversion/classes.json`, ['BACKGROUND', 'turtle']);
    await expect(
      assembleChannels({
        store,
        scratchStore: store,
        bucket,
        runId: 'check',
        classes,
        chunks: [{ index: 0, converted: 1, skipped: 0 }],
        minTrainingSamples: 5,
      }),
    ).rejects.toThrow(
      /the channels are not fit to train on \(3 problems\): a: mask holds 7, not a class index below 2 or 255; the train channel would hold 1 items; at least 5 are needed; the validation channel would be empty/,
    );
    // Nothing of a run that failed its check reaches the dataset.
    expect(await store.list(bucket, 'datasets/main/train')).toEqual([]);
  });

  describe('each problem alone stops the run with its reason', () => {
    // BACKGROUND and turtle: num_classes is 2, so a mask may hold 0, 1 and 255 (ignore).
    const grey = (values: number[]) => encodePng({ width: values.length, height: 1, colourType: 0, data: Uint8Array.from(values) });
    const good = grey([0, 1, 255, 1]);
    let next = 0;

    /** This run's items staged in a bucket of its own, and the run's class list. */
    async function stage(b: string, items: { name: string; split: 'train' | 'validation'; mask?: Buffer }[]): Promise<ClassListRef> {
      for (const item of items) {
        await store.write(`s3://${b}/runs/r/staging/${item.split}/${item.name}.jpg`, Buffer.from('jpeg'), 'image/jpeg');
        if (item.mask) await store.write(`s3://${b}/runs/r/staging/${item.split}_annotation/${item.name}.png`, item.mask, 'image/png');
      }
      return writeClassList(store, `s3://${b}/runs/r/conversion/classes.json`, ['BACKGROUND', 'turtle']);
    }
    /** Report items of the names given, each holding turtle pixels. */
    const reported = (items: { name: string; split: string; line?: number; source?: string }[]) =>
      items.map((i) => ({ source: `s3://in/${i.name}.jpg`, ...i, width: 4, height: 1, pixelsPerClass: { BACKGROUND: 1, turtle: 1 } }));

    /** A dataset of this run's items in a bucket of its own, then the channel check over it. */
    async function check(items: { name: string; split: 'train' | 'validation'; mask?: Buffer }[], minTrainingSamples = 1) {
      const b = CHECK_BUCKETS[next++];
      await store.write(`s3://${b}/datasets/main/classes.json`, Buffer.from('["BACKGROUND","turtle"]'), 'application/json');
      const classes = await stage(b, items);
      const report = { items: reported(items), skipped: [] };
      await store.write(`s3://${b}/runs/r/conversion/chunk-00000.json`, Buffer.from(JSON.stringify(report)), 'application/json');
      return assembleChannels({
        store,
        scratchStore: store,
        bucket: b,
        runId: 'r',
        classes,
        chunks: [{ index: 0, converted: items.length, skipped: 0 }],
        minTrainingSamples,
      });
    }
    const fine = (name: string, split: 'train' | 'validation' = 'train') => ({ name, split, mask: good });
    /** A bucket of its own whose run staged train item a and validation item v, each with its mask. */
    async function bucketWithItemsAandV(): Promise<{ b: string; classes: ClassListRef }> {
      const b = CHECK_BUCKETS[next++];
      await store.write(`s3://${b}/datasets/main/classes.json`, Buffer.from('["BACKGROUND","turtle"]'), 'application/json');
      return { b, classes: await stage(b, [fine('a'), fine('v', 'validation')]) };
    }
    const oneProblem = (problem: string) => `the channels are not fit to train on (1 problem): ${problem}`;

    test('an RGB mask (three channels, values all below num_classes)', async () => {
      const rgb = encodePng({ width: 2, height: 1, colourType: 2, data: Uint8Array.from([0, 0, 0, 1, 1, 1]) });
      await expect(check([{ name: 'a', split: 'train', mask: rgb }, fine('b'), fine('v', 'validation')])).rejects.toThrow(
        oneProblem('a: mask is not an 8-bit single-channel PNG'),
      );
    });

    test('a palette mask (one byte a pixel, but indices into colours)', async () => {
      const palette = encodePalettePng(Uint8Array.from([0, 1, 1, 0]), 4, 1, [0x000000, 0x010101]);
      await expect(check([{ name: 'a', split: 'train', mask: palette }, fine('b'), fine('v', 'validation')])).rejects.toThrow(
        oneProblem('a: mask is not an 8-bit single-channel PNG'),
      );
    });

    test('a mask holding exactly num_classes', async () => {
      await expect(check([{ name: 'a', split: 'train', mask: grey([0, 1, 2]) }, fine('b'), fine('v', 'validation')])).rejects.toThrow(
        oneProblem('a: mask holds 2, not a class index below 2 or 255'),
      );
    });

    test('a mask missing from the dataset', async () => {
      await expect(check([{ name: 'a', split: 'train' }, fine('b'), fine('v', 'validation')])).rejects.toThrow(
        oneProblem('a: mask missing'),
      );
    });

    test("the channels are manifests of the dataset's objects: runs add shards to the index, nothing is copied", async () => {
      const b = CHECK_BUCKETS[next];
      // An item indexed by an earlier version (items.json) and one by an earlier run's shard.
      await store.write(
        `s3://${b}/datasets/main/items.json`,
        Buffer.from(JSON.stringify([{ source: 's3://in/old.jpg', name: 'old', split: 'train', runId: 'v1' }])),
        'application/json',
      );
      await store.write(
        `s3://${b}/datasets/main/index/r0.jsonl`,
        Buffer.from('{"name":"w","split":"validation","source":"s3://in/w.jpg","runId":"r0"}\n'),
        'application/x-ndjson',
      );
      for (const [name, split] of [
        ['old', 'train'],
        ['w', 'validation'],
      ]) {
        await store.write(`s3://${b}/datasets/main/${split}/${name}.jpg`, Buffer.from('jpeg'), 'image/jpeg');
        await store.write(`s3://${b}/datasets/main/${split}_annotation/${name}.png`, good, 'image/png');
      }
      const summary = await check([fine('a'), fine('v', 'validation')]);
      expect(summary).toMatchObject({
        channels: `s3://${b}/runs/r/channels/`,
        numTrainingSamples: 2,
        numValidationSamples: 2,
        converted: 2,
      });
      const manifest = async (channel: string) =>
        JSON.parse((await store.read(`s3://${b}/runs/r/channels/${channel}.manifest`)).toString());
      expect(await manifest('train')).toEqual([{ prefix: `s3://${b}/datasets/main/train/` }, 'a.jpg', 'old.jpg']);
      expect(await manifest('train_annotation')).toEqual([{ prefix: `s3://${b}/datasets/main/train_annotation/` }, 'a.png', 'old.png']);
      expect(await manifest('validation')).toEqual([{ prefix: `s3://${b}/datasets/main/validation/` }, 'v.jpg', 'w.jpg']);
      expect(await manifest('validation_annotation')).toEqual([
        { prefix: `s3://${b}/datasets/main/validation_annotation/` },
        'v.png',
        'w.png',
      ]);
      expect(
        (await store.read(`s3://${b}/datasets/main/index/r.jsonl`))
          .toString()
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).name),
      ).toEqual(['a', 'v']);
      expect(await store.list(b, 'runs/r/channels/')).toHaveLength(4);
    });

    test('an indexed item whose image is gone stops the run, named', async () => {
      const b = CHECK_BUCKETS[next];
      await store.write(
        `s3://${b}/datasets/main/index/r0.jsonl`,
        Buffer.from('{"name":"gone","split":"train","source":"s3://in/gone.jpg","runId":"r0"}\n'),
        'application/x-ndjson',
      );
      await store.write(`s3://${b}/datasets/main/train_annotation/gone.png`, good, 'image/png');
      await expect(check([fine('a'), fine('v', 'validation')])).rejects.toThrow(oneProblem('gone: image missing'));
    });

    test('a failed chunk is reported entry by entry; past maxFailedChunkPercent it stops the run', async () => {
      const { b, classes } = await bucketWithItemsAandV();
      const report = {
        items: reported([
          { name: 'a', split: 'train', line: 1 },
          { name: 'v', split: 'validation', line: 2 },
        ]),
        skipped: [],
      };
      await store.write(`s3://${b}/runs/r/conversion/chunk-00000.json`, Buffer.from(JSON.stringify(report)), 'application/json');
      const chunks = [
        { index: 0, converted: 2, skipped: 0 },
        { index: 1, first: 3, last: 5, error: 'Sandbox.Timedout', cause: 'Task timed out after 900.00 seconds' },
      ];
      await expect(
        assembleChannels({
          store,
          scratchStore: store,
          bucket: b,
          runId: 'r',
          classes,
          chunks,
          minTrainingSamples: 1,
          maxFailedChunkPercent: 49,
        }),
      ).rejects.toThrow(oneProblem('1 of 2 conversion chunks failed, over conversion.maxFailedChunkPercent 49 (first: Sandbox.Timedout)'));
      const summary = await assembleChannels({
        store,
        scratchStore: store,
        bucket: b,
        runId: 'r',
        classes,
        chunks,
        minTrainingSamples: 1,
        maxFailedChunkPercent: 50,
      });
      expect(summary).toMatchObject({ converted: 2, skipped: 3, failedChunks: 1 });
      expect(summary.skippedItems).toEqual(
        [3, 4, 5].map((line) => ({
          line,
          source: null,
          reason: 'its chunk (entries 3 to 5) failed: Sandbox.Timedout: Task timed out after 900.00 seconds',
        })),
      );
    });

    test('chunks merge: a source converted twice keeps its first entry, skips come in line order, the state gets the first 10 cut short and report.json all of them whole', async () => {
      const { b, classes } = await bucketWithItemsAandV();
      const long = { line: 4, source: `s3://in/${'x'.repeat(300)}.jpg`, reason: `bad ${'y'.repeat(300)}` };
      const chunk0 = {
        items: reported([
          { name: 'a', split: 'train', line: 1 },
          { name: 'v', split: 'validation', line: 3 },
        ]),
        skipped: [long],
      };
      const laterSkips = [2, ...Array.from({ length: 11 }, (_, i) => 11 + i)].map((line) => ({
        line,
        source: `s3://in/${line}.jpg`,
        reason: 'mask cannot be decoded',
      }));
      const chunk1 = { items: reported([{ source: 's3://in/a.jpg', name: 'a-again', split: 'train', line: 10 }]), skipped: laterSkips };
      await store.write(`s3://${b}/runs/r/conversion/chunk-00000.json`, Buffer.from(JSON.stringify(chunk0)), 'application/json');
      await store.write(`s3://${b}/runs/r/conversion/chunk-00001.json`, Buffer.from(JSON.stringify(chunk1)), 'application/json');
      const summary = await assembleChannels({
        store,
        scratchStore: store,
        bucket: b,
        runId: 'r',
        classes,
        chunks: [
          { index: 0, converted: 2, skipped: 1 },
          { index: 1, converted: 1, skipped: 12 },
        ],
        minTrainingSamples: 1,
      });
      expect(summary).toMatchObject({ converted: 2, skipped: 14, failedChunks: 0, numTrainingSamples: 1 });
      expect(summary.skippedItems.map((s) => s.line)).toEqual([2, 4, 10, 11, 12, 13, 14, 15, 16, 17]);
      expect(summary.skippedItems[2]).toEqual({ line: 10, source: 's3://in/a.jpg', reason: 'duplicate of an earlier entry' });
      expect(summary.skippedItems[1].source!.startsWith(long.source.slice(0, 200))).toBe(true);
      expect(summary.skippedItems[1].source!.length).toBeLessThan(long.source.length);
      expect(summary.skippedItems[1].reason.startsWith(long.reason.slice(0, 200))).toBe(true);
      expect(summary.skippedItems[1].reason.length).toBeLessThan(long.reason.length);
      const report = JSON.parse((await store.read(`s3://${b}/runs/r/conversion/report.json`)).toString());
      expect(report.skippedItems).toHaveLength(14);
      expect(report.skippedItems[1]).toEqual(long);
      expect(report.items.map((i: { name: string }) => i.name)).toEqual(['a', 'v']);
      expect(report).toMatchObject({ converted: 2, skipped: 14, classes: ['BACKGROUND', 'turtle'] });
      expect((await store.client.send(new HeadObjectCommand({ Bucket: b, Key: 'runs/r/conversion/report.json' }))).ContentType).toBe(
        'application/json',
      );
    });

    test("images of the same bytes in both splits are counted across the run's chunks, and listed in its report", async () => {
      const { b, classes } = await bucketWithItemsAandV();
      // Each chunk saw one copy only: the duplicate shows when the run's items come together.
      const chunk = (name: string, split: string, line: number) => ({
        items: reported([{ name, split, line }]).map((i) => ({ ...i, imageSha256: 'same-bytes' })),
        skipped: [],
      });
      await store.write(
        `s3://${b}/runs/r/conversion/chunk-00000.json`,
        Buffer.from(JSON.stringify(chunk('a', 'train', 1))),
        'application/json',
      );
      await store.write(
        `s3://${b}/runs/r/conversion/chunk-00001.json`,
        Buffer.from(JSON.stringify(chunk('v', 'validation', 2))),
        'application/json',
      );
      const summary = await assembleChannels({
        store,
        scratchStore: store,
        bucket: b,
        runId: 'r',
        classes,
        chunks: [
          { index: 0, converted: 1, skipped: 0 },
          { index: 1, converted: 1, skipped: 0 },
        ],
        minTrainingSamples: 1,
      });
      expect(summary.duplicatesAcrossSplits).toBe(1);
      const report = JSON.parse((await store.read(`s3://${b}/runs/r/conversion/report.json`)).toString());
      expect(report.duplicates).toEqual([{ imageSha256: 'same-bytes', train: ['s3://in/a.jpg'], validation: ['s3://in/v.jpg'] }]);
    });

    test('a run that converted nothing into a one-class dataset stops with a ChannelCheckError naming each problem once, in order', async () => {
      const b = CHECK_BUCKETS[next++];
      await store.write(`s3://${b}/datasets/main/classes.json`, Buffer.from('["BACKGROUND"]'), 'application/json');
      const report = { items: [], skipped: [{ line: 1, source: 's3://in/a.jpg', reason: 'mask cannot be decoded' }] };
      await store.write(`s3://${b}/runs/r/conversion/chunk-00000.json`, Buffer.from(JSON.stringify(report)), 'application/json');
      const classes = await writeClassList(store, `s3://${b}/runs/r/conversion/classes.json`, ['BACKGROUND']);
      const failure = await assembleChannels({
        store,
        scratchStore: store,
        bucket: b,
        runId: 'r',
        classes,
        chunks: [{ index: 0, converted: 0, skipped: 1 }],
        minTrainingSamples: 1,
      }).catch((err: Error) => err);
      expect(failure).toBeInstanceOf(ChannelCheckError);
      expect((failure as Error).name).toBe('ChannelCheckError');
      expect((failure as Error).message).toBe(
        'the channels are not fit to train on (4 problems): ' +
          'no item of this run was converted (1 skipped, first: mask cannot be decoded); nothing new to train on; ' +
          'the dataset has 1 class; the algorithm needs at least 2 (the background and one label); ' +
          'the train channel would hold 0 items; at least 1 are needed; ' +
          'the validation channel would be empty: add images, or raise split.validationFraction',
      );
    });

    test('a train channel of minSamples - 1 items stops the run; minSamples items train', async () => {
      await expect(check([fine('a'), fine('b'), fine('v', 'validation')], 3)).rejects.toThrow(
        oneProblem('the train channel would hold 2 items; at least 3 are needed'),
      );
      const summary = await check([fine('a'), fine('b'), fine('c'), fine('v', 'validation')], 3);
      expect(summary).toMatchObject({ numClasses: 2, numTrainingSamples: 3, numValidationSamples: 1, converted: 4 });
    });
  });
});

describe("the dataset's class list is guarded (embedded S3 server)", () => {
  const BUCKETS = Array.from({ length: 8 }, (_, i) => `guard-${i}`);
  const s3 = useEmbeddedS3(BUCKETS);
  let next = 0;
  const grey = (values: number[]) => encodePng({ width: values.length, height: 1, colourType: 0, data: Uint8Array.from(values) });
  const classesOf = async (b: string) => JSON.parse((await s3.store.read(`s3://${b}/datasets/main/classes.json`)).toString());

  /** A run that staged train item a and validation item v (masks of `values`), planned with `runClasses`, over a dataset of `known`. */
  async function stagedRun(known: string[] | undefined, runClasses: string[], values: number[], pixelsPerClass: Record<string, number>) {
    const b = BUCKETS[next++];
    if (known) await s3.store.write(`s3://${b}/datasets/main/classes.json`, Buffer.from(JSON.stringify(known)), 'application/json');
    const items = [
      ['a', 'train', 1],
      ['v', 'validation', 2],
    ] as const;
    for (const [name, split] of items) {
      await s3.store.write(`s3://${b}/runs/r/staging/${split}/${name}.jpg`, Buffer.from('jpeg'), 'image/jpeg');
      await s3.store.write(`s3://${b}/runs/r/staging/${split}_annotation/${name}.png`, grey(values), 'image/png');
    }
    const report = {
      items: items.map(([name, split, line]) => ({
        source: `s3://in/${name}.jpg`,
        name,
        split,
        line,
        width: values.length,
        height: 1,
        pixelsPerClass,
      })),
      skipped: [],
    };
    await s3.store.write(`s3://${b}/runs/r/conversion/chunk-00000.json`, Buffer.from(JSON.stringify(report)), 'application/json');
    const classes = await writeClassList(s3.store, `s3://${b}/runs/r/conversion/classes.json`, runClasses);
    const assemble = (configuredClasses: string[] = []) =>
      assembleChannels({
        store: s3.store,
        scratchStore: s3.store,
        bucket: b,
        runId: 'r',
        batch: 'up',
        classes,
        configuredClasses,
        chunks: [{ index: 0, converted: 2, skipped: 0 }],
        minTrainingSamples: 1,
      });
    return { b, assemble };
  }

  test('a class joins only when a committed item holds it, or when it is configured: declared but unused classes never do', async () => {
    const { b, assemble } = await stagedRun(['BACKGROUND'], ['BACKGROUND', 'kelp', 'turtle', 'x'.repeat(200)], [0, 2, 2], {
      BACKGROUND: 1,
      kelp: 0,
      turtle: 2,
      ['x'.repeat(200)]: 0,
    });
    const summary = await assemble(['kelp']);
    expect(await classesOf(b)).toEqual(['BACKGROUND', 'kelp', 'turtle']);
    expect(summary).toMatchObject({ classes: ['BACKGROUND', 'kelp', 'turtle'], numClasses: 3 });
    // Committed: the index names the batch, the staging area is gone.
    expect(
      (await s3.store.read(`s3://${b}/datasets/main/index/r.jsonl`))
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { name: 'a', split: 'train', source: 's3://in/a.jpg', runId: 'r', batch: 'up' },
      { name: 'v', split: 'validation', source: 's3://in/v.jpg', runId: 'r', batch: 'up' },
    ]);
    expect(await s3.store.list(b, 'runs/r/staging/')).toEqual([]);
  });

  test('a run whose new class took an index a concurrent run committed first has its masks re-indexed at the commit', async () => {
    // Planned when the dataset was [BACKGROUND]: turtle is 1. Another run committed rock as 1 since.
    const { b, assemble } = await stagedRun(['BACKGROUND', 'rock'], ['BACKGROUND', 'turtle'], [0, 1, 255], { BACKGROUND: 1, turtle: 1 });
    await assemble();
    expect(await classesOf(b)).toEqual(['BACKGROUND', 'rock', 'turtle']);
    for (const key of ['train_annotation/a.png', 'validation_annotation/v.png']) {
      const mask = await sharp(await s3.store.read(`s3://${b}/datasets/main/${key}`))
        .extractChannel(0)
        .raw()
        .toBuffer();
      expect([...mask]).toEqual([0, 2, 255]);
    }
  });

  test('a run that would take the list past what the algorithm takes fails its check with nothing written to the dataset', async () => {
    const known = ['BACKGROUND', ...Array.from({ length: MAX_CLASSES - 2 }, (_, i) => `c${i}`)];
    const { b, assemble } = await stagedRun(known, [...known, 'turtle', 'kelp'], [0, MAX_CLASSES - 1, MAX_CLASSES], {
      BACKGROUND: 1,
      turtle: 1,
      kelp: 1,
    });
    await expect(assemble()).rejects.toThrow(
      `the dataset's class list would hold ${MAX_CLASSES + 1} classes; the algorithm takes at most ${MAX_CLASSES}: nothing of this run was added`,
    );
    expect(await classesOf(b)).toEqual(known);
    expect((await s3.store.list(b, 'datasets/main/')).map((o) => o.key)).toEqual(['datasets/main/classes.json']);
  });

  test.each([
    ['too long', 'k'.repeat(257), /is 257 characters long; at most 256/],
    ['a control character', 'kelp\u0007', /is not printable text/],
    ['a leading space', ' kelp', /is not printable text/],
  ])('a used class whose name is %s fails the check, named', async (_what, name, reason) => {
    const { b, assemble } = await stagedRun(['BACKGROUND'], ['BACKGROUND', name], [0, 1], { BACKGROUND: 1, [name]: 1 });
    await expect(assemble()).rejects.toThrow(reason);
    expect(await classesOf(b)).toEqual(['BACKGROUND']);
  });

  test("the plan refuses an export that declares more classes than fit beside the dataset's, before anything is written", async () => {
    const b = BUCKETS[next++];
    const coco = {
      categories: Array.from({ length: MAX_CLASSES }, (_, i) => ({ id: i + 1, name: `cat-${i}` })),
      images: [],
      annotations: [],
    };
    await s3.store.write(`s3://${b}/labeled/x/coco.json`, Buffer.from(JSON.stringify(coco)), 'application/json');
    await expect(
      planConversion({
        store: s3.store,
        bucket: b,
        runId: 'r',
        export: `s3://${b}/labeled/x/coco.json`,
        allowList: [{ bucket: b, prefix: 'labeled/x/' }],
        configuredClasses: [],
      }),
    ).rejects.toThrow(
      `the export declares ${MAX_CLASSES} classes; with the dataset's 0 and the configured ones that is ${MAX_CLASSES} besides the background, and the algorithm takes at most ${MAX_CLASSES - 1}: nothing was converted`,
    );
    expect(await s3.store.list(b, 'runs/')).toEqual([]);
  });
});

describe('updateJson', () => {
  test('a write that lost to another run is redone on the newer version, so neither update is lost', async () => {
    const { updateJson } = await import('../../../lambda/workflow/versioned-json');
    let stored: { data: Buffer; etag: string } = { data: Buffer.from('["BACKGROUND","turtle"]'), etag: '"1"' };
    let raced = false;
    const store = {
      readVersioned: async () => stored,
      writeIfUnchanged: async (_location: string, body: Buffer, _type: string, etag: string | undefined) => {
        if (!raced) {
          // Another run appends "kelp" between this run's read and its write.
          raced = true;
          stored = { data: Buffer.from('["BACKGROUND","turtle","kelp"]'), etag: '"2"' };
        }
        if (etag !== stored.etag) return false;
        stored = { data: body, etag: '"3"' };
        return true;
      },
    } as never;
    const result = await updateJson<string[]>(store, 's3://b/datasets/main/classes.json', [], (known) => [...known, 'rock']);
    expect(result).toEqual(['BACKGROUND', 'turtle', 'kelp', 'rock']);
    expect(JSON.parse(stored.data.toString())).toEqual(result);
  });
});
