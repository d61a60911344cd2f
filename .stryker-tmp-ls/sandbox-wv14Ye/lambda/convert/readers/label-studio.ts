// @ts-nocheck
import { Readable } from 'node:stream';
import { decodeBinary as decodeBrushRle } from '@thi.ng/rle-pack';
import { mapAhead } from '../../common/concurrency';
import { quoted } from '../../common/untrusted-text';
import { streamJsonElements } from '../codecs/json-stream';
import { spansOfBitmap } from '../codecs/shapes';
import type { ExportItem, ExportReader, ExportSkip, Shape } from '../export-item';
import { ImageFinder, type ImagesRoot } from '../image-finder';
import { type ConversionLimits, DEFAULT_LIMITS, declaredSizeProblem, MAX_ITEM_PAINT_WORK } from '../limits';
import type { ObjectStore } from '../stores/object-store';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Result types that are shapes but not segmentation: counted in the report, never painted. */
const NOT_SEGMENTATION = new Set(['rectanglelabels', 'ellipselabels', 'keypointlabels', 'rectangle', 'ellipse', 'keypoint']);
/** Shapes stored apart from their label: a `labels` result with the same `id` names the class. */
const UNLABELED_SHAPES = new Set(['brush', 'polygon', 'magicwand']);
/** Brush alpha from which a pixel is the label (Label Studio paints anti-aliased strokes). */
const BRUSH_OPAQUE_FROM = 128;

/** A target-storage file larger than this is refused, not read (one task's brush RLEs of a 100-megapixel image are ~10 MB). */
export const MAX_TASK_FILE_BYTES = 256 * 1024 * 1024;

/** Which tasks belong to the conversion: any other is reported and left out. */
export interface LabelStudioExpectations {
  /** `meta.batch` the tasks must name (segpipe's tasks carry it). @default - any */
  readonly batch?: string;
  /** `meta.generation` the tasks must name (the labeling round of a workflow run). @default - any */
  readonly generation?: string;
  /** The Label Studio project id the tasks must belong to. @default - any */
  readonly project?: number;
  /** The labels the labeling configuration has: a result with another label is counted, not painted. @default - any */
  readonly labels?: readonly string[];
}

export interface LabelStudioReaderOptions {
  readonly store: ObjectStore;
  /** The export file, or the folder of `files`. */
  readonly location: string;
  /**
   * Label Studio target-storage files read as one export: `<annotation id>` files (one annotation with
   * its task nested) and `<task id>.json` files (a task with its annotations). A task annotated in
   * several files takes its newest annotation; the others are reported.
   * @default - `location` is one export file (a list of tasks, or a single task or annotation object)
   */
  readonly files?: readonly string[];
  /** Where image references resolve. @default - the JSON's folder */
  readonly images: ImagesRoot;
  readonly s3?: ObjectStore;
  /** @default - every task belongs */
  readonly expect?: LabelStudioExpectations;
  /** Largest target-storage file read. @default MAX_TASK_FILE_BYTES */
  readonly maxFileBytes?: number;
  /** Sizes accepted from the export (`original_width`×`original_height`). @default DEFAULT_LIMITS */
  readonly limits?: ConversionLimits;
}

/**
 * Label Studio's JSON export (a list of tasks, streamed task by task), a single task or target-storage
 * annotation object, or a folder of target-storage files: `brushlabels` (Label Studio's RLE),
 * `polygonlabels` (points in percent of the image), and the same shapes stored as a result plus a
 * `labels` result sharing its `id`. Cancelled annotations are skipped; of several, the most recently
 * updated wins.
 */
export function labelStudioReader(options: LabelStudioReaderOptions): ExportReader {
  /** Where each task of a list read from the start lies (`end` exclusive), by task number - 1. */
  const positions: { start: number; end: number }[] = [];
  /** Target-storage files as read from the start: each one's first line, and the lines a newer file supersedes. */
  const layout: FilesLayout = { files: [], superseded: new Map() };
  const reader = (slice?: TaskListSlice | FilesSlice): ExportReader => ({
    format: 'labelstudio',
    input: options.location,
    declaredClasses: async () => [],
    items: () => {
      if (slice) return 'files' in slice ? filesSliceItems(options, slice) : taskListSliceItems(options, slice);
      positions.length = 0;
      layout.files.length = 0;
      layout.superseded.clear();
      return labelStudioItems(options, (start, end) => positions.push({ start, end }), layout);
    },
  });
  return {
    ...reader(),
    slicing: {
      // A list of tasks has positions, target-storage files their lines; one task alone is read whole.
      slicesOf: async (ranges) =>
        ranges.map((range): TaskListSlice | FilesSlice | undefined => {
          if (options.files) return filesSliceOf(layout, range);
          const first = positions[range.first - 1];
          const last = positions[Math.min(range.last, positions.length) - 1];
          return first && last ? { start: first.start, end: last.end, firstLine: range.first } : undefined;
        }),
      readerOf: (slice) => reader(slice as TaskListSlice | FilesSlice),
    },
  };
}

/** Target-storage files in the order read: where each one's tasks start, and which tasks lost to a newer file. */
interface FilesLayout {
  readonly files: { readonly file: string; readonly firstLine: number }[];
  /** Line of a task's occurrence that another file supersedes → that file. */
  readonly superseded: Map<number, string>;
}

/** A chunk's target-storage files: those holding a line of its range, each with its first line, and the superseded lines among them. */
interface FilesSlice {
  readonly files: readonly { readonly file: string; readonly firstLine: number }[];
  readonly superseded: readonly (readonly [number, string])[];
}

function filesSliceOf(layout: FilesLayout, range: { readonly first: number; readonly last: number }): FilesSlice {
  const files = layout.files.filter(
    (f, i) => f.firstLine <= range.last && (layout.files[i + 1]?.firstLine ?? Number.POSITIVE_INFINITY) > range.first,
  );
  const superseded = [...layout.superseded].filter(([line]) => line >= range.first && line <= range.last);
  return { files, superseded };
}

/** A chunk's share of target-storage files: each read once, its tasks numbered from the line the plan found. */
async function* filesSliceItems(options: LabelStudioReaderOptions, slice: FilesSlice): AsyncGenerator<ExportItem | ExportSkip> {
  const finder = ImageFinder.of(options.images, options.s3);
  const superseded = new Map(slice.superseded);
  const firstLines = slice.files.map((f) => f.firstLine);
  let index = 0;
  for await (const { file, tasks, problem } of readTaskFiles(
    options.store,
    slice.files.map((f) => f.file),
    options.maxFileBytes,
  )) {
    const firstLine = firstLines[index++];
    if (problem !== undefined) {
      yield { line: firstLine, source: null, reason: problem };
      continue;
    }
    let line = firstLine - 1;
    for (const task of tasks) {
      line += 1;
      yield targetStorageEntry(task, line, file, superseded.get(line), finder, options);
    }
  }
}

/** A chunk's tasks of a JSON list: bytes `start` to `end` (exclusive), the first of them task `firstLine`. */
interface TaskListSlice {
  readonly start: number;
  readonly end: number;
  readonly firstLine: number;
}

/** The tasks of a slice of the list, read as a list of their own: one ranged read. */
async function* taskListSliceItems(options: LabelStudioReaderOptions, slice: TaskListSlice): AsyncGenerator<ExportItem | ExportSkip> {
  const finder = ImageFinder.of(options.images, options.s3);
  const range = await options.store.readRangeStream(options.location, slice.start, slice.end - 1);
  const list = Readable.from(
    (async function* () {
      yield Buffer.from('[');
      for await (const chunk of range) yield chunk as Buffer;
      yield Buffer.from(']');
    })(),
  );
  let line = slice.firstLine - 1;
  for await (const { value: task, refused } of streamJsonElements(list, 'top')) {
    line += 1;
    yield refused === undefined
      ? taskItem(task, line, finder, options.expect, options.limits)
      : { line, source: null, reason: `task ${refused}: not read` };
  }
}

async function* labelStudioItems(
  options: LabelStudioReaderOptions,
  onTask: (start: number, end: number) => void,
  layout: FilesLayout,
): AsyncGenerator<ExportItem | ExportSkip> {
  const finder = ImageFinder.of(options.images, options.s3);
  if (options.files) {
    yield* targetStorageItems(options, options.files, finder, layout);
    return;
  }
  const start = await options.store.readStart(options.location, 64);
  if (
    start?.data
      .toString('utf8')
      .replace(/^\uFEFF/, '')
      .trimStart()
      .startsWith('{')
  ) {
    // One task, or one target-storage annotation, given alone.
    const { tasks, problem } = await readTaskFile(options.store, options.location, options.maxFileBytes);
    if (problem !== undefined) yield { line: 1, source: null, reason: problem };
    else yield taskItem(tasks[0], 1, finder, options.expect, options.limits);
    return;
  }
  let line = 0;
  for await (const { value: task, refused } of streamJsonElements(await options.store.readStream(options.location), 'top', {
    onElement: onTask,
  })) {
    line += 1;
    yield refused === undefined
      ? taskItem(task, line, finder, options.expect, options.limits)
      : { line, source: null, reason: `task ${refused}: not read` };
  }
}

/** A target-storage annotation file (one annotation, its task nested) as that task holding that annotation; anything else as it is. */
function asTask(value: unknown): unknown {
  if (!isObject(value) || !isObject(value.task) || 'data' in value) return value;
  const { task, ...annotation } = value;
  return { ...task, annotations: [annotation] };
}

/** The tasks a file holds (a list, one task, one annotation with its task), or why it holds none. */
async function readTaskFile(
  store: ObjectStore,
  location: string,
  limit = MAX_TASK_FILE_BYTES,
): Promise<{ tasks: unknown[]; problem?: string }> {
  // One request: the whole file when it is within the limit, and its size either way.
  return parseTaskFile(location, await store.readStart(location, limit + 1), limit);
}

/**
 * Target-storage files in order, each as {@link readTaskFile} reads it, with the next ones' reads
 * under way meanwhile: a round of 100,000 one-annotation files is 100,000 small GETs, which one at a
 * time would outlast a Lambda. Bounded: {@link TASK_FILES_AHEAD} files of at most
 * {@link TASK_FILE_AHEAD_BYTES} each; a larger file (a task's brush masks of a very large image) is
 * read again whole, alone, when its turn comes.
 */
async function* readTaskFiles(
  store: ObjectStore,
  files: readonly string[],
  limit = MAX_TASK_FILE_BYTES,
): AsyncGenerator<{ file: string; tasks: unknown[]; problem?: string }> {
  const ahead = Math.min(limit, TASK_FILE_AHEAD_BYTES);
  for await (const { file, start } of mapAhead(files, TASK_FILES_AHEAD, async (file) => ({
    file,
    start: await store.readStart(file, ahead + 1),
  }))) {
    const whole = start && start.size > ahead && start.size <= limit ? await store.readStart(file, limit + 1) : start;
    yield { file, ...parseTaskFile(file, whole, limit) };
  }
}

/** How many target-storage files are read ahead of the one converted. */
const TASK_FILES_AHEAD = 16;
/** The most of one file read ahead: one annotation's file is a few kilobytes to a megabyte. */
const TASK_FILE_AHEAD_BYTES = 4 * 1024 * 1024;

function parseTaskFile(
  location: string,
  start: { data: Buffer; size: number } | undefined,
  limit: number,
): { tasks: unknown[]; problem?: string } {
  if (!start) return { tasks: [], problem: `${location}: not found` };
  if (start.size > limit)
    return { tasks: [], problem: `${location}: ${start.size} bytes, over the ${limit}-byte limit of one Label Studio file` };
  let value: unknown;
  try {
    value = JSON.parse(start.data.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    return { tasks: [], problem: `${location}: not JSON (${(err as Error).message.slice(0, 120)})` };
  }
  return { tasks: (Array.isArray(value) ? value : [value]).map(asTask) };
}

const stampOf = (a: Json) => String(a.updated_at ?? a.created_at ?? '');

/** The annotations of a task that count (not cancelled), and the one that wins: the most recent, among equal stamps the later. */
function winningAnnotation(task: Json): { annotations: Json[]; winner?: Json } {
  const annotations = (Array.isArray(task.annotations) ? task.annotations : []).filter(isObject);
  const kept = annotations.filter((a) => a.was_cancelled !== true);
  return { annotations, winner: kept.length === 0 ? undefined : kept.reduce((best, a) => (stampOf(a) >= stampOf(best) ? a : best)) };
}

/**
 * A folder of target-storage files, file by file in name order. Label Studio writes one file per
 * annotation, so a task annotated twice (two annotators, or a task file beside an annotation file) is
 * in two files: a first pass keeps only which occurrence of each task is newest (a few numbers a task),
 * the second reads the files again and converts the winners.
 */
async function* targetStorageItems(
  options: LabelStudioReaderOptions,
  files: readonly string[],
  finder: ImageFinder,
  layout: FilesLayout,
): AsyncGenerator<ExportItem | ExportSkip> {
  const ordered = [...files].sort();
  /** Per task id: the line of its winning occurrence, and how it ranks. */
  const winners = new Map<string, { line: number; labeled: boolean; stamp: string; file: string }>();
  let line = 0;
  for await (const { file, tasks, problem } of readTaskFiles(options.store, ordered, options.maxFileBytes)) {
    // A file that cannot be read is one line, in both passes.
    if (problem !== undefined) line += 1;
    for (const task of tasks) {
      line += 1;
      if (!isObject(task) || task.id === undefined || task.id === null) continue;
      const { winner } = winningAnnotation(task);
      const rank = { line, labeled: winner !== undefined, stamp: winner ? stampOf(winner) : '', file };
      const best = winners.get(String(task.id));
      // A labeled occurrence beats a cancelled one; then the newer stamp; then the later file.
      if (!best || (rank.labeled && !best.labeled) || (rank.labeled === best.labeled && rank.stamp >= best.stamp))
        winners.set(String(task.id), rank);
    }
  }
  line = 0;
  for await (const { file, tasks, problem } of readTaskFiles(options.store, ordered, options.maxFileBytes)) {
    layout.files.push({ file, firstLine: line + 1 });
    if (problem !== undefined) {
      line += 1;
      yield { line, source: null, reason: problem };
      continue;
    }
    for (const task of tasks) {
      line += 1;
      const best = isObject(task) && task.id !== undefined && task.id !== null ? winners.get(String(task.id)) : undefined;
      const newer = best && best.line !== line ? best.file : undefined;
      if (newer !== undefined) layout.superseded.set(line, newer);
      yield targetStorageEntry(task, line, file, newer, finder, options);
    }
  }
}

/** One task of a target-storage file: its item, or a skip saying which newer file keeps the task. */
function targetStorageEntry(
  task: unknown,
  line: number,
  file: string,
  newer: string | undefined,
  finder: ImageFinder,
  options: LabelStudioReaderOptions,
): ExportItem | ExportSkip {
  if (newer !== undefined) {
    const image = imageOf(task as Json);
    return {
      line,
      source: typeof image === 'string' ? image : null,
      reason: `${file}: task ${String((task as Json).id)} is annotated again, in ${newer}, which is newer and kept`,
    };
  }
  const item = taskItem(task, line, finder, options.expect, options.limits);
  return 'reason' in item ? { ...item, reason: `${file}: ${item.reason}` } : item;
}

function imageOf(task: Json): unknown {
  const data = isObject(task.data) ? task.data : {};
  return data.image ?? Object.values(data).find((v) => typeof v === 'string' && /\.(jpe?g|png)(\?|$)/i.test(v));
}

function taskItem(
  task: unknown,
  line: number,
  finder: ImageFinder,
  expect: LabelStudioExpectations = {},
  limits: ConversionLimits = DEFAULT_LIMITS,
): ExportItem | ExportSkip {
  if (!isObject(task)) return { line, source: null, reason: 'task is not a JSON object' };
  const image = imageOf(task);
  if (Array.isArray(image))
    return { line, source: null, reason: 'data.image is a list (a multi-image task); segpipe takes one image per task' };
  if (typeof image !== 'string' || image === '') return { line, source: null, reason: 'task has no data.image' };
  if (expect.project !== undefined && task.project !== expect.project) {
    return {
      line,
      source: image,
      reason: `task ${String(task.id)} is of Label Studio project ${quoted(String(task.project), 40)}, not ${expect.project}`,
    };
  }
  const meta = isObject(task.meta) ? task.meta : {};
  if (expect.batch !== undefined && meta.batch !== expect.batch) {
    return {
      line,
      source: image,
      reason: `task ${String(task.id)} is of batch ${meta.batch === undefined ? '(none)' : quoted(String(meta.batch), 100)}, not ${expect.batch}`,
    };
  }
  if (expect.generation !== undefined && meta.generation !== expect.generation) {
    return {
      line,
      source: image,
      reason: `task ${String(task.id)} is of labeling round ${meta.generation === undefined ? '(none)' : quoted(String(meta.generation), 100)} of the batch, not ${quoted(expect.generation, 100)} (another run's)`,
    };
  }
  const { annotations, winner: annotation } = winningAnnotation(task);
  if (annotation === undefined)
    return {
      line,
      source: image,
      reason: annotations.length === 0 ? 'task has no annotations' : 'every annotation of the task was cancelled',
    };
  const configuredLabels = expect.labels ? new Set(expect.labels) : undefined;
  const results = (Array.isArray(annotation.result) ? annotation.result : []).filter(isObject).filter((r) => isObject(r.value));

  const labelOfId = new Map<string, string>();
  for (const r of results) {
    const labels = (r.value as Json).labels;
    if (r.type === 'labels' && Array.isArray(labels) && typeof labels[0] === 'string') labelOfId.set(String(r.id), labels[0]);
  }
  let size: { width: number; height: number } | undefined;
  const shapes: Shape[] = [];
  const notPainted: Record<string, number> = {};
  const count = (reason: string) => (notPainted[reason] = (notPainted[reason] ?? 0) + 1);
  // Decoding a brush costs its pixels; keeping it, its spans: both bounded per task.
  const budget = { pixels: limits.maxPixels * 16, spans: MAX_ITEM_PAINT_WORK };
  for (const r of results) {
    const type = String(r.type);
    const value = r.value as Json;
    if (NOT_SEGMENTATION.has(type)) {
      count(type);
      continue;
    }
    const labelList = value[type];
    const className = UNLABELED_SHAPES.has(type)
      ? labelOfId.get(String(r.id))
      : Array.isArray(labelList) && typeof labelList[0] === 'string'
        ? labelList[0]
        : undefined;
    const kind = type.replace(/labels$/, '');
    if (!['brush', 'polygon', 'magicwand'].includes(kind)) continue;
    if (className === undefined) {
      count(`${type} without a label`);
      continue;
    }
    if (configuredLabels && !configuredLabels.has(className)) {
      count(`${type} labeled ${quoted(className, 100)}, not in the labeling configuration`);
      continue;
    }
    const width = Number(r.original_width);
    const height = Number(r.original_height);
    const known = width > 0 && height > 0 ? { width, height } : undefined;
    if (known) size ??= known;
    if (kind === 'polygon') {
      const points = Array.isArray(value.points) ? value.points : [];
      const ring = points.flatMap((p) => (Array.isArray(p) && p.length >= 2 ? [Number(p[0]), Number(p[1])] : []));
      if (ring.length < 6 || ring.some((v) => !Number.isFinite(v))) {
        count('polygon with fewer than 3 points');
        continue;
      }
      shapes.push({ kind: 'polygon', className, rings: [ring], percent: true });
      continue;
    }
    if (!Array.isArray(value.rle)) {
      count(`${type} without rle`);
      continue;
    }
    const rle = Uint8Array.from(value.rle as number[]);
    if (!known) {
      // Label Studio's own examples and predictions made with its SDK give no original size: the
      // region is the image's size, which the RLE's header must agree with.
      shapes.push({ kind: 'image-sized-bitmap', className, pixelsAt: (w, h) => brushPixels(rle, w, h, type, 'the image') });
      continue;
    }
    // The declared size is checked before anything of its size is made; a decoded brush is kept as its row spans.
    const refused = declaredSizeProblem(`${type} whose original size`, known.width, known.height, limits.maxPixels);
    if (refused !== undefined) {
      count(refused.replace(' whose original size declares', ' whose original size is'));
      continue;
    }
    if (known.width * known.height > budget.pixels) return { line, source: image, reason: overBudget(limits) };
    budget.pixels -= known.width * known.height;
    const pixels = brushPixels(rle, known.width, known.height, type, 'original_width×original_height');
    if (typeof pixels === 'string') {
      count(pixels);
      continue;
    }
    const spans = spansOfBitmap(pixels, known.width, known.height, budget.spans);
    if (!spans) return { line, source: image, reason: overBudget(limits) };
    budget.spans -= spans.spans.length / 3;
    shapes.push({ kind: 'spans', className, width: known.width, height: known.height, ...spans });
  }
  return {
    line,
    source: image,
    findImage: () => finder.find(image),
    mask: { kind: 'shapes', size, shapes },
    notPainted: Object.keys(notPainted).length > 0 ? notPainted : undefined,
  };
}

/**
 * A brush region's pixels (alpha from 128 is the label), or why not: its RLE's header (the number of
 * RGBA values, 32 bits big-endian) must be width × height × 4, and is checked before decoding.
 */
function brushPixels(rle: Uint8Array, width: number, height: number, type: string, sizeOf: string): Uint8Array | string {
  const values = rle.length >= 4 ? new DataView(rle.buffer, rle.byteOffset, 4).getUint32(0) : undefined;
  if (values !== width * height * 4) {
    return `${type} whose rle holds ${values === undefined ? 'no header' : `${values} values`}, not ${width}×${height}×4 (${sizeOf})`;
  }
  let rgba: ArrayLike<number>;
  try {
    rgba = decodeBrushRle(rle);
  } catch (err) {
    return `${type} whose rle cannot be decoded (${(err as Error).message})`;
  }
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rgba[i * 4 + 3] >= BRUSH_OPAQUE_FROM ? 1 : 0;
  return pixels;
}

const overBudget = (limits: ConversionLimits) =>
  `its brush masks decode to more than ${limits.maxPixels * 16} pixels or ${MAX_ITEM_PAINT_WORK} row spans in all, the most one task may take`;
