import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { INVOKE_BODY_LIMIT, prepareRequestImage } from '../../common/endpoint-payload';
import { CHANNELS } from '../channels';
import { ClassIndex, IGNORE_INDEX, MAX_CLASSES } from '../classes';
import { ExportFormat, ExportItem, ExportReader, ItemSkipped, MaskSpec, ObjectRef, Shape, isBackgroundName } from '../export-item';
import { JPEG_SIGNATURE, JPEG_TAIL_BYTES, JpegHeader, endsWithEndOfImage, orientationSwapsAxes, readJpegHeader } from '../codecs/jpeg';
import { ClassIndexMask, ColourIndex, decodeColourMask, decodeIndexMask, encodeClassIndexPng, resizeClassIndexMask } from '../codecs/mask';
import { NameScope, Split, outputNameFor, splitFor } from '../naming';
import { ObjectNotFoundError, ObjectStore, ReadRefusedError } from '../stores/object-store';
import { manifestReader } from '../readers/ground-truth';
import { IndexedShape, paintShapes, paintWork, spansOfBitmap } from '../codecs/shapes';
import { ConversionLimits, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS, DEFAULT_MEMORY_BUDGET_BYTES, MAX_ITEM_PAINT_WORK, MAX_ITEM_VERTICES, MemoryBudget, cut, declaredSizeProblem, itemMemoryEstimate, pngBytesBound } from '../limits';
import { ZipObjectStore } from '../stores/zip-object-store';

export { CHANNELS };

export const REPORT_FILE = 'report.json';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const HEAD_BYTES = 64 * 1024;
/** Characters of a skip's reason kept in the report (reasons quote uploaded names and messages). */
const MAX_REASON_CHARACTERS = 1000;
const REENCODED_JPEG_QUALITY = 95;
/**
 * While a mask is mapped, pixels ignored on purpose (a class `--classes` leaves out, VOC's object
 * borders) hold this index, which no class has (classes stop at 253), so that they are told apart
 * from pixels of a colour no class has; both are written as 255.
 */
const IGNORED_ON_PURPOSE = MAX_CLASSES;
const onPurpose = (index: number) => (index === IGNORE_INDEX ? IGNORED_ON_PURPOSE : index);
/** Share of the labelled (not background) pixels whose colour no class has, above which a conversion warns. */
const UNKNOWN_PIXELS_WARNING_SHARE = 0.01;

export interface ConversionProgress {
  /** Items converted or skipped so far. */
  readonly done: number;
  /** Items read from the export so far (the total once `readAll`). */
  readonly seen: number;
  readonly readAll: boolean;
}

export interface ConvertExportOptions {
  /** The export, read by the reader of its format. */
  readonly reader: ExportReader;
  /** Location under which the channels and `report.json` are written. */
  readonly out: string;
  /** Writes the channels and the report. */
  readonly output: ObjectStore;
  /**
   * Share of items that go to validation.
   * @default 0.2
   */
  readonly validationFraction?: number;
  /**
   * Seed of the train/validation split.
   * @default 'segpipe'
   */
  readonly seed?: string;
  /**
   * Class names in index order after the background; classes not listed follow in the export's
   * declared order, then first-seen order. When the export declares more classes than the algorithm
   * takes, only these are trained and the others are ignored (255).
   * @default - the export's order
   */
  readonly classes?: readonly string[];
  /**
   * Items converted at once.
   * @default 4
   */
  readonly concurrency?: number;
  /**
   * Scale a mask whose size differs from its image's to the image's (nearest-neighbour) instead of skipping it.
   * @default false
   */
  readonly resizeMasks?: boolean;
  /**
   * Largest image or mask accepted, in pixels; larger declared sizes (decompression bombs) are skipped.
   * @default 67108864 (64 Mi pixels)
   */
  readonly maxPixels?: number;
  /**
   * Largest source file read, in bytes.
   * @default 268435456 (256 MiB)
   */
  readonly maxFileBytes?: number;
  /**
   * Bytes the items in flight may hold at once (see `MemoryBudget`); an item that needs more alone is skipped.
   * @default 805306368 (768 MiB)
   */
  readonly memoryBudgetBytes?: number;
  /**
   * Where the report is written.
   * @default - `<out>/report.json`
   */
  readonly reportLocation?: string;
  readonly onProgress?: (progress: ConversionProgress) => void;
  /**
   * Convert only the entries whose position in the export is `index` modulo `count`, so that `count`
   * threads share one export; every shard still reads all entries, so class order, duplicates and
   * names are decided as by one conversion. Merge the shards' reports with `mergeConversionReports`.
   * @default - the whole export
   */
  readonly shard?: { readonly index: number; readonly count: number };
  /**
   * Convert only the entries at these positions (1-based, inclusive; lines, tasks, images), and stop
   * reading after `last`: the workflow converts a large export in chunks, one Lambda each. Entries
   * before `first` are still read, so that a duplicate of one of them is reported as one here.
   * @default - every entry
   */
  readonly range?: { readonly first: number; readonly last: number };
  /**
   * Output names' namespace and suffix (the workflow's batch and run); the split depends on the source alone.
   * @default - names from the source alone
   */
  readonly names?: NameScope;
  /**
   * Write `report.json` (a shard's report is merged and written by the caller instead).
   * @default true
   */
  readonly writeReport?: boolean;
}

export interface ConvertGroundTruthManifestOptions extends Omit<ConvertExportOptions, 'reader' | 'output'> {
  /** Location of the Ground Truth (or Lookout for Vision) output manifest. */
  readonly manifest: string;
  readonly stores: ConversionStores;
  /**
   * The label attribute to read.
   * @default - the `-ref` attribute whose metadata type is semantic segmentation
   */
  readonly labelAttribute?: string;
}

export interface ConversionStores {
  /** Reads the manifest. */
  readonly manifest: ObjectStore;
  /** Reads the images and masks the manifest refers to. */
  readonly sources: ObjectStore;
  /** Writes the channels and the report. */
  readonly output: ObjectStore;
}

export interface ConvertedItem {
  /** Position in the export: manifest line, task or image number. */
  readonly line: number;
  /** The image reference exactly as the export wrote it. */
  readonly source: string;
  /** Output file stem: `<name>.jpg` and `<name>.png`. */
  readonly name: string;
  readonly split: Split;
  readonly width: number;
  readonly height: number;
  /** `copied` byte for byte, or `re-encoded` (PNG source, EXIF rotation, CMYK). */
  readonly image: 'copied' | 're-encoded';
  readonly pixelsPerClass: Record<string, number>;
  /** Pixels written as 255 (ignored by the algorithm): of a colour no class has, or ignored on purpose. */
  readonly ignoredPixels: number;
  /** Of `ignoredPixels`, those of a colour (or value) that no class of the export has; absent when none. */
  readonly unknownPixels?: number;
  /** Shapes of the item that were not painted, by reason (rectangles, unknown categories). */
  readonly notPainted?: Readonly<Record<string, number>>;
  /** SHA-256 of the source image's bytes: the same photo under two names has one. */
  readonly imageSha256: string;
}

/** Images of the same bytes in both splits: the validation score counts as unseen what training saw. */
export interface DuplicateAcrossSplits {
  readonly imageSha256: string;
  /** The sources of the copies in each split, as the export wrote them. */
  readonly train: readonly string[];
  readonly validation: readonly string[];
}

export interface SkippedItem {
  /** Position in the export: manifest line, task or image number. */
  readonly line: number;
  /** The image reference as the export wrote it; `null` when the entry has none. */
  readonly source: string | null;
  readonly reason: string;
}

export interface ConversionReport {
  /** The export read, and its format. */
  readonly input: string;
  readonly format: ExportFormat;
  /** Class names in index order, spelled as in the export or the configured classes. */
  readonly classes: readonly string[];
  readonly validationFraction: number;
  readonly seed: string;
  readonly counts: {
    /** Entries read: manifest lines, tasks, images. */
    readonly lines: number;
    readonly converted: number;
    readonly skipped: number;
    readonly train: number;
    readonly validation: number;
    readonly imagesCopied: number;
    readonly imagesReencoded: number;
    readonly ignoredPixels: number;
    /** Labelled pixels of a colour no class has (a wrong or missing label map), over all items. */
    readonly unknownPixels: number;
    /** Shapes not painted (not segmentation, unknown category), over all items. */
    readonly shapesNotPainted: number;
    /** Images whose bytes are in both splits (each counted once). */
    readonly duplicatesAcrossSplits: number;
  };
  readonly duplicatesAcrossSplits: readonly DuplicateAcrossSplits[];
  readonly items: readonly ConvertedItem[];
  readonly skipped: readonly SkippedItem[];
  /** What the conversion did that the user must know (most labelled pixels ignored); absent when nothing. */
  readonly warnings?: readonly string[];
}

interface Dimensions {
  readonly width: number;
  readonly height: number;
}

interface ItemLimits extends ConversionLimits {
  readonly budget: MemoryBudget;
}

type SourceImage =
  | { readonly format: 'jpeg'; readonly store: ObjectStore; readonly location: string; readonly header: JpegHeader; readonly size: number }
  | { readonly format: 'png'; readonly store: ObjectStore; readonly location: string; readonly data: Buffer; readonly size: number; readonly width: number; readonly height: number };

/** An item's mask with its classes resolved to indices. */
type IndexedMask =
  | { readonly kind: 'colour-png'; readonly file: ObjectRef | (() => Promise<ObjectRef>); readonly colours: readonly ColourIndex[]; readonly transparentIsBackground: boolean }
  | { readonly kind: 'index-png'; readonly file: ObjectRef; readonly table: Uint8Array; readonly colours: readonly ColourIndex[] }
  | { readonly kind: 'shapes'; readonly size?: Dimensions; readonly shapes: readonly ((IndexedShape & { readonly percent?: boolean }) | ImageSizedShape)[] };

/** A shape whose bitmap is made at the image's size, once the image is read. */
type ImageSizedShape = Omit<Extract<Shape, { kind: 'image-sized-bitmap' }>, 'className'> & { readonly index: number };

interface ItemResult {
  readonly item: Omit<ConvertedItem, 'pixelsPerClass'> & { readonly pixelsPerIndex: Uint32Array };
}

/** Converts a Ground Truth (or Lookout for Vision) output manifest: `convertExport` with its reader. */
export function convertGroundTruthManifest(options: ConvertGroundTruthManifestOptions): Promise<ConversionReport> {
  const { manifest, stores, labelAttribute, ...rest } = options;
  const reader = manifestReader({ manifest, manifestStore: stores.manifest, sources: stores.sources, labelAttribute });
  return convertExport({ ...rest, reader, output: stores.output });
}

/**
 * Converts a labeling export, read by the reader of its format, into the built-in algorithm's
 * channels: `<out>/{train,validation}/<name>.jpg`, `<out>/{train,validation}_annotation/<name>.png`
 * (8-bit single-channel class indices), and `<out>/report.json`. Bad items are reported and skipped;
 * sources are only read. Throws only when the export cannot be read or an output cannot be written.
 */
export async function convertExport(options: ConvertExportOptions): Promise<ConversionReport> {
  const validationFraction = options.validationFraction ?? 0.2;
  const seed = options.seed ?? 'segpipe';
  const concurrency = options.concurrency ?? 4;
  const limits: ItemLimits = {
    maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    budget: new MemoryBudget(options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES),
  };
  if (!(validationFraction > 0 && validationFraction < 1)) throw new Error(`validation fraction must be between 0 and 1 (exclusive), received ${validationFraction}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, received ${concurrency}`);

  const { reader, shard } = options;
  if (shard && !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) && shard.index >= 0 && shard.index < shard.count)) {
    throw new Error(`shard ${shard.index} of ${shard.count} is not one of 0..count-1`);
  }
  const classIndex = await classIndexFor(reader, options.classes ?? []);
  const results: ItemResult[] = [];
  const skipped: SkippedItem[] = [];
  const firstLineOfSource = new Map<string, number>();
  const sourceOfName = new Map<string, string>();
  let seen = 0;
  let done = 0;
  let readAll = false;
  const progress = () => options.onProgress?.({ done, seen, readAll });
  const skip = (line: number, source: string | null, reason: string) => {
    // Uploaded text is cut: a reason quotes names and messages, and a source can be megabytes.
    skipped.push({ line, source: source === null ? null : cut(source), reason: cut(reason, MAX_REASON_CHARACTERS) });
    done += 1;
    progress();
  };

  // Entries are read in order (so first-seen class order is the export's), items converted concurrently.
  async function* exportItems(): AsyncGenerator<{ item: ExportItem; mask: IndexedMask; name: string; split: Split }> {
    let position = 0;
    const { range } = options;
    for await (const entry of reader.items()) {
      if (range && entry.line > range.last) break;
      const mine = (!shard || position++ % shard.count === shard.index) && (!range || entry.line >= range.first);
      if (mine) seen += 1;
      const skipMine = (source: string | null, reason: string) => mine && skip(entry.line, source, reason);
      if (!('mask' in entry)) {
        skipMine(entry.source, entry.reason);
        continue;
      }
      const earlier = firstLineOfSource.get(entry.source);
      if (earlier !== undefined) {
        skipMine(entry.source, `duplicate of line ${earlier}`);
        continue;
      }
      firstLineOfSource.set(entry.source, entry.line);
      const name = outputNameFor(entry.source, options.names);
      const other = sourceOfName.get(name);
      if (other !== undefined) {
        skipMine(entry.source, `output name ${name} is already taken by ${other}`);
        continue;
      }
      sourceOfName.set(name, entry.source);
      // Every shard resolves every entry's classes, so all agree on the class order.
      const mask = indexMask(entry.mask, classIndex);
      if (typeof mask === 'string') {
        skipMine(entry.source, mask);
        continue;
      }
      if (mine) yield { item: entry, mask, name, split: splitFor(entry.source, seed, validationFraction) };
    }
    readAll = true;
    progress();
  }

  const queue = exportItems();
  const worker = async () => {
    for (let next = await queue.next(); !next.done; next = await queue.next()) {
      const { item, mask, name, split } = next.value;
      const result = await convertItem(item, mask, name, split, options, limits).catch((err: unknown) => {
        if (err instanceof ItemSkipped) return err.message;
        if (err instanceof ObjectNotFoundError) return err.message;
        if (err instanceof ReadRefusedError) return err.message;
        if (isSourceReadError(err)) return `cannot read a source: ${(err as Error).message}`;
        throw err;
      });
      if (typeof result === 'string') {
        skip(item.line, item.source, result);
      } else {
        results.push({ item: result });
        done += 1;
        progress();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const classes = [...classIndex.classes];
  const items: ConvertedItem[] = results.map(({ item: { pixelsPerIndex, ...item } }) => ({
    ...item,
    pixelsPerClass: Object.fromEntries(classes.map((name, index) => [name, pixelsPerIndex[index]])),
  })).sort((a, b) => a.line - b.line);
  const report = reportOf(reader, classes, validationFraction, seed, seen, items, skipped.sort((a, b) => a.line - b.line));
  if (options.writeReport ?? true) await writeConversionReport(options.output, options.reportLocation ?? options.output.join(options.out, REPORT_FILE), report);
  return report;
}

function reportOf(
  reader: Pick<ExportReader, 'input' | 'format'>,
  classes: readonly string[],
  validationFraction: number,
  seed: string,
  lines: number,
  items: readonly ConvertedItem[],
  skipped: readonly SkippedItem[],
): ConversionReport {
  const unknownPixels = items.reduce((sum, i) => sum + (i.unknownPixels ?? 0), 0);
  const warnings = unknownPixelsWarning(items, classes, unknownPixels);
  const duplicates = duplicatesAcrossSplits(items);
  return {
    input: reader.input,
    format: reader.format,
    classes,
    validationFraction,
    seed,
    counts: {
      lines,
      converted: items.length,
      skipped: skipped.length,
      train: items.filter((i) => i.split === 'train').length,
      validation: items.filter((i) => i.split === 'validation').length,
      imagesCopied: items.filter((i) => i.image === 'copied').length,
      imagesReencoded: items.filter((i) => i.image === 're-encoded').length,
      ignoredPixels: items.reduce((sum, i) => sum + i.ignoredPixels, 0),
      unknownPixels,
      shapesNotPainted: items.reduce((sum, i) => sum + Object.values(i.notPainted ?? {}).reduce((a, b) => a + b, 0), 0),
      duplicatesAcrossSplits: duplicates.length,
    },
    duplicatesAcrossSplits: duplicates,
    items,
    skipped,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** A warning when more than a small share of the labelled (not background) pixels have a colour no class has. */
function unknownPixelsWarning(items: readonly ConvertedItem[], classes: readonly string[], unknownPixels: number): string[] {
  if (unknownPixels === 0) return [];
  const labelled = items.reduce((sum, i) => sum + i.width * i.height - (i.pixelsPerClass[classes[0]] ?? 0), 0);
  if (unknownPixels <= labelled * UNKNOWN_PIXELS_WARNING_SHARE) return [];
  const worst = items.reduce((a, b) => ((b.unknownPixels ?? 0) > (a.unknownPixels ?? 0) ? b : a));
  const share = (100 * unknownPixels) / labelled;
  return [
    `${share < 99.95 ? share.toFixed(1) : '100'} % of the labelled pixels (${unknownPixels} of ${labelled}, in ${items.filter((i) => (i.unknownPixels ?? 0) > 0).length} of ${items.length} items) have a colour no class of the export has, and are ignored (255): ` +
      `the masks' colours do not match the export's classes (most in ${worst.source}); check its label or colour map`,
  ];
}

/** The images whose bytes are in both splits, in export order. */
export function duplicatesAcrossSplits(items: readonly ConvertedItem[]): DuplicateAcrossSplits[] {
  const byHash = new Map<string, ConvertedItem[]>();
  for (const item of items) byHash.set(item.imageSha256, [...(byHash.get(item.imageSha256) ?? []), item]);
  return [...byHash.entries()]
    .filter(([, copies]) => copies.some((c) => c.split === 'train') && copies.some((c) => c.split === 'validation'))
    .map(([imageSha256, copies]) => ({
      imageSha256,
      train: copies.filter((c) => c.split === 'train').map((c) => c.source),
      validation: copies.filter((c) => c.split === 'validation').map((c) => c.source),
    }));
}

export function writeConversionReport(output: ObjectStore, location: string, report: ConversionReport): Promise<void> {
  return output.write(location, Buffer.from(`${JSON.stringify(report, null, 2)}\n`), 'application/json');
}

/**
 * One report from the reports of a conversion's shards: what one conversion of the whole export
 * would have reported, items and skips back in export order.
 */
export function mergeConversionReports(reports: readonly ConversionReport[]): ConversionReport {
  const [first] = reports;
  if (reports.some((r) => JSON.stringify(r.classes) !== JSON.stringify(first.classes))) {
    throw new Error(`the shards of a conversion disagree on the classes: ${reports.map((r) => r.classes.join(',')).join(' / ')}`);
  }
  const byLine = (a: { readonly line: number }, b: { readonly line: number }) => a.line - b.line;
  const items = reports.flatMap((r) => r.items).sort(byLine);
  const skipped = reports.flatMap((r) => r.skipped).sort(byLine);
  return reportOf(first, first.classes, first.validationFraction, first.seed, reports.reduce((sum, r) => sum + r.counts.lines, 0), items, skipped);
}

/**
 * Reads a whole export once, converting nothing: the class order a conversion of it would use
 * (background, configured, declared, then first-seen), and the position of its last entry. The
 * workflow plans its chunks with it, so that every chunk agrees on the classes.
 */
export async function surveyExport(reader: ExportReader, configured: readonly string[]): Promise<{ classes: string[]; lastEntry: number }> {
  const classIndex = await classIndexFor(reader, configured);
  let lastEntry = 0;
  for await (const entry of reader.items()) {
    lastEntry = Math.max(lastEntry, entry.line);
    if ('mask' in entry) indexMask(entry.mask, classIndex);
  }
  return { classes: [...classIndex.classes], lastEntry };
}

/**
 * The class order: the background, the configured classes, then the export's declared ones. A
 * declared list longer than the algorithm takes is an error unless `--classes` chooses among it.
 */
async function classIndexFor(reader: ExportReader, configured: readonly string[]): Promise<ClassIndex> {
  const declared = await reader.declaredClasses();
  const names = new Set([...configured, ...declared.filter((c) => !c.background && !isBackgroundName(c.name)).map((c) => c.name)]);
  const tooMany = names.size > MAX_CLASSES - 1;
  if (tooMany && configured.length === 0) {
    throw new Error(`the export declares ${names.size} classes besides the background; the algorithm takes at most ${MAX_CLASSES - 1}: choose the ones to train with --classes a,b,... (the others are ignored)`);
  }
  const classIndex = new ClassIndex(configured, tooMany);
  for (const cls of declared) {
    const index = classIndex.indexOf(cls);
    if (typeof index === 'string') throw new Error(index);
  }
  return classIndex;
}

function indexMask(mask: MaskSpec, classIndex: ClassIndex): IndexedMask | string {
  switch (mask.kind) {
    case 'colour-png': {
      const colours: ColourIndex[] = [];
      for (const colour of mask.colours) {
        const index = classIndex.indexOf(colour);
        if (typeof index === 'string') return index;
        colours.push({ rgb: colour.rgb, index: onPurpose(index) });
      }
      for (const rgb of mask.ignoredColours ?? []) colours.push({ rgb, index: IGNORED_ON_PURPOSE });
      return { kind: 'colour-png', file: mask.file, colours, transparentIsBackground: mask.transparentIsBackground };
    }
    case 'index-png': {
      const table = new Uint8Array(256).fill(IGNORE_INDEX);
      for (let value = 0; value < mask.classOfValue.length; value++) {
        const cls = mask.classOfValue[value];
        if (!cls) continue;
        const index = classIndex.indexOf(cls);
        if (typeof index === 'string') return index;
        table[value] = onPurpose(index);
      }
      // The format's own "ignore" value (VOC's object borders).
      if (!mask.classOfValue[IGNORE_INDEX]) table[IGNORE_INDEX] = IGNORED_ON_PURPOSE;
      const colours = mask.colourOfValue.map((rgb, value) => ({ rgb, index: table[value] })).filter((c) => c.index !== IGNORE_INDEX);
      return { kind: 'index-png', file: mask.file, table, colours };
    }
    case 'shapes': {
      const shapes: ((IndexedShape & { percent?: boolean }) | ImageSizedShape)[] = [];
      for (const shape of mask.shapes) {
        const index = classIndex.indexOf({ name: shape.className, background: false });
        if (typeof index === 'string') return index;
        shapes.push(shape.kind === 'polygon' ? { kind: 'polygon', index, rings: shape.rings, percent: shape.percent } : { ...shape, index });
      }
      return { kind: 'shapes', size: mask.size, shapes };
    }
  }
}

async function convertItem(
  item: ExportItem,
  mask: IndexedMask,
  name: string,
  split: Split,
  options: ConvertExportOptions,
  limits: ItemLimits,
): Promise<ItemResult['item']> {
  const { output, out } = options;
  const image = await readSourceImage(await item.findImage(), limits);
  let maskPng: Buffer | undefined;
  let maskFile: ObjectRef | undefined;
  let maskHead: { location: string; head: Buffer; size: number } | undefined;
  let maskSize: Dimensions;
  if (mask.kind === 'shapes') {
    maskSize = mask.size ?? (image.format === 'jpeg' ? image.header : image);
  } else {
    maskFile = typeof mask.file === 'function' ? await mask.file() : mask.file;
    // The header first: its declared size is checked before the file is read whole.
    maskHead = await readStart(maskFile, 'mask', HEAD_BYTES);
    const size = pngDimensions(maskHead.head);
    if (!size) throw new ItemSkipped(`mask ${maskFile.locations[0]} is not a PNG`);
    maskSize = size;
  }
  checkPixels('mask', maskSize, limits.maxPixels);
  if (maskHead) checkFileSize('mask', maskHead.size, maskSize, limits.maxFileBytes);

  const stored = image.format === 'jpeg' ? image.header : image;
  const orientation = image.format === 'jpeg' ? image.header.orientation : 1;
  // Labeling tools show images as stored, so masks follow the stored pixel grid; a mask that matches
  // the EXIF-rotated size instead was drawn on the rotated image, and the image is rotated to match.
  const rotate = !sameSize(maskSize, stored) && orientationSwapsAxes(orientation) && sameSize(maskSize, swapped(stored));
  const imageSize = rotate ? swapped(stored) : stored;
  if (!sameSize(maskSize, imageSize) && !options.resizeMasks) {
    throw new ItemSkipped(`mask is ${maskSize.width}×${maskSize.height} but the image is ${imageSize.width}×${imageSize.height} (resize masks to convert it anyway)`);
  }
  const resizeTo = sameSize(maskSize, imageSize) ? undefined : imageSize;

  let notPainted = item.notPainted;
  let shapes: readonly (IndexedShape & { readonly percent?: boolean })[] = [];
  if (mask.kind === 'shapes') {
    const unpainted: Record<string, number> = { ...notPainted };
    shapes = mask.shapes.flatMap((shape) => {
      if (shape.kind !== 'image-sized-bitmap') return [shape];
      const pixels = shape.pixelsAt(maskSize.width, maskSize.height);
      // Kept as its row spans: an item holds its shapes in the size of their outlines.
      const spans = typeof pixels === 'string' ? undefined : spansOfBitmap(pixels, maskSize.width, maskSize.height, MAX_ITEM_PAINT_WORK);
      if (spans) return [{ kind: 'spans' as const, index: shape.index, width: maskSize.width, height: maskSize.height, ...spans }];
      const reason = typeof pixels === 'string' ? pixels : `brush of more than ${MAX_ITEM_PAINT_WORK} row spans`;
      unpainted[reason] = (unpainted[reason] ?? 0) + 1;
      return [];
    });
    if (Object.keys(unpainted).length > 0) notPainted = unpainted;
    // An item whose every annotation failed to paint is not an item without objects.
    if (shapes.length === 0 && notPainted) {
      throw new ItemSkipped(`no annotation could be painted: ${Object.entries(notPainted).map(([reason, n]) => `${n} ${reason}`).join('; ')}`);
    }
  }

  if (mask.kind === 'shapes') {
    const { vertices, work } = paintWork(shapes, maskSize.width, maskSize.height);
    if (vertices > MAX_ITEM_VERTICES) throw new ItemSkipped(`its polygons have ${vertices} vertices, more than the ${MAX_ITEM_VERTICES} one item may have`);
    if (work > MAX_ITEM_PAINT_WORK) throw new ItemSkipped(`its shapes cross ${work} pixel rows, more than the ${MAX_ITEM_PAINT_WORK} one item may (a polygon of that many edges is not a drawn outline)`);
  }

  // Copied only what the algorithm's decoder reads (8-bit samples) and one InvokeEndpoint request
  // carries as it is: the evaluation sends dataset images to the endpoint.
  const copyBytes = image.format === 'jpeg' && orientation === 1 && image.header.components !== 4 && !rotate
    && image.header.precision === 8 && image.size <= INVOKE_BODY_LIMIT;
  const imagePixels = imageSize.width * imageSize.height;
  const maskPixels = Math.max(maskSize.width * maskSize.height, resizeTo ? imagePixels : 0);
  let release: () => void;
  try {
    release = await limits.budget.reserve(itemMemoryEstimate(
      { pixels: maskPixels, fileBytes: maskHead?.size ?? 0 },
      copyBytes ? { pixels: 0, fileBytes: image.store instanceof ZipObjectStore ? image.size : 0 } : { pixels: imagePixels, fileBytes: image.size },
    ));
  } catch (err) {
    if (err instanceof RangeError) throw new ItemSkipped(`item ${err.message}`);
    throw err;
  }
  try {
  if (maskHead && maskFile) maskPng = await readWhole(maskFile.store, maskHead, 'mask');
  let decoded: ClassIndexMask;
  try {
    if (mask.kind === 'colour-png') {
      decoded = await decodeColourMask(maskPng!, mask.colours, { limitInputPixels: limits.maxPixels, resizeTo, transparentIndex: mask.transparentIsBackground ? 0 : undefined });
    } else if (mask.kind === 'index-png') {
      // A class-number mask another tool saved as RGB keeps the format's colours: read it by those.
      decoded = isClassNumberPng(maskPng!)
        ? await decodeIndexMask(maskPng!, mask.table, { limitInputPixels: limits.maxPixels, resizeTo })
        : await decodeColourMask(maskPng!, mask.colours, { limitInputPixels: limits.maxPixels, resizeTo });
    } else {
      const inPixels = shapes.map((shape) => (shape.kind === 'polygon' && shape.percent
        ? { ...shape, rings: shape.rings.map((ring) => ring.map((v, i) => (v * (i % 2 === 0 ? maskSize.width : maskSize.height)) / 100)) }
        : shape));
      const painted = paintShapes(inPixels, maskSize.width, maskSize.height);
      decoded = resizeTo ? resizeClassIndexMask(painted, resizeTo.width, resizeTo.height) : painted;
    }
  } catch (err) {
    throw new ItemSkipped(`mask ${maskFile ? `${maskFile.locations[0]} ` : ''}cannot be decoded: ${(err as Error).message}`);
  }

  const channel = CHANNELS[split];
  const imageTarget = output.join(out, channel.images, `${name}.jpg`);
  const imageSha256 = await sha256Of(image);
  if (copyBytes) {
    await output.copyFrom(image.store, image.location, imageTarget, 'image/jpeg');
  } else {
    let jpeg = await reencodeAsJpeg(image, rotate);
    if (jpeg.length > INVOKE_BODY_LIMIT) {
      // Scaled as a request to the endpoint would be, the mask with it (nearest-neighbour).
      const fitted = await prepareRequestImage(jpeg);
      jpeg = fitted.body;
      decoded = resizeClassIndexMask(decoded, fitted.sentWidth, fitted.sentHeight);
    }
    await output.write(imageTarget, jpeg, 'image/jpeg');
  }
  // Counted at the size written: pixels of a colour no class has, and those ignored on purpose, both as 255.
  const unknownPixels = mask.kind === 'shapes' ? 0 : decoded.pixelsPerIndex[IGNORE_INDEX];
  decoded = withIgnoredOnPurposeAs255(decoded);
  const maskOut = await encodeClassIndexPng(decoded.indices, decoded.width, decoded.height);
  await output.write(output.join(out, channel.masks, `${name}.png`), maskOut, 'image/png');
  return {
    line: item.line,
    source: item.source,
    name,
    split,
    width: decoded.width,
    height: decoded.height,
    image: copyBytes ? 'copied' : 're-encoded',
    pixelsPerIndex: decoded.pixelsPerIndex,
    ignoredPixels: decoded.pixelsPerIndex[IGNORE_INDEX],
    ...(unknownPixels > 0 ? { unknownPixels } : {}),
    ...(notPainted ? { notPainted: Object.fromEntries(Object.entries(notPainted).map(([reason, n]) => [cut(reason, MAX_REASON_CHARACTERS), n])) } : {}),
    imageSha256,
  };
  } finally {
    release();
  }
}

/**
 * The mask with its pixels ignored on purpose written as 255, as the algorithm reads them. Four
 * pixels at a time: only a word holding the value is looked into (measured: 5.0 ms → 0.9 ms on a
 * 1280×720 mask with one such pixel in 50).
 */
function withIgnoredOnPurposeAs255(mask: ClassIndexMask): ClassIndexMask {
  const onPurposeCount = mask.pixelsPerIndex[IGNORED_ON_PURPOSE];
  if (onPurposeCount === 0) return mask;
  const { indices } = mask;
  const groups = indices.byteOffset % 4 === 0 ? indices.length >>> 2 : 0;
  const words = new Int32Array(indices.buffer, indices.byteOffset, groups);
  const replace = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (indices[i] === IGNORED_ON_PURPOSE) indices[i] = IGNORE_INDEX;
  };
  for (let g = 0; g < groups; g++) {
    // A word has a byte equal to 254 when the word XOR 0xFEFEFEFE has a zero byte.
    const x = words[g] ^ 0xfefefefe;
    if (((x - 0x01010101) & ~x & 0x80808080) !== 0) replace(g * 4, g * 4 + 4);
  }
  replace(groups * 4, indices.length);
  const pixelsPerIndex = Uint32Array.from(mask.pixelsPerIndex);
  pixelsPerIndex[IGNORE_INDEX] += onPurposeCount;
  pixelsPerIndex[IGNORED_ON_PURPOSE] = 0;
  return { ...mask, pixelsPerIndex };
}

/** SHA-256 of a source image's bytes, streamed. */
async function sha256Of(image: SourceImage): Promise<string> {
  const hash = createHash('sha256');
  if (image.format === 'png') return hash.update(image.data).digest('hex');
  for await (const chunk of await image.store.readStream(image.location)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads the start of the image, sniffs its format, and checks a JPEG is whole without decoding it. */
async function readSourceImage(ref: ObjectRef, limits: ConversionLimits): Promise<SourceImage> {
  const { store } = ref;
  const { location, head, size, tail } = await readStart(ref, 'image', HEAD_BYTES, JPEG_TAIL_BYTES);
  if (size > limits.maxFileBytes) throw new ItemSkipped(`image is ${size} bytes, more than the ${limits.maxFileBytes} accepted`);
  if (head.subarray(0, 3).equals(JPEG_SIGNATURE)) {
    // Ranges within the bytes already read are served from them: most JPEGs need no other read.
    const readRange = async (start: number, end: number) => {
      if (end < head.length) return head.subarray(start, end + 1);
      if (tail && start >= size - tail.length) return tail.subarray(start - (size - tail.length), end + 1 - (size - tail.length));
      return store.readRange(location, start, end);
    };
    const header = await readJpegHeader(head, size, readRange);
    if (typeof header === 'string') throw new ItemSkipped(`image ${header}`);
    checkPixels('image', header, limits.maxPixels);
    if (!(await endsWithEndOfImage(size, readRange))) throw new ItemSkipped('image is truncated (no JPEG end-of-image marker)');
    return { format: 'jpeg', store, location, header, size };
  }
  const dimensions = pngDimensions(head);
  if (dimensions) {
    checkPixels('image', dimensions, limits.maxPixels);
    checkFileSize('image', size, dimensions, limits.maxFileBytes);
    return { format: 'png', store, location, data: await readWhole(store, { location, head, size }, 'image'), size, ...dimensions };
  }
  throw new ItemSkipped(`image ${location} is not a JPEG or PNG`);
}

/** A PNG file larger than its declared pixels can need holds something else: it is not read whole. */
function checkFileSize(what: string, size: number, dimensions: Dimensions, maxFileBytes: number): void {
  const bound = Math.min(maxFileBytes, pngBytesBound(dimensions.width, dimensions.height));
  if (size > bound) {
    throw new ItemSkipped(`${what} is ${size} bytes, more than ${size > maxFileBytes ? `the ${maxFileBytes} accepted` : `a ${dimensions.width}×${dimensions.height} PNG can need (${bound})`}`);
  }
}

/** A file whose start was read, whole: its start again when that was all of it. */
async function readWhole(store: ObjectStore, file: { location: string; head: Buffer; size: number }, what: string): Promise<Buffer> {
  if (file.size <= file.head.length) return file.head;
  try {
    return await store.read(file.location);
  } catch (err) {
    if (err instanceof ReadRefusedError) throw new ItemSkipped(`${what} ${err.message}`);
    throw err;
  }
}

/** The start of an object (one request), trying its locations in order. */
async function readStart(ref: ObjectRef, what: string, maxBytes: number, tailBytes?: number): Promise<{ location: string; head: Buffer; size: number; tail?: Buffer }> {
  const { store } = ref;
  for (const location of ref.locations) {
    let start;
    try {
      start = await store.readStart(location, maxBytes, tailBytes);
    } catch (err) {
      if (err instanceof ReadRefusedError) throw new ItemSkipped(`${what} ${err.message}`);
      throw new ItemSkipped(`${what} ${location} cannot be read: ${(err as Error).message}`);
    }
    if (start === undefined) continue;
    if (start.size === 0) throw new ItemSkipped(`${what} ${location} is empty`);
    return { location, head: start.data, size: start.size, tail: start.tail };
  }
  throw new ItemSkipped(`${what} not found: ${ref.locations[0]}`);
}

async function reencodeAsJpeg(image: SourceImage, rotate: boolean): Promise<Buffer> {
  const data = image.format === 'png' ? image.data : await image.store.read(image.location);
  try {
    // sharp drops all metadata (EXIF orientation included) unless asked to keep it.
    let pipeline = sharp(data, { failOn: 'error', autoOrient: rotate });
    if (image.format === 'png') pipeline = pipeline.flatten({ background: '#ffffff' });
    return await pipeline.toColourspace('srgb').jpeg({ quality: REENCODED_JPEG_QUALITY }).toBuffer();
  } catch (err) {
    // libvips names a 12-bit JPEG's precision in some builds and says "Unknown error" in others: say it ourselves.
    const precision = image.format === 'jpeg' ? image.header.precision : 8;
    throw new ItemSkipped(`image cannot be decoded: ${precision === 8 ? (err as Error).message : `a JPEG of ${precision}-bit precision, which neither this decoder nor the algorithm's reads (8-bit only)`}`);
  }
}

/** Whether a PNG holds one value per pixel (8-bit palette or grey), as class-number masks do. */
function isClassNumberPng(png: Buffer): boolean {
  const bitDepth = png[24];
  const colourType = png[25];
  return bitDepth === 8 && (colourType === 0 || colourType === 3);
}

/** Width and height from a PNG's IHDR chunk, or `undefined` when `data` is not a PNG. */
export function pngDimensions(data: Buffer): Dimensions | undefined {
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

function checkPixels(what: string, size: Dimensions, maxPixels: number): void {
  const problem = declaredSizeProblem(what, size.width, size.height, maxPixels);
  if (problem !== undefined) throw new ItemSkipped(problem);
}

function sameSize(a: Dimensions, b: Dimensions): boolean {
  return a.width === b.width && a.height === b.height;
}

function swapped(size: Dimensions): Dimensions {
  return { width: size.height, height: size.width };
}

/** Errors reading a source that concern that source alone (no access to a foreign bucket, say). */
function isSourceReadError(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 403 || status === 400 || status === 416;
}
