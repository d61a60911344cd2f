/**
 * JPEG structure read without decoding: enough to decide whether a source JPEG can be copied byte
 * for byte (it is whole, it would not be rotated, its size matches its mask) or must be re-encoded.
 */
// @ts-nocheck


export interface JpegHeader {
  readonly width: number;
  readonly height: number;
  /** 1 grey, 3 YCbCr, 4 CMYK/YCCK. */
  readonly components: number;
  /** Bits per sample: 8 in baseline JPEG; 12 (or 16, lossless) in extended ones, which the algorithm's decoder does not read. */
  readonly precision: number;
  /** EXIF orientation, 1 (as stored) when there is none. */
  readonly orientation: number;
}

/** Reads bytes `start` to `end` inclusive of the file. */
export type RangeReader = (start: number, end: number) => Promise<Buffer>;

export const JPEG_SIGNATURE = Buffer.from([0xff, 0xd8, 0xff]);
const FIRST_READ_BYTES = 64 * 1024;
/** APP segments are at most 64 KiB each; a header past this is not a photo's. */
const MAX_HEADER_BYTES = 1024 * 1024;
/** Bytes read from the end of a JPEG for its end-of-image marker (padding allowed). */
export const JPEG_TAIL_BYTES = 32;

/**
 * Parses the markers up to the start of scan: the frame size and components (SOFn), and the EXIF
 * orientation (APP1). `head` is the file's first bytes; more are read with `readRange` when needed.
 * Returns the reason when the header is not a valid JPEG header.
 */
export async function readJpegHeader(head: Buffer, fileSize: number, readRange: RangeReader): Promise<JpegHeader | string> {
  let data = head;
  const ensure = async (end: number): Promise<boolean> => {
    if (end <= data.length) return true;
    if (end > fileSize || end > MAX_HEADER_BYTES) return false;
    const more = await readRange(data.length, Math.min(fileSize, Math.max(end, data.length + FIRST_READ_BYTES)) - 1);
    data = Buffer.concat([data, more]);
    return end <= data.length;
  };
  if (data.length < 3 || !data.subarray(0, 3).equals(JPEG_SIGNATURE)) return 'not a JPEG (no start-of-image marker)';
  let orientation = 1;
  let frame: { width: number; height: number; components: number; precision: number } | undefined;
  let pos = 2;
  for (;;) {
    if (!(await ensure(pos + 4))) return 'JPEG header is truncated';
    if (data[pos] !== 0xff) return `JPEG header is corrupt (no marker at byte ${pos})`;
    const marker = data[pos + 1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9) return 'JPEG ends before its image data';
    const length = data.readUInt16BE(pos + 2);
    if (length < 2) return `JPEG header is corrupt (segment length ${length} at byte ${pos})`;
    const segmentEnd = pos + 2 + length;
    if (marker === 0xda) {
      if (!frame) return 'JPEG has no frame header (SOF) before its image data';
      return { ...frame, orientation };
    }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame || marker === 0xe1) {
      if (!(await ensure(segmentEnd))) return 'JPEG header is truncated';
      if (isFrame) {
        if (length < 8) return 'JPEG frame header is corrupt';
        frame = {
          precision: data[pos + 4],
          height: data.readUInt16BE(pos + 5),
          width: data.readUInt16BE(pos + 7),
          components: data[pos + 9],
        };
        if (frame.width === 0 || frame.height === 0) return `JPEG declares a ${frame.width}×${frame.height} frame`;
      } else {
        orientation = exifOrientation(data.subarray(pos + 4, segmentEnd)) ?? orientation;
      }
    }
    pos = segmentEnd;
  }
}

/** The orientation tag (0x0112) of IFD0 in an APP1 `Exif` segment, if any. */
export function exifOrientation(app1: Buffer): number | undefined {
  if (app1.length < 14 || app1.toString('latin1', 0, 6) !== 'Exif\0\0') return undefined;
  const tiff = app1.subarray(6);
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const little = order === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return undefined;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

/** Whether the file ends with the end-of-image marker (trailing zero padding allowed): it was not cut short. */
export async function endsWithEndOfImage(fileSize: number, readRange: RangeReader): Promise<boolean> {
  const tail = await readRange(Math.max(0, fileSize - JPEG_TAIL_BYTES), fileSize - 1);
  let end = tail.length;
  while (end > 0 && tail[end - 1] === 0x00) end -= 1;
  return end >= 2 && tail[end - 2] === 0xff && tail[end - 1] === 0xd9;
}

/** EXIF orientations 5 to 8 turn the image by 90°: width and height swap when it is shown. */
export function orientationSwapsAxes(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}
