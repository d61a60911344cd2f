// @ts-nocheck
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { INVOKE_BODY_LIMIT } from '../../common/endpoint-payload';
import { endsWithEndOfImage, JPEG_SIGNATURE, JPEG_TAIL_BYTES, type JpegHeader, readJpegHeader } from '../codecs/jpeg';
import { ItemSkipped, type ObjectRef } from '../export-item';
import { type ConversionLimits, declaredSizeProblem, pngBytesBound } from '../limits';
import { type ObjectStore, ReadRefusedError, type ReadStartMore } from '../stores/object-store';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const HEAD_BYTES = 64 * 1024;
const REENCODED_JPEG_QUALITY = 95;

export interface Dimensions {
  readonly width: number;
  readonly height: number;
}

export type SourceImage =
  | {
      readonly format: 'jpeg';
      readonly store: ObjectStore;
      readonly location: string;
      readonly header: JpegHeader;
      readonly size: number;
      /** Its bytes, when the store read them whole with its start (a local file). */
      readonly data?: Buffer;
    }
  | {
      readonly format: 'png';
      readonly store: ObjectStore;
      readonly location: string;
      readonly data: Buffer;
      readonly size: number;
      readonly width: number;
      readonly height: number;
    };

/** SHA-256 of a source image's bytes, streamed unless they were read already. */
export async function sha256Of(image: SourceImage): Promise<string> {
  const hash = createHash('sha256');
  if (image.data) return hash.update(image.data).digest('hex');
  for await (const chunk of await image.store.readStream(image.location)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Reads the start of the image, sniffs its format, and checks a JPEG is whole without decoding it.
 * A store reading local files reads a JPEG small enough to be copied whole at once: its header, end,
 * hash and copy then cost one open.
 */
export async function readSourceImage(ref: ObjectRef, limits: ConversionLimits): Promise<SourceImage> {
  const { store } = ref;
  const { location, head, size, tail } = await readStart(ref, 'image', HEAD_BYTES, {
    tailBytes: JPEG_TAIL_BYTES,
    wholeUpTo: Math.min(limits.maxFileBytes, INVOKE_BODY_LIMIT),
  });
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
    return { format: 'jpeg', store, location, header, size, ...(head.length === size ? { data: head } : {}) };
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
export function checkFileSize(what: string, size: number, dimensions: Dimensions, maxFileBytes: number): void {
  const bound = Math.min(maxFileBytes, pngBytesBound(dimensions.width, dimensions.height));
  if (size > bound) {
    throw new ItemSkipped(
      `${what} is ${size} bytes, more than ${size > maxFileBytes ? `the ${maxFileBytes} accepted` : `a ${dimensions.width}×${dimensions.height} PNG can need (${bound})`}`,
    );
  }
}

/** A file whose start was read, whole: its start again when that was all of it. */
export async function readWhole(store: ObjectStore, file: { location: string; head: Buffer; size: number }, what: string): Promise<Buffer> {
  if (file.size <= file.head.length) return file.head;
  try {
    return await store.read(file.location);
  } catch (err) {
    if (err instanceof ReadRefusedError) throw new ItemSkipped(`${what} ${err.message}`);
    throw err;
  }
}

/** The start of an object (one request), trying its locations in order. */
export async function readStart(
  ref: ObjectRef,
  what: string,
  maxBytes: number,
  more?: ReadStartMore,
): Promise<{ location: string; head: Buffer; size: number; tail?: Buffer }> {
  const { store } = ref;
  for (const location of ref.locations) {
    let start;
    try {
      start = await store.readStart(location, maxBytes, more);
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

export async function reencodeAsJpeg(image: SourceImage, rotate: boolean): Promise<Buffer> {
  const data = image.data ?? (await image.store.read(image.location));
  try {
    // sharp drops all metadata (EXIF orientation included) unless asked to keep it.
    let pipeline = sharp(data, { failOn: 'error', autoOrient: rotate });
    if (image.format === 'png') pipeline = pipeline.flatten({ background: '#ffffff' });
    return await pipeline.toColourspace('srgb').jpeg({ quality: REENCODED_JPEG_QUALITY }).toBuffer();
  } catch (err) {
    // libvips names a 12-bit JPEG's precision in some builds and says "Unknown error" in others: say it ourselves.
    const precision = image.format === 'jpeg' ? image.header.precision : 8;
    throw new ItemSkipped(
      `image cannot be decoded: ${precision === 8 ? (err as Error).message : `a JPEG of ${precision}-bit precision, which neither this decoder nor the algorithm's reads (8-bit only)`}`,
    );
  }
}

/** Whether a PNG holds one value per pixel (8-bit palette or grey), as class-number masks do. */
export function isClassNumberPng(png: Buffer): boolean {
  const bitDepth = png[24];
  const colourType = png[25];
  return bitDepth === 8 && (colourType === 0 || colourType === 3);
}

/** Width and height from a PNG's IHDR chunk, or `undefined` when `data` is not a PNG. */
export function pngDimensions(data: Buffer): Dimensions | undefined {
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

export function checkPixels(what: string, size: Dimensions, maxPixels: number): void {
  const problem = declaredSizeProblem(what, size.width, size.height, maxPixels);
  if (problem !== undefined) throw new ItemSkipped(problem);
}

export function sameSize(a: Dimensions, b: Dimensions): boolean {
  return a.width === b.width && a.height === b.height;
}

export function swapped(size: Dimensions): Dimensions {
  return { width: size.height, height: size.width };
}

/** Errors reading a source that concern that source alone (no access to a foreign bucket, say). */
export function isSourceReadError(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 403 || status === 400 || status === 416;
}
