import { decodeBinary as decodeBrushRle } from '@thi.ng/rle-pack';
import { ExportItem, ExportReader, ExportSkip, Shape } from '../export-item';
import { ImageFinder, ImagesRoot } from '../image-finder';
import { streamJsonElements } from '../json-stream';
import type { ObjectStore } from '../object-store';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Result types that are shapes but not segmentation: counted in the report, never painted. */
const NOT_SEGMENTATION = new Set(['rectanglelabels', 'ellipselabels', 'keypointlabels', 'rectangle', 'ellipse', 'keypoint']);
/** Shapes stored apart from their label: a `labels` result with the same `id` names the class. */
const UNLABELED_SHAPES = new Set(['brush', 'polygon', 'magicwand']);
/** Brush alpha from which a pixel is the label (Label Studio paints anti-aliased strokes). */
const BRUSH_OPAQUE_FROM = 128;

export interface LabelStudioReaderOptions {
  readonly store: ObjectStore;
  readonly location: string;
  /** Where image references resolve. @default - the JSON's folder */
  readonly images: ImagesRoot;
  readonly s3?: ObjectStore;
}

/**
 * Label Studio's JSON export (a list of tasks), streamed task by task: `brushlabels` (Label Studio's
 * RLE), `polygonlabels` (points in percent of the image), and the same shapes stored as a result
 * plus a `labels` result sharing its `id`. Cancelled annotations are skipped; of several, the most
 * recently updated wins.
 */
export function labelStudioReader(options: LabelStudioReaderOptions): ExportReader {
  return {
    format: 'labelstudio',
    input: options.location,
    declaredClasses: async () => [],
    items: () => labelStudioItems(options),
  };
}

async function* labelStudioItems(options: LabelStudioReaderOptions): AsyncGenerator<ExportItem | ExportSkip> {
  const finder = ImageFinder.of(options.images, options.s3);
  let line = 0;
  for await (const { value: task } of streamJsonElements(await options.store.readStream(options.location), 'top')) {
    line += 1;
    yield taskItem(task, line, finder);
  }
}

function taskItem(task: unknown, line: number, finder: ImageFinder): ExportItem | ExportSkip {
  if (!isObject(task)) return { line, source: null, reason: 'task is not a JSON object' };
  const data = isObject(task.data) ? task.data : {};
  const image = data.image ?? Object.values(data).find((v) => typeof v === 'string' && /\.(jpe?g|png)(\?|$)/i.test(v));
  if (Array.isArray(image)) return { line, source: null, reason: 'data.image is a list (a multi-image task); segpipe takes one image per task' };
  if (typeof image !== 'string' || image === '') return { line, source: null, reason: 'task has no data.image' };
  const annotations = (Array.isArray(task.annotations) ? task.annotations : []).filter(isObject);
  const kept = annotations.filter((a) => a.was_cancelled !== true);
  if (kept.length === 0) return { line, source: image, reason: annotations.length === 0 ? 'task has no annotations' : 'every annotation of the task was cancelled' };
  const stamp = (a: Json) => String(a.updated_at ?? a.created_at ?? '');
  // The most recent annotation wins; among equal stamps, the later in the export.
  const annotation = kept.reduce((best, a) => (stamp(a) >= stamp(best) ? a : best));
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
  for (const r of results) {
    const type = String(r.type);
    const value = r.value as Json;
    if (NOT_SEGMENTATION.has(type)) {
      count(type);
      continue;
    }
    const labelList = value[type];
    const className = UNLABELED_SHAPES.has(type) ? labelOfId.get(String(r.id)) : Array.isArray(labelList) && typeof labelList[0] === 'string' ? labelList[0] : undefined;
    const kind = type.replace(/labels$/, '');
    if (!['brush', 'polygon', 'magicwand'].includes(kind)) continue;
    if (className === undefined) {
      count(`${type} without a label`);
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
    const pixels = brushPixels(rle, known.width, known.height, type, 'original_width×original_height');
    if (typeof pixels === 'string') count(pixels);
    else shapes.push({ kind: 'bitmap', className, width: known.width, height: known.height, pixels });
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
