// @ts-nocheck
import { streamJsonElements } from '../codecs/json-stream';
import { spansOfBitmap } from '../codecs/shapes';
import {
  type ColourClass,
  type EntryRange,
  type ExportClass,
  type ExportItem,
  type ExportReader,
  type ExportSkip,
  ItemSkipped,
  isBackgroundName,
  type ObjectRef,
  type Shape,
} from '../export-item';
import { findRelative, ImageFinder, type ImagesRoot, type ReferenceBase } from '../image-finder';
import { type ConversionLimits, cut, DEFAULT_LIMITS, declaredSizeProblem, MAX_ITEM_PAINT_WORK } from '../limits';
import type { ObjectStore } from '../stores/object-store';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Decodes COCO's compressed RLE string (pycocotools' `rleFrString`): each count is 5-bit groups
 * offset by 48, with a continuation bit and sign extension; counts after the second are stored as
 * the difference from the count two places back.
 */
export function decodeCocoRleString(text: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= text.length) throw new Error('compressed RLE ends inside a count');
      const c = text.charCodeAt(p) - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p += 1;
      k += 1;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** An RLE (`counts` alternate background and object runs, column by column) as a row-major bitmap. */
export function rleToBitmap(counts: readonly number[], width: number, height: number): Uint8Array {
  const pixels = new Uint8Array(width * height);
  const total = width * height;
  let position = 0;
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i];
    if (run < 0 || !Number.isInteger(run)) throw new Error(`RLE count ${run} is not a whole number of pixels`);
    if (i % 2 === 1) {
      for (let p = position; p < Math.min(position + run, total); p++) {
        // Column-major position p is pixel (x = p / height, y = p % height).
        pixels[(p % height) * width + Math.floor(p / height)] = 1;
      }
    }
    position += run;
  }
  if (position > total) throw new Error(`RLE covers ${position} pixels, its ${width}×${height} size has ${total}`);
  return pixels;
}

interface CocoImage {
  /** Its place in `images` (1-based): the entry number every item and problem of the export is reported by. */
  readonly position: number;
  readonly id: unknown;
  readonly fileName: string;
  readonly width?: number;
  readonly height?: number;
}

export interface CocoReaderOptions {
  readonly store: ObjectStore;
  readonly location: string;
  /** Where `file_name`s resolve. @default - the JSON's folder */
  readonly images: ImagesRoot;
  readonly s3?: ObjectStore;
  /**
   * Where a panoptic export's PNGs resolve, in order (COCO keeps them in the folder named like the
   * JSON, beside it: `annotations/panoptic_val2017/` for `annotations/panoptic_val2017.json`).
   * @default - nowhere: a panoptic export's items are skipped, their PNG not found
   */
  readonly panopticMasks?: readonly ReferenceBase[];
  /** Sizes accepted from the export (an RLE's `size`). @default DEFAULT_LIMITS */
  readonly limits?: ConversionLimits;
}

/**
 * COCO instance segmentation: polygons, uncompressed and compressed RLE, `iscrowd` either way. One
 * mask per image; classes are the categories by name in category-id order after the background. The
 * JSON is streamed: images and categories are kept, each annotation only as its shape.
 *
 * COCO panoptic segmentation too (annotations with `segments_info` and a PNG whose colour is the
 * segment id, id = R + 256·G + 256²·B): each segment is painted with its category. Unlabelled pixels
 * (id 0) are the background when every category is a thing; when there are stuff categories
 * (`isthing: 0`) the export labels every pixel, and unlabelled ones are ignored (255).
 */
export function cocoReader(options: CocoReaderOptions): ExportReader {
  let parsed: Promise<ParsedCoco> | undefined;
  const parse = () => (parsed ??= parseCoco(options));
  const reader = (coco: () => Promise<ParsedCoco>): ExportReader => ({
    format: 'coco',
    input: options.location,
    declaredClasses: async () => (await coco()).classes,
    items: () => cocoItems(options, coco),
  });
  return {
    ...reader(parse),
    slicing: {
      slicesOf: async (ranges) => {
        const coco = await parse();
        return ranges.map((range) => sliceOf(coco, range));
      },
      readerOf: (slice) => reader(async () => parsedOfSlice(slice as CocoSlice)),
    },
  };
}

/**
 * A chunk's share of a COCO export, gathered once by the plan (annotations are listed apart from
 * their images): its images (the first of each file name, as the whole export's reading keeps), their
 * annotations, its problems, and what the export declares.
 */
interface CocoSlice {
  readonly panoptic: boolean;
  readonly voidIsBackground: boolean;
  readonly classes: ExportClass[];
  readonly categoryName: [string, string][];
  readonly images: CocoImage[];
  readonly annotationsOf: [string, Json[]][];
  readonly problems: ExportSkip[];
}

function sliceOf(coco: ParsedCoco, range: EntryRange): CocoSlice {
  const inRange = (line: number) => line >= range.first && line <= range.last;
  const names = new Set<string>();
  const images: CocoImage[] = [];
  for (const image of coco.images) {
    if (names.has(image.fileName)) continue;
    names.add(image.fileName);
    if (inRange(image.position)) images.push(image);
  }
  const ids = new Set(images.map((image) => String(image.id)));
  return {
    panoptic: coco.panoptic,
    voidIsBackground: coco.voidIsBackground,
    classes: coco.classes,
    categoryName: [...coco.categoryName],
    images,
    annotationsOf: [...coco.annotationsOf].filter(([id]) => ids.has(id)),
    problems: [...coco.problems, ...unreadSkips(coco)].filter((problem) => inRange(problem.line)),
  };
}

function parsedOfSlice(slice: CocoSlice): ParsedCoco {
  return { ...slice, categoryName: new Map(slice.categoryName), annotationsOf: new Map(slice.annotationsOf), unread: [] };
}

/** Elements not read that belong to no image, numbered after every entry (so that a chunk's range meets them last). */
function unreadSkips(coco: ParsedCoco): ExportSkip[] {
  const last = coco.images.reduce(
    (max, image) => Math.max(max, image.position),
    coco.problems.reduce((max, p) => Math.max(max, p.line), 0),
  );
  return coco.unread.map((reason, i) => ({ line: last + i + 1, source: null, reason }));
}

interface ParsedCoco {
  /** Panoptic annotations (`segments_info` and a PNG) rather than instance ones. */
  readonly panoptic: boolean;
  /** Panoptic: whether unlabelled pixels are background (every category a thing) rather than ignored. */
  readonly voidIsBackground: boolean;
  readonly classes: ExportClass[];
  readonly categoryName: Map<string, string>;
  readonly images: CocoImage[];
  readonly annotationsOf: Map<string, Json[]>;
  readonly problems: ExportSkip[];
  /** Elements not read (too large, nested too deep) that belong to no image entry: reported after the images. */
  readonly unread: string[];
}

async function parseCoco(options: CocoReaderOptions): Promise<ParsedCoco> {
  const stream = await options.store.readStream(options.location);
  const categories: { id: number; name: string; supercategory?: string; stuff: boolean }[] = [];
  const annotatedCategories = new Set<string>();
  const images: CocoImage[] = [];
  const annotationsOf = new Map<string, Json[]>();
  const problems: ExportSkip[] = [];
  const seen = { images: 0, annotations: 0, categories: 0, panoptic: 0 };
  const unread: string[] = [];
  const refusedOf: Record<string, number> = {};
  for await (const { key, value, refused } of streamJsonElements(stream, ['images', 'annotations', 'categories'])) {
    if (refused !== undefined) {
      // An image keeps its position (entries are numbered by it); an annotation or category is reported after the images.
      if (key === 'images') {
        seen.images += 1;
        problems.push({ line: seen.images, source: null, reason: `images[${seen.images - 1}] ${refused}: not read` });
      } else {
        const index = (key === 'annotations' ? seen.annotations : seen.categories) + (refusedOf[String(key)] ?? 0);
        refusedOf[String(key)] = (refusedOf[String(key)] ?? 0) + 1;
        unread.push(
          `${key}[${index}] ${refused}: not read${key === 'annotations' ? ' (its image, unknown, is converted without it)' : ''}`,
        );
      }
      continue;
    }
    if (key === 'categories') {
      seen.categories += 1;
      if (
        isObject(value) &&
        typeof value.name === 'string' &&
        value.name !== '' &&
        (typeof value.id === 'number' || typeof value.id === 'string')
      ) {
        categories.push({
          id: Number(value.id),
          name: value.name,
          supercategory: typeof value.supercategory === 'string' ? value.supercategory : undefined,
          stuff: value.isthing === 0,
        });
      }
    } else if (key === 'images') {
      seen.images += 1;
      if (isObject(value) && typeof value.file_name === 'string' && value.file_name !== '') {
        images.push({
          position: seen.images,
          id: value.id,
          fileName: value.file_name,
          width: typeof value.width === 'number' && value.width > 0 ? value.width : undefined,
          height: typeof value.height === 'number' && value.height > 0 ? value.height : undefined,
        });
      } else {
        problems.push({ line: seen.images, source: null, reason: `images[${seen.images - 1}] has no file_name` });
      }
    } else if (key === 'annotations' && isObject(value)) {
      seen.annotations += 1;
      // Only what painting needs is kept: the JSON's other fields (bbox, area, attributes) are dropped.
      let kept: Json;
      if (Array.isArray(value.segments_info)) {
        seen.panoptic += 1;
        const segments = value.segments_info.filter(isObject).map((segment) => ({ id: segment.id, category_id: segment.category_id }));
        for (const segment of segments) annotatedCategories.add(String(segment.category_id));
        kept = { file_name: value.file_name, segments };
      } else {
        kept = { category_id: value.category_id, segmentation: value.segmentation };
        annotatedCategories.add(String(value.category_id));
      }
      const id = String(value.image_id);
      const list = annotationsOf.get(id);
      if (list) list.push(kept);
      else annotationsOf.set(id, [kept]);
    }
  }
  if (seen.images === 0 && seen.categories === 0)
    throw new Error(`${options.location} is not a COCO export: it has no "images" nor "categories"`);
  if (seen.panoptic > 0 && seen.panoptic < seen.annotations) {
    throw new Error(
      `${options.location} mixes ${seen.panoptic} panoptic annotations (segments_info and a PNG) with ${seen.annotations - seen.panoptic} instance ones (segmentation): give one kind`,
    );
  }
  // Roboflow lists the data set itself as a category (id 0) that is every other category's
  // supercategory and labels nothing: it is not a class. Any other category keeps its place whether or
  // not this export uses it (standard COCO's `person` is its own supercategory, as is every category
  // of Label Studio's COCO export).
  const dataSet = categories.find(
    (c) =>
      categories.length > 1 && !annotatedCategories.has(String(c.id)) && categories.every((o) => o === c || o.supercategory === c.name),
  );
  const byId = categories.filter((c) => c !== dataSet).sort((a, b) => a.id - b.id);
  return {
    panoptic: seen.panoptic > 0,
    voidIsBackground: !categories.some((c) => c.stuff),
    classes: byId.map((c) => ({ name: c.name, background: isBackgroundName(c.name) })),
    categoryName: new Map(byId.map((c) => [String(c.id), c.name])),
    images,
    annotationsOf,
    problems,
    unread,
  };
}

async function* cocoItems(options: CocoReaderOptions, parse: () => Promise<ParsedCoco>): AsyncGenerator<ExportItem | ExportSkip> {
  const coco = await parse();
  yield* coco.problems;
  const finder = ImageFinder.of(options.images, options.s3);
  const limits = options.limits ?? DEFAULT_LIMITS;
  const sourceSeen = new Set<string>();
  for (const image of coco.images) {
    const line = image.position;
    if (sourceSeen.has(image.fileName)) continue;
    sourceSeen.add(image.fileName);
    if (coco.panoptic) {
      yield panopticItem(image, coco, finder, options.panopticMasks ?? []);
      continue;
    }
    const shapes: Shape[] = [];
    const notPainted: Record<string, number> = {};
    const count = (reason: string) => (notPainted[reason] = (notPainted[reason] ?? 0) + 1);
    // Decoding an RLE costs its pixels; keeping it, its spans: both bounded per image.
    const budget = { pixels: limits.maxPixels * 16, spans: MAX_ITEM_PAINT_WORK };
    let overBudget: string | undefined;
    for (const annotation of coco.annotationsOf.get(String(image.id)) ?? []) {
      const className = coco.categoryName.get(String(annotation.category_id));
      if (className === undefined) {
        count(`annotation of unknown category ${cut(JSON.stringify(annotation.category_id) ?? 'undefined')}`);
        continue;
      }
      const shape = shapeOf(annotation.segmentation, className, image, limits, budget);
      if (typeof shape === 'string') count(shape);
      else if (shape === OVER_BUDGET) {
        overBudget = `its RLE masks decode to more than ${limits.maxPixels * 16} pixels or ${MAX_ITEM_PAINT_WORK} row spans in all, the most one image may take`;
        break;
      } else shapes.push(shape);
    }
    if (overBudget !== undefined) {
      yield { line, source: image.fileName, reason: overBudget };
      continue;
    }
    const size = image.width !== undefined && image.height !== undefined ? { width: image.width, height: image.height } : undefined;
    yield {
      line,
      source: image.fileName,
      findImage: () => finder.find(image.fileName),
      mask: { kind: 'shapes', size, shapes },
      notPainted: Object.keys(notPainted).length > 0 ? notPainted : undefined,
    };
  }
  yield* unreadSkips(coco);
}

const OVER_BUDGET = Symbol('over budget');

/** A panoptic image: its PNG's segment colours mapped to their categories. */
function panopticItem(image: CocoImage, coco: ParsedCoco, finder: ImageFinder, masks: readonly ReferenceBase[]): ExportItem | ExportSkip {
  const line = image.position;
  const annotations = coco.annotationsOf.get(String(image.id)) ?? [];
  if (annotations.length !== 1)
    return {
      line,
      source: image.fileName,
      reason: `${annotations.length === 0 ? 'no' : annotations.length} panoptic annotations for this image; COCO panoptic gives each image one`,
    };
  const [{ file_name: file, segments }] = annotations as { file_name: unknown; segments: { id: unknown; category_id: unknown }[] }[];
  if (typeof file !== 'string' || file === '')
    return { line, source: image.fileName, reason: 'panoptic annotation without file_name (its PNG)' };
  const notPainted: Record<string, number> = {};
  const count = (reason: string) => (notPainted[reason] = (notPainted[reason] ?? 0) + 1);
  const colours: ColourClass[] = [];
  for (const segment of segments) {
    const className = coco.categoryName.get(String(segment.category_id));
    const id = Number(segment.id);
    if (!Number.isInteger(id) || id < 1 || id >= 2 ** 24) {
      count(`segment id ${JSON.stringify(segment.id)}, which no PNG colour can hold`);
      continue;
    }
    if (className === undefined) {
      count(`segment of unknown category ${JSON.stringify(segment.category_id)}`);
      continue;
    }
    // id = R + 256·G + 256²·B, as colour 0xRRGGBB.
    colours.push({ name: className, background: isBackgroundName(className), rgb: ((id & 0xff) << 16) | (id & 0xff00) | (id >>> 16) });
  }
  const unlabelled = { name: 'BACKGROUND', background: true, rgb: 0 };
  return {
    line,
    source: image.fileName,
    findImage: () => finder.find(image.fileName),
    mask: {
      kind: 'colour-png',
      file: () => findPanopticPng(file, masks),
      colours: coco.voidIsBackground ? [unlabelled, ...colours] : colours,
      transparentIsBackground: false,
      ...(coco.voidIsBackground ? {} : { ignoredColours: [0] }),
    },
    notPainted: Object.keys(notPainted).length > 0 ? notPainted : undefined,
  };
}

/**
 * A panoptic PNG under the bases; when it is not there but the first base's folder is still zipped
 * (COCO ships `annotations/panoptic_val2017.zip` inside its annotations download), the reason says so.
 */
async function findPanopticPng(file: string, masks: readonly ReferenceBase[]): Promise<ObjectRef> {
  try {
    return await findRelative(file, masks, 'panoptic PNG');
  } catch (err) {
    const folder = masks[0];
    if (!(err instanceof ItemSkipped) || !folder) throw err;
    const zip = `${folder.root.replace(/[\\/]+$/, '')}.zip`;
    const zipped = await folder.store.readStart(zip, 1).catch(() => undefined);
    throw zipped ? new ItemSkipped(`${err.message}; ${zip} holds the PNGs still zipped: unzip it beside the JSON`) : err;
  }
}

function shapeOf(
  segmentation: unknown,
  className: string,
  image: CocoImage,
  limits: ConversionLimits,
  budget: { pixels: number; spans: number },
): Shape | string | typeof OVER_BUDGET {
  if (Array.isArray(segmentation)) {
    // A list of polygons (the parts of one object); some tools write one flat polygon.
    const rings = (segmentation.every((v) => typeof v === 'number') ? [segmentation] : segmentation).filter(
      (ring): ring is number[] => Array.isArray(ring) && ring.length >= 6 && ring.every((v) => typeof v === 'number' && Number.isFinite(v)),
    );
    return rings.length > 0 ? { kind: 'polygon', className, rings } : 'annotation without a polygon of 3 points';
  }
  if (isObject(segmentation) && Array.isArray(segmentation.size) && segmentation.size.length === 2) {
    const [height, width] = segmentation.size as number[];
    if (image.width !== undefined && image.height !== undefined && (width !== image.width || height !== image.height)) {
      return `RLE of ${cut(String(width))}×${cut(String(height))} on an image of ${image.width}×${image.height}`;
    }
    const refused = declaredSizeProblem('RLE', width, height, limits.maxPixels);
    if (refused !== undefined) return refused;
    if (width * height > budget.pixels) return OVER_BUDGET;
    budget.pixels -= width * height;
    try {
      const counts = typeof segmentation.counts === 'string' ? decodeCocoRleString(segmentation.counts) : segmentation.counts;
      if (!Array.isArray(counts)) return 'RLE without counts';
      const spans = spansOfBitmap(rleToBitmap(counts as number[], width, height), width, height, budget.spans);
      if (!spans) return OVER_BUDGET;
      budget.spans -= spans.spans.length / 3;
      return { kind: 'spans', className, width, height, ...spans };
    } catch (err) {
      return `RLE cannot be decoded (${cut((err as Error).message)})`;
    }
  }
  return 'annotation without segmentation';
}
