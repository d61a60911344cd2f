// @ts-nocheck
import { INVOKE_BODY_LIMIT, prepareRequestImage } from '../../common/endpoint-payload';
import { CHANNELS } from '../channels';
import { IGNORE_INDEX } from '../classes';
import { orientationSwapsAxes } from '../codecs/jpeg';
import { type ClassIndexMask, decodeColourMask, decodeIndexMask, encodeClassIndexPng, resizeClassIndexMask } from '../codecs/mask';
import { type IndexedShape, paintShapes, paintWork, spansOfBitmap } from '../codecs/shapes';
import { type ExportItem, ItemSkipped, type ObjectRef } from '../export-item';
import { type ConversionLimits, cut, itemMemoryEstimate, MAX_ITEM_PAINT_WORK, MAX_ITEM_VERTICES, type MemoryBudget } from '../limits';
import type { Split } from '../naming';
import type { ObjectStore } from '../stores/object-store';
import { ZipObjectStore } from '../stores/zip-object-store';
import { IGNORED_ON_PURPOSE, type IndexedMask } from './class-indexing';
import type { ConvertedItem } from './report';
import { MAX_REASON_CHARACTERS } from './report';
import {
  checkFileSize,
  checkPixels,
  type Dimensions,
  HEAD_BYTES,
  isClassNumberPng,
  pngDimensions,
  readSourceImage,
  readStart,
  readWhole,
  reencodeAsJpeg,
  type SourceImage,
  sameSize,
  sha256Of,
  swapped,
} from './source-files';

export interface ItemLimits extends ConversionLimits {
  readonly budget: MemoryBudget;
}

/** Where an item is written, and how a mask of another size than its image is treated. */
export interface ItemTarget {
  /** Writes the channels. */
  readonly output: ObjectStore;
  /** Location under which the channels are written. */
  readonly out: string;
  /**
   * Scale a mask whose size differs from its image's to the image's instead of skipping it.
   * @default false
   */
  readonly resizeMasks?: boolean;
}

/** A converted item, its pixels counted by class index (named by the caller, who knows the classes). */
export type ItemResult = Omit<ConvertedItem, 'pixelsPerClass'> & { readonly pixelsPerIndex: Uint32Array };

/** The mask's file, its start read (PNG masks), and its size. */
interface MaskFile {
  readonly size: Dimensions;
  readonly file?: ObjectRef;
  readonly head?: { readonly location: string; readonly head: Buffer; readonly size: number };
}

/** How the image and its mask are lined up. */
interface Fit {
  /** The image is rotated by its EXIF orientation to match the mask. */
  readonly rotate: boolean;
  /** The image's size once rotated (or not). */
  readonly imageSize: Dimensions;
  /** The size the mask is scaled to; absent when it is the image's already. */
  readonly resizeTo?: Dimensions;
}

type PaintedShape = IndexedShape & { readonly percent?: boolean };

/**
 * Converts one item: reads its image and mask (sizes checked before anything is read whole), lines
 * them up, decodes the mask to class indices, and writes `<name>.jpg` and `<name>.png` to the split's
 * channel. Throws `ItemSkipped` with the reason when the item cannot be converted.
 */
export async function convertItem(
  item: ExportItem,
  mask: IndexedMask,
  name: string,
  split: Split,
  target: ItemTarget,
  limits: ItemLimits,
): Promise<ItemResult> {
  const image = await readSourceImage(await item.findImage(), limits);
  const maskFile = await readMaskStart(mask, image, limits);
  const fit = fitMaskToImage(image, maskFile.size, target.resizeMasks ?? false);
  const { shapes, notPainted } =
    mask.kind === 'shapes' ? shapesAtSize(mask, maskFile.size, item.notPainted) : { shapes: [], notPainted: item.notPainted };
  const copyBytes = copiesBytes(image, fit.rotate);
  const release = await reserveMemory(limits.budget, image, maskFile, fit, copyBytes);
  try {
    let decoded = await decodeMask(mask, maskFile, shapes, fit.resizeTo, limits);
    const channel = CHANNELS[split];
    const imageSha256 = await sha256Of(image);
    decoded = await writeImage(
      image,
      copyBytes,
      fit.rotate,
      decoded,
      target.output,
      target.output.join(target.out, channel.images, `${name}.jpg`),
    );
    // Counted at the size written: pixels of a colour no class has, and those ignored on purpose, both as 255.
    const unknownPixels = mask.kind === 'shapes' ? 0 : decoded.pixelsPerIndex[IGNORE_INDEX];
    decoded = withIgnoredOnPurposeAs255(decoded);
    const maskOut = await encodeClassIndexPng(decoded.indices, decoded.width, decoded.height);
    await target.output.write(target.output.join(target.out, channel.masks, `${name}.png`), maskOut, 'image/png');
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
      ...(notPainted
        ? { notPainted: Object.fromEntries(Object.entries(notPainted).map(([reason, n]) => [cut(reason, MAX_REASON_CHARACTERS), n])) }
        : {}),
      imageSha256,
    };
  } finally {
    release();
  }
}

/** The mask's size: a PNG mask's from its header (checked before the file is read whole), shapes' from the export or the image. */
async function readMaskStart(mask: IndexedMask, image: SourceImage, limits: ConversionLimits): Promise<MaskFile> {
  let result: MaskFile;
  if (mask.kind === 'shapes') {
    result = { size: mask.size ?? (image.format === 'jpeg' ? image.header : image) };
  } else {
    const file = typeof mask.file === 'function' ? await mask.file() : mask.file;
    const head = await readStart(file, 'mask', HEAD_BYTES);
    const size = pngDimensions(head.head);
    if (!size) throw new ItemSkipped(`mask ${file.locations[0]} is not a PNG`);
    result = { size, file, head };
  }
  checkPixels('mask', result.size, limits.maxPixels);
  if (result.head) checkFileSize('mask', result.head.size, result.size, limits.maxFileBytes);
  return result;
}

/**
 * Labeling tools show images as stored, so masks follow the stored pixel grid; a mask that matches
 * the EXIF-rotated size instead was drawn on the rotated image, and the image is rotated to match.
 */
function fitMaskToImage(image: SourceImage, maskSize: Dimensions, resizeMasks: boolean): Fit {
  const stored = image.format === 'jpeg' ? image.header : image;
  const orientation = image.format === 'jpeg' ? image.header.orientation : 1;
  const rotate = !sameSize(maskSize, stored) && orientationSwapsAxes(orientation) && sameSize(maskSize, swapped(stored));
  const imageSize = rotate ? swapped(stored) : stored;
  if (!sameSize(maskSize, imageSize) && !resizeMasks) {
    throw new ItemSkipped(
      `mask is ${maskSize.width}×${maskSize.height} but the image is ${imageSize.width}×${imageSize.height} (resize masks to convert it anyway)`,
    );
  }
  return { rotate, imageSize, resizeTo: sameSize(maskSize, imageSize) ? undefined : imageSize };
}

/**
 * The shapes to paint at the mask's size (image-sized bitmaps made now, kept as their row spans: an
 * item holds its shapes in the size of their outlines), refused past the item's vertex and work bounds.
 */
function shapesAtSize(
  mask: Extract<IndexedMask, { kind: 'shapes' }>,
  size: Dimensions,
  notPaintedByReader: Readonly<Record<string, number>> | undefined,
): { shapes: readonly PaintedShape[]; notPainted?: Readonly<Record<string, number>> } {
  const unpainted: Record<string, number> = { ...notPaintedByReader };
  const shapes = mask.shapes.flatMap((shape): PaintedShape[] => {
    if (shape.kind !== 'image-sized-bitmap') return [shape];
    const pixels = shape.pixelsAt(size.width, size.height);
    const spans = typeof pixels === 'string' ? undefined : spansOfBitmap(pixels, size.width, size.height, MAX_ITEM_PAINT_WORK);
    if (spans) return [{ kind: 'spans' as const, index: shape.index, width: size.width, height: size.height, ...spans }];
    const reason = typeof pixels === 'string' ? pixels : `brush of more than ${MAX_ITEM_PAINT_WORK} row spans`;
    unpainted[reason] = (unpainted[reason] ?? 0) + 1;
    return [];
  });
  const notPainted = Object.keys(unpainted).length > 0 ? unpainted : notPaintedByReader;
  // An item whose every annotation failed to paint is not an item without objects.
  if (shapes.length === 0 && notPainted) {
    throw new ItemSkipped(
      `no annotation could be painted: ${Object.entries(notPainted)
        .map(([reason, n]) => `${n} ${reason}`)
        .join('; ')}`,
    );
  }
  const { vertices, work } = paintWork(shapes, size.width, size.height);
  if (vertices > MAX_ITEM_VERTICES)
    throw new ItemSkipped(`its polygons have ${vertices} vertices, more than the ${MAX_ITEM_VERTICES} one item may have`);
  if (work > MAX_ITEM_PAINT_WORK)
    throw new ItemSkipped(
      `its shapes cross ${work} pixel rows, more than the ${MAX_ITEM_PAINT_WORK} one item may (a polygon of that many edges is not a drawn outline)`,
    );
  return { shapes, notPainted };
}

/**
 * Whether the image is copied byte for byte: only what the algorithm's decoder reads (8-bit samples)
 * and one InvokeEndpoint request carries as it is (the evaluation sends dataset images to the endpoint).
 */
function copiesBytes(image: SourceImage, rotate: boolean): boolean {
  return (
    image.format === 'jpeg' &&
    image.header.orientation === 1 &&
    image.header.components !== 4 &&
    !rotate &&
    image.header.precision === 8 &&
    image.size <= INVOKE_BODY_LIMIT
  );
}

/** Holds the item's share of the memory budget until the returned function is called. */
async function reserveMemory(budget: MemoryBudget, image: SourceImage, mask: MaskFile, fit: Fit, copyBytes: boolean): Promise<() => void> {
  const imagePixels = fit.imageSize.width * fit.imageSize.height;
  const maskPixels = Math.max(mask.size.width * mask.size.height, fit.resizeTo ? imagePixels : 0);
  try {
    return await budget.reserve(
      itemMemoryEstimate(
        { pixels: maskPixels, fileBytes: mask.head?.size ?? 0 },
        copyBytes
          ? { pixels: 0, fileBytes: image.data || image.store instanceof ZipObjectStore ? image.size : 0 }
          : { pixels: imagePixels, fileBytes: image.size },
      ),
    );
  } catch (err) {
    if (err instanceof RangeError) throw new ItemSkipped(`item ${err.message}`);
    throw err;
  }
}

/** The mask as class indices at the image's size: a colour PNG, a class-number PNG, or shapes painted. */
async function decodeMask(
  mask: IndexedMask,
  maskFile: MaskFile,
  shapes: readonly PaintedShape[],
  resizeTo: Dimensions | undefined,
  limits: ConversionLimits,
): Promise<ClassIndexMask> {
  const png = maskFile.head && maskFile.file ? await readWhole(maskFile.file.store, maskFile.head, 'mask') : undefined;
  const size = maskFile.size;
  try {
    if (mask.kind === 'colour-png') {
      return await decodeColourMask(png!, mask.colours, {
        limitInputPixels: limits.maxPixels,
        resizeTo,
        transparentIndex: mask.transparentIsBackground ? 0 : undefined,
      });
    }
    if (mask.kind === 'index-png') {
      // A class-number mask another tool saved as RGB keeps the format's colours: read it by those.
      return isClassNumberPng(png!)
        ? await decodeIndexMask(png!, mask.table, { limitInputPixels: limits.maxPixels, resizeTo })
        : await decodeColourMask(png!, mask.colours, { limitInputPixels: limits.maxPixels, resizeTo });
    }
    const inPixels = shapes.map((shape) =>
      shape.kind === 'polygon' && shape.percent
        ? { ...shape, rings: shape.rings.map((ring) => ring.map((v, i) => (v * (i % 2 === 0 ? size.width : size.height)) / 100)) }
        : shape,
    );
    const painted = paintShapes(inPixels, size.width, size.height);
    return resizeTo ? resizeClassIndexMask(painted, resizeTo.width, resizeTo.height) : painted;
  } catch (err) {
    throw new ItemSkipped(`mask ${maskFile.file ? `${maskFile.file.locations[0]} ` : ''}cannot be decoded: ${(err as Error).message}`);
  }
}

/**
 * Writes the image, copied or re-encoded; one too large for an endpoint request is scaled as a
 * request would be, and its mask with it (nearest-neighbour). Returns the mask at the size written.
 */
async function writeImage(
  image: SourceImage,
  copyBytes: boolean,
  rotate: boolean,
  mask: ClassIndexMask,
  output: ObjectStore,
  target: string,
): Promise<ClassIndexMask> {
  if (copyBytes) {
    await output.copyFrom(image.store, image.location, target, 'image/jpeg', image.data);
    return mask;
  }
  let jpeg = await reencodeAsJpeg(image, rotate);
  let written = mask;
  if (jpeg.length > INVOKE_BODY_LIMIT) {
    const fitted = await prepareRequestImage(jpeg);
    jpeg = fitted.body;
    written = resizeClassIndexMask(mask, fitted.sentWidth, fitted.sentHeight);
  }
  await output.write(target, jpeg, 'image/jpeg');
  return written;
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
