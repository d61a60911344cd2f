import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { readBatchState, takeBatchSnapshot, updateBatchState } from '../../../lambda/workflow/batch';
import { acquireDeployLock } from '../../../lambda/workflow/deploy-lock';
import { takeImportTurn } from '../../../lambda/workflow/import-turns';
import { lambdaContext } from '../../../local/lambda-invocation';
import { useLambdaEnvironment } from '../../helpers/lambda-module';

/**
 * The batch's and the run's bookkeeping steps as deployed: each handler module loaded with its
 * settings, S3 on the embedded server, driven with the payloads the state machine sends.
 */
describe('the batch and run bookkeeping handlers', () => {
  const env = useLambdaEnvironment(['inbox', 'artifacts']);
  const put = (key: string, body = 'x') => env.store.write(`s3://inbox/${key}`, Buffer.from(body), 'application/octet-stream');
  const message = (text: string) => env.logged().find((line) => line.message === text);

  test('check-batch: waits while the batch is not quiet; a _START newer than the last snapshot makes it ready, an older one does not', async () => {
    const { handler } = await env.load(
      'check-batch',
      { artifactsBucket: 'artifacts', inboxBucket: 'inbox', quietSeconds: 3600 },
      () => import('../../../lambda/handlers/check-batch'),
    );
    await Promise.all([put('images/quiet/a.jpg'), put('images/quiet/b.png'), put('images/other/c.jpg')]);
    const waiting = await handler({ batch: 'quiet' }, lambdaContext('check-batch'));
    expect(waiting).toEqual({
      ready: false,
      reason: expect.stringMatching(/^last upload \d s ago; waiting for 3600 s of quiet$/),
      images: 2,
    });
    expect(message('batch checked')).toMatchObject({ batch: 'quiet', ready: false, images: 2 });

    await put('images/quiet/_START');
    expect(await handler({ batch: 'quiet' }, lambdaContext('check-batch'))).toEqual({
      ready: true,
      reason: '_START is present',
      images: 2,
    });
    // The batch's state is read from the artifacts bucket: a snapshot after the marker spends it.
    await updateBatchState(env.store, 'artifacts', 'quiet', (state) => ({
      ...state,
      snapshotAt: new Date(Date.now() + 60_000).toISOString(),
    }));
    expect(await handler({ batch: 'quiet' }, lambdaContext('check-batch'))).toMatchObject({ ready: false, images: 2 });
  });

  test('snapshot-batch: lists the batch in the inbox, writes its images manifest and ignored list in the artifacts bucket, logs what it left out', async () => {
    const { handler } = await env.load(
      'snapshot-batch',
      { artifactsBucket: 'artifacts', inboxBucket: 'inbox' },
      () => import('../../../lambda/handlers/snapshot-batch'),
    );
    await Promise.all([put('images/snap/a.jpg'), put('images/snap/b.jpeg'), put('images/snap/notes.txt')]);
    const snapshot = await handler({ batch: 'snap', generation: 0 }, lambdaContext('snapshot-batch'));
    expect(snapshot).toEqual({
      imagesManifest: expect.stringMatching(/^s3:\/\/artifacts\/batches\/[0-9a-f]+\/generations\/000000\/images\.manifest$/),
      ignoredList: expect.stringMatching(/^s3:\/\/artifacts\/batches\/[0-9a-f]+\/generations\/000000\//),
      images: 2,
      ignored: 1,
    });
    expect(
      (await env.store.read(snapshot.imagesManifest))
        .toString()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([{ 'source-ref': 's3://inbox/images/snap/a.jpg' }, { 'source-ref': 's3://inbox/images/snap/b.jpeg' }]);
    expect(JSON.parse((await env.store.read(snapshot.ignoredList)).toString())).toEqual([
      { key: 'images/snap/notes.txt', reason: expect.any(String) },
    ]);
    expect((await readBatchState(env.store, 'artifacts', 'snap')).generation).toBe(1);
    expect(message('objects of the batch ignored')).toMatchObject({ level: 'WARN', ignored: 1, list: snapshot.ignoredList });
    expect(message('batch snapshot taken')).toMatchObject({ batch: 'snap', generation: 0, images: 2, manifest: snapshot.imagesManifest });

    // A batch with nothing to leave out warns of nothing: the one warning is the first batch's.
    await put('images/clean/a.jpg');
    expect(await handler({ batch: 'clean', generation: 0 }, lambdaContext('snapshot-batch'))).toMatchObject({ images: 1, ignored: 0 });
    expect(env.logged().filter((line) => line.message === 'objects of the batch ignored')).toHaveLength(1);
  });

  test('take-import-turn: the first run of an export takes its turn, a later generation waits for it, a repeated one is stale', async () => {
    const { handler } = await env.load(
      'take-import-turn',
      { artifactsBucket: 'artifacts' },
      () => import('../../../lambda/handlers/take-import-turn'),
    );
    const turn = (generation: number) =>
      handler({ batch: 'imp', export: 's3://inbox/labeled/imp/coco.json', generation }, lambdaContext('take-import-turn'));
    expect(await turn(0)).toEqual({ turn: 'taken' });
    expect(message('import turn')).toMatchObject({
      batch: 'imp',
      export: 's3://inbox/labeled/imp/coco.json',
      generation: 0,
      turn: 'taken',
    });
    expect(await turn(1)).toEqual({ turn: 'wait' });
    expect(await turn(0)).toEqual({ turn: 'stale' });
    // The turns are kept per export file's key, in the artifacts bucket.
    expect(await takeImportTurn(env.store, 'artifacts', 'imp', 'labeled/imp/coco.json', 1)).toBe('wait');
    expect(await takeImportTurn(env.store, 'artifacts', 'imp', 'labeled/imp/other.json', 0)).toBe('taken');
  });

  test('deploy-lock: the first run takes the lock for its hold time; another run is told who holds it and until when', async () => {
    const { handler } = await env.load(
      'deploy-lock',
      { artifactsBucket: 'artifacts', holdSeconds: 600 },
      () => import('../../../lambda/handlers/deploy-lock'),
    );
    const before = Date.now();
    expect(await handler({ runId: 'run-a' }, lambdaContext('deploy-lock'))).toEqual({ acquired: true });
    expect(message('deploy lock taken')).toMatchObject({ runId: 'run-a', acquired: true });
    const refused = await handler({ runId: 'run-b' }, lambdaContext('deploy-lock'));
    expect(refused).toEqual({ acquired: false, holder: 'run-a', until: expect.any(String) });
    const until = Date.parse((refused as { until: string }).until);
    expect(until).toBeGreaterThanOrEqual(before + 600_000 - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(message('deploy lock held by another run')).toMatchObject({ runId: 'run-b', holder: 'run-a' });
  });

  describe('finish-run', () => {
    const settings = { artifactsBucket: 'artifacts', resourcePrefix: 'seg', minValidationMiou: 0.5 };
    const load = () => env.load('finish-run', settings, () => import('../../../lambda/handlers/finish-run'));
    const startedAt = new Date(Date.now() - 90_000).toISOString();
    const snapshotOf = async (batch: string) => {
      await put(`images/${batch}/a.jpg`);
      const snapshot = await takeBatchSnapshot({
        store: env.store,
        inboxBucket: 'inbox',
        artifactsBucket: 'artifacts',
        batch,
        generation: 0,
      });
      return { batch, generation: 0, imagesManifest: snapshot.imagesManifest, imageCount: snapshot.images };
    };
    const lockHolder = async () => {
      const answer = await acquireDeployLock(env.store, 'artifacts', 'probe', 1);
      return answer.acquired ? 'nobody' : answer.holder;
    };

    test('a deployed run: the report under the run, the notification naming the endpoint, and its deploy lock released', async () => {
      const { handler } = await load();
      await env.store.remove(['s3://artifacts/locks/deploy.json']);
      await acquireDeployLock(env.store, 'artifacts', 'run-d', 600);
      const state = {
        batch: 'dep',
        run: { runId: 'run-d', batch: 'dep', mode: 'import', names: { model: 'seg-model-run-d' } },
        metrics: { miou: [0.71234], pixelAccuracy: [0.9] },
      };
      const result = await handler({ status: 'deployed', runId: 'exec-d', state, startedAt }, lambdaContext('finish-run'));
      expect(result.reportUri).toBe('s3://artifacts/runs/exec-d/report.json');
      expect(result.detail).toMatchObject({
        runId: 'exec-d',
        batch: 'dep',
        status: 'deployed',
        endpoint: 'seg-endpoint',
        model: 'seg-model-run-d',
        metrics: { 'validation:mIOU': 0.71234, minimumMiou: 0.5 },
        startedAt,
      });
      expect(result.detail.durations.totalSeconds).toBeGreaterThanOrEqual(90);
      expect(Date.parse(result.detail.finishedAt)).toBeGreaterThan(Date.parse(startedAt));
      expect(result.subject).toBe('segpipe: dep deployed to seg-endpoint');
      expect(result.message).toContain('Report: s3://artifacts/runs/exec-d/report.json');
      expect(JSON.parse((await env.store.read(result.reportUri)).toString())).toEqual(result.detail);
      const head = await env.store.client.send(new HeadObjectCommand({ Bucket: 'artifacts', Key: 'runs/exec-d/report.json' }));
      expect(head.ContentType).toBe('application/json');
      // The lock named the run's id, not the execution's: it is kept.
      expect(await lockHolder()).toBe('run-d');
      expect(message('run finished')).toMatchObject({ runId: 'exec-d', status: 'deployed' });
    });

    test("the run's own deploy lock is released, another run's is kept", async () => {
      const { handler } = await load();
      await env.store.remove(['s3://artifacts/locks/deploy.json']);
      await acquireDeployLock(env.store, 'artifacts', 'exec-l', 600);
      await handler({ status: 'not-deployed', runId: 'exec-l', state: { batch: 'l' }, startedAt }, lambdaContext('finish-run'));
      expect(message('deploy lock released')).toMatchObject({ runId: 'exec-l' });
      expect(await lockHolder()).toBe('nobody');
      await env.store.remove(['s3://artifacts/locks/deploy.json']);
      await acquireDeployLock(env.store, 'artifacts', 'someone-else', 600);
      await handler({ status: 'failed', runId: 'exec-m', state: { batch: 'l' }, startedAt }, lambdaContext('finish-run'));
      expect(await lockHolder()).toBe('someone-else');
      await env.store.remove(['s3://artifacts/locks/deploy.json']);
    });

    test('a run that failed before labeling gives its snapshot back; a labeled, annotated or successful one keeps it', async () => {
      const { handler } = await load();
      const finish = (status: 'failed' | 'not-deployed', state: Record<string, unknown>) =>
        handler({ status, runId: `exec-${state.batch}`, state, startedAt }, lambdaContext('finish-run'));
      const released = async (batch: string) => (await readBatchState(env.store, 'artifacts', batch)).released ?? [];

      await finish('failed', { ...(await snapshotOf('give')), error: { Error: 'NoWorkforce', Cause: 'no workforce' } });
      expect(await released('give')).toEqual([0]);
      expect(message('snapshot released')).toMatchObject({ batch: 'give', generation: 0, images: 1 });

      await finish('failed', { ...(await snapshotOf('job')), labeling: { LabelingJobName: 'seg-label-x' } });
      await finish('failed', { ...(await snapshotOf('complete')), annotations: { state: 'complete', annotated: 1, tasks: 1 } });
      await finish('failed', { ...(await snapshotOf('enough')), annotations: { state: 'enough', annotated: 1, tasks: 1 } });
      await finish('not-deployed', await snapshotOf('kept'));
      for (const batch of ['job', 'complete', 'enough', 'kept']) expect(await released(batch)).toEqual([]);

      // Waiting annotations do not label the images: they are given back.
      await finish('failed', { ...(await snapshotOf('waiting')), annotations: { state: 'waiting', annotated: 0, tasks: 1 } });
      expect(await released('waiting')).toEqual([0]);
      // Without its manifest (an import's run) or its generation there is nothing to give back.
      const { imagesManifest: _m, ...noManifest } = await snapshotOf('no-manifest');
      await finish('failed', noManifest);
      const { generation: _g, ...noGeneration } = await snapshotOf('no-generation');
      await finish('failed', noGeneration);
      for (const batch of ['no-manifest', 'no-generation']) expect(await released(batch)).toEqual([]);
    });

    test("an import run's end lets the export's next upload take its turn", async () => {
      const { handler } = await load();
      const exportKey = 'labeled/turns/coco.json';
      expect(await takeImportTurn(env.store, 'artifacts', 'turns', exportKey, 0)).toBe('taken');
      expect(await takeImportTurn(env.store, 'artifacts', 'turns', exportKey, 1)).toBe('wait');
      const state = { batch: 'turns', export: `s3://inbox/${exportKey}`, importGeneration: 0 };
      // An import state without its generation (started by hand) finishes no turn.
      await handler(
        { status: 'failed', runId: 'exec-t0', state: { ...state, importGeneration: undefined }, startedAt },
        lambdaContext('finish-run'),
      );
      expect(await takeImportTurn(env.store, 'artifacts', 'turns', exportKey, 1)).toBe('wait');
      // Nor does one without its batch, or whose export is no s3:// address.
      await handler({ status: 'failed', runId: 'exec-t2', state: { ...state, batch: undefined }, startedAt }, lambdaContext('finish-run'));
      await handler({ status: 'failed', runId: 'exec-t3', state: { ...state, export: exportKey }, startedAt }, lambdaContext('finish-run'));
      expect(await takeImportTurn(env.store, 'artifacts', 'turns', exportKey, 1)).toBe('wait');
      await handler({ status: 'not-deployed', runId: 'exec-t1', state, startedAt }, lambdaContext('finish-run'));
      expect(await takeImportTurn(env.store, 'artifacts', 'turns', exportKey, 1)).toBe('taken');
    });
  });
});
