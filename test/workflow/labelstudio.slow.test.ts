import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { readPngDirect } from '../../lambda/convert/codecs/png-reader';
import { correctionsExecutionName } from '../../lambda/labelstudio/corrections';
import { maskPrediction } from '../../lambda/labelstudio/tasks';
import { readDatasetIndex } from '../../lambda/workflow/dataset-index';
import { datasetLayout } from '../../lambda/workflow/layout';
import { lambdaContext, objectCreatedEvent } from '../../local/lambda-invocation';
import { simulateAnnotator } from '../../local/simulated-annotator';
import type { TrueLabels } from '../../local/simulated-workforce';
import type { TaskHandler } from '../../local/workflow-runner';
import { ENDPOINT, fakes } from '../helpers/workflow-fakes';
import {
  ARTIFACTS_BUCKET,
  INBOX_BUCKET,
  startWorkflowHarness,
  uploadSyntheticBatch,
  type WorkflowHarness,
} from '../helpers/workflow-harness';

const CLASSES = ['turtle', 'rock'];
const CONFIG = {
  labelClasses: CLASSES,
  split: { validationFraction: 0.3 },
  training: { minSamples: 2 },
  labeling: { labelStudio: { origin: 'https://ls.example.com', deadlineHours: 1, minLabeledFraction: 0.5 } },
};

const objectCreated = (key: string) => objectCreatedEvent(INBOX_BUCKET, key);

describe('a default stack labels an images batch with Label Studio', () => {
  let harness: WorkflowHarness;
  const truth = new Map<string, TrueLabels>();

  beforeAll(async () => {
    harness = await startWorkflowHarness(CONFIG);
  });
  afterAll(async () => harness?.close());

  /** The person in Label Studio: annotates the tasks of a prefix, and each target-storage file's event goes to the start Lambda. */
  const annotate = async (tasksPrefix: string, options: { shape?: 'annotation' | 'task'; only?: number; firstId?: number } = {}) => {
    let left = options.only ?? Infinity;
    const written = await simulateAnnotator({
      store: harness.store,
      inboxBucket: INBOX_BUCKET,
      tasksPrefix,
      classes: CLASSES,
      shape: options.shape,
      firstId: options.firstId,
      truthOf: (image) => (left-- > 0 ? truth.get(image) : undefined),
    });
    return Promise.all(written.map(async ({ key }) => ({ key, result: await harness.startRun(objectCreated(key)) })));
  };

  test('tasks per image of the generation, a wait until every task is annotated (both target-file shapes), then the annotations convert and train', async () => {
    const images = await uploadSyntheticBatch(harness, truth, 'turtles', 8, 300);
    await harness.store.write(`s3://${INBOX_BUCKET}/images/turtles/_START`, Buffer.alloc(0), 'application/octet-stream');
    // An annotation of another labeling round of the batch (another run's) is under the same prefix: not
    // even read, since the run converts its round's files as the count listed them.
    await harness.store.write(
      `s3://${INBOX_BUCKET}/labelstudio/annotations/900`,
      Buffer.from(
        JSON.stringify({
          id: 900,
          result: [],
          was_cancelled: false,
          task: { id: 900, data: { image: images[0] }, meta: { batch: 'turtles', generation: '7', run: 'other' }, project: 1 },
        }),
      ),
      'application/json',
    );
    const { tasks, calls } = fakes(harness, truth);
    const counts: unknown[] = [];
    const recorded: unknown[] = [];
    const count = harness.lambdaStates['Count annotations'];
    const outcome = await harness.run({
      input: { batch: 'turtles', generation: 0 },
      executionName: 'turtles-g0',
      fakes: {
        ...tasks,
        // Nothing is annotated at the first count: the run waits; by the second, every task is.
        'Count annotations': async (input) => {
          if (counts.length === 1) {
            recorded.push(...(await annotate(`s3://${INBOX_BUCKET}/labelstudio/tasks/turtles/0/`, { only: 5, shape: 'annotation' })));
            // The other three come back as task files (FUTURE_SAVE_TASK_TO_STORAGE): the annotator now knows them.
            recorded.push(...(await annotate(`s3://${INBOX_BUCKET}/labelstudio/tasks/turtles/0/`, { shape: 'task', firstId: 100 })));
          }
          const answer = await count(input);
          counts.push(answer);
          return answer;
        },
      },
    });
    expect({ status: outcome.status, error: outcome.error, cause: outcome.cause }).toEqual({
      status: 'SUCCEEDED',
      error: undefined,
      cause: undefined,
    });
    expect(outcome.path).toEqual(
      expect.arrayContaining([
        'Write Label Studio tasks',
        'Write task chunk',
        'Count annotations',
        'Wait for annotations',
        'Use Label Studio annotations',
        'Plan conversion',
        'Assemble channels',
        'Train',
      ]),
    );
    expect(outcome.path).not.toContain('Label');
    const notified = (calls['Notify tasks ready'][0] as { Message: string }).Message;
    expect(notified).toContain(`8 Label Studio tasks of batch turtles are ready under s3://${INBOX_BUCKET}/labelstudio/tasks/turtles/0/`);
    expect(notified).toContain(
      'Pre-labels from the serving model: ["without pre-labels: no model has been trained yet (the dataset has no classes)"]',
    );
    expect(counts).toEqual([
      expect.objectContaining({ annotated: 0, tasks: 8, state: 'waiting' }),
      expect.objectContaining({ annotated: 8, tasks: 8, state: 'complete' }),
    ]);
    // 5 annotation files and 8 task files (a task annotated twice counts once), each recorded, none starting a run.
    expect(recorded).toHaveLength(13);
    expect(recorded.every((r) => (r as { result: { action: string } }).result.action === 'recorded')).toBe(true);

    // One .json task per image under the generation's prefix, nothing else there.
    const taskFiles = await harness.store.listUnder(`s3://${INBOX_BUCKET}/labelstudio/tasks/turtles/0/`);
    expect(taskFiles).toHaveLength(8);
    expect(taskFiles.every((f) => f.endsWith('.json'))).toBe(true);
    const written = await Promise.all(taskFiles.map(async (f) => JSON.parse((await harness.store.read(f)).toString('utf8'))));
    expect(written.map((t) => t.data.image).sort()).toEqual([...images].sort());
    expect(written.every((t) => t.meta.batch === 'turtles' && t.meta.generation === '0' && t.meta.run === 'turtles-g0')).toBe(true);

    const report = JSON.parse((await harness.store.read(`s3://${ARTIFACTS_BUCKET}/runs/turtles-g0/report.json`)).toString('utf8'));
    // The five images annotated in both shapes keep one annotation each; the other round's file is not read.
    expect(report).toMatchObject({ status: 'deployed', counts: { converted: 8, skipped: 5 }, classes: ['BACKGROUND', ...CLASSES] });
    const reasons = report.skippedItems.map((s: { reason: string }) => s.reason);
    expect(reasons.filter((r: string) => /^duplicate of line/.test(r))).toHaveLength(5);
    const listed: string[] = JSON.parse(
      (await harness.store.read(`s3://${ARTIFACTS_BUCKET}/runs/turtles-g0/labelstudio/files.json`)).toString('utf8'),
    );
    expect(listed).toHaveLength(13);
    expect(listed).not.toContain(`s3://${INBOX_BUCKET}/labelstudio/annotations/900`);
  });

  test("the next generation's tasks carry the serving model's pre-labels: one brush region per class, named by the dataset's classes", async () => {
    // A batch after the first run, whose model now serves.
    const images = await uploadSyntheticBatch(harness, truth, 'turtles-more', 3, 500);
    await harness.store.write(`s3://${INBOX_BUCKET}/images/turtles-more/_START`, Buffer.alloc(0), 'application/octet-stream');
    const { tasks, calls } = fakes(harness, truth, { endpointExists: true });
    const outcome = await harness.run({
      input: { batch: 'turtles-more', generation: 0 },
      executionName: 'turtles-more-g0',
      fakes: {
        ...tasks,
        'Count annotations': async () => ({ state: 'short', reason: 'stopped by the test after the tasks were written' }),
      },
    });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'LabelingDeadline' });
    const taskFiles = await harness.store.listUnder(`s3://${INBOX_BUCKET}/labelstudio/tasks/turtles-more/0/`);
    const written = await Promise.all(taskFiles.map(async (f) => JSON.parse((await harness.store.read(f)).toString('utf8'))));
    expect(written.map((t) => t.data.image).sort()).toEqual([...images].sort());
    for (const task of written) {
      const classes = [...new Set(truth.get(task.data.image)!.classIndices)].filter((i) => i > 0).sort();
      expect(task.predictions).toHaveLength(1);
      expect(task.predictions[0].model_version).toBe(ENDPOINT);
      expect(task.predictions[0].result.map((r: { value: { brushlabels: string[] } }) => r.value.brushlabels[0])).toEqual(
        classes.map((i) => CLASSES[i - 1]),
      );
      expect(
        task.predictions[0].result.every(
          (r: { from_name: string; to_name: string; type: string }) =>
            r.from_name === 'brush' && r.to_name === 'image' && r.type === 'brushlabels',
        ),
      ).toBe(true);
    }
    expect((calls['Notify tasks ready'][0] as { Message: string }).Message).toContain(
      'Pre-labels from the serving model: ["pre-labeled by the serving model"]',
    );
  });

  test('a chunk whose invocation runs out of time is invoked again from where it stopped, until every image has its pre-labels', async () => {
    const images = await uploadSyntheticBatch(harness, truth, 'turtles-slow', 3, 900);
    await harness.store.write(`s3://${INBOX_BUCKET}/images/turtles-slow/_START`, Buffer.alloc(0), 'application/octet-stream');
    const { tasks, calls } = fakes(harness, truth, { endpointExists: true });
    const { handler } = await import('../../lambda/handlers/write-labelstudio-tasks');
    const inputs: { progress: { next?: number } }[] = [];
    const summaries: { next?: number }[] = [];
    const outcome = await harness.run({
      input: { batch: 'turtles-slow', generation: 0 },
      executionName: 'turtles-slow-g0',
      fakes: {
        ...tasks,
        // The first invocation is left only the write margin (3 minutes): it writes one image and stops.
        'Write task chunk': async (input) => {
          inputs.push(input as never);
          const summary = await handler(input as never, lambdaContext('write-labelstudio-tasks', inputs.length === 1 ? 180 : 900));
          summaries.push(summary as never);
          return summary;
        },
        'Count annotations': async () => ({ state: 'short', reason: 'stopped by the test after the tasks were written' }),
      },
    });
    expect(outcome.error).toBe('LabelingDeadline');
    expect(outcome.path).toContain('Chunk written?');
    expect(inputs.map((i) => i.progress.next)).toEqual([0, 1]);
    expect(summaries.map((s) => s.next)).toEqual([1, undefined]);
    expect(summaries[1]).toMatchObject({ tasks: 3, predicted: 3, prelabels: 'pre-labeled by the serving model' });
    const taskFiles = await harness.store.listUnder(`s3://${INBOX_BUCKET}/labelstudio/tasks/turtles-slow/0/`);
    const written = await Promise.all(taskFiles.map(async (f) => JSON.parse((await harness.store.read(f)).toString('utf8'))));
    expect(written.map((t) => t.data.image).sort()).toEqual([...images].sort());
    expect(written.every((t) => t.predictions?.length === 1)).toBe(true);
    expect((calls['Notify tasks ready'][0] as { Message: string }).Message).toContain(
      'Pre-labels from the serving model: ["pre-labeled by the serving model"]',
    );
  });

  test('an endpoint that fails never blocks labeling: the tasks are written without predictions', async () => {
    await uploadSyntheticBatch(harness, truth, 'turtles-again', 2, 600);
    await harness.store.write(`s3://${INBOX_BUCKET}/images/turtles-again/_START`, Buffer.alloc(0), 'application/octet-stream');
    harness.runtime.answer = () => 'error';
    try {
      const { tasks, calls } = fakes(harness, truth, { endpointExists: true });
      const summaries: unknown[] = [];
      const writeChunk = harness.lambdaStates['Write task chunk'];
      const outcome = await harness.run({
        input: { batch: 'turtles-again', generation: 0 },
        executionName: 'turtles-again-g0',
        fakes: {
          ...tasks,
          'Write task chunk': async (input) => {
            const summary = await writeChunk(input);
            summaries.push(summary);
            return summary;
          },
          'Count annotations': async () => ({ state: 'short', reason: 'stopped by the test after the tasks were written' }),
        },
      });
      expect(outcome.error).toBe('LabelingDeadline');
      expect(summaries).toEqual([expect.objectContaining({ index: 0, tasks: 2, predicted: 0 })]);
      const reasons = (summaries[0] as { noPrediction: Record<string, number> }).noPrediction;
      expect(Object.keys(reasons).every((r) => /^the endpoint failed \(\w+\): variant AllTraffic failed/.test(r))).toBe(true);
      expect(summaries[0]).toMatchObject({ prelabels: expect.stringMatching(/^without pre-labels: the endpoint failed \(\w+\)$/) });
      expect((calls['Notify tasks ready'][0] as { Message: string }).Message).toMatch(
        /Pre-labels from the serving model: \["without pre-labels: the endpoint failed \(\w+\)"\]/,
      );
      expect(Object.values(reasons).reduce((a, b) => a + b, 0)).toBe(2);
      const taskFiles = await harness.store.listUnder(`s3://${INBOX_BUCKET}/labelstudio/tasks/turtles-again/0/`);
      expect(taskFiles).toHaveLength(2);
      for (const f of taskFiles) expect(JSON.parse((await harness.store.read(f)).toString('utf8')).predictions).toBeUndefined();
    } finally {
      harness.runtime.answer = () => 'truth';
    }
  });

  test('at the deadline with too few annotated, the run fails, says so, and gives its images back to the batch', async () => {
    const images = await uploadSyntheticBatch(harness, truth, 'rocks', 6, 400);
    await harness.store.write(`s3://${INBOX_BUCKET}/images/rocks/_START`, Buffer.alloc(0), 'application/octet-stream');
    const { tasks } = fakes(harness, truth);
    const count = harness.lambdaStates['Count annotations'];
    const outcome = await harness.run({
      input: { batch: 'rocks', generation: 0 },
      executionName: 'rocks-g0',
      fakes: {
        ...tasks,
        // Two of six annotated, and the run began two hours ago: past the one-hour deadline.
        'Count annotations': async (input) => {
          await annotate(`s3://${INBOX_BUCKET}/labelstudio/tasks/rocks/0/`, { only: 2 });
          return count({ ...(input as object), since: new Date(Date.now() - 2 * 3600_000).toISOString() } as never);
        },
      },
    });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'LabelingDeadline' });
    expect(outcome.cause).toContain('2 of 6 tasks annotated at the deadline (1 h); labeling.labelStudio.minLabeledFraction asks for 3');
    expect(outcome.path).toEqual(expect.arrayContaining(['Too few annotations', 'Report failure']));
    const state = JSON.parse(
      (
        await harness.store.read(`s3://${ARTIFACTS_BUCKET}/${(await import('../../lambda/workflow/batch')).batchStateKey('rocks')}`)
      ).toString('utf8'),
    );
    expect(state.released).toEqual([0]);
    expect(images).toHaveLength(6);
  });

  test('a run that fails after its tasks were annotated keeps its images: they are not labeled again', async () => {
    await uploadSyntheticBatch(harness, truth, 'crabs', 4, 700);
    await harness.store.write(`s3://${INBOX_BUCKET}/images/crabs/_START`, Buffer.alloc(0), 'application/octet-stream');
    const { tasks } = fakes(harness, truth, { failTraining: true });
    const count = harness.lambdaStates['Count annotations'];
    const outcome = await harness.run({
      input: { batch: 'crabs', generation: 0 },
      executionName: 'crabs-g0',
      fakes: {
        ...tasks,
        'Count annotations': async (input) => {
          await annotate(`s3://${INBOX_BUCKET}/labelstudio/tasks/crabs/0/`);
          return count(input);
        },
      },
    });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.path).toContain('Use Label Studio annotations');
    const state = JSON.parse(
      (
        await harness.store.read(`s3://${ARTIFACTS_BUCKET}/${(await import('../../lambda/workflow/batch')).batchStateKey('crabs')}`)
      ).toString('utf8'),
    );
    expect(state.released).toBeUndefined();
  });

  test("an annotation saved after its run took the round's annotations goes to the batch's corrections run, whose item replaces the older one", async () => {
    const images = await uploadSyntheticBatch(harness, truth, 'seals', 5, 800);
    await harness.store.write(`s3://${INBOX_BUCKET}/images/seals/_START`, Buffer.alloc(0), 'application/octet-stream');
    const tasksPrefix = `s3://${INBOX_BUCKET}/labelstudio/tasks/seals/0/`;
    const sfn = mockClient(SFNClient);
    const asked: { name?: string; input?: string }[] = [];
    sfn.on(StartExecutionCommand).callsFake(async (request: { name: string; input: string }) => {
      asked.push({ name: request.name, input: request.input });
      return { executionArn: `arn:aws:states:us-east-1:123456789012:execution:segpipe:${request.name}`, startDate: new Date() };
    });
    try {
      let annotated: { key: string; task: { data: { image: string }; meta?: Record<string, unknown> } }[] = [];
      /** Label Studio's Update: the same target-storage file rewritten, newer, every pixel painted `rock`. */
      const update = async (index: number, changes: Record<string, unknown> = {}) => {
        const { key, task } = annotated[index];
        const { width, height } = truth.get(task.data.image)!;
        const { prediction } = maskPrediction({
          mask: new Uint8Array(width * height).fill(2),
          width,
          height,
          classes: CLASSES,
          modelVersion: 'x',
        });
        const id = Number(key.split('/').pop());
        const body = {
          id,
          result: prediction.result,
          was_cancelled: false,
          created_at: '2026-12-07T00:00:00.000000Z',
          updated_at: '2026-12-08T00:00:00.000000Z',
          task: { id, data: task.data, meta: task.meta, project: 1 },
          ...changes,
        };
        await harness.store.write(`s3://${INBOX_BUCKET}/${key}`, Buffer.from(JSON.stringify(body)), 'application/json');
        return harness.startRun(objectCreated(key));
      };
      const { tasks } = fakes(harness, truth);
      const plan = harness.lambdaStates['Plan conversion'];
      const whileConverting: unknown[] = [];
      const first = await harness.run({
        input: { batch: 'seals', generation: 0 },
        executionName: 'seals-g0',
        fakes: {
          ...tasks,
          'Count annotations': async (input) => {
            // The annotator answers the tasks in key order, ids from 200.
            const files = (await annotate(tasksPrefix, { firstId: 200 })).map((r) => r.key);
            const written = (await harness.store.listUnder(tasksPrefix)).sort();
            annotated = await Promise.all(
              written.map(async (f, i) => ({ key: files[i], task: JSON.parse((await harness.store.read(f)).toString('utf8')) })),
            );
            return harness.lambdaStates['Count annotations'](input);
          },
          // Saved once the run reads its round's annotations: a correction, for the next run.
          'Plan conversion': async (input) => {
            const answer = await plan(input);
            whileConverting.push(await update(3));
            return answer;
          },
        },
      });
      expect(first).toMatchObject({ status: 'SUCCEEDED' });
      const before = await readDatasetIndex(harness.store, ARTIFACTS_BUCKET);
      const sealsItems = [...before.values()].filter((item) => item.batch === 'seals');
      expect(sealsItems).toHaveLength(5);
      expect(sealsItems.every((item) => item.runId === 'seals-g0')).toBe(true);

      // After the run: one annotation updated twice, one rewritten as no JSON, one naming an image outside the batch, one another batch's task.
      const execution = correctionsExecutionName('seals', 0);
      const results = [await update(0), await update(0), await update(1), await update(2)];
      await harness.store.write(`s3://${INBOX_BUCKET}/${annotated[1].key}`, Buffer.from('not json'), 'application/json');
      await update(2, {
        task: { id: 999, data: { image: `s3://${INBOX_BUCKET}/images/turtles/elsewhere.jpg` }, meta: annotated[2].task.meta, project: 1 },
      });
      results.push(await update(4));
      await update(4, { task: { id: 998, data: annotated[4].task.data, meta: { batch: 'turtles', generation: '0' }, project: 1 } });
      for (const result of [...whileConverting, ...results])
        expect(result).toMatchObject({ action: 'started', executionName: execution, reason: expect.stringContaining('corrections run') });
      // Every save asked for the same execution: one corrections run, not five.
      expect(new Set(asked.map((a) => `${a.name} ${a.input}`))).toEqual(
        new Set([`${execution} ${JSON.stringify({ batch: 'seals', correctionsGeneration: 0 })}`]),
      );

      const second = await harness.run({
        input: { batch: 'seals', correctionsGeneration: 0 },
        executionName: execution,
        fakes: fakes(harness, truth).tasks,
      });
      expect({ status: second.status, error: second.error, cause: second.cause }).toMatchObject({ status: 'SUCCEEDED' });
      expect(second.path).toEqual(
        expect.arrayContaining(['Take corrections turn', 'Corrections turn taken', 'Use imported labels', 'Plan conversion']),
      );
      expect(second.path).not.toContain('Write Label Studio tasks');
      const report = JSON.parse((await harness.store.read(`s3://${ARTIFACTS_BUCKET}/runs/${execution}/report.json`)).toString('utf8'));
      // Only the changed files are read: two items, and the three bad files reported by item.
      expect(report.counts).toEqual(expect.objectContaining({ converted: 2, skipped: 3 }));
      const reasons = report.skippedItems.map((s: { reason: string }) => s.reason).join('\n');
      expect(reasons).toMatch(new RegExp(`${annotated[1].key.split('/').pop()}: not JSON`));
      expect(reasons).toContain('images/turtles/elsewhere.jpg');
      expect(reasons).toContain('task 998 is of batch "turtles", not seals');

      const after = await readDatasetIndex(harness.store, ARTIFACTS_BUCKET);
      const byImage = new Map([...after.values()].filter((item) => item.batch === 'seals').map((item) => [item.source, item]));
      expect(byImage.size).toBe(5);
      const corrected = [annotated[0], annotated[3]].map((a) => a.task.data.image);
      for (const image of images) expect(byImage.get(image)!.runId).toBe(corrected.includes(image) ? execution : 'seals-g0');
      // The newer annotation is the dataset's: every pixel rock (index 2).
      for (const image of corrected) {
        const item = byImage.get(image)!;
        const png = await readPngDirect(
          await harness.store.read(`s3://${ARTIFACTS_BUCKET}/${datasetLayout().mask(item.split, item.name)}`),
          1e6,
        );
        expect(new Set(png!.data)).toEqual(new Set([2]));
      }
    } finally {
      sfn.restore();
    }
  });

  test('an annotation file of no segpipe task, or not JSON, is ignored with its reason and starts nothing', async () => {
    const client = harness.server.client();
    try {
      await client.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: 'labelstudio/annotations/41', Body: 'not json' }));
      await client.send(
        new PutObjectCommand({
          Bucket: INBOX_BUCKET,
          Key: 'labelstudio/annotations/42',
          Body: JSON.stringify({ id: 42, result: [], task: { id: 1, data: { image: 's3://x/y.jpg' } } }),
        }),
      );
    } finally {
      client.destroy();
    }
    expect(await harness.startRun(objectCreated('labelstudio/annotations/41'))).toEqual({
      action: 'ignored',
      reason: 'labelstudio/annotations/41 is not JSON',
    });
    expect(await harness.startRun(objectCreated('labelstudio/annotations/42'))).toMatchObject({
      action: 'ignored',
      reason: expect.stringContaining('has no segpipe meta'),
    });
    // segpipe's meta, but a task it never wrote (another image, another round): not counted.
    const client2 = harness.server.client();
    try {
      await client2.send(
        new PutObjectCommand({
          Bucket: INBOX_BUCKET,
          Key: 'labelstudio/annotations/43',
          Body: JSON.stringify({
            id: 43,
            result: [],
            task: {
              id: 2,
              data: { image: `s3://${INBOX_BUCKET}/images/turtles/elsewhere.jpg` },
              meta: { batch: 'turtles', generation: '0' },
            },
          }),
        }),
      );
    } finally {
      client2.destroy();
    }
    expect(await harness.startRun(objectCreated('labelstudio/annotations/43'))).toEqual({
      action: 'ignored',
      reason: 'labelstudio/annotations/43: its task (batch turtles, round 0) is not one segpipe wrote under labelstudio/tasks/',
    });
  });
});

// Keep the handler type used (the harness's lambdaStates are TaskHandlers).
export type { TaskHandler };
