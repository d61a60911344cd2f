// @ts-nocheck
import sharp from 'sharp';
import { readJpegHeader } from '../convert/codecs/jpeg';

/** InvokeEndpoint's request body limit: 6 MiB (SageMaker Runtime API reference, `InvokeEndpoint` `Body`, shape `BodyBlob`). */
export const INVOKE_BODY_LIMIT = 6 * 1024 * 1024;
/** Quality of the JPEGs made to fit: high enough that the model sees what a photo shows. */
const REQUEST_JPEG_QUALITY = 90;

export interface RequestImage {
  /** What is sent: a JPEG no larger than the limit. */
  readonly body: Buffer;
  /** The image as given. */
  readonly width: number;
  readonly height: number;
  /** The image as sent, when it had to be scaled down to fit the limit. */
  readonly sentWidth: number;
  readonly sentHeight: number;
  /** The image's RGB pixels at its own size, for drawing. */
  readonly rgb: Buffer;
}

/** A JPEG's sample precision (8, or 12 for the JPEGs the algorithm's decoder refuses); `undefined` for anything else. */
async function jpegPrecision(data: Buffer): Promise<number | undefined> {
  const header = await readJpegHeader(data, data.length, async (start, end) => data.subarray(start, end + 1));
  return typeof header === 'string' ? undefined : header.precision;
}

/** Whether a JPEG's frame has 8-bit samples, the only precision the algorithm's decoder reads (12-bit JPEGs exist). */
export async function isEightBitJpeg(data: Buffer): Promise<boolean> {
  return (await jpegPrecision(data)) === 8;
}

/**
 * The image as a semantic-segmentation endpoint takes it: an 8-bit JPEG as is; anything else
 * re-encoded as JPEG; and, when that is over InvokeEndpoint's request limit, scaled down until it
 * fits (the caller scales the answered mask back). `segpipe predict`, the evaluation and the
 * converter all prepare images here, so a dataset image is one an endpoint can be sent.
 */
export async function prepareRequestImage(input: Buffer, limit = INVOKE_BODY_LIMIT): Promise<RequestImage> {
  const precision = await jpegPrecision(input);
  const decoded = await sharp(input, { failOn: 'error' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((err: Error) => {
      // libvips names the precision in some builds and says "Unknown error" in others: say it ourselves.
      throw precision !== undefined && precision !== 8
        ? new Error(`a JPEG of ${precision}-bit precision, which neither this decoder nor the algorithm's reads (8-bit only)`)
        : err;
    });
  const { width, height } = decoded.info;
  const raw = { raw: { width, height, channels: 3 as const } };
  let body = (await isEightBitJpeg(input)) ? input : await sharp(decoded.data, raw).jpeg({ quality: REQUEST_JPEG_QUALITY }).toBuffer();
  let sentWidth = width;
  let sentHeight = height;
  while (body.length > limit) {
    // JPEG bytes grow about with the pixel count: scale both sides by the square root, with a margin.
    const scale = Math.sqrt(limit / body.length) * 0.9;
    sentWidth = Math.max(1, Math.floor(sentWidth * scale));
    sentHeight = Math.max(1, Math.floor(sentHeight * scale));
    body = await sharp(decoded.data, raw).resize(sentWidth, sentHeight, { fit: 'fill' }).jpeg({ quality: REQUEST_JPEG_QUALITY }).toBuffer();
  }
  return { body, width, height, sentWidth, sentHeight, rgb: decoded.data };
}
