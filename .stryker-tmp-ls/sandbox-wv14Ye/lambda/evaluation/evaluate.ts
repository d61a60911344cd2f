// @ts-nocheck
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import sharp from 'sharp';
import { forEachLimited } from '../common/concurrency';
import { ENDPOINT_CONCURRENCY } from '../common/defaults';
import { prepareRequestImage } from '../common/endpoint-payload';
import type { ObjectStore } from '../convert/stores/object-store';
import { readChannelManifest } from '../workflow/channel-manifest';
import { ConfusionMatrix, IGNORE_LABEL, imageMiou, percentile, type SegmentationMetrics } from './metrics';
import { BatchQuota, type HoldoutRule, rankEvaluationImages } from './select-images';

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
  const byName = (locations: string[], extension: RegExp) =>
    new Map(locations.filter((l) => extension.test(l)).map((l) => [baseName(l), l]));
  const resolve = () =>
    (resolved ??= (async () => {
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
    })());
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
    const answer = await client.send(
      new InvokeEndpointCommand({
        EndpointName: endpointName,
        ContentType: 'image/jpeg',
        Accept: 'image/png',
        Body: image,
        ...(variant ? { TargetVariant: variant } : {}),
      }),
    );
    return Buffer.from(answer.Body ?? new Uint8Array());
  };
}

export interface VariantToEvaluate {
  /** The production variant; undefined sends requests where the endpoint routes them. */
  readonly variant: string | undefined;
  /** What it is in this evaluation: `champion`, `challenger`, or `model` (one alone). */
  readonly role: 'champion' | 'challenger' | 'model';
  /**
   * The trainer that made its model, for the report.
   * @default - not said
   */
  readonly trainer?: string;
}

export interface VariantEvaluation extends SegmentationMetrics {
  readonly variant: string | undefined;
  readonly role: VariantToEvaluate['role'];
  readonly trainer?: string;
  /** Milliseconds per request, as the caller saw them. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly max: number };
  readonly perImage: { readonly name: string; readonly miou: number }[];
  /** Chosen images this variant refused (left out of every variant's scores). */
  readonly refused: number;
}

/** Chosen images left out of the scores, each with why. */
export interface SkippedImages {
  /** Walked past while choosing: their masks hold no labelled pixel (only background or 255). */
  readonly unlabelled: string[];
  /** Chosen, but the image cannot be prepared for the endpoint (not decodable). */
  readonly unreadable: { readonly name: string; readonly reason: string }[];
  /** Chosen, but a variant refused it: left out for every variant, so all are scored on the same images. */
  readonly refused: { readonly name: string; readonly variant: string | undefined; readonly reason: string }[];
}

export interface EvaluationResult {
  /** The images every variant was scored on. */
  readonly images: string[];
  /** The images chosen: those scored, and those unreadable or refused. */
  readonly chosen: number;
  readonly skipped: SkippedImages;
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
  /** Most images evaluated, chosen by {@link rankEvaluationImages}. */
  readonly maxImages: number;
  /**
   * The key of the order and the batches' cap.
   * @default - a public key and no cap: for `segpipe evaluate`, where the person evaluating chose the images
   */
  readonly holdout?: Omit<HoldoutRule, 'maxImages'>;
  /**
   * Fewest images every variant must have answered (or all the chosen ones, when fewer were chosen)
   * for the evaluation to stand.
   * @default 1
   */
  readonly minImages?: number;
  /** Images in flight at once; each is sent to every variant in turn. @default 4 */
  readonly concurrency?: number;
  /** Called after each image, with how many are done of how many. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Class indices of a mask PNG, at `width` × `height` (nearest-neighbour when the endpoint answered another size). */
export async function maskIndices(
  png: Buffer,
  width?: number,
  height?: number,
): Promise<{ data: Uint8Array; width: number; height: number }> {
  const raw = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  if (width === undefined || height === undefined || (raw.info.width === width && raw.info.height === height)) {
    return { data: new Uint8Array(raw.data), width: raw.info.width, height: raw.info.height };
  }
  const resized = await sharp(raw.data, { raw: { width: raw.info.width, height: raw.info.height, channels: 1 } })
    .resize(width, height, { kernel: 'nearest', fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  return { data: new Uint8Array(resized), width, height };
}

/** Whether a mask holds a labelled pixel: one of a class other than the background, not ignored. */
export function hasLabelledPixels(mask: Uint8Array): boolean {
  return mask.some((index) => index !== 0 && index !== IGNORE_LABEL);
}

/**
 * Whether InvokeEndpoint's error is the variant refusing this image (the model answered an error, or
 * the body is too large), not the endpoint or the caller failing: the image is then skipped.
 */
export function isRefusal(err: unknown): boolean {
  const { name, $metadata } = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'ModelError' || $metadata?.httpStatusCode === 413;
}

/** The images to evaluate on, in rank order: under each batch's cap, each with labelled pixels in its mask. */
async function chooseImages(options: EvaluateOptions): Promise<{ chosen: { name: string; truth: Buffer }[]; unlabelled: string[] }> {
  const { source, maxImages } = options;
  const rule: HoldoutRule = { key: 'segpipe evaluate', maxBatchShare: 1, ...options.holdout, maxImages };
  const ranked = rankEvaluationImages(await source.names(), rule);
  const quota = new BatchQuota(rule);
  const chosen: { name: string; truth: Buffer }[] = [];
  const unlabelled: string[] = [];
  let next = 0;
  // In rank order, a window at a time: never more masks read than images still wanted.
  while (chosen.length < maxImages && next < ranked.length) {
    const window: typeof ranked = [];
    while (window.length < maxImages - chosen.length && next < ranked.length) {
      const candidate = ranked[next++];
      if (quota.full(candidate.batch)) continue;
      quota.take(candidate.batch);
      window.push(candidate);
    }
    const masks = new Map<string, Buffer>();
    await forEachLimited(window, options.concurrency ?? ENDPOINT_CONCURRENCY, async ({ name }) => {
      masks.set(name, await source.mask(name));
    });
    for (const { name, batch } of window) {
      const truth = masks.get(name)!;
      if (hasLabelledPixels((await maskIndices(truth)).data)) {
        chosen.push({ name, truth });
      } else {
        quota.release(batch);
        unlabelled.push(name);
      }
    }
  }
  return { chosen, unlabelled };
}

/**
 * Sends the same images to every variant and scores each against the true masks. An image a variant
 * refuses is left out for all (and counted); a failed request of another kind fails the evaluation,
 * naming the image and the variant, and so do too few images left.
 */
export async function evaluateVariants(options: EvaluateOptions): Promise<EvaluationResult> {
  const { invoke, variants, numClasses } = options;
  const { chosen, unlabelled } = await chooseImages(options);
  if (chosen.length === 0) {
    throw new Error(
      unlabelled.length
        ? `none of the ${unlabelled.length} validation masks looked at holds a labelled pixel (all background or 255): there is nothing to evaluate on`
        : 'the validation channel holds no image with its mask: there is nothing to evaluate on',
    );
  }
  const matrices = variants.map(() => new ConfusionMatrix(numClasses));
  const latencies = variants.map(() => [] as number[]);
  const perImage = variants.map(() => new Map<string, number>());
  const predictions = variants.map(() => new Map<string, Buffer>());
  const skipped: SkippedImages = { unlabelled, unreadable: [], refused: [] };
  const scored = new Set<string>();
  let done = 0;
  await forEachLimited(chosen, options.concurrency ?? ENDPOINT_CONCURRENCY, async ({ name, truth: truthPng }) => {
    const [image, truth] = await Promise.all([options.source.image(name), maskIndices(truthPng)]);
    let request: Buffer;
    try {
      request = (await prepareRequestImage(image)).body;
    } catch (err) {
      skipped.unreadable.push({ name, reason: (err as Error).message });
      options.onProgress?.(++done, chosen.length);
      return;
    }
    const answers: { predicted: Uint8Array; png: Buffer }[] = [];
    for (const [index, { variant }] of variants.entries()) {
      const started = performance.now();
      let png: Buffer;
      try {
        png = await invoke(request, variant);
      } catch (err) {
        if (isRefusal(err)) {
          skipped.refused.push({ name, variant, reason: (err as Error).message });
          continue;
        }
        throw new Error(
          `InvokeEndpoint${variant ? ` of variant ${variant}` : ''} failed on validation image ${name}: ${(err as Error).message}`,
        );
      }
      latencies[index].push(performance.now() - started);
      const predicted = await maskIndices(png, truth.width, truth.height).catch((err: Error) => {
        throw new Error(
          `the answer${variant ? ` of variant ${variant}` : ''} for validation image ${name} is not a mask PNG: ${err.message}`,
        );
      });
      answers.push({ predicted: predicted.data, png });
    }
    if (answers.length === variants.length) {
      for (const [index, { predicted, png }] of answers.entries()) {
        // Every variant answered: answers are in variant order.
        matrices[index].add(truth.data, predicted);
        perImage[index].set(name, imageMiou(truth.data, predicted, numClasses));
        predictions[index].set(name, png);
      }
      scored.add(name);
    }
    options.onProgress?.(++done, chosen.length);
  });
  const images = chosen.map(({ name }) => name).filter((name) => scored.has(name));
  const needed = Math.min(options.minImages ?? 1, chosen.length);
  if (images.length < needed) {
    const reasons = [
      ...skipped.refused.map((r) => `${r.name} refused${r.variant ? ` by variant ${r.variant}` : ''}: ${r.reason}`),
      ...skipped.unreadable.map((u) => `${u.name} unreadable: ${u.reason}`),
    ];
    throw new Error(
      `only ${images.length} of the ${chosen.length} chosen validation images were answered by every variant, fewer than the ${needed} needed (${reasons.slice(0, 3).join('; ')}${reasons.length > 3 ? `; and ${reasons.length - 3} more` : ''})`,
    );
  }
  return {
    images,
    chosen: chosen.length,
    skipped,
    numClasses,
    predictions,
    variants: variants.map(({ variant, role, trainer }, index) => ({
      variant,
      role,
      ...(trainer ? { trainer } : {}),
      ...matrices[index].metrics(),
      latencyMs: {
        p50: percentile(latencies[index], 50),
        p95: percentile(latencies[index], 95),
        max: latencies[index].length ? Math.max(...latencies[index]) : 0,
      },
      perImage: images.map((name) => ({ name, miou: perImage[index].get(name)! })),
      refused: skipped.refused.filter((r) => r.variant === variant).length,
    })),
  };
}
