import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { ObjectCreatedEvent } from '../../lambda/handlers/start-run';
import { readChannelManifest } from '../../lambda/workflow/channel-manifest';
import { cocoFixture, cvatFixture, labelStudioFixture, lookoutForVisionFixture, vocFixture, zipFolder } from '../helpers/format-fixtures';
import { fakes } from '../helpers/workflow-fakes';
import { ARTIFACTS_BUCKET, INBOX_BUCKET, WorkflowHarness, startWorkflowHarness } from '../helpers/workflow-harness';

/**
 * Every export format dropped under `labeled/<batch>/` starts one import run through the start
 * Lambda, converts with the readers of `segpipe convert` through the plan, chunk and assembly
 * Lambdas, and trains: zips read in place, images the export lacks found under `images/<batch>/`.
 */
describe('exports of every labeling tool, dropped into the inbox', () => {
  let harness: WorkflowHarness;
  let work: string;
  const sfn = mockClient(SFNClient);
  const started: { name: string; input: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'segpipe-inbox-'));
    harness = await startWorkflowHarness({ training: { minSamples: 1 }, split: { validationFraction: 0.5 } }, {
      settings: { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:segpipe' },
    });
    sfn.on(StartExecutionCommand).callsFake(async ({ name, input }: { name: string; input: string }) => {
      started.push({ name, input: JSON.parse(input) });
      return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:segpipe:${name}`, startDate: new Date() };
    });
  });
  afterAll(async () => {
    sfn.restore();
    await harness?.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function put(key: string, body: Buffer | string) {
    await harness.store.write(`s3://${INBOX_BUCKET}/${key}`, Buffer.from(body), 'application/octet-stream');
  }
  /** Uploads every file under `dir` to `prefix`, keeping relative paths. */
  async function putFolder(dir: string, prefix: string) {
    const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
    for (const file of walk(dir)) await put(`${prefix}${relative(dir, file).split('\\').join('/')}`, readFileSync(file));
  }
  const objectCreated = (key: string) => ({
    version: '0', id: key, 'detail-type': 'Object Created', source: 'aws.s3', account: '123456789012', time: new Date().toISOString(), region: 'us-east-1',
    resources: [`arn:aws:s3:::${INBOX_BUCKET}`],
    detail: { version: '0', bucket: { name: INBOX_BUCKET }, object: { key, size: 1, etag: 'e', sequencer: '0' }, 'request-id': 'r', requester: '123456789012', reason: 'PutObject' },
  }) as ObjectCreatedEvent;

  /** Drops the export, lets the start Lambda start its run, runs it, and checks it trained on what the export holds. */
  async function importThroughInbox(batch: string, exportKey: string, expectConverted: number) {
    const result = await harness.startRun(objectCreated(exportKey));
    expect(result).toMatchObject({ action: 'started' });
    const run = started.at(-1)!;
    expect(run).toEqual({ name: result.executionName, input: { batch, export: `s3://${INBOX_BUCKET}/${exportKey}` } });
    const { tasks, calls } = fakes(harness, new Map());
    const outcome = await harness.run({ input: run.input, executionName: run.name, fakes: tasks });
    expect({ status: outcome.status, cause: outcome.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
    expect(outcome.path).toEqual(expect.arrayContaining(['Use imported labels', 'Plan conversion', 'Convert chunk', 'Assemble channels', 'Train']));
    const report = JSON.parse((await harness.store.read(`s3://${ARTIFACTS_BUCKET}/runs/${run.name}/report.json`)).toString());
    expect(report.counts.converted).toBe(expectConverted);
    const train = calls.Train[0] as { InputDataConfig: { DataSource: { S3DataSource: { S3DataType: string; S3Uri: string } } }[] };
    const manifest = await readChannelManifest(harness.store, train.InputDataConfig[0].DataSource.S3DataSource.S3Uri);
    expect(manifest.keys.length).toBeGreaterThan(0);
    return report;
  }

  test('a Ground Truth-style Lookout for Vision manifest, its images and masks in the inbox', async () => {
    const fixture = await lookoutForVisionFixture(join(work, 'l4v'));
    const root = join(work, 'l4v', 'buckets', 'l4v');
    await putFolder(join(root, 'dataset'), 'images/l4v/');
    await putFolder(join(root, 'masks'), 'labeled/l4v/masks/');
    const manifest = readFileSync(fixture.input, 'utf8').replace(/s3:\/\/l4v\/dataset\//g, `s3://${INBOX_BUCKET}/images/l4v/`).replace(/s3:\/\/l4v\/masks\//g, `s3://${INBOX_BUCKET}/labeled/l4v/masks/`);
    await put('labeled/l4v/output.manifest', manifest);
    await importThroughInbox('l4v', 'labeled/l4v/output.manifest', 2);
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
    expect(report.skippedItems).toEqual(expect.arrayContaining([expect.objectContaining({ source: 'absent.jpg', reason: expect.stringContaining('image not found') })]));
  });

  test('a Label Studio JSON: uploads found by the name after their hash', async () => {
    const fixture = await labelStudioFixture(join(work, 'ls'));
    await putFolder(fixture.images!, 'images/ls/');
    await put('labeled/ls/project-1-at-2026-03-06.json', readFileSync(fixture.input));
    await importThroughInbox('ls', 'labeled/ls/project-1-at-2026-03-06.json', 2);
  });

  test('an upload that is no export fails its run with a notification naming the formats segpipe reads', async () => {
    await put('labeled/junk/notes.json', '{"hello": "world"}');
    const result = await harness.startRun(objectCreated('labeled/junk/notes.json'));
    const run = started.at(-1)!;
    expect(run.name).toBe(result.executionName);
    const { tasks, calls } = fakes(harness, new Map());
    const outcome = await harness.run({ input: run.input, executionName: run.name, fakes: tasks });
    expect(outcome.status).toBe('FAILED');
    const message = (calls['Notify failure'][0] as { Message: string }).Message;
    expect(message).toContain('is not an export segpipe recognises');
    for (const format of ['groundtruth', 'lookoutvision', 'cvat', 'voc', 'coco', 'labelstudio']) expect(message).toContain(format);
  });
});
