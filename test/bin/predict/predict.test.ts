import sharp from 'sharp';
import { classFractions, classNamesFor, decodeClassMask, overlayPng } from '../../../bin/predict/predict';
import { prepareRequestImage } from '../../../lambda/common/endpoint-payload';
import { encodeClassIndexPng } from '../../../lambda/convert/codecs/mask';
import { renderSyntheticScene } from '../../../local/synthetic-scenes';

describe('predict', () => {
  const scene = renderSyntheticScene(5, 120, 90);
  const rgb = { raw: { width: 120, height: 90, channels: 3 as const } };

  test('a JPEG under the limit is sent as it is; a PNG is re-encoded as JPEG', async () => {
    const jpeg = await sharp(scene.rgb, rgb).jpeg().toBuffer();
    expect((await prepareRequestImage(jpeg)).body).toBe(jpeg);
    const fromPng = await prepareRequestImage(await sharp(scene.rgb, rgb).png().toBuffer());
    expect((await sharp(fromPng.body).metadata()).format).toBe('jpeg');
    expect(fromPng).toMatchObject({ width: 120, height: 90, sentWidth: 120, sentHeight: 90 });
  });

  test('an image over the request limit is scaled down until it fits, and its mask scaled back with nearest-neighbour', async () => {
    const png = await sharp(scene.rgb, rgb).png().toBuffer();
    const request = await prepareRequestImage(png, 2500);
    expect(request.body.length).toBeLessThanOrEqual(2500);
    expect(request.sentWidth).toBeLessThan(120);
    // The endpoint answers at the size it was sent.
    const small = Buffer.from(
      await sharp(Buffer.from(scene.classIndices), { raw: { width: 120, height: 90, channels: 1 } })
        .resize(request.sentWidth, request.sentHeight, { kernel: 'nearest', fit: 'fill' })
        .extractChannel(0)
        .raw()
        .toBuffer(),
    );
    const mask = await decodeClassMask(await encodeClassIndexPng(small, request.sentWidth, request.sentHeight), 120, 90);
    expect(mask.length).toBe(120 * 90);
    expect(new Set(mask)).toEqual(new Set(scene.classIndices));
  });

  test('fractions, names and the overlay with its legend', async () => {
    const mask = new Uint8Array([0, 0, 1, 2, 255, 3]);
    expect(classFractions(mask, 3)).toEqual([0.4, 0.2, 0.2, 0.2]);
    expect(classNamesFor(mask, ['turtle', 'rock'])).toEqual(['background', 'turtle', 'rock', 'class 3']);
    const overlay = await overlayPng(scene.rgb, 120, 90, scene.classIndices, ['background', 'turtle', 'rock']);
    const meta = await sharp(overlay).metadata();
    expect(meta.width).toBeGreaterThanOrEqual(120);
    expect(meta.height).toBeGreaterThan(90);
  });
});

test('a palette PNG from an endpoint gives its indices, not its colours', async () => {
  const { encodePalettePng } = await import('../../../local/png');
  const indices = new Uint8Array([0, 1, 2, 1, 0, 2]);
  const png = encodePalettePng(indices, 3, 2, [255, 255, 255, 200, 10, 10, 10, 200, 10]);
  expect(Array.from(await decodeClassMask(png, 3, 2))).toEqual([0, 1, 2, 1, 0, 2]);
});
