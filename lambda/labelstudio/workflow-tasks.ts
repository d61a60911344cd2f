/**
 * Label Studio in the deployed workflow: a run's images become one task file each under the inbox's
 * tasks prefix, and each annotation file Label Studio's target storage writes back is recorded as one
 * small marker per task, so that the waiting run counts its annotated tasks with a listing, never by
 * reading the annotations. Work per image and per annotation event is constant.
 */
import { createHash } from 'node:crypto';
import { ENDPOINT_CONCURRENCY } from '../common/defaults';
import type { ObjectStore } from '../convert/stores/object-store';
import { batchKeyPrefix } from '../workflow/batch';
import { inputManifest } from '../workflow/labeling';
import { RUNS_PREFIX, s3Uri } from '../workflow/layout';
import type { ListingStore, VersionedStore } from '../workflow/versioned-json';
import { closeRound } from './corrections';
import { writeLabelStudioFiles } from './run-files';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from './storage-layout';
import { type LabelStudioTask, labelStudioTask, maskPrediction, type TaskPrediction } from './tasks';

/** Tasks one map item writes; a plan of more chunks makes them larger, so that their list stays small in the execution state. */
export const TASKS_PER_CHUNK = 1000;
const MAX_CHUNKS = 500;

/**
 * The labeling round a run's tasks belong to: the batch generation its snapshot took, or the run's id
 * for a run started by hand with a list of images. It names the tasks' folder and their `meta.generation`.
 */
export function labelingRound(input: { readonly generation?: number }, runId: string): string {
  return Number.isInteger(input.generation) ? String(input.generation) : runId;
}

/** `labelstudio/tasks/<batch>/<round>/`: only `.json` task files go there (a tasks-method sync stops at any other key). */
export function tasksPrefix(batch: string, round: string): string {
  return `${LABELSTUDIO_TASKS_PREFIX}${batch}/${round}/`;
}

/** A task's file: the image's name (readable in the bucket) and a hash of its whole address (unique). */
export function taskKey(batch: string, round: string, image: string): string {
  const name = (image.split('/').pop() ?? 'image')
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 60);
  return `${tasksPrefix(batch, round)}${name}-${imageHash(image)}.json`;
}

function imageHash(image: string): string {
  return createHash('sha256').update(image).digest('hex').slice(0, 16);
}

/** The chunk manifests a run's task writing reads, one map item each. */
export function taskChunkKey(runId: string, index: number): string {
  return `${RUNS_PREFIX}${runId}/labelstudio/chunk-${String(index).padStart(5, '0')}.manifest`;
}

export interface TaskChunk {
  readonly index: number;
}

export interface TaskPlan {
  readonly round: string;
  /** `s3://<inbox>/labelstudio/tasks/<batch>/<round>/`: what the notification names. */
  readonly tasksPrefix: string;
  readonly tasks: number;
  readonly chunks: readonly TaskChunk[];
}

/** Where a run's labeling round keeps its tasks: the buckets, the run, its batch and round (the batch's generation). */
export interface TaskRound {
  readonly store: ObjectStore;
  readonly inboxBucket: string;
  readonly artifactsBucket: string;
  readonly runId: string;
  readonly batch: string;
  readonly round: string;
}

/**
 * Cuts the run's images (the snapshot's input manifest, or a list) into chunk manifests under the
 * run: one pass over the list, so that each map item then reads only its own chunk.
 */
export async function planTasks(
  options: TaskRound & {
    readonly images: readonly string[] | { readonly manifest: string };
  },
): Promise<TaskPlan> {
  const { store, artifactsBucket, runId } = options;
  const images = Array.isArray(options.images)
    ? (options.images as readonly string[])
    : await readManifestImages(store, (options.images as { manifest: string }).manifest);
  if (images.length === 0) throw new Error('the batch has no images to label');
  const perChunk = Math.max(TASKS_PER_CHUNK, Math.ceil(images.length / MAX_CHUNKS));
  const chunks: TaskChunk[] = [];
  for (let first = 0, index = 0; first < images.length; first += perChunk, index++) {
    await store.write(
      s3Uri(artifactsBucket, taskChunkKey(runId, index)),
      Buffer.from(inputManifest(images.slice(first, first + perChunk))),
      'application/x-ndjson',
    );
    chunks.push({ index });
  }
  return {
    round: options.round,
    tasksPrefix: s3Uri(options.inboxBucket, tasksPrefix(options.batch, options.round)),
    tasks: images.length,
    chunks,
  };
}

async function readManifestImages(store: ObjectStore, location: string): Promise<string[]> {
  return (await store.read(location))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { 'source-ref': string })['source-ref']);
}

/**
 * An image's pre-labels, or why there are none: `reason` is one of a few texts (it is what the run's
 * notification quotes, once per distinct text), `detail` what only the log needs (an error's message).
 */
export type Prelabeler = (image: string) => Promise<{ prediction?: TaskPrediction; reason?: string; detail?: string }>;

/** An endpoint's class-index mask of an image, at the image's size. */
export type MaskOf = (image: Buffer, signal: AbortSignal) => Promise<{ mask: Uint8Array; width: number; height: number }>;

/** InvokeEndpoint's own limit on a model's answer (SageMaker Developer Guide): no image waits longer. */
export const PRELABEL_IMAGE_TIMEOUT_MS = 60_000;

/** Images in a row the endpoint fails (or does not answer in time) before the rest of the chunk goes without asking it. */
export const ENDPOINT_FAILURES_IN_A_ROW = 8;

/**
 * Pre-labels from the serving endpoint, bounded per image: each image waits at most `imageTimeoutMs`;
 * once the endpoint is found not to exist, or has failed {@link ENDPOINT_FAILURES_IN_A_ROW} images in
 * a row, no further image is sent (labeling never waits on a broken endpoint). Every image without
 * predictions says why. How long a chunk may take is its writer's concern (`writeTaskChunk`).
 */
export function endpointPrelabeler(options: {
  readonly maskOf: MaskOf;
  readonly read: (image: string) => Promise<Buffer>;
  /** Names of indices 1, 2, ... */
  readonly classes: readonly string[];
  readonly modelVersion: string;
  readonly imageTimeoutMs?: number;
}): Prelabeler {
  let givenUp: string | undefined;
  let failuresInARow = 0;
  const failed = (reason: string, detail?: string) => {
    failuresInARow++;
    if (failuresInARow >= ENDPOINT_FAILURES_IN_A_ROW)
      givenUp = `the endpoint failed ${ENDPOINT_FAILURES_IN_A_ROW} images in a row (the last: ${reason}); the chunk's other images were not sent`;
    return { reason, ...(detail ? { detail } : {}) };
  };
  return async (image) => {
    if (givenUp) return { reason: givenUp };
    try {
      const answer = await options.maskOf(
        await options.read(image),
        AbortSignal.timeout(options.imageTimeoutMs ?? PRELABEL_IMAGE_TIMEOUT_MS),
      );
      const { prediction } = maskPrediction({ ...answer, classes: options.classes, modelVersion: options.modelVersion });
      failuresInARow = 0;
      return { prediction };
    } catch (err) {
      const error = err as Error;
      // InvokeEndpoint answers a missing endpoint with a ValidationError naming it.
      if (error.name === 'ValidationError' && /not found|could not find/i.test(error.message)) {
        givenUp = `no model serves yet (endpoint ${options.modelVersion} not found)`;
        return { reason: givenUp };
      }
      if (error.name === 'TimeoutError' || error.name === 'AbortError') return failed('the endpoint gave no answer in time');
      return failed(`the endpoint failed (${error.name.slice(0, 60)})`, error.message.slice(0, 200));
    }
  };
}

export interface TaskChunkSummary {
  readonly index: number;
  readonly tasks: number;
  readonly predicted: number;
  /** Why some tasks have no predictions (the first reasons, with how many images each, and the detail for the log). */
  readonly noPrediction?: Readonly<Record<string, number>>;
  /**
   * The chunk's pre-labels in a few words for the notification: `pre-labeled` when every task has
   * them, else the most common reason some have none. Chunks' notes are few distinct texts.
   */
  readonly prelabels: string;
  /**
   * Where the chunk's next invocation goes on (the first image with no task yet) when this one ran out
   * of time; absent once every image of the chunk has its task.
   */
  readonly next?: number;
  /** Images without predictions by reason (without detail), carried to the next invocation for the note. */
  readonly reasons?: Readonly<Record<string, number>>;
}

/** The note of a chunk whose every task carries the serving model's pre-labels. */
export const PRE_LABELED = 'pre-labeled by the serving model';

/** Distinct texts a chunk's counts keep: the reasons are a few fixed texts, the details vary. */
const MAX_REASONS = 10;

function countInto(counts: Record<string, number>, text: string): void {
  if (text in counts || Object.keys(counts).length < MAX_REASONS) counts[text] = (counts[text] ?? 0) + 1;
}

/**
 * Writes one task file per image of a chunk, from image `resume.next` on, with the pre-labels
 * `prelabel` gives. Past `deadline` it sends no further image and answers where the next invocation
 * goes on (`next`), with the counts so far; the images before it have their tasks, which are never
 * written again. At least one image is written per invocation, so each one makes progress.
 */
export async function writeTaskChunk(
  options: TaskRound & {
    readonly chunk: TaskChunk;
    readonly prelabel: Prelabeler;
    /** The previous invocation's summary, when it stopped before the chunk's end. @default - from the first image */
    readonly resume?: Partial<TaskChunkSummary>;
    /** Epoch milliseconds after which no further image is taken (the Lambda must end in time). @default - none */
    readonly deadline?: number;
    readonly now?: () => number;
    /** Images pre-labeled at once. @default 4 */
    readonly concurrency?: number;
  },
): Promise<TaskChunkSummary> {
  const { store, inboxBucket, batch, round, runId, resume = {} } = options;
  const now = options.now ?? Date.now;
  const images = await readManifestImages(store, s3Uri(options.artifactsBucket, taskChunkKey(runId, options.chunk.index)));
  const meta = { batch, generation: round, run: runId };
  let predicted = resume.predicted ?? 0;
  const noPrediction: Record<string, number> = { ...resume.noPrediction };
  const reasons: Record<string, number> = { ...resume.reasons };
  const first = resume.next ?? 0;
  let next = first;
  const worker = async () => {
    while (next < images.length && (next === first || options.deadline === undefined || now() < options.deadline)) {
      const image = images[next++];
      const answer = await options.prelabel(image);
      const { prediction } = answer;
      if (prediction) predicted++;
      else {
        const reason = answer.reason ?? 'the serving model gave none';
        countInto(reasons, reason);
        countInto(noPrediction, answer.detail ? `${reason}: ${answer.detail}` : reason);
      }
      const task: LabelStudioTask = labelStudioTask(image, meta, prediction);
      await store.write(s3Uri(inboxBucket, taskKey(batch, round, image)), Buffer.from(`${JSON.stringify(task)}\n`), 'application/json');
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? ENDPOINT_CONCURRENCY) }, worker));
  const commonest = Object.entries(reasons).sort((a, b) => b[1] - a[1])[0]?.[0];
  return {
    index: options.chunk.index,
    tasks: images.length,
    predicted,
    ...(Object.keys(noPrediction).length > 0 ? { noPrediction } : {}),
    prelabels: predicted === images.length ? PRE_LABELED : `${predicted === 0 ? 'without' : 'some without'} pre-labels: ${commonest}`,
    ...(next < images.length ? { next, reasons } : {}),
  };
}

/** Where one marker per annotated task of a batch's round is kept (artifacts bucket). */
export function annotatedPrefix(batch: string, round: string): string {
  return `${batchKeyPrefix(batch)}labelstudio/${round}/annotated/`;
}

/** The largest annotation file the start Lambda reads (a task file holds its brush RLEs; a 4032×3024 one is under 100 KiB a class). */
export const MAX_ANNOTATION_FILE_BYTES = 16 * 1024 * 1024;

export type AnnotationEvent =
  | {
      readonly kind: 'annotated';
      readonly batch: string;
      readonly round: string;
      readonly image: string;
      /** The task's folder of markers, one per file that annotates it (`<hash of the image>/`). */
      readonly marker: string;
    }
  | { readonly kind: 'ignored'; readonly reason: string };

/** Whether a key is one of Label Studio's target-storage files: `<annotation id>` or `<task id>.json`, directly under the prefix. */
export function isAnnotationKey(key: string): boolean {
  return key.startsWith(LABELSTUDIO_ANNOTATIONS_PREFIX) && /^[^/]+$/.test(key.slice(LABELSTUDIO_ANNOTATIONS_PREFIX.length));
}

/**
 * What one target-storage file says: whose task (segpipe's `meta`: batch and round) of which image.
 * Both shapes: one annotation with its task nested (`task`), or a task with its `annotations`.
 */
export function readAnnotationEvent(body: Buffer, key: string): AnnotationEvent {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { kind: 'ignored', reason: `${key} is not JSON` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { kind: 'ignored', reason: `${key} is not a Label Studio annotation or task object` };
  const object = json as Record<string, unknown>;
  const task = (typeof object.task === 'object' && object.task !== null ? object.task : object) as {
    data?: { image?: unknown };
    meta?: { batch?: unknown; generation?: unknown };
  };
  const image = task.data?.image;
  const batch = task.meta?.batch;
  const round = task.meta?.generation;
  if (typeof image !== 'string' || typeof batch !== 'string' || typeof round !== 'string') {
    return {
      kind: 'ignored',
      reason: `${key}: its task has no segpipe meta (batch, generation) and data.image; tasks segpipe wrote carry them`,
    };
  }
  if (
    batch === '' ||
    batch.includes('/') ||
    round === '' ||
    round.includes('/') ||
    batch === '.' ||
    batch === '..' ||
    round === '.' ||
    round === '..'
  ) {
    return { kind: 'ignored', reason: `${key}: its task's meta.batch or meta.generation is not one key segment` };
  }
  return { kind: 'annotated', batch, round, image, marker: `${annotatedPrefix(batch, round)}${imageHash(image)}/` };
}

/**
 * Records an annotated task: one small object per task and file, named by both (a file saved again
 * writes the same one, and a task annotated in two files counts once). The round's run lists them
 * into its own list of files, which its conversion reads instead of the whole target storage.
 */
export async function recordAnnotation(
  store: ObjectStore,
  artifactsBucket: string,
  event: Extract<AnnotationEvent, { kind: 'annotated' }>,
  key: string,
): Promise<void> {
  await store.write(
    s3Uri(artifactsBucket, `${event.marker}${key.slice(LABELSTUDIO_ANNOTATIONS_PREFIX.length)}`),
    Buffer.from(`${JSON.stringify({ image: event.image, annotation: key })}\n`),
    'application/json',
  );
}

export interface LabelingProgress {
  readonly annotated: number;
  readonly tasks: number;
  /** `complete`: every task annotated; `waiting`: before the deadline; `enough`/`short`: at the deadline, with at least / less than the share. */
  readonly state: 'complete' | 'waiting' | 'enough' | 'short';
  readonly reason: string;
  /**
   * When the run goes on: its own list of the round's target-storage files (`labelStudioFilesKey`), or
   * '' when a marker names no file (recorded before markers named them) and the conversion reads every file.
   */
  readonly labelStudioFiles?: string;
}

/** A round's markers: per annotated task, one per file annotating it (none for a marker recorded before they named files). */
async function annotatedMarkers(options: {
  readonly store: ListingStore;
  readonly artifactsBucket: string;
  readonly batch: string;
  readonly round: string;
}): Promise<{ task: string; file?: string }[]> {
  const prefix = annotatedPrefix(options.batch, options.round);
  return (await options.store.list(options.artifactsBucket, prefix)).map((o) => {
    const [task, file] = o.key.slice(prefix.length).split('/');
    return file ? { task, file } : { task };
  });
}

/**
 * Counts a round's annotated tasks (a listing of its markers) and says whether the run goes on. When
 * it does, the round is closed (an annotation saved from then on goes to the batch's next corrections
 * run, `corrections.ts`) and its files listed into the run's own list: one more listing, no file read.
 */
export async function countAndCloseRound(options: {
  readonly store: ListingStore & VersionedStore;
  readonly artifactsBucket: string;
  readonly inboxBucket: string;
  readonly runId: string;
  readonly batch: string;
  readonly round: string;
  readonly tasks: number;
  /** When the run began waiting (ISO 8601). */
  readonly since: string;
  readonly deadlineHours: number;
  readonly minLabeledFraction: number;
  readonly now?: Date;
}): Promise<LabelingProgress> {
  const markers = await annotatedMarkers(options);
  const progress = progressOf(new Set(markers.map((m) => m.task)).size, options);
  if (progress.state !== 'complete' && progress.state !== 'enough') return progress;
  await closeRound(options.store, options.artifactsBucket, options.batch, options.round);
  // Listed after the close: a file saved later is a correction, and one saved before has its marker here.
  const listed = (await annotatedMarkers(options)).map((m) => m.file);
  if (listed.some((file) => file === undefined)) return { ...progress, labelStudioFiles: '' };
  const files = [...new Set(listed as string[])]
    .sort()
    .map((file) => s3Uri(options.inboxBucket, `${LABELSTUDIO_ANNOTATIONS_PREFIX}${file}`));
  return { ...progress, labelStudioFiles: await writeLabelStudioFiles(options.store, options.artifactsBucket, options.runId, files) };
}

/** The decision alone, from the count. */
export function progressOf(
  annotated: number,
  options: {
    readonly tasks: number;
    readonly since: string;
    readonly deadlineHours: number;
    readonly minLabeledFraction: number;
    readonly now?: Date;
  },
): LabelingProgress {
  const { tasks } = options;
  const deadline = Date.parse(options.since) + options.deadlineHours * 3600_000;
  const now = (options.now ?? new Date()).getTime();
  const counted = `${annotated} of ${tasks} tasks annotated`;
  if (annotated >= tasks) return { annotated, tasks, state: 'complete', reason: counted };
  if (!(now >= deadline))
    return { annotated, tasks, state: 'waiting', reason: `${counted}; waiting until ${new Date(deadline).toISOString()}` };
  const needed = Math.ceil(options.minLabeledFraction * tasks);
  return annotated >= needed
    ? {
        annotated,
        tasks,
        state: 'enough',
        reason: `${counted} at the deadline (${options.deadlineHours} h), at least the ${needed} labeling.labelStudio.minLabeledFraction asks`,
      }
    : {
        annotated,
        tasks,
        state: 'short',
        reason: `${counted} at the deadline (${options.deadlineHours} h); labeling.labelStudio.minLabeledFraction asks for ${needed}: the images go back to the batch`,
      };
}
