import { annotatedPrefix } from '../../../lambda/labelstudio/workflow-tasks';
import { takeBatchSnapshot } from '../../../lambda/workflow/batch';
import { lambdaContext } from '../../../local/lambda-invocation';
import { useLambdaEnvironment } from '../../helpers/lambda-module';

/**
 * The steps before labeling as deployed: the run's preparation under each labeling set-up (a Ground
 * Truth workforce, none, Label Studio), and, lightly (their modules are still changing), Label Studio's
 * task writing and annotation count. Each handler module loaded with its settings, S3 on the embedded server.
 */
describe('the labeling handlers', () => {
  const env = useLambdaEnvironment(['inbox', 'artifacts']);
  const message = (text: string) => env.logged().findLast((line) => line.message === text);
  const base = { artifactsBucket: 'artifacts', resourcePrefix: 'seg', labelClasses: ['turtle'] };
  let snapshot: { manifest: string; count: number };

  beforeAll(async () => {
    await Promise.all(
      ['a.jpg', 'b.jpg', 'c.png'].map((name) => env.store.write(`s3://inbox/images/lab/${name}`, Buffer.from('x'), 'image/jpeg')),
    );
    const taken = await takeBatchSnapshot({
      store: env.store,
      inboxBucket: 'inbox',
      artifactsBucket: 'artifacts',
      batch: 'lab',
      generation: 0,
    });
    snapshot = { manifest: taken.imagesManifest, count: taken.images };
  });

  describe('prepare-run', () => {
    test("with a Ground Truth workforce: names the run's resources and writes the labeling job's inputs from the snapshot", async () => {
      const { handler } = await env.loadFresh(
        'prepare-run',
        { ...base, workforce: 'private' },
        () => import('../../../lambda/handlers/prepare-run'),
      );
      const prepared = await handler(
        { runId: 'run-gt', input: { batch: 'lab', generation: 0, imagesManifest: snapshot.manifest, imageCount: snapshot.count } },
        lambdaContext('prepare-run'),
      );
      expect(prepared).toEqual({
        runId: 'run-gt',
        batch: 'lab',
        mode: 'label',
        names: expect.objectContaining({ labelingJob: expect.stringMatching(/^seg-/), model: expect.stringMatching(/^seg-/) }),
        labeling: {
          inputManifestUri: 's3://artifacts/runs/run-gt/labeling/input.manifest',
          labelCategoriesUri: 's3://artifacts/runs/run-gt/labeling/label-categories.json',
          uiTemplateUri: 's3://artifacts/runs/run-gt/labeling/template.liquid',
          outputPath: 's3://artifacts/runs/run-gt/labeling/output/',
        },
        images: 3,
      });
      expect((await env.store.read(prepared.labeling!.inputManifestUri)).equals(await env.store.read(snapshot.manifest))).toBe(true);
      expect((await env.store.read(prepared.labeling!.labelCategoriesUri)).toString()).toContain('turtle');
      expect(message('labeling inputs written')).toMatchObject({ images: 3, inputManifestUri: prepared.labeling!.inputManifestUri });

      // A list of images typed by hand counts its images.
      const listed = await handler(
        { runId: 'run-list', input: { batch: 'lab', images: ['s3://inbox/images/lab/a.jpg', 's3://inbox/images/lab/b.jpg'] } },
        lambdaContext('prepare-run'),
      );
      expect(listed).toMatchObject({ mode: 'label', images: 2 });
      // Labels made elsewhere are imported: nothing is written for labeling, under the current name and the older one.
      for (const input of [
        { batch: 'lab', export: 's3://inbox/labeled/lab/coco.json', importGeneration: 0 },
        { batch: 'lab', manifest: 's3://inbox/labeled/lab/coco.json' },
      ]) {
        expect(await handler({ runId: 'run-imp', input }, lambdaContext('prepare-run'))).toEqual({
          runId: 'run-imp',
          batch: 'lab',
          mode: 'import',
          names: expect.any(Object),
          export: 's3://inbox/labeled/lab/coco.json',
          // An import reads the whole export; only a corrections run names its own list of files.
          labelStudioFiles: '',
          images: 0,
        });
        expect(message('importing labels')).toMatchObject({ export: 's3://inbox/labeled/lab/coco.json', runId: 'run-imp', batch: 'lab' });
      }
      expect(await env.store.list('artifacts', 'runs/run-imp/')).toEqual([]);
    });

    test('without a workforce: names the resources and writes nothing; the run stops at its workforce check', async () => {
      const { handler } = await env.loadFresh(
        'prepare-run',
        { ...base, workforce: 'none' },
        () => import('../../../lambda/handlers/prepare-run'),
      );
      const prepared = await handler(
        { runId: 'run-none', input: { batch: 'lab', imagesManifest: snapshot.manifest, imageCount: 3 } },
        lambdaContext('prepare-run'),
      );
      expect(prepared).toEqual({ runId: 'run-none', batch: 'lab', mode: 'label', names: expect.any(Object), images: 3 });
      expect(await env.store.list('artifacts', 'runs/run-none/')).toEqual([]);
    });

    test("with Label Studio: the snapshot's images cut into task chunks under the run, the round being the batch's generation", async () => {
      const { handler } = await env.loadFresh(
        'prepare-run',
        { ...base, workforce: 'none', labelStudioInbox: 'inbox' },
        () => import('../../../lambda/handlers/prepare-run'),
      );
      const prepared = await handler(
        { runId: 'run-ls', input: { batch: 'lab', generation: 0, imagesManifest: snapshot.manifest, imageCount: 3 } },
        lambdaContext('prepare-run'),
      );
      expect(prepared).toEqual({
        runId: 'run-ls',
        batch: 'lab',
        mode: 'label',
        names: expect.any(Object),
        labelStudio: { round: '0', tasksPrefix: 's3://inbox/labelstudio/tasks/lab/0/', tasks: 3, chunks: [{ index: 0 }] },
        images: 3,
      });
      expect((await env.store.list('artifacts', 'runs/run-ls/labelstudio/')).map((o) => o.key)).toEqual([
        'runs/run-ls/labelstudio/chunk-00000.manifest',
      ]);
      expect(message('Label Studio tasks planned')).toMatchObject({ tasks: 3, chunks: 1, prefix: 's3://inbox/labelstudio/tasks/lab/0/' });
    });
  });

  test('write-labelstudio-tasks: before any model, one task per image of the chunk, without predictions', async () => {
    const settings = { artifactsBucket: 'artifacts', inboxBucket: 'inbox', endpointName: 'seg-endpoint', labelClasses: ['turtle'] };
    const { handler } = await env.load(
      'write-labelstudio-tasks',
      settings,
      () => import('../../../lambda/handlers/write-labelstudio-tasks'),
    );
    const summary = await handler(
      { runId: 'run-ls', batch: 'lab', round: '0', chunk: { index: 0 } },
      lambdaContext('write-labelstudio-tasks'),
    );
    expect(summary).toMatchObject({ index: 0, tasks: 3, predicted: 0 });
    expect(summary.prelabels).toContain('no model has been trained yet');
    expect(await env.store.list('inbox', 'labelstudio/tasks/lab/0/')).toHaveLength(3);
    // A model trained on other classes cannot pre-label this configuration's.
    await env.store.write('s3://artifacts/datasets/main/classes.json', Buffer.from('["BACKGROUND","rock"]'), 'application/json');
    const other = await handler(
      { runId: 'run-ls', batch: 'lab', round: '0', chunk: { index: 0 } },
      lambdaContext('write-labelstudio-tasks'),
    );
    expect(other).toMatchObject({ tasks: 3, predicted: 0 });
    expect(other.prelabels).toContain('the serving model knows no class turtle of labelClasses');
    expect(message('tasks written without predictions')).toMatchObject({
      reason: 'the serving model knows no class turtle of labelClasses',
    });
    await env.store.remove(['s3://artifacts/datasets/main/classes.json']);
  });

  test("count-annotations: waiting before the deadline; once every task is annotated, the round's files listed for the run", async () => {
    const settings = { artifactsBucket: 'artifacts', inboxBucket: 'inbox', deadlineHours: 24, minLabeledFraction: 0.5 };
    const { handler } = await env.load('count-annotations', settings, () => import('../../../lambda/handlers/count-annotations'));
    const count = () =>
      handler({ runId: 'run-ls', batch: 'lab', round: '0', tasks: 3, since: new Date().toISOString() }, lambdaContext('count-annotations'));
    expect(await count()).toMatchObject({ annotated: 0, tasks: 3, state: 'waiting' });
    expect(message('Label Studio annotations counted')).toMatchObject({ batch: 'lab', round: '0', annotated: 0, state: 'waiting' });
    for (const [task, file] of [
      ['a', '7'],
      ['b', '8'],
      ['c', '9'],
    ])
      await env.store.write(`s3://artifacts/${annotatedPrefix('lab', '0')}${task}/${file}`, Buffer.from('{}'), 'application/json');
    const done = await count();
    expect(done).toMatchObject({ annotated: 3, state: 'complete', labelStudioFiles: 's3://artifacts/runs/run-ls/labelstudio/files.json' });
    expect(JSON.parse((await env.store.read(done.labelStudioFiles!)).toString())).toEqual(
      ['7', '8', '9'].map((name) => `s3://inbox/labelstudio/annotations/${name}`),
    );
  });
});
