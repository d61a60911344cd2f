import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../../lambda/convert/stores/s3-object-store';
import { closeRound, queueCorrection, takeCorrectionsTurn } from '../../../lambda/labelstudio/corrections';
import { readBatchState, takeBatchSnapshot } from '../../../lambda/workflow/batch';
import { acquireDeployLock } from '../../../lambda/workflow/deploy-lock';
import { takeImportTurn } from '../../../lambda/workflow/import-turns';
import { runResourceNames } from '../../../lambda/workflow/names';
import { reportUncaughtRunEnd } from '../../../lambda/workflow/run-ended';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../local/embedded-s3-server';

/** Runs that end where the workflow cannot report them (stopped, timed out, past a service limit). */
describe('an execution that ended FAILED, TIMED_OUT or ABORTED', () => {
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: ['inbox', 'artifacts'] });
    store = new S3ObjectStore(server.client());
  });
  afterAll(async () => {
    store.client.destroy();
    await server.close();
  });

  async function snapshotOf(batch: string) {
    await store.client.send(new PutObjectCommand({ Bucket: 'inbox', Key: `images/${batch}/a.jpg`, Body: 'x' }));
    await takeBatchSnapshot({ store, inboxBucket: 'inbox', artifactsBucket: 'artifacts', batch, generation: 0 });
  }
  const event = (name: string, status: string, input: unknown) => ({
    detail: {
      name,
      status,
      input: JSON.stringify(input),
      error: null,
      cause: null,
      startDate: Date.UTC(2026, 11, 1, 10),
      stopDate: Date.UTC(2026, 11, 1, 11),
    },
  });

  test('timed out before labeling: reported, notified, and its images given back', async () => {
    await snapshotOf('late');
    const asked: string[] = [];
    const sent: { subject: string; message: string }[] = [];
    const verdict = await reportUncaughtRunEnd({
      event: event('late-g0', 'TIMED_OUT', { batch: 'late', generation: 0 }),
      store,
      bucket: 'artifacts',
      resourcePrefix: 'segpipe',
      minimumMiou: 0.5,
      labeling: true,
      labelingJobExists: async (name) => {
        asked.push(name);
        return false;
      },
      notify: async (subject, message) => {
        sent.push({ subject, message });
      },
    });
    expect(asked).toEqual([runResourceNames('segpipe', 'late-g0').labelingJob]);
    expect(verdict).toMatchObject({
      action: 'reported',
      released: true,
      report: {
        status: 'failed',
        batch: 'late',
        reason: expect.stringContaining(
          'ExecutionTIMED_OUT: no cause given; the execution ended TIMED_OUT where the workflow could not report it; its images are given back',
        ),
      },
    });
    expect((await readBatchState(store, 'artifacts', 'late')).released).toEqual([0]);
    expect(JSON.parse((await store.read('s3://artifacts/runs/late-g0/report.json')).toString())).toMatchObject({
      runId: 'late-g0',
      status: 'failed',
      durations: { totalSeconds: 3600 },
    });
    expect(sent).toEqual([
      { subject: 'segpipe: run for late failed', message: expect.stringContaining('Report: s3://artifacts/runs/late-g0/report.json') },
    ]);
  });

  test('aborted after its labeling job started: reported, but the images stay taken (their labels are paid for)', async () => {
    await snapshotOf('paid');
    const verdict = await reportUncaughtRunEnd({
      event: event('paid-g0', 'ABORTED', { batch: 'paid', generation: 0 }),
      store,
      bucket: 'artifacts',
      resourcePrefix: 'segpipe',
      minimumMiou: 0.5,
      labeling: true,
      labelingJobExists: async () => true,
      notify: async () => undefined,
    });
    expect(verdict).toMatchObject({
      action: 'reported',
      released: false,
      report: { reason: 'ExecutionABORTED: no cause given; the execution ended ABORTED where the workflow could not report it' },
    });
    expect((await readBatchState(store, 'artifacts', 'paid')).released).toBeUndefined();
    expect((await store.client.send(new HeadObjectCommand({ Bucket: 'artifacts', Key: 'runs/paid-g0/report.json' }))).ContentType).toBe(
      'application/json',
    );
  });

  test('a run that wrote its own report is left alone: no second report, notification or release; its staging area is removed all the same', async () => {
    await snapshotOf('done');
    await store.write('s3://artifacts/runs/done-g0/report.json', Buffer.from('{"status":"failed"}'), 'application/json');
    // What the run converted and never committed, beside what it must keep and another run's staging.
    for (const key of [
      'runs/done-g0/staging/train/a.jpg',
      'runs/done-g0/staging/train_annotation/a.png',
      'runs/done-g0/conversion/chunk-00000.json',
      'runs/done-g01/staging/train/b.jpg',
    ]) {
      await store.write(`s3://artifacts/${key}`, Buffer.from('x'), 'application/octet-stream');
    }
    // It held the deploy lock when it ended: the next run must be able to deploy.
    expect(await acquireDeployLock(store, 'artifacts', 'done-g0', 3600)).toEqual({ acquired: true });
    const notify = jest.fn();
    const labelingJobExists = jest.fn();
    const verdict = await reportUncaughtRunEnd({
      event: event('done-g0', 'FAILED', { batch: 'done', generation: 0 }),
      store,
      bucket: 'artifacts',
      resourcePrefix: 'segpipe',
      minimumMiou: 0.5,
      labeling: true,
      labelingJobExists,
      notify,
    });
    expect(verdict).toEqual({ action: 'already-reported' });
    expect(notify).not.toHaveBeenCalled();
    expect(labelingJobExists).not.toHaveBeenCalled();
    expect((await store.read('s3://artifacts/runs/done-g0/report.json')).toString()).toBe('{"status":"failed"}');
    expect((await readBatchState(store, 'artifacts', 'done')).released).toBeUndefined();
    expect(await acquireDeployLock(store, 'artifacts', 'next-run', 3600)).toEqual({ acquired: true });
    expect((await store.list('artifacts', 'runs/done-g0')).map((o) => o.key).sort()).toEqual([
      'runs/done-g0/conversion/chunk-00000.json',
      'runs/done-g0/report.json',
      'runs/done-g01/staging/train/b.jpg',
    ]);
  });

  /** An execution aborted with `input`, on a stack without a SageMaker workforce; nothing is notified. */
  const aborted = (name: string, input: unknown, stack: { labelStudio?: boolean } = {}) =>
    reportUncaughtRunEnd({
      event: event(name, 'ABORTED', input),
      store,
      bucket: 'artifacts',
      resourcePrefix: 'segpipe',
      minimumMiou: 0.5,
      labeling: false,
      ...stack,
      labelingJobExists: async () => false,
      notify: async () => undefined,
    });

  test("a Label Studio stack's ended run ends its round's conversion, or its corrections turn: the batch's corrections go on", async () => {
    const end = (name: string, input: unknown) => aborted(name, input, { labelStudio: true });
    const take = (generation: number) =>
      takeCorrectionsTurn({
        store,
        artifactsBucket: 'artifacts',
        inboxBucket: 'inbox',
        batch: 'ls',
        generation,
        runId: `ls-c${generation}`,
      });
    const correction = { batch: 'ls', round: '3', image: 's3://inbox/images/ls/a.jpg', annotationKey: 'labelstudio/annotations/5' };
    await closeRound(store, 'artifacts', 'ls', '3');
    await queueCorrection(store, 'artifacts', correction);
    expect(await take(0)).toMatchObject({ turn: 'wait' });
    // The round's run (its round is its generation) was stopped while converting.
    await end('ls-g3', { batch: 'ls', generation: 3 });
    expect(await take(0)).toMatchObject({ turn: 'taken', files: 1 });
    expect(await queueCorrection(store, 'artifacts', correction)).toBe(1);
    expect(await take(1)).toMatchObject({ turn: 'wait' });
    await end('ls-c0', { batch: 'ls', correctionsGeneration: 0 });
    expect(await take(1)).toMatchObject({ turn: 'taken', files: 1 });
  });

  test("an import's ended run ends its turn, so the export's next upload runs; an input naming no turn ends none", async () => {
    const end = (name: string, input: unknown) => aborted(name, input);
    const exportUri = 's3://inbox/labeled/imp/coco.json';
    expect(await takeImportTurn(store, 'artifacts', 'imp', 'labeled/imp/coco.json', 0)).toBe('taken');
    expect(await takeImportTurn(store, 'artifacts', 'imp', 'labeled/imp/coco.json', 1)).toBe('wait');
    // Inputs that name no turn of this export: no batch, no export, no generation, an export that is no S3 location.
    await end('imp-x1', { export: exportUri, importGeneration: 0 });
    await end('imp-x2', { batch: 'imp', importGeneration: 0 });
    await end('imp-x3', { batch: 'imp', export: exportUri });
    await end('imp-x4', { batch: 'imp', export: '/home/me/coco.json', importGeneration: 0 });
    expect(await takeImportTurn(store, 'artifacts', 'imp', 'labeled/imp/coco.json', 1)).toBe('wait');
    await end('imp-0', { batch: 'imp', export: exportUri, importGeneration: 0 });
    expect(await takeImportTurn(store, 'artifacts', 'imp', 'labeled/imp/coco.json', 1)).toBe('taken');
  });

  test('an import, or an input that is not JSON, is reported with nothing to give back', async () => {
    const verdict = await reportUncaughtRunEnd({
      event: {
        detail: {
          name: 'import-1',
          status: 'FAILED',
          input: 'not json',
          error: 'States.DataLimitExceeded',
          cause: 'The state/task returned a result with a size exceeding the maximum number of bytes service limit.',
        },
      },
      store,
      bucket: 'artifacts',
      resourcePrefix: 'segpipe',
      minimumMiou: 0.5,
      labeling: false,
      labelingJobExists: async () => false,
      notify: async () => undefined,
    });
    expect(verdict).toMatchObject({
      action: 'reported',
      released: false,
      report: { batch: 'unknown', reason: expect.stringMatching(/^States\.DataLimitExceeded: The state\/task returned/) },
    });
  });

  test.each([
    ['null', 'odd-1'],
    ['[]', 'odd-2'],
    ['"late"', 'odd-3'],
    ['7', 'odd-4'],
  ])('an input that is JSON but no object (%s) is reported as an unknown batch', async (input, name) => {
    const verdict = await reportUncaughtRunEnd({
      event: { detail: { name, status: 'FAILED', input, error: null, cause: null } },
      store,
      bucket: 'artifacts',
      resourcePrefix: 'segpipe',
      minimumMiou: 0.5,
      labeling: true,
      labelingJobExists: async () => false,
      notify: async () => undefined,
    });
    expect(verdict).toMatchObject({ action: 'reported', released: false, report: { batch: 'unknown' } });
  });

  test.each([
    ['a batch without a generation', { batch: 'b1' }, 'half-1'],
    ['a generation that is no whole number', { batch: 'b1', generation: '0' }, 'half-2'],
    ['a generation without a batch', { generation: 0 }, 'half-3'],
    ['a batch that is no string', { batch: 7, generation: 0 }, 'half-4'],
  ])('an input with %s is reported with nothing given back', async (_, input, name) => {
    await snapshotOf('b1');
    const verdict = await reportUncaughtRunEnd({
      event: event(name, 'FAILED', input),
      store,
      bucket: 'artifacts',
      resourcePrefix: 'segpipe',
      minimumMiou: 0.5,
      labeling: false,
      labelingJobExists: async () => false,
      notify: async () => undefined,
    });
    expect(verdict).toMatchObject({ action: 'reported', released: false });
    expect((await readBatchState(store, 'artifacts', 'b1')).released ?? []).toEqual([]);
  });
});
