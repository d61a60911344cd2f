import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ENDPOINT_CONCURRENCY } from '../../lambda/common/defaults';
import { predictMask } from '../../lambda/common/endpoint-mask';
import { folderPrefix, isS3Uri, type ObjectStore } from '../../lambda/convert/stores/object-store';
import { classesInMask } from '../../lambda/labelstudio/brush-rle';
import { type LabelStudioTask, labelStudioTask, maskPrediction } from '../../lambda/labelstudio/tasks';
import { CvatSegmentationZip } from './cvat-zip';

const IMAGE = /\.(jpe?g|png)$/i;

export type PrelabelFormat = 'labelstudio' | 'cvat';

export interface PrelabelOptions {
  /** A folder, or an `s3://bucket/prefix/`, of JPEG and PNG images (read recursively). */
  readonly images: string;
  readonly endpoint: string;
  readonly format: PrelabelFormat;
  /** Label Studio: a `.json` file (one list of tasks) or a folder or S3 prefix (one `<name>.json` task each); CVAT: a `.zip`. */
  readonly out: string;
  /** Names of class indices 1, 2, ... */
  readonly classes: readonly string[];
  /** @default - the endpoint's name */
  readonly modelVersion?: string;
  /**
   * Label Studio: what a local image's `data.image` starts with, before its path in `images` (an
   * `s3://bucket/prefix/` it was synced to, or `/data/local-files/?d=<folder>/`).
   * @default - the path alone
   */
  readonly imageUrlPrefix?: string;
  /** Label Studio: the batch the tasks name in `meta.batch` (what `segpipe convert --labelstudio-batch` selects by). @default - none */
  readonly batch?: string;
  /** Images sent to the endpoint at once. @default 4 */
  readonly concurrency?: number;
}

export interface PrelabelStores {
  readonly local: ObjectStore;
  /** Reads and writes `s3://` locations; `undefined` when none is given. */
  readonly s3?: ObjectStore;
  readonly runtime: SageMakerRuntimeClient;
}

export interface PrelabelSummary {
  readonly images: number;
  /** Images the endpoint labeled. */
  readonly predicted: number;
  /** Per image the endpoint failed on: the reason (a Label Studio task is still written, without predictions). */
  readonly failures: readonly { readonly image: string; readonly reason: string }[];
  /** Indices the endpoint predicted that have no name in `classes`, with how many images hold each. */
  readonly unnamedIndices: Readonly<Record<number, number>>;
  /** Where the output went: files, or one file. */
  readonly written: readonly string[];
}

/**
 * Pre-labels images with an endpoint's masks: Label Studio tasks with predictions (one brush region
 * per predicted class), or a CVAT "Segmentation mask 1.1" annotations zip. An image the endpoint fails
 * on is reported; its Label Studio task is written without predictions, so labeling never waits on the model.
 */
export async function prelabel(options: PrelabelOptions, stores: PrelabelStores): Promise<PrelabelSummary> {
  const storeOf = (location: string) => {
    if (!isS3Uri(location)) return stores.local;
    if (!stores.s3) throw new Error(`${location} is on S3, and no S3 client was given`);
    return stores.s3;
  };
  if (options.classes.length === 0)
    throw new Error("no classes: pass --classes with the names of indices 1, 2, ... (the run report's classes)");
  const imagesStore = storeOf(options.images);
  const outStore = storeOf(options.out);
  const toFile = options.format === 'cvat' || /\.json$/i.test(options.out);
  if (options.format === 'cvat' && !/\.zip$/i.test(options.out))
    throw new Error(`--out ${options.out}: a CVAT annotations upload is a .zip`);
  const root = options.images.replace(/\/+$/, '');
  if (!toFile && options.out.replace(/\/+$/, '') === root) {
    throw new Error(
      '--out is the images folder: Label Studio tasks need a prefix of their own (a source storage sync in the tasks method stops at the first key that is not JSON)',
    );
  }
  const prefix = folderPrefix(imagesStore, root);
  const images = (await imagesStore.listUnder(root)).filter((location) => IMAGE.test(location));
  if (images.length === 0) throw new Error(`${options.images} holds no .jpg, .jpeg or .png image`);

  const modelVersion = options.modelVersion ?? options.endpoint;
  const failures: { image: string; reason: string }[] = [];
  const unnamed: Record<number, number> = {};
  const written: string[] = [];
  let predicted = 0;
  const cvat = options.format === 'cvat' ? new CvatSegmentationZip(options.classes) : undefined;
  const cvatDone = cvat ? collectZip(cvat, options.out, outStore) : undefined;
  const list = toFile && !cvat ? await taskListWriter(options.out, outStore) : undefined;
  const usedNames = new Set<string>();

  // The endpoint is asked `concurrency` images at a time; outputs are written in image order.
  const concurrency = options.concurrency ?? ENDPOINT_CONCURRENCY;
  for (let start = 0; start < images.length; start += concurrency) {
    const slice = images.slice(start, start + concurrency);
    const masks = await Promise.all(
      slice.map(async (location) => {
        try {
          const { request, mask } = await predictMask(stores.runtime, options.endpoint, await imagesStore.read(location));
          return { mask, width: request.width, height: request.height };
        } catch (err) {
          failures.push({ image: location, reason: (err as Error).message });
          return undefined;
        }
      }),
    );
    for (const [i, location] of slice.entries()) {
      const relative = location.slice(prefix.length);
      const result = masks[i];
      if (result) {
        predicted += 1;
        for (const index of classesInMask(result.mask)) if (index > options.classes.length) unnamed[index] = (unnamed[index] ?? 0) + 1;
      }
      if (cvat) {
        if (result) await cvat.add({ name: relative.replace(/\.[^./]+$/, ''), ...result });
        continue;
      }
      const image = isS3Uri(location) ? location : `${options.imageUrlPrefix ?? ''}${relative}`;
      const prediction = result ? maskPrediction({ ...result, classes: options.classes, modelVersion }).prediction : undefined;
      const task = labelStudioTask(image, options.batch === undefined ? undefined : { batch: options.batch }, prediction);
      if (list) {
        await list.add(task);
        continue;
      }
      // A source storage lists its prefix's direct children only: one flat name per image.
      const base = relative.replace(/\.[^./]+$/, '').replace(/\//g, '__');
      let name = base;
      for (let n = 2; usedNames.has(name); n++) name = `${base}-${n}`;
      usedNames.add(name);
      const target = outStore.join(options.out.replace(/\/+$/, ''), `${name}.json`);
      await outStore.write(target, Buffer.from(JSON.stringify(task)), 'application/json');
      written.push(target);
    }
  }
  if (cvat && cvatDone) {
    cvat.end();
    await cvatDone;
    written.push(options.out);
  } else if (list) {
    await list.end();
    written.push(options.out);
  }
  return { images: images.length, predicted, failures, unnamedIndices: unnamed, written };
}

/**
 * One JSON list of tasks (what Label Studio's Import takes): streamed to a local file task by task, so
 * that memory stays bounded whatever the number of images; to S3 in one put when it ends.
 */
async function taskListWriter(
  out: string,
  store: ObjectStore,
): Promise<{ add: (task: LabelStudioTask) => Promise<void>; end: () => Promise<void> }> {
  let first = true;
  const separator = () => {
    const text = first ? '[\n' : ',\n';
    first = false;
    return text;
  };
  if (isS3Uri(out)) {
    const parts: string[] = [];
    return {
      add: async (task) => void parts.push(separator() + JSON.stringify(task)),
      end: () => store.write(out, Buffer.from(`${parts.join('')}${first ? '[' : '\n'}]\n`), 'application/json'),
    };
  }
  await mkdir(dirname(out), { recursive: true });
  const file = createWriteStream(out);
  const write = (text: string) => new Promise<void>((resolve, reject) => file.write(text, (err) => (err ? reject(err) : resolve())));
  return {
    add: (task) => write(separator() + JSON.stringify(task)),
    end: async () => {
      await write(`${first ? '[' : '\n'}]\n`);
      await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    },
  };
}

/** The zip's bytes to a local file as they come, or to S3 in one put when it ends. */
async function collectZip(zip: CvatSegmentationZip, out: string, store: ObjectStore): Promise<void> {
  if (!isS3Uri(out)) {
    await mkdir(dirname(out), { recursive: true });
    await pipeline(zip.output, createWriteStream(out));
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of zip.output) chunks.push(chunk as Buffer);
  await store.write(out, Buffer.concat(chunks), 'application/zip');
}
