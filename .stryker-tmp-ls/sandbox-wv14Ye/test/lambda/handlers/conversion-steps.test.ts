import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { SCRATCH_OBJECT_TAG } from '../../../lambda/common/retention';
import type { ChunkResult, ClassListRef } from '../../../lambda/workflow/dataset';
import { readClassList } from '../../../lambda/workflow/dataset';
import { lambdaContext } from '../../../local/lambda-invocation';
import { H, jpeg, W } from '../../helpers/format-fixtures';
import { useLambdaEnvironment } from '../../helpers/lambda-module';

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
/** A COCO export of six images, each half turtle, uploaded with its images into batch `conv`. */
const coco = {
  categories: [{ id: 1, name: 'turtle' }],
  images: NAMES.map((name, i) => ({ id: i + 1, file_name: `${name}.jpg`, width: W, height: H })),
  annotations: NAMES.map((_, i) => ({
    id: i + 1,
    image_id: i + 1,
    category_id: 1,
    segmentation: [[0, 0, W / 2, 0, W / 2, H, 0, H]],
    area: (W / 2) * H,
    bbox: [],
    iscrowd: 0,
  })),
};

/**
 * The conversion's three steps as deployed, one after another as the state machine runs them: the plan,
 * one Lambda per chunk, and the channels; each handler module loaded with its settings, S3 on the embedded server.
 */
describe('the conversion handlers', () => {
  const env = useLambdaEnvironment(['inbox', 'artifacts']);
  const message = (text: string) => env.logged().findLast((line) => line.message === text);
  const sources = { artifactsBucket: 'artifacts', inboxBucket: 'inbox', readLocations: [] };
  const exportUri = 's3://inbox/labeled/conv/coco.json';
  let classes: ClassListRef;
  let exportVersion: string;
  const results: ChunkResult[] = [];

  beforeAll(async () => {
    await env.store.write(exportUri, Buffer.from(JSON.stringify(coco)), 'application/json');
    await Promise.all(NAMES.map(async (name, i) => env.store.write(`s3://inbox/images/conv/${name}.jpg`, await jpeg(i + 1), 'image/jpeg')));
    // An export of another batch, which this batch's run may not read.
    await env.store.write('s3://inbox/labeled/other/coco.json', Buffer.from(JSON.stringify(coco)), 'application/json');
  });

  test("plan-conversion: the class order (the configured classes first) and chunks of chunkEntries entries; another batch's export refused", async () => {
    const { handler } = await env.load(
      'plan-conversion',
      { ...sources, labelClasses: ['rock', 'turtle'], chunkEntries: 4 },
      () => import('../../../lambda/handlers/plan-conversion'),
    );
    const plan = await handler({ runId: 'r1', export: exportUri, batch: 'conv', labelStudioRound: '' }, lambdaContext('plan-conversion'));
    expect(plan).toMatchObject({
      export: exportUri,
      format: 'coco',
      entries: 6,
      chunks: [
        { index: 0, first: 1, last: 4 },
        { index: 1, first: 5, last: 6 },
      ],
    });
    expect(await readClassList(env.store, plan.classes)).toEqual(['BACKGROUND', 'rock', 'turtle']);
    expect(message('conversion planned')).toMatchObject({ runId: 'r1', format: 'coco', entries: 6, chunks: 2, classes: 3 });
    ({ classes, exportVersion } = plan);

    await expect(
      handler({ runId: 'r2', export: 's3://inbox/labeled/other/coco.json', batch: 'conv' }, lambdaContext('plan-conversion')),
    ).rejects.toThrow(/labeled\/other\/coco\.json/);
  });

  test('convert-chunk: converts its entries into the run staging area, split by the configured fraction and seed', async () => {
    const { handler } = await env.load(
      'convert-chunk',
      { ...sources, validationFraction: 0.5, splitSeed: 'handler-test' },
      () => import('../../../lambda/handlers/convert-chunk'),
    );
    for (const chunk of [
      { index: 0, first: 1, last: 4 },
      { index: 1, first: 5, last: 6 },
    ]) {
      const summary = await handler(
        { runId: 'r1', export: exportUri, batch: 'conv', labelStudioRound: '', chunk, classes, exportVersion },
        lambdaContext('convert-chunk'),
      );
      expect(summary).toEqual({ index: chunk.index, converted: chunk.last - chunk.first + 1, skipped: 0 });
      expect(message('chunk converted')).toMatchObject({ runId: 'r1', index: chunk.index, converted: summary.converted });
      results.push(summary);
    }
    const staged = (await env.store.list('artifacts', 'runs/r1/staging/')).map((o) => o.key);
    expect(staged).toHaveLength(12);
    const splits = new Set(staged.map((key) => key.split('/')[3]));
    // Half of six images in each split, as the fraction asks (the seed fixes which).
    expect(staged.filter((key) => key.startsWith('runs/r1/staging/validation/'))).toHaveLength(
      staged.filter((key) => key.startsWith('runs/r1/staging/train/')).length,
    );
    expect(splits).toEqual(new Set(['train', 'train_annotation', 'validation', 'validation_annotation']));

    // A chunk of a version of the export the plan did not read converts nothing.
    await expect(
      handler(
        { runId: 'r1', export: exportUri, batch: 'conv', chunk: { index: 0, first: 1, last: 4 }, classes, exportVersion: '"0"' },
        lambdaContext('convert-chunk'),
      ),
    ).rejects.toMatchObject({ name: 'ExportChangedError' });
  });

  test('assemble-channels: commits the staged items and writes the four channel manifests, tagged as scratch data', async () => {
    const settings = { artifactsBucket: 'artifacts', labelClasses: ['rock', 'turtle'], minTrainingSamples: 1, maxFailedChunkPercent: 50 };
    const { handler } = await env.load('assemble-channels', settings, () => import('../../../lambda/handlers/assemble-channels'));
    // A third chunk failed: one of three is within the 50 % allowed.
    const failed = { index: 2, first: 7, last: 7, error: 'Sandbox.Timedout' };
    const summary = await handler(
      { runId: 'r1', batch: 'conv', chunks: [...results, failed], classes },
      lambdaContext('assemble-channels'),
    );
    expect(summary).toMatchObject({
      channels: 's3://artifacts/runs/r1/channels/',
      classes: ['BACKGROUND', 'rock', 'turtle'],
      numClasses: 3,
      converted: 6,
      failedChunks: 1,
    });
    expect(summary.numTrainingSamples + summary.numValidationSamples).toBe(6);
    const manifests = (await env.store.list('artifacts', 'runs/r1/channels/')).map((o) => o.key).sort();
    expect(manifests).toEqual(
      ['train', 'train_annotation', 'validation', 'validation_annotation'].map((channel) => `runs/r1/channels/${channel}.manifest`),
    );
    const { TagSet } = await env.store.client.send(new GetObjectTaggingCommand({ Bucket: 'artifacts', Key: manifests[0] }));
    expect(TagSet).toEqual([{ Key: SCRATCH_OBJECT_TAG.key, Value: SCRATCH_OBJECT_TAG.value }]);
    expect(message('channels assembled')).toMatchObject({ runId: 'r1', numClasses: 3, failedChunks: 1 });
    expect(message('channels assembled')).not.toHaveProperty('skippedItems');

    // The same chunks under a stricter setting: one failed chunk of three is over 10 %.
    const strict = await env.loadFresh(
      'assemble-channels',
      { ...settings, maxFailedChunkPercent: 10 },
      () => import('../../../lambda/handlers/assemble-channels'),
    );
    await expect(
      strict.handler({ runId: 'r1', batch: 'conv', chunks: [...results, failed], classes }, lambdaContext('assemble-channels')),
    ).rejects.toThrow(/1 of 3 conversion chunks failed, over conversion\.maxFailedChunkPercent 10/);
  });

  test('check-budget: an import is estimated without labeling, so a budget a labeled run is over lets it through', async () => {
    const settings = {
      workforce: { type: 'public', workersPerObject: 3, publicTaskPriceUsd: 0.96 },
      training: { instanceType: 'ml.p3.2xlarge', maxRuntimeSeconds: 3600, spot: false },
      hosting: { instanceType: 'ml.m5.large', idleMinutes: 60, timeToLiveHours: 24 },
      cleanup: { everyMinutes: 15, dryRun: false },
      evaluation: { maxImages: 200 },
      budgetUsd: 20,
    };
    const { handler } = await env.load('check-budget', settings, () => import('../../../lambda/handlers/check-budget'));
    const imported = await handler({ images: 100, mode: 'import' }, lambdaContext('check-budget'));
    expect(imported).toEqual({ estimateUsd: expect.any(Number), message: expect.stringMatching(/within the budget of \$20\.00$/) });
    expect(imported.estimateUsd).toBeLessThanOrEqual(20);
    expect(message('budget checked')).toMatchObject({ estimateUsd: imported.estimateUsd });
    await expect(handler({ images: 100, mode: 'label' }, lambdaContext('check-budget'))).rejects.toMatchObject({ name: 'BudgetExceeded' });
  });
});
