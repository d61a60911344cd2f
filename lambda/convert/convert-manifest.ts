import type { Readable } from 'node:stream';
import sharp from 'sharp';
import { ClassIndex, IGNORE_INDEX } from './classes';
import { JPEG_SIGNATURE, JpegHeader, endsWithEndOfImage, orientationSwapsAxes, readJpegHeader } from './jpeg';
import { LabeledItem, SkippedLine, parseManifestLine, readManifestLines } from './manifest';
import { ColourIndex, decodeColourMask, encodeClassIndexPng } from './mask';
import { Split, outputNameFor, splitFor } from './naming';
import { decodeEventKey } from '../shared/s3-keys';
import { ObjectNotFoundError, ObjectStore } from './object-store';

/** The four channels of the built-in Semantic Segmentation algorithm, by split. */
export const CHANNELS = {
  train: { images: 'train', masks: 'train_annotation' },
  validation: { images: 'validation', masks: 'validation_annotation' },
} as const;

export const REPORT_FILE = 'report.json';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const HEAD_BYTES = 64 * 1024;
const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;
const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;
const REENCODED_JPEG_QUALITY = 95;

export interface ConversionStores {
  /** Reads the manifest. */
  readonly manifest: ObjectStore;
  /** Reads the images and masks the manifest refers to. */
  readonly sources: ObjectStore;
  /** Writes the channels and the report. */
  readonly output: ObjectStore;
}

export interface ConversionProgress {
  /** Lines converted or skipped so far. */
  readonly done: number;
  /** Manifest lines read so far (the total once `readAll`). */
  readonly seen: number;
  readonly readAll: boolean;
}

export interface ConvertGroundTruthManifestOptions {
  /** Location of the Ground Truth output manifest. */
  readonly manifest: string;
  /** Location under which the channels and `report.json` are written. */
  readonly out: string;
  readonly stores: ConversionStores;
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
   * Class names in index order after the background; classes not listed follow in first-seen order.
   * @default - first-seen order
   */
  readonly classes?: readonly string[];
  /**
   * The label attribute to read.
   * @default - the `-ref` attribute whose metadata type is semantic segmentation
   */
  readonly labelAttribute?: string;
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
   * Only these manifest lines (1-based, inclusive) are converted, the others read past: the workflow
   * converts a large manifest in chunks, one Lambda each.
   * @default - every line
   */
  readonly lines?: { readonly first: number; readonly last: number };
  /**
   * Where the report is written.
   * @default - `<out>/report.json`
   */
  readonly reportLocation?: string;
  readonly onProgress?: (progress: ConversionProgress) => void;
}

export interface ConvertedItem {
  /** The manifest's `source-ref`, verbatim. */
  readonly source: string;
  /** Output file stem: `<name>.jpg` and `<name>.png`. */
  readonly name: string;
  readonly split: Split;
  readonly width: number;
  readonly height: number;
  /** `copied` byte for byte, or `re-encoded` (PNG source, EXIF rotation, CMYK). */
  readonly image: 'copied' | 're-encoded';
  readonly pixelsPerClass: Record<string, number>;
  /** Pixels of a colour no class has, written as 255 (ignored by the algorithm). */
  readonly ignoredPixels: number;
}

export interface SkippedItem {
  readonly line: number;
  /** The manifest's `source-ref`, verbatim; `null` when the line has none. */
  readonly source: string | null;
  readonly reason: string;
}

export interface ConversionReport {
  readonly manifest: string;
  /** Class names in index order, spelled as in the manifest or the configured classes. */
  readonly classes: readonly string[];
  readonly validationFraction: number;
  readonly seed: string;
  readonly counts: {
    readonly lines: number;
    readonly converted: number;
    readonly skipped: number;
    readonly train: number;
    readonly validation: number;
    readonly imagesCopied: number;
    readonly imagesReencoded: number;
    readonly ignoredPixels: number;
  };
  readonly items: readonly ConvertedItem[];
  readonly skipped: readonly SkippedItem[];
}

/** Raised for an item that cannot be converted; its message is the reason reported. */
class ItemSkipped extends Error {}

interface Dimensions {
  readonly width: number;
  readonly height: number;
}

type SourceImage =
  | { readonly format: 'jpeg'; readonly location: string; readonly header: JpegHeader; readonly size: number }
  | { readonly format: 'png'; readonly location: string; readonly data: Buffer; readonly width: number; readonly height: number };

interface ItemResult {
  readonly line: number;
  readonly item: Omit<ConvertedItem, 'pixelsPerClass'> & { readonly pixelsPerIndex: Uint32Array };
}

/**
 * Converts a Ground Truth semantic-segmentation output into the built-in algorithm's channels:
 * `<out>/{train,validation}/<name>.jpg`, `<out>/{train,validation}_annotation/<name>.png` (8-bit
 * single-channel class indices), and `<out>/report.json`. Bad items are reported and skipped; sources
 * are only read. Throws only when the manifest cannot be read or an output cannot be written.
 */
export async function convertGroundTruthManifest(options: ConvertGroundTruthManifestOptions): Promise<ConversionReport> {
  const validationFraction = options.validationFraction ?? 0.2;
  const seed = options.seed ?? 'segpipe';
  const concurrency = options.concurrency ?? 4;
  const limits = { maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS, maxFileBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES };
  if (!(validationFraction > 0 && validationFraction < 1)) throw new Error(`validation fraction must be between 0 and 1 (exclusive), received ${validationFraction}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be a positive integer, received ${concurrency}`);

  const { stores } = options;
  const classIndex = new ClassIndex(options.classes);
  const results: ItemResult[] = [];
  const skipped: SkippedItem[] = [];
  const firstLineOfSource = new Map<string, number>();
  const sourceOfName = new Map<string, string>();
  let seen = 0;
  let done = 0;
  let readAll = false;
  const progress = () => options.onProgress?.({ done, seen, readAll });
  const skip = (line: number, source: string | null, reason: string) => {
    skipped.push({ line, source, reason });
    done += 1;
    progress();
  };

  let manifestStream: Readable;
  try {
    manifestStream = await stores.manifest.readStream(options.manifest);
  } catch (err) {
    throw new Error(`cannot read the manifest ${options.manifest}: ${(err as Error).message}`);
  }

  // Lines are parsed in order (so first-seen class order is the manifest's), items converted concurrently.
  async function* labeledItems(): AsyncGenerator<{ item: LabeledItem; colours: ColourIndex[]; name: string; split: Split }> {
    for await (const line of readManifestLines(manifestStream)) {
      if (options.lines && (line.lineNumber < options.lines.first || line.lineNumber > options.lines.last)) {
        if (line.lineNumber > options.lines.last) break;
        continue;
      }
      seen += 1;
      if ('error' in line) {
        skip(line.lineNumber, null, line.error);
        continue;
      }
      const parsed: LabeledItem | SkippedLine = parseManifestLine(line, options.labelAttribute);
      if ('reason' in parsed) {
        skip(parsed.lineNumber, parsed.source, parsed.reason);
        continue;
      }
      const earlier = firstLineOfSource.get(parsed.source);
      if (earlier !== undefined) {
        skip(parsed.lineNumber, parsed.source, `duplicate of line ${earlier}`);
        continue;
      }
      firstLineOfSource.set(parsed.source, parsed.lineNumber);
      const name = outputNameFor(parsed.source);
      const other = sourceOfName.get(name);
      if (other !== undefined) {
        skip(parsed.lineNumber, parsed.source, `output name ${name} is already taken by ${other}`);
        continue;
      }
      sourceOfName.set(name, parsed.source);
      const colours = classIndex.indicesOf(parsed.colourMap);
      if (typeof colours === 'string') {
        skip(parsed.lineNumber, parsed.source, colours);
        continue;
      }
      yield { item: parsed, colours, name, split: splitFor(parsed.source, seed, validationFraction) };
    }
    readAll = true;
    // A chunk stops reading early: release the rest of the stream (an S3 response body).
    manifestStream.destroy();
    progress();
  }

  const queue = labeledItems();
  const worker = async () => {
    for (let next = await queue.next(); !next.done; next = await queue.next()) {
      const { item, colours, name, split } = next.value;
      const result = await convertItem(item, colours, name, split, options, limits).catch((err: unknown) => {
        if (err instanceof ItemSkipped) return err.message;
        if (err instanceof ObjectNotFoundError) return err.message;
        if (isSourceReadError(err)) return `cannot read a source: ${(err as Error).message}`;
        throw err;
      });
      if (typeof result === 'string') {
        skip(item.lineNumber, item.source, result);
      } else {
        results.push({ line: item.lineNumber, item: result });
        done += 1;
        progress();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));

  const classes = [...classIndex.classes];
  results.sort((a, b) => a.line - b.line);
  skipped.sort((a, b) => a.line - b.line);
  const items: ConvertedItem[] = results.map(({ item: { pixelsPerIndex, ...item } }) => ({
    ...item,
    pixelsPerClass: Object.fromEntries(classes.map((name, index) => [name, pixelsPerIndex[index]])),
  }));
  const report: ConversionReport = {
    manifest: options.manifest,
    classes,
    validationFraction,
    seed,
    counts: {
      lines: seen,
      converted: items.length,
      skipped: skipped.length,
      train: items.filter((i) => i.split === 'train').length,
      validation: items.filter((i) => i.split === 'validation').length,
      imagesCopied: items.filter((i) => i.image === 'copied').length,
      imagesReencoded: items.filter((i) => i.image === 're-encoded').length,
      ignoredPixels: items.reduce((sum, i) => sum + i.ignoredPixels, 0),
    },
    items,
    skipped,
  };
  await stores.output.write(options.reportLocation ?? stores.output.join(options.out, REPORT_FILE), Buffer.from(`${JSON.stringify(report, null, 2)}\n`), 'application/json');
  return report;
}

async function convertItem(
  item: LabeledItem,
  colours: readonly ColourIndex[],
  name: string,
  split: Split,
  options: ConvertGroundTruthManifestOptions,
  limits: { maxPixels: number; maxFileBytes: number },
): Promise<ItemResult['item']> {
  const { stores, out } = options;
  const image = await readSourceImage(stores.sources, item.source, limits);
  const maskPng = await readMaskFile(stores.sources, item.mask, limits);
  const maskSize = pngDimensions(maskPng);
  if (!maskSize) throw new ItemSkipped(`mask ${item.mask} is not a PNG`);
  checkPixels('mask', maskSize, limits.maxPixels);

  const stored = image.format === 'jpeg' ? image.header : image;
  const orientation = image.format === 'jpeg' ? image.header.orientation : 1;
  // Ground Truth shows images as stored, so masks follow the stored pixel grid; a mask that matches
  // the EXIF-rotated size instead was drawn on the rotated image, and the image is rotated to match.
  const rotate = !sameSize(maskSize, stored) && orientationSwapsAxes(orientation) && sameSize(maskSize, swapped(stored));
  const imageSize = rotate ? swapped(stored) : stored;
  if (!sameSize(maskSize, imageSize) && !options.resizeMasks) {
    throw new ItemSkipped(`mask is ${maskSize.width}×${maskSize.height} but the image is ${imageSize.width}×${imageSize.height} (resize masks to convert it anyway)`);
  }

  let mask;
  try {
    mask = await decodeColourMask(maskPng, colours, {
      limitInputPixels: limits.maxPixels,
      resizeTo: sameSize(maskSize, imageSize) ? undefined : imageSize,
    });
  } catch (err) {
    throw new ItemSkipped(`mask ${item.mask} cannot be decoded: ${(err as Error).message}`);
  }
  const maskOut = await encodeClassIndexPng(mask.indices, mask.width, mask.height);

  const channel = CHANNELS[split];
  const imageTarget = stores.output.join(out, channel.images, `${name}.jpg`);
  const copyBytes = image.format === 'jpeg' && orientation === 1 && image.header.components !== 4 && !rotate;
  if (copyBytes) {
    await stores.output.copyFrom(stores.sources, image.location, imageTarget, 'image/jpeg');
  } else {
    await stores.output.write(imageTarget, await reencodeAsJpeg(stores.sources, image, rotate), 'image/jpeg');
  }
  await stores.output.write(stores.output.join(out, channel.masks, `${name}.png`), maskOut, 'image/png');
  return {
    source: item.source,
    name,
    split,
    width: mask.width,
    height: mask.height,
    image: copyBytes ? 'copied' : 're-encoded',
    pixelsPerIndex: mask.pixelsPerIndex,
    ignoredPixels: mask.pixelsPerIndex[IGNORE_INDEX],
  };
}

/**
 * Finds the source (a manifest holds the raw key; an URL-encoded one is tried when the raw one is
 * missing), sniffs its format, and checks a JPEG is whole without decoding it.
 */
async function readSourceImage(store: ObjectStore, source: string, limits: { maxPixels: number; maxFileBytes: number }): Promise<SourceImage> {
  const { location, data: head, size } = await readStart(store, source, 'image', HEAD_BYTES);
  if (size > limits.maxFileBytes) throw new ItemSkipped(`image is ${size} bytes, more than the ${limits.maxFileBytes} accepted`);
  if (head.subarray(0, 3).equals(JPEG_SIGNATURE)) {
    const readRange = (start: number, end: number) => store.readRange(location, start, end);
    const header = await readJpegHeader(head, size, readRange);
    if (typeof header === 'string') throw new ItemSkipped(`image ${header}`);
    checkPixels('image', header, limits.maxPixels);
    if (!(await endsWithEndOfImage(size, readRange))) throw new ItemSkipped('image is truncated (no JPEG end-of-image marker)');
    return { format: 'jpeg', location, header, size };
  }
  const dimensions = pngDimensions(head);
  if (dimensions) {
    checkPixels('image', dimensions, limits.maxPixels);
    return { format: 'png', location, data: size <= head.length ? head : await store.read(location), ...dimensions };
  }
  throw new ItemSkipped(`image is not a JPEG or PNG (it starts with ${head.subarray(0, 8).toString('hex')})`);
}

async function readMaskFile(store: ObjectStore, mask: string, limits: { maxFileBytes: number }): Promise<Buffer> {
  const { data, size } = await readStart(store, mask, 'mask', limits.maxFileBytes);
  if (size > limits.maxFileBytes) throw new ItemSkipped(`mask is ${size} bytes, more than the ${limits.maxFileBytes} accepted`);
  return data;
}

/** The start of an object (one request), trying the URL-decoded key when the raw one is missing. */
async function readStart(store: ObjectStore, uri: string, what: string, maxBytes: number): Promise<{ location: string; data: Buffer; size: number }> {
  const decoded = decodeEventKey(uri);
  for (const location of decoded === uri ? [uri] : [uri, decoded]) {
    let start;
    try {
      start = await store.readStart(location, maxBytes);
    } catch (err) {
      throw new ItemSkipped(`${what} ${location} cannot be read: ${(err as Error).message}`);
    }
    if (start === undefined) continue;
    if (start.size === 0) throw new ItemSkipped(`${what} ${location} is empty`);
    return { location, ...start };
  }
  throw new ItemSkipped(`${what} not found: ${uri}`);
}

async function reencodeAsJpeg(store: ObjectStore, image: SourceImage, rotate: boolean): Promise<Buffer> {
  const data = image.format === 'png' ? image.data : await store.read(image.location);
  try {
    // sharp drops all metadata (EXIF orientation included) unless asked to keep it.
    let pipeline = sharp(data, { failOn: 'error', autoOrient: rotate });
    if (image.format === 'png') pipeline = pipeline.flatten({ background: '#ffffff' });
    return await pipeline.toColourspace('srgb').jpeg({ quality: REENCODED_JPEG_QUALITY }).toBuffer();
  } catch (err) {
    throw new ItemSkipped(`image cannot be decoded: ${(err as Error).message}`);
  }
}

/** Width and height from a PNG's IHDR chunk, or `undefined` when `data` is not a PNG. */
export function pngDimensions(data: Buffer): Dimensions | undefined {
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

function checkPixels(what: string, size: Dimensions, maxPixels: number): void {
  if (size.width === 0 || size.height === 0) throw new ItemSkipped(`${what} declares an empty ${size.width}×${size.height} size`);
  if (size.width * size.height > maxPixels) {
    throw new ItemSkipped(`${what} declares ${size.width}×${size.height} pixels, more than the ${maxPixels} accepted (a decompression bomb?)`);
  }
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
