// @ts-nocheck
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import sharp from 'sharp';
import { readPngDirect } from '../convert/codecs/png-reader';
import { prepareRequestImage, type RequestImage } from './endpoint-payload';

/**
 * Class indices from the endpoint's PNG, at `width` × `height` (nearest-neighbour when it was sent
 * smaller). A one-channel PNG is read as stored, so a palette PNG gives its indices, not its colours.
 */
export async function decodeClassMask(png: Buffer, width: number, height: number): Promise<Uint8Array> {
  const direct = await readPngDirect(png, width * height * 4 + 1);
  let indices: { data: Buffer; width: number; height: number };
  if (direct?.channels === 1) {
    indices = direct;
  } else {
    const raw = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    indices = { data: raw.data, width: raw.info.width, height: raw.info.height };
  }
  if (indices.width === width && indices.height === height) return new Uint8Array(indices.data);
  // sharp widens one-channel raw input to three channels: take the first back.
  return new Uint8Array(
    await sharp(indices.data, { raw: { width: indices.width, height: indices.height, channels: 1 } })
      .resize(width, height, { kernel: 'nearest', fit: 'fill' })
      .extractChannel(0)
      .raw()
      .toBuffer(),
  );
}

/** An endpoint's class-index mask of an image, at the image's own size, and the request it was asked with. */
export async function predictMask(
  client: SageMakerRuntimeClient,
  endpointName: string,
  image: Buffer,
  abortSignal?: AbortSignal,
): Promise<{ request: RequestImage; mask: Uint8Array }> {
  const request = await prepareRequestImage(image);
  const response = await client.send(
    new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: 'image/jpeg', Accept: 'image/png', Body: request.body }),
    { abortSignal },
  );
  if (!response.Body) throw new Error(`endpoint ${endpointName} answered with no body`);
  return { request, mask: await decodeClassMask(Buffer.from(response.Body), request.width, request.height) };
}
