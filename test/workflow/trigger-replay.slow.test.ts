import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { ObjectCreatedEvent, StartRunResult } from '../../lambda/handlers/start-run';
import { ALREADY_TAKEN, batchExecutionName, batchStateKey, takeBatchSnapshot } from '../../lambda/workflow/batch';
import { readChannelManifest } from '../../lambda/workflow/channel-manifest';
import { objectCreatedEvent } from '../../local/lambda-invocation';
import type { TrueLabels } from '../../local/simulated-workforce';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import type { WorkflowOutcome } from '../../local/workflow-runner';
import { cocoFixture, cvatFixture, labelStudioFixture, lookoutForVisionFixture, vocFixture, zipFolder } from '../helpers/format-fixtures';
import { type Calls, fakes } from '../helpers/workflow-fakes';
import { ARTIFACTS_BUCKET, INBOX_BUCKET, startWorkflowHarness, type WorkflowHarness } from '../helpers/workflow-harness';

const CONFIG = {
  labelClasses: ['turtle', 'rock'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/turtle-team' },
  training: { minSamples: 2 },
};

/**
 * Uploads in the replayed batch. What is checked (duplicates, reordering, URL-encoded keys, one
 * execution, every image labeled) depends on no count: 60 give 73 events, interleaved with the run
 * they start; SEGPIPE_REPLAY_UPLOADS=300 replays the 361 events this test once did (each later run
 * here also converts every image labeled so far, so the count weighs on the whole file).
 */
const UPLOADS = Number(process.env.SEGPIPE_REPLAY_UPLOADS ?? 60);

/** When each key's upload completed, as S3 stamps its event: cut to the second. */
const uploadedAt = new Map<string, string>();

/** S3 "Object Created" as EventBridge delivers it, at the upload's time. */
function objectCreated(key: string): ObjectCreatedEvent {
  const time = uploadedAt.get(decodeURIComponent(key.replace(/\+/g, ' '))) ?? uploadedAt.get(key);
  return objectCreatedEvent(INBOX_BUCKET, key, { time });
}

describe('uploads start runs: events replayed through the start Lambda and the local workflow', () => {
  let harness: WorkflowHarness;
  let startRun: (event: ObjectCreatedEvent) => Promise<StartRunResult>;
  const sfn = mockClient(SFNClient);
  const truth = new Map<string, TrueLabels>();
  const executions = new Map<string, { input: string; done: boolean; outcome: Promise<WorkflowOutcome>; calls: Calls }>();

  beforeAll(async () => {
    // The quiet window is 0 s here: the uploads are all in before the events are replayed.
    harness = await startWorkflowHarness(CONFIG, {
      settings: { quietSeconds: 0, stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:segpipe' },
    });
    startRun = harness.startRun;
    // Standard workflows: a repeated name with the same input while running is the same execution; once closed, an error.
    sfn.on(StartExecutionCommand).callsFake(async ({ name, input }: { name: string; input: string }) => {
      const existing = executions.get(name);
      if (existing && (existing.done || existing.input !== input))
        throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${name}'`, $metadata: {} });
      if (!existing) {
        const { tasks, calls } = fakes(harness, truth);
        const entry = { input, done: false, calls, outcome: harness.run({ input: JSON.parse(input), executionName: name, fakes: tasks }) };
        entry.outcome.finally(() => (entry.done = true));
        executions.set(name, entry);
      }
      return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:segpipe:${name}`, startDate: new Date() };
    });
  });
  afterAll(async () => {
    sfn.restore();
    await harness?.close();
  });

  async function upload(key: string, seed: number) {
    const client = harness.server.client();
    const scene = renderSyntheticScene(seed, 32, 24);
    await client.send(
      new PutObjectCommand({
        Bucket: INBOX_BUCKET,
        Key: key,
        Body: key.endsWith('.jpg') ? await sceneToJpeg(scene) : Buffer.from('notes'),
      }),
    );
    uploadedAt.set(key, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    client.destroy();
    truth.set(`s3://${INBOX_BUCKET}/${key}`, { width: 32, height: 24, classIndices: scene.classIndices });
  }

  test(`${UPLOADS} uploads to one batch, events duplicated, reordered and URL-encoded, start one run that labels all ${UPLOADS}`, async () => {
    const keys = Array.from({ length: UPLOADS }, (_, i) => `images/big batch/photo ${i}+é.jpg`);
    for (const [i, key] of keys.entries()) await upload(key, 2000 + i);
    await upload('images/big batch/field notes.txt', 1);
    const events = [...keys, ...keys.slice(0, UPLOADS / 5), 'images/big batch/field notes.txt'].map((key, i) =>
      objectCreated(i % 3 === 0 ? encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+') : key),
    );
    // Out of order: a seeded shuffle.
    let seed = 42;
    for (let i = events.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const j = seed % (i + 1);
      [events[i], events[j]] = [events[j], events[i]];
    }
    // Every event of this generation names the same execution; any other name is a second run, so the
    // replay stops at the first one (a second run would take its time, and the test with it).
    const generation0 = batchExecutionName('big batch', 0);
    const results = [];
    for (const event of events) {
      let result: StartRunResult;
      try {
        result = await startRun(event);
      } catch (err) {
        throw new Error(`start-run failed for ${event.detail.object.key}: ${(err as Error).stack}`);
      }
      if (result.action === 'started' && result.executionName !== generation0) {
        throw new Error(
          `the event of ${event.detail.object.key} started ${result.executionName}, a second execution besides ${generation0}`,
        );
      }
      results.push(result);
    }
    expect(results.filter((r) => r.action === 'ignored' && r.reason !== ALREADY_TAKEN)).toEqual([
      { action: 'ignored', reason: expect.stringContaining('not an image') },
    ]);
    expect([...executions.keys()]).toEqual([generation0]);

    await Promise.all([...executions.values()].map((e) => e.outcome));
    const labeled = [...executions.values()].filter((e) => e.calls.Label);
    expect(labeled).toHaveLength(1);
    expect((await labeled[0].outcome).status).toBe('SUCCEEDED');
    const request = labeled[0].calls.Label[0] as { InputConfig: { DataSource: { S3DataSource: { ManifestS3Uri: string } } } };
    const manifest = (await harness.store.read(request.InputConfig.DataSource.S3DataSource.ManifestS3Uri))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(manifest).toHaveLength(UPLOADS);
    expect(new Set(manifest.map((l) => JSON.parse(l)['source-ref']))).toEqual(new Set(keys.map((k) => `s3://${INBOX_BUCKET}/${k}`)));
  }, 240_000);

  test('an image added after the snapshot starts the next run, which labels only it', async () => {
    const before = new Set(executions.keys());
    await upload('images/big batch/late.jpg', 9999);
    const result = await startRun(objectCreated('images/big batch/late.jpg'));
    expect(result).toEqual({ action: 'started', executionName: batchExecutionName('big batch', 1) });
    expect(before.has(result.executionName!)).toBe(false);
    const run = executions.get(result.executionName!)!;
    expect((await run.outcome).status).toBe('SUCCEEDED');
    const request = run.calls.Label[0] as { InputConfig: { DataSource: { S3DataSource: { ManifestS3Uri: string } } } };
    const manifest = (await harness.store.read(request.InputConfig.DataSource.S3DataSource.ManifestS3Uri))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(manifest.map((l) => JSON.parse(l)['source-ref'])).toEqual([`s3://${INBOX_BUCKET}/images/big batch/late.jpg`]);
  });

  test('a manifest dropped under labeled/<batch>/ starts an import run; other keys start nothing', async () => {
    const client = harness.server.client();
    await client.send(
      new PutObjectCommand({
        Bucket: INBOX_BUCKET,
        Key: 'labeled/big batch/old-job.manifest',
        Body: '{"source-ref":"s3://inbox/images/big batch/late.jpg"}\n',
      }),
    );
    client.destroy();
    const result = await startRun(objectCreated('labeled/big batch/old-job.manifest'));
    expect(result).toMatchObject({ action: 'started', executionName: expect.stringMatching(/^big-batch-[0-9a-f]{8}-m[0-9a-f]{8}-g0$/) });
    const run = executions.get(result.executionName!)!;
    expect(JSON.parse(run.input)).toEqual({
      batch: 'big batch',
      export: 's3://inbox/labeled/big batch/old-job.manifest',
      importGeneration: 0,
    });
    const outcome = await run.outcome;
    expect(outcome.path).toEqual(expect.arrayContaining(['Take import turn', 'Use imported labels']));
    expect(outcome.path).not.toContain('Label');
    // The export uploaded again: the next generation's run.
    const again = await startRun(objectCreated('labeled/big batch/old-job.manifest'));
    expect(again.executionName).toBe(result.executionName!.replace(/-g0$/, '-g1'));
    await executions.get(again.executionName!)!.outcome;
    expect(await startRun(objectCreated('labeled/big batch/masks/1.png'))).toMatchObject({ action: 'ignored' });
    expect(await startRun(objectCreated('images/big batch/missing.jpg'))).toEqual({
      action: 'ignored',
      reason: 'the object no longer exists',
    });
  });

  test('re-uploading an export many times starts one run and at most one waiting run, never one an upload', async () => {
    const client = harness.server.client();
    const key = 'labeled/big batch/again.manifest';
    await client.send(
      new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: key, Body: '{"source-ref":"s3://inbox/images/big batch/late.jpg"}\n' }),
    );
    client.destroy();
    const names = new Set<string>();
    // Ten uploads, each its own (another sequencer), as S3 reports them.
    const upload = (i: number) => {
      const event = objectCreated(key);
      return { ...event, detail: { ...event.detail, object: { ...event.detail.object, sequencer: `00${i}` } } };
    };
    for (let i = 0; i < 10; i++) names.add((await startRun(upload(i))).executionName!);
    expect(names.size).toBeLessThanOrEqual(2);
    const outcomes = await Promise.all([...names].map((name) => executions.get(name)!.outcome));
    // The manifest names an image this test did not upload: each run converts nothing and says so.
    expect(outcomes.map((o) => o.cause)).toEqual([...names].map(() => expect.stringContaining('no item of this run was converted')));
    // The waiting run took its turn only once the first had ended.
    if (outcomes.length === 2) expect(outcomes[1].path).toContain('Wait for import turn');
  });

  test('no training quota: the run ends before labeling, and its images are given back for the next run', async () => {
    await upload('images/quota batch/a.jpg', 5);
    const name = (await startRun(objectCreated('images/quota batch/a.jpg'))).executionName!;
    // That run was started with the quota stand-in of the fakes; run the same batch again with a quota of 0.
    await executions.get(name)!.outcome;
    const { tasks, calls } = fakes(harness, truth);
    tasks['Check training quota'] = async () => {
      throw Object.assign(new Error('this account\'s SageMaker quota "ml.p3.2xlarge for training job usage" is 0'), {
        name: 'TrainingQuotaError',
      });
    };
    await upload('images/quota batch/b.jpg', 6);
    const state = JSON.parse((await harness.store.read(`s3://artifacts/${batchStateKey('quota batch')}`)).toString());
    const outcome = await harness.run({
      input: { batch: 'quota batch', generation: state.generation },
      executionName: 'quota-no',
      fakes: tasks,
    });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'TrainingQuotaError' });
    expect(calls.Label).toBeUndefined();
    const after = JSON.parse((await harness.store.read(`s3://artifacts/${batchStateKey('quota batch')}`)).toString());
    expect(after.released).toEqual([state.generation]);
    // The next snapshot takes b again (given back), never a (labeled by the first run).
    const next = await takeBatchSnapshot({
      store: harness.store,
      inboxBucket: INBOX_BUCKET,
      artifactsBucket: 'artifacts',
      batch: 'quota batch',
      generation: after.generation,
    });
    const manifest = (await harness.store.read(next.imagesManifest))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)['source-ref']);
    expect(manifest).toEqual([`s3://${INBOX_BUCKET}/images/quota batch/b.jpg`]);
  });

  /**
   * Every export format dropped under `labeled/<batch>/` starts one import run through the start
   * Lambda, converts with the readers of `segpipe convert` through the plan, chunk and assembly
   * Lambdas, and trains: zips read in place, images the export lacks found under `images/<batch>/`.
   */
  describe('exports of every labeling tool, dropped into the inbox', () => {
    const work = mkdtempSync(join(tmpdir(), 'segpipe-inbox-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    async function put(key: string, body: Buffer | string) {
      await harness.store.write(`s3://${INBOX_BUCKET}/${key}`, Buffer.from(body), 'application/octet-stream');
    }
    /** Uploads every file under `dir` to `prefix`, keeping relative paths. */
    async function putFolder(dir: string, prefix: string) {
      const walk = (d: string): string[] =>
        readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
      for (const file of walk(dir)) await put(`${prefix}${relative(dir, file).split('\\').join('/')}`, readFileSync(file));
    }

    /** Drops the export, lets the start Lambda start its run, and checks it trained on what the export holds. */
    async function importThroughInbox(batch: string, exportKey: string, expectConverted: number) {
      const result = await startRun(objectCreated(exportKey));
      expect(result).toMatchObject({ action: 'started' });
      const run = executions.get(result.executionName!)!;
      expect(JSON.parse(run.input)).toEqual({ batch, export: `s3://${INBOX_BUCKET}/${exportKey}`, importGeneration: 0 });
      const outcome = await run.outcome;
      expect({ status: outcome.status, cause: outcome.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
      expect(outcome.path).toEqual(
        expect.arrayContaining(['Use imported labels', 'Plan conversion', 'Convert chunk', 'Assemble channels', 'Train']),
      );
      const report = JSON.parse((await harness.store.read(`s3://${ARTIFACTS_BUCKET}/runs/${result.executionName}/report.json`)).toString());
      expect(report.counts.converted).toBe(expectConverted);
      const train = run.calls.Train[0] as { InputDataConfig: { DataSource: { S3DataSource: { S3DataType: string; S3Uri: string } } }[] };
      const manifest = await readChannelManifest(harness.store, train.InputDataConfig[0].DataSource.S3DataSource.S3Uri);
      expect(manifest.keys.length).toBeGreaterThan(0);
      return report;
    }

    test('a Ground Truth-style Lookout for Vision manifest, its images and masks in the inbox', async () => {
      const fixture = await lookoutForVisionFixture(join(work, 'l4v'));
      const root = join(work, 'l4v', 'buckets', 'l4v');
      await putFolder(join(root, 'dataset'), 'images/l4v/');
      await putFolder(join(root, 'masks'), 'labeled/l4v/masks/');
      const manifest = readFileSync(fixture.input, 'utf8')
        .replace(/s3:\/\/l4v\/dataset\//g, `s3://${INBOX_BUCKET}/images/l4v/`)
        .replace(/s3:\/\/l4v\/masks\//g, `s3://${INBOX_BUCKET}/labeled/l4v/masks/`);
      await put('labeled/l4v/output.manifest', manifest);
      // a and b with their masks, c a normal image (all background); d is unlabeled.
      await importThroughInbox('l4v', 'labeled/l4v/output.manifest', 3);
    });

    test('a CVAT zip holding its images, read in place', async () => {
      const fixture = await cvatFixture(join(work, 'cvat'));
      zipFolder(fixture.input, join(work, 'cvat.zip'), 'task_1');
      await put('labeled/cvat/task_1-segmentation_mask_1.1.zip', readFileSync(join(work, 'cvat.zip')));
      await importThroughInbox('cvat', 'labeled/cvat/task_1-segmentation_mask_1.1.zip', 2);
    });

    test('a Pascal VOC zip without its images: they are found under images/<batch>/', async () => {
      const fixture = await vocFixture(join(work, 'voc'));
      await putFolder(join(fixture.input, 'JPEGImages'), 'images/voc/');
      rmSync(join(fixture.input, 'JPEGImages'), { recursive: true });
      zipFolder(fixture.input, join(work, 'voc.zip'));
      await put('labeled/voc/VOC2012-seg.zip', readFileSync(join(work, 'voc.zip')));
      await importThroughInbox('voc', 'labeled/voc/VOC2012-seg.zip', 1);
    });

    test('a COCO JSON: its images under images/<batch>/, by path and by file name', async () => {
      const fixture = await cocoFixture(join(work, 'coco'));
      await putFolder(fixture.images!, 'images/coco/');
      await put('labeled/coco/instances_default.json', readFileSync(fixture.input));
      const report = await importThroughInbox('coco', 'labeled/coco/instances_default.json', 2);
      expect(report.skippedItems).toEqual(
        expect.arrayContaining([expect.objectContaining({ source: 'absent.jpg', reason: expect.stringContaining('image not found') })]),
      );
    });

    test('a Label Studio JSON: uploads found by the name after their hash', async () => {
      const fixture = await labelStudioFixture(join(work, 'ls'));
      await putFolder(fixture.images!, 'images/ls/');
      await put('labeled/ls/project-1-at-2026-03-06.json', readFileSync(fixture.input));
      await importThroughInbox('ls', 'labeled/ls/project-1-at-2026-03-06.json', 2);
    });

    test('an upload that is no export fails its run with a notification naming the formats segpipe reads', async () => {
      await put('labeled/junk/notes.json', '{"hello": "world"}');
      const result = await startRun(objectCreated('labeled/junk/notes.json'));
      const run = executions.get(result.executionName!)!;
      expect((await run.outcome).status).toBe('FAILED');
      const message = (run.calls['Notify failure'][0] as { Message: string }).Message;
      expect(message).toContain('is not an export segpipe recognises');
      for (const format of ['groundtruth', 'lookoutvision', 'cvat', 'voc', 'coco', 'labelstudio']) expect(message).toContain(format);
    });
  });
});
