import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import sharp from 'sharp';
import { forEachLimited } from '../common/concurrency';
import { ObjectStore } from '../convert/object-store';
import { readChannelManifest } from '../workflow/channel-manifest';
import { ConfusionMatrix, SegmentationMetrics, imageMiou, percentile } from './metrics';
import { selectEvaluationImages } from './select-images';

/** The validation images of a channels location (a folder or `s3://` prefix holding the algorithm's four channels). */
export interface EvaluationImages {
  /** Names (without extension) of the validation items that have both an image and a mask. */
  names(): Promise<string[]>;
  image(name: string): Promise<Buffer>;
  mask(name: string): Promise<Buffer>;
}

/** A file's name without its folder and extension. */
const baseName = (location: string) => location.slice(location.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');

/**
 * The validation split of the channels under `location`, read through `store`: a run's channels are
 * manifests over the dataset (`validation.manifest`, `S3DataType: ManifestFile`), `segpipe convert`'s
 * are folders (`validation/`, `validation_annotation/`).
 */
export function validationChannel(store: ObjectStore, location: string): EvaluationImages {
  let resolved: Promise<{ images: Map<string, string>; masks: Map<string, string> }> | undefined;
  const byName = (locations: string[], extension: RegExp) => new Map(locations.filter((l) => extension.test(l)).map((l) => [baseName(l), l]));
  const resolve = () => resolved ??= (async () => {
    const manifest = store.join(location, 'validation.manifest');
    if (await store.readStart(manifest, 1)) {
      const read = async (channel: string) => {
        const { prefix, keys } = await readChannelManifest(store, store.join(location, `${channel}.manifest`));
        return keys.map((key) => `${prefix}${key}`);
      };
      return { images: byName(await read('validation'), /\.jpe?g$/i), masks: byName(await read('validation_annotation'), /\.png$/i) };
    }
    return {
      images: byName(await store.listUnder(store.join(location, 'validation')), /\.jpe?g$/i),
      masks: byName(await store.listUnder(store.join(location, 'validation_annotation')), /\.png$/i),
    };
  })();
  const locationOf = async (kind: 'images' | 'masks', name: string) => {
    const found = (await resolve())[kind].get(name);
    if (!found) throw new Error(`the validation channel has no ${kind === 'images' ? 'image' : 'mask'} named ${name}`);
    return found;
  };
  return {
    names: async () => {
      const { images, masks } = await resolve();
      return [...images.keys()].filter((name) => masks.has(name));
    },
    image: async (name) => store.read(await locationOf('images', name)),
    mask: async (name) => store.read(await locationOf('masks', name)),
  };
}

/** Sends one image to one variant (or, without one, where the endpoint's weights route it); answers the mask PNG. */
export type InvokeVariant = (image: Buffer, variant: string | undefined) => Promise<Buffer>;

/** InvokeEndpoint as the algorithm takes it: `image/jpeg` in, the class-index PNG out, `TargetVariant` when given. */
export function sageMakerInvoker(client: SageMakerRuntimeClient, endpointName: string): InvokeVariant {
  return async (image, variant) => {
    const answer = await client.send(new InvokeEndpointCommand({
      EndpointName: endpointName, ContentType: 'image/jpeg', Accept: 'image/png', Body: image, ...(variant ? { TargetVariant: variant } : {}),
    }));
    return Buffer.from(answer.Body ?? new Uint8Array());
  };
}

export interface VariantToEvaluate {
  /** The production variant; undefined sends requests where the endpoint routes them. */
  readonly variant: string | undefined;
  /** What it is in this evaluation: `champion`, `challenger`, or `model` (one alone). */
  readonly role: 'champion' | 'challenger' | 'model';
}

export interface VariantEvaluation extends SegmentationMetrics {
  readonly variant: string | undefined;
  readonly role: VariantToEvaluate['role'];
  /** Milliseconds per request, as the caller saw them. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number };
  readonly perImage: { readonly name: string; readonly miou: number }[];
}

export interface EvaluationResult {
  readonly images: string[];
  readonly numClasses: number;
  readonly variants: VariantEvaluation[];
  /** The predicted mask PNGs by variant index and image name, for the gallery. */
  readonly predictions: Map<string, Buffer>[];
}

export interface EvaluateOptions {
  readonly source: EvaluationImages;
  readonly invoke: InvokeVariant;
  readonly variants: readonly VariantToEvaluate[];
  readonly numClasses: number;
  /** Most images evaluated, chosen by {@link selectEvaluationImages}. */
  readonly maxImages: number;
  /** Images in flight at once; each is sent to every variant in turn. @default 4 */
  readonly concurrency?: number;
  /** Called after each image, with how many are done of how many. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Class indices of a mask PNG, at `width` × `height` (nearest-neighbour when the endpoint answered another size). */
export async function maskIndices(png: Buffer, width?: number, height?: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  const raw = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  if (width === undefined || height === undefined || (raw.info.width === width && raw.info.height === height)) {
    return { data: new Uint8Array(raw.data), width: raw.info.width, height: raw.info.height };
  }
  const resized = await sharp(raw.data, { raw: { width: raw.info.width, height: raw.info.height, channels: 1 } })
    .resize(width, height, { kernel: 'nearest', fit: 'fill' }).extractChannel(0).raw().toBuffer();
  return { data: new Uint8Array(resized), width, height };
}

/**
 * Sends the same images to every variant and scores each against the true masks. The first failed
 * request fails the evaluation, naming the image and the variant.
 */
export async function evaluateVariants(options: EvaluateOptions): Promise<EvaluationResult> {
  const { source, invoke, variants, numClasses } = options;
  const images = selectEvaluationImages(await source.names(), options.maxImages);
  if (images.length === 0) throw new Error('the validation channel holds no image with its mask: there is nothing to evaluate on');
  const matrices = variants.map(() => new ConfusionMatrix(numClasses));
  const latencies = variants.map(() => [] as number[]);
  const perImage = variants.map(() => new Map<string, number>());
  const predictions = variants.map(() => new Map<string, Buffer>());
  let done = 0;
  await forEachLimited(images, options.concurrency ?? 4, async (name) => {
    const [image, truth] = await Promise.all([source.image(name), source.mask(name).then((png) => maskIndices(png))]);
    for (const [index, { variant }] of variants.entries()) {
      const started = performance.now();
      let png: Buffer;
      try {
        png = await invoke(image, variant);
      } catch (err) {
        throw new Error(`InvokeEndpoint${variant ? ` of variant ${variant}` : ''} failed on validation image ${name}: ${(err as Error).message}`);
      }
      latencies[index].push(performance.now() - started);
      const predicted = await maskIndices(png, truth.width, truth.height).catch((err: Error) => {
        throw new Error(`the answer${variant ? ` of variant ${variant}` : ''} for validation image ${name} is not a mask PNG: ${err.message}`);
      });
      matrices[index].add(truth.data, predicted.data);
      perImage[index].set(name, imageMiou(truth.data, predicted.data, numClasses));
      predictions[index].set(name, png);
    }
    options.onProgress?.(++done, images.length);
  });
  return {
    images,
    numClasses,
    predictions,
    variants: variants.map(({ variant, role }, index) => ({
      variant, role, ...matrices[index].metrics(),
      latencyMs: { p50: percentile(latencies[index], 50), p95: percentile(latencies[index], 95), max: Math.max(...latencies[index]) },
      perImage: images.map((name) => ({ name, miou: perImage[index].get(name)! })),
    })),
  };
}
