import sharp from 'sharp';
import { INVOKE_BODY_LIMIT, isEightBitJpeg, prepareRequestImage } from '../../../lambda/common/endpoint-payload';
import { renderSyntheticScene } from '../../../local/synthetic-scenes';

const scene = renderSyntheticScene(5, 120, 90);
const rgb = { raw: { width: 120, height: 90, channels: 3 as const } };

/** `jpeg` with its frame header's sample precision set to `bits` (libvips writes no 12-bit JPEGs). */
function withPrecision(jpeg: Buffer, bits: number): Buffer {
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  const copy = Buffer.from(jpeg);
  copy[sof + 4] = bits;
  return copy;
}

describe('an image as an endpoint takes it', () => {
  test("the limit is InvokeEndpoint's 6 MiB", () => {
    expect(INVOKE_BODY_LIMIT).toBe(6 * 1024 * 1024);
  });

  test('an 8-bit JPEG under the limit is sent as it is, byte for byte', async () => {
    const jpeg = await sharp(scene.rgb, rgb).jpeg().toBuffer();
    const request = await prepareRequestImage(jpeg);
    expect(request.body).toBe(jpeg);
    expect(request).toMatchObject({ width: 120, height: 90, sentWidth: 120, sentHeight: 90 });
    expect(request.rgb).toHaveLength(120 * 90 * 3);
  });

  test('a JPEG exactly at the limit is not scaled', async () => {
    const jpeg = await sharp(scene.rgb, rgb).jpeg().toBuffer();
    const request = await prepareRequestImage(jpeg, jpeg.length);
    expect(request.body).toBe(jpeg);
    expect(request.sentWidth).toBe(120);
  });

  test('a PNG is re-encoded as a JPEG of quality 90 from its own pixels', async () => {
    const request = await prepareRequestImage(await sharp(scene.rgb, rgb).png().toBuffer());
    expect(request.body.equals(await sharp(scene.rgb, rgb).jpeg({ quality: 90 }).toBuffer())).toBe(true);
    expect(request).toMatchObject({ width: 120, height: 90, sentWidth: 120, sentHeight: 90 });
    expect(request.rgb.equals(scene.rgb)).toBe(true);
  });

  test('an image over the limit is scaled down, both sides by the same factor, until it fits', async () => {
    const request = await prepareRequestImage(await sharp(scene.rgb, rgb).png().toBuffer(), 2500);
    expect(request.body.length).toBeLessThanOrEqual(2500);
    expect(request.sentWidth).toBeLessThan(120);
    expect(request.sentWidth).toBeGreaterThan(10);
    expect(request.sentHeight / request.sentWidth).toBeCloseTo(90 / 120, 1);
    const resized = await sharp(scene.rgb, rgb)
      .resize(request.sentWidth, request.sentHeight, { fit: 'fill' })
      .jpeg({ quality: 90 })
      .toBuffer();
    expect(request.body.equals(resized)).toBe(true);
    // The image as given is kept for drawing.
    expect(request).toMatchObject({ width: 120, height: 90 });
  });

  test('a 12-bit JPEG is refused, saying so, where the decoder would only say it failed', async () => {
    const jpeg = await sharp(scene.rgb, rgb).jpeg().toBuffer();
    await expect(prepareRequestImage(withPrecision(jpeg, 12))).rejects.toThrow(
      "a JPEG of 12-bit precision, which neither this decoder nor the algorithm's reads (8-bit only)",
    );
  });

  test("what is not an image fails with the decoder's own message", async () => {
    await expect(prepareRequestImage(Buffer.from('not an image at all'))).rejects.toThrow(/unsupported image format/);
    const png = await sharp(scene.rgb, rgb).png().toBuffer();
    await expect(prepareRequestImage(png.subarray(0, png.length / 2))).rejects.not.toThrow(/precision/);
    // An 8-bit JPEG that fails to decode is not said to be of another precision.
    const jpeg = await sharp(scene.rgb, rgb).jpeg().toBuffer();
    await expect(prepareRequestImage(jpeg.subarray(0, jpeg.length / 2))).rejects.toThrow(/premature end of JPEG/);
  });
});

test('isEightBitJpeg: only a JPEG whose frame has 8-bit samples', async () => {
  const jpeg = await sharp(scene.rgb, rgb).jpeg().toBuffer();
  expect(await isEightBitJpeg(jpeg)).toBe(true);
  expect(await isEightBitJpeg(withPrecision(jpeg, 12))).toBe(false);
  expect(await isEightBitJpeg(await sharp(scene.rgb, rgb).png().toBuffer())).toBe(false);
});
