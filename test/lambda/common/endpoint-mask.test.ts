import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { decodeClassMask, predictMask } from '../../../lambda/common/endpoint-mask';
import { prepareRequestImage } from '../../../lambda/common/endpoint-payload';
import { encodeClassIndexPng } from '../../../lambda/convert/codecs/mask';
import { encodePalettePng } from '../../../local/png';
import { renderSyntheticScene } from '../../../local/synthetic-scenes';

const scene = renderSyntheticScene(5, 120, 90);
const rgb = { raw: { width: 120, height: 90, channels: 3 as const } };

/** The scene's mask at `width` × `height`, as an endpoint sent a smaller image answers. */
async function maskAt(width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(scene.classIndices), { raw: { width: 120, height: 90, channels: 1 } })
    .resize(width, height, { kernel: 'nearest', fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
}

describe("an endpoint's class-index PNG", () => {
  test('at the size asked is read as stored', async () => {
    const mask = await decodeClassMask(await encodeClassIndexPng(scene.classIndices, 120, 90), 120, 90);
    expect(Buffer.from(mask).equals(Buffer.from(scene.classIndices))).toBe(true);
  });

  test('answered at the size it was sent is scaled back with nearest-neighbour: no class is made up between two', async () => {
    const request = await prepareRequestImage(await sharp(scene.rgb, rgb).png().toBuffer(), 2500);
    const small = await maskAt(request.sentWidth, request.sentHeight);
    const mask = await decodeClassMask(await encodeClassIndexPng(small, request.sentWidth, request.sentHeight), 120, 90);
    expect(mask).toHaveLength(120 * 90);
    expect(new Set(mask)).toEqual(new Set(scene.classIndices));
    expect(mask.filter((value, i) => value === scene.classIndices[i]).length / mask.length).toBeGreaterThan(0.9);
  });

  test('a palette PNG gives its indices, not its colours', async () => {
    const indices = new Uint8Array([0, 1, 2, 1, 0, 2]);
    const png = encodePalettePng(indices, 3, 2, [255, 255, 255, 200, 10, 10, 10, 200, 10]);
    expect(Array.from(await decodeClassMask(png, 3, 2))).toEqual([0, 1, 2, 1, 0, 2]);
  });

  test('an RGB PNG is read by its first channel, at another size too', async () => {
    const indices = Buffer.from([0, 1, 2, 3]);
    const rgbMask = await sharp(Buffer.from([0, 9, 9, 1, 9, 9, 2, 9, 9, 3, 9, 9]), { raw: { width: 2, height: 2, channels: 3 } })
      .png()
      .toBuffer();
    expect(Buffer.from(await decodeClassMask(rgbMask, 2, 2)).equals(indices)).toBe(true);
    expect(Array.from(await decodeClassMask(rgbMask, 4, 2))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(Array.from(await decodeClassMask(rgbMask, 2, 4))).toEqual([0, 1, 0, 1, 2, 3, 2, 3]);
  });

  test('an interlaced PNG, which the direct reader leaves to the decoder, gives its values too', async () => {
    const interlaced = await sharp(Buffer.from([0, 1, 2, 3]), { raw: { width: 2, height: 2, channels: 1 } })
      .png({ progressive: true })
      .toBuffer();
    expect(Array.from(await decodeClassMask(interlaced, 2, 2))).toEqual([0, 1, 2, 3]);
  });
});

describe('predictMask', () => {
  const runtime = mockClient(SageMakerRuntimeClient);
  beforeEach(() => runtime.reset());

  test('sends the prepared JPEG and asks for a PNG, and reads the answer at the image size', async () => {
    const png = await encodeClassIndexPng(scene.classIndices, 120, 90);
    runtime.on(InvokeEndpointCommand).resolves({ Body: new Uint8Array(png) as never });
    const jpeg = await sharp(scene.rgb, rgb).jpeg().toBuffer();
    const controller = new AbortController();
    const { request, mask } = await predictMask(
      new SageMakerRuntimeClient({ region: 'us-east-1' }),
      'segpipe-endpoint',
      jpeg,
      controller.signal,
    );
    expect(request.body).toBe(jpeg);
    expect(Buffer.from(mask).equals(Buffer.from(scene.classIndices))).toBe(true);
    const calls = runtime.commandCalls(InvokeEndpointCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      EndpointName: 'segpipe-endpoint',
      ContentType: 'image/jpeg',
      Accept: 'image/png',
      Body: jpeg,
    });
    expect((calls[0].args as unknown[])[1]).toEqual({ abortSignal: controller.signal });
  });

  test('an answer with no body is an error naming the endpoint', async () => {
    runtime.on(InvokeEndpointCommand).resolves({});
    const jpeg = await sharp(scene.rgb, rgb).jpeg().toBuffer();
    await expect(predictMask(new SageMakerRuntimeClient({ region: 'us-east-1' }), 'segpipe-endpoint', jpeg)).rejects.toThrow(
      'endpoint segpipe-endpoint answered with no body',
    );
  });
});
