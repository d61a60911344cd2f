import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import {
  ENDPOINT_FAILURES_IN_A_ROW,
  endpointPrelabeler,
  isAnnotationKey,
  type Prelabeler,
  planTasks,
  progressOf,
  readAnnotationEvent,
  TASKS_PER_CHUNK,
  taskChunkKey,
  taskKey,
  writeTaskChunk,
} from '../../../lambda/labelstudio/workflow-tasks';
import { inputManifest } from '../../../lambda/workflow/labeling';

const mask = { mask: new Uint8Array([0, 1, 1, 2]), width: 2, height: 2 };

describe('pre-labels, bounded', () => {
  test('a missing endpoint is asked once: every later image is told why, without a request', async () => {
    let asked = 0;
    const prelabel = endpointPrelabeler({
      maskOf: async () => {
        asked++;
        throw Object.assign(new Error('Endpoint segpipe-x of account 1 not found.'), { name: 'ValidationError' });
      },
      read: async () => Buffer.alloc(1),
      classes: ['a', 'b'],
      modelVersion: 'segpipe-x',
    });
    expect(await prelabel('s3://i/1.jpg')).toEqual({ reason: 'no model serves yet (endpoint segpipe-x not found)' });
    expect(await prelabel('s3://i/2.jpg')).toEqual({ reason: 'no model serves yet (endpoint segpipe-x not found)' });
    expect(asked).toBe(1);
  });

  test('one region per class; an endpoint that fails images in a row is asked no more, and an answer in between resets the count', async () => {
    let asked = 0;
    let failing = false;
    const prelabel = endpointPrelabeler({
      maskOf: async () => {
        asked++;
        if (failing) throw Object.assign(new Error('Received server error (500)'), { name: 'ModelError' });
        return mask;
      },
      read: async () => Buffer.alloc(1),
      classes: ['a', 'b'],
      modelVersion: 'm',
    });
    const first = await prelabel('s3://i/1.jpg');
    expect(first.prediction?.result.map((r) => r.value.brushlabels[0])).toEqual(['a', 'b']);
    failing = true;
    for (let i = 1; i < ENDPOINT_FAILURES_IN_A_ROW; i++)
      expect(await prelabel(`s3://i/f${i}.jpg`)).toEqual({
        reason: 'the endpoint failed (ModelError)',
        detail: 'Received server error (500)',
      });
    failing = false;
    expect((await prelabel('s3://i/ok.jpg')).prediction).toBeDefined();
    failing = true;
    for (let i = 0; i < ENDPOINT_FAILURES_IN_A_ROW; i++) await prelabel(`s3://i/g${i}.jpg`);
    const before = asked;
    expect(await prelabel('s3://i/late.jpg')).toEqual({
      reason: `the endpoint failed ${ENDPOINT_FAILURES_IN_A_ROW} images in a row (the last: the endpoint failed (ModelError)); the chunk's other images were not sent`,
    });
    expect(asked).toBe(before);
  });

  test('an image the endpoint does not answer in time gets no predictions', async () => {
    const prelabel = endpointPrelabeler({
      maskOf: (_image, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      read: async () => Buffer.alloc(1),
      classes: ['a'],
      modelVersion: 'm',
      imageTimeoutMs: 20,
    });
    expect(await prelabel('s3://i/1.jpg')).toEqual({ reason: 'the endpoint gave no answer in time' });
  });
});

describe('annotation events', () => {
  const task = { id: 3, data: { image: 's3://inbox/images/t/a.jpg' }, meta: { batch: 't', generation: '0', run: 'r' } };

  test('both target-file shapes name the same marker for the same task', () => {
    const annotation = readAnnotationEvent(Buffer.from(JSON.stringify({ id: 7, result: [], task })), 'labelstudio/annotations/7');
    const taskFile = readAnnotationEvent(
      Buffer.from(JSON.stringify({ ...task, annotations: [{ id: 7, result: [] }] })),
      'labelstudio/annotations/3.json',
    );
    expect(annotation).toMatchObject({ kind: 'annotated', batch: 't', round: '0', image: task.data.image });
    expect(taskFile).toEqual(annotation);
  });

  test("a meta that would widen the marker's prefix is refused", () => {
    const event = readAnnotationEvent(Buffer.from(JSON.stringify({ task: { ...task, meta: { batch: '../x', generation: '0' } } })), 'k');
    expect(event).toEqual({ kind: 'ignored', reason: "k: its task's meta.batch or meta.generation is not one key segment" });
  });

  test('a file that is no JSON object is ignored, saying so', () => {
    expect(readAnnotationEvent(Buffer.from('{'), 'k')).toEqual({ kind: 'ignored', reason: 'k is not JSON' });
    for (const body of ['[]', 'null', '7', '"task"'])
      expect(readAnnotationEvent(Buffer.from(body), 'k')).toEqual({
        kind: 'ignored',
        reason: 'k is not a Label Studio annotation or task object',
      });
  });

  test.each([
    ['no data', { meta: task.meta }],
    ['no meta', { data: task.data }],
    ['an image that is no string', { ...task, data: { image: 3 } }],
    ['no batch', { ...task, meta: { generation: '0' } }],
    ['no generation', { ...task, meta: { batch: 't' } }],
    ['a numeric generation', { ...task, meta: { batch: 't', generation: 0 } }],
  ])('a task with %s is not one segpipe wrote', (_what, other) => {
    const reason = 'k: its task has no segpipe meta (batch, generation) and data.image; tasks segpipe wrote carry them';
    expect(readAnnotationEvent(Buffer.from(JSON.stringify(other)), 'k')).toEqual({ kind: 'ignored', reason });
    expect(readAnnotationEvent(Buffer.from(JSON.stringify({ id: 1, task: other })), 'k')).toEqual({ kind: 'ignored', reason });
  });

  test.each(['', '.', '..', 'a/b'])('a batch or a generation %j is not one key segment', (segment) => {
    const reason = "k: its task's meta.batch or meta.generation is not one key segment";
    expect(readAnnotationEvent(Buffer.from(JSON.stringify({ ...task, meta: { batch: segment, generation: '0' } })), 'k')).toEqual({
      kind: 'ignored',
      reason,
    });
    expect(readAnnotationEvent(Buffer.from(JSON.stringify({ ...task, meta: { batch: 't', generation: segment } })), 'k')).toEqual({
      kind: 'ignored',
      reason,
    });
  });

  test('a nested task that is null is read as the object itself', () => {
    expect(readAnnotationEvent(Buffer.from(JSON.stringify({ ...task, task: null })), 'k')).toMatchObject({ kind: 'annotated', batch: 't' });
  });

  test('only files directly under the annotations prefix are target-storage files', () => {
    expect(isAnnotationKey('labelstudio/annotations/7')).toBe(true);
    expect(isAnnotationKey('labelstudio/annotations/3.json')).toBe(true);
    expect(isAnnotationKey('labelstudio/annotations/sub/3.json')).toBe(false);
    expect(isAnnotationKey('labelstudio/tasks/t/0/a.json')).toBe(false);
  });

  test('task files are .json, one per image address, under the batch and round', () => {
    expect(taskKey('t', '0', 's3://inbox/images/t/photo 1.jpg')).toMatch(/^labelstudio\/tasks\/t\/0\/photo_1-[0-9a-f]{16}\.json$/);
    expect(taskKey('t', '0', 's3://inbox/images/t/a/x.jpg')).not.toBe(taskKey('t', '0', 's3://inbox/images/t/b/x.jpg'));
  });
});

describe('the wait', () => {
  const since = '2026-12-01T00:00:00Z';
  const at = (hours: number) => new Date(Date.parse(since) + hours * 3600_000);
  test.each([
    [10, 0.5, 'complete'],
    [9, 0.5, 'waiting'],
  ])('%i of 10 before the deadline: %s', (annotated, _f, state) => {
    expect(progressOf(annotated, { tasks: 10, since, deadlineHours: 2, minLabeledFraction: 0.8, now: at(1) }).state).toBe(state);
  });
  test('each decision says what it counted and, at the deadline, what the fraction asks', () => {
    const options = { tasks: 10, since, deadlineHours: 2, minLabeledFraction: 0.8 };
    expect(progressOf(10, { ...options, now: at(1) }).reason).toBe('10 of 10 tasks annotated');
    expect(progressOf(9, { ...options, now: at(1) }).reason).toBe('9 of 10 tasks annotated; waiting until 2026-12-01T02:00:00.000Z');
    expect(progressOf(8, { ...options, now: at(2) }).reason).toBe(
      '8 of 10 tasks annotated at the deadline (2 h), at least the 8 labeling.labelStudio.minLabeledFraction asks',
    );
    expect(progressOf(7, { ...options, now: at(3) }).reason).toBe(
      '7 of 10 tasks annotated at the deadline (2 h); labeling.labelStudio.minLabeledFraction asks for 8: the images go back to the batch',
    );
  });
  test('at the deadline: enough at the fraction, short below it', () => {
    expect(progressOf(8, { tasks: 10, since, deadlineHours: 2, minLabeledFraction: 0.8, now: at(2) }).state).toBe('enough');
    expect(progressOf(7, { tasks: 10, since, deadlineHours: 2, minLabeledFraction: 0.8, now: at(2) }).state).toBe('short');
  });
});

describe('what an endpoint error says', () => {
  const answerWith = (error: Error) =>
    endpointPrelabeler({
      maskOf: async () => {
        throw error;
      },
      read: async () => Buffer.alloc(1),
      classes: ['a'],
      modelVersion: 'm',
    })('s3://i/1.jpg');
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });

  test('a ValidationError about something else than a missing endpoint is a failure, not "no model serves"', async () => {
    expect(await answerWith(named('ValidationError', 'Input is too large'))).toEqual({
      reason: 'the endpoint failed (ValidationError)',
      detail: 'Input is too large',
    });
    expect(await answerWith(named('ModelError', 'model m could not find its weights'))).toEqual({
      reason: 'the endpoint failed (ModelError)',
      detail: 'model m could not find its weights',
    });
    expect(await answerWith(named('ValidationError', 'Could not find endpoint m.'))).toEqual({
      reason: 'no model serves yet (endpoint m not found)',
    });
  });

  test("an SDK's own abort is no answer in time; a long name and message are cut", async () => {
    expect(await answerWith(named('AbortError', 'aborted'))).toEqual({ reason: 'the endpoint gave no answer in time' });
    expect(await answerWith(named('TimeoutError', 'timed out'))).toEqual({ reason: 'the endpoint gave no answer in time' });
    expect(await answerWith(named('E'.repeat(100), 'm'.repeat(300)))).toEqual({
      reason: `the endpoint failed (${'E'.repeat(60)})`,
      detail: 'm'.repeat(200),
    });
  });
});

describe("a chunk's note on its pre-labels, which the notification quotes once per distinct text", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'segpipe-task-chunk-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function writeChunk(images: string[], prelabel: Prelabeler, more: Partial<Parameters<typeof writeTaskChunk>[0]> = {}) {
    const store = new FolderObjectStore(root);
    await store.write(`s3://artifacts/${taskChunkKey('r1', 0)}`, Buffer.from(inputManifest(images)));
    return writeTaskChunk({
      store,
      inboxBucket: 'inbox',
      artifactsBucket: 'artifacts',
      runId: 'r1',
      batch: 'b',
      round: '0',
      chunk: { index: 0 },
      prelabel,
      ...more,
    });
  }
  const prediction = { model_version: 'm', result: [] };

  test('every task pre-labeled', async () => {
    expect(await writeChunk(['s3://inbox/images/b/1.jpg'], async () => ({ prediction }))).toMatchObject({
      tasks: 1,
      predicted: 1,
      prelabels: 'pre-labeled by the serving model',
    });
  });

  test('some without: the commonest reason, without the detail that differs from image to image', async () => {
    const answers: Record<string, Awaited<ReturnType<Prelabeler>>> = {
      's3://inbox/images/b/1.jpg': { prediction },
      's3://inbox/images/b/2.jpg': { reason: 'the endpoint failed (ModelError)', detail: 'request 1 failed' },
      's3://inbox/images/b/3.jpg': { reason: 'the endpoint failed (ModelError)', detail: 'request 2 failed' },
      's3://inbox/images/b/4.jpg': { reason: 'the endpoint gave no answer in time' },
    };
    const summary = await writeChunk(Object.keys(answers), async (image) => answers[image]);
    expect(summary).toMatchObject({ tasks: 4, predicted: 1, prelabels: 'some without pre-labels: the endpoint failed (ModelError)' });
    expect(summary.noPrediction).toEqual({
      'the endpoint failed (ModelError): request 1 failed': 1,
      'the endpoint failed (ModelError): request 2 failed': 1,
      'the endpoint gave no answer in time': 1,
    });
  });

  test('none', async () => {
    expect(
      await writeChunk(['s3://inbox/images/b/1.jpg', 's3://inbox/images/b/2.jpg'], async () => ({
        reason: 'no model has been trained yet',
      })),
    ).toMatchObject({ predicted: 0, prelabels: 'without pre-labels: no model has been trained yet' });
  });

  test('past its deadline an invocation stops and says where the next goes on; the next writes only the rest, and the note counts both', async () => {
    const images = Array.from({ length: 10 }, (_, i) => `s3://inbox/images/b/${i}.jpg`);
    const sent: string[] = [];
    let clock = 0;
    // Each image takes 10 ms of the injected clock; the odd ones get no predictions.
    const prelabel: Prelabeler = async (image) => {
      sent.push(image);
      clock += 10;
      return Number(image.match(/(\d+)\.jpg$/)![1]) % 2 === 0 ? { prediction } : { reason: 'the endpoint failed (ModelError)' };
    };
    const first = await writeChunk(images, prelabel, { deadline: 35, now: () => clock, concurrency: 1 });
    expect(first).toMatchObject({ tasks: 10, predicted: 2, next: 4, reasons: { 'the endpoint failed (ModelError)': 2 } });
    expect(sent).toEqual(images.slice(0, 4));
    const written = () => new FolderObjectStore(root).listUnder('s3://inbox/labelstudio/tasks/b/0/');
    expect(await written()).toHaveLength(4);
    // The next invocation, from there: no task written again, the counts carried on.
    sent.length = 0;
    const second = await writeChunk(images, prelabel, { resume: first, deadline: 1000, now: () => clock, concurrency: 1 });
    expect(sent).toEqual(images.slice(4));
    expect(second).toEqual({
      index: 0,
      tasks: 10,
      predicted: 5,
      noPrediction: { 'the endpoint failed (ModelError)': 5 },
      prelabels: 'some without pre-labels: the endpoint failed (ModelError)',
    });
    expect(await written()).toHaveLength(10);
  });

  test('an invocation whose deadline has passed still writes one image: every invocation makes progress', async () => {
    const images = ['s3://inbox/images/b/1.jpg', 's3://inbox/images/b/2.jpg'];
    const summary = await writeChunk(images, async () => ({ prediction }), { resume: { next: 1 }, deadline: 0, now: () => 5 });
    expect(summary).toMatchObject({ predicted: 1, tasks: 2 });
    expect(summary.next).toBeUndefined();
    expect(await writeChunk(images, async () => ({ prediction }), { deadline: 0, now: () => 5 })).toMatchObject({ next: 1 });
  });
});

describe("the tasks' plan", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'segpipe-task-plan-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const round = (store: FolderObjectStore) => ({
    store,
    inboxBucket: 'inbox',
    artifactsBucket: 'artifacts',
    runId: 'r1',
    batch: 'b',
    round: '2',
  });
  const images = (n: number) => Array.from({ length: n }, (_, i) => `s3://inbox/images/b/${i}.jpg`);
  const chunkImages = async (store: FolderObjectStore, index: number) =>
    (await store.read(`s3://artifacts/${taskChunkKey('r1', index)}`))
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line)['source-ref']);

  test('cuts the images into chunks of TASKS_PER_CHUNK in order, the last one the rest', async () => {
    const store = new FolderObjectStore(root);
    const all = images(2 * TASKS_PER_CHUNK + 5);
    const plan = await planTasks({ ...round(store), images: all });
    expect(plan).toEqual({
      round: '2',
      tasksPrefix: 's3://inbox/labelstudio/tasks/b/2/',
      tasks: all.length,
      chunks: [{ index: 0 }, { index: 1 }, { index: 2 }],
    });
    const chunks = [await chunkImages(store, 0), await chunkImages(store, 1), await chunkImages(store, 2)];
    expect(chunks.map((c) => c.length)).toEqual([TASKS_PER_CHUNK, TASKS_PER_CHUNK, 5]);
    expect(chunks.flat()).toEqual(all);
  });

  test("reads the snapshot's manifest, blank lines passed over; a batch without images is refused", async () => {
    const store = new FolderObjectStore(root);
    await store.write('s3://artifacts/snap.manifest', Buffer.from(`${inputManifest(images(3))}\n  \n`));
    const plan = await planTasks({ ...round(store), images: { manifest: 's3://artifacts/snap.manifest' } });
    expect(plan.tasks).toBe(3);
    expect(await chunkImages(store, 0)).toEqual(images(3));
    await expect(planTasks({ ...round(store), images: [] })).rejects.toThrow('the batch has no images to label');
  });
});
