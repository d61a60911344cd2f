import sharp from 'sharp';
import { plural } from '../lambda/common/plural';
import { parseS3Uri, type S3Uri } from '../lambda/convert/stores/object-store';
import type { S3ObjectStore } from '../lambda/convert/stores/s3-object-store';
import { readChannelManifest } from '../lambda/workflow/channel-manifest';
import { packModelArtifact } from './model-artifact';
import { type PixelModel, predictClassIndices, SegmentationScore, type TrainingImage, trainPixelModel } from './pixel-model';

/** The parts of a CreateTrainingJob request the stand-in reads. */
export interface TrainingJobRequest {
  readonly TrainingJobName: string;
  readonly HyperParameters: Record<string, string>;
  readonly InputDataConfig: readonly { ChannelName: string; DataSource: { S3DataSource: { S3DataType?: string; S3Uri: string } } }[];
  readonly OutputDataConfig: { S3OutputPath: string };
}

/**
 * Most train images the local model learns from. It draws 12,000 pixels an epoch, which a few dozen
 * images hold many times over, while each image's pixel features take 1.4 MB (192×144): learning from
 * an even sample of a large train channel keeps memory and time flat as the batch grows.
 */
export const MAX_LOCAL_TRAIN_IMAGES = 64;

type ChannelSource = { S3DataType?: string; S3Uri: string };

/**
 * One image channel and its annotation channel, paired by name as the algorithm pairs them. A
 * channel is an S3 prefix or a manifest file (`ManifestFile`: a prefix and keys relative to it),
 * resolved as SageMaker resolves it.
 */
class ChannelPair {
  private constructor(
    private readonly store: S3ObjectStore,
    private readonly images: S3Uri,
    private readonly annotations: S3Uri,
    readonly keys: string[],
  ) {}

  static async list(store: S3ObjectStore, imagesSource: ChannelSource, annotationsSource: ChannelSource): Promise<ChannelPair> {
    const resolve = async (source: ChannelSource): Promise<{ prefix: S3Uri; keys: string[] }> => {
      if (source.S3DataType === 'ManifestFile') {
        const manifest = await readChannelManifest(store, source.S3Uri);
        const prefix = parseS3Uri(manifest.prefix)!;
        return { prefix, keys: manifest.keys.map((key) => `${prefix.key}${key}`) };
      }
      const prefix = parseS3Uri(source.S3Uri)!;
      return { prefix, keys: (await store.list(prefix.bucket, prefix.key)).map((o) => o.key) };
    };
    const images = await resolve(imagesSource);
    return new ChannelPair(store, images.prefix, (await resolve(annotationsSource)).prefix, images.keys);
  }

  async read(key: string): Promise<TrainingImage> {
    const name = key.slice(this.images.key.length).replace(/\.jpe?g$/i, '');
    const rgb = await sharp(await this.store.read(`s3://${this.images.bucket}/${key}`))
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const mask = await sharp(await this.store.read(`s3://${this.annotations.bucket}/${this.annotations.key}${name}.png`))
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (mask.info.width !== rgb.info.width || mask.info.height !== rgb.info.height) throw new Error(`${name}: image and mask sizes differ`);
    return { rgb: rgb.data, width: rgb.info.width, height: rgb.info.height, labels: mask.data };
  }
}

/** At most `limit` of `items`, spread evenly over them (all of them when there are fewer). */
export function evenSample<T>(items: readonly T[], limit: number): T[] {
  if (items.length <= limit) return [...items];
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]);
}

/**
 * LOCAL STAND-IN for a SageMaker training job of the built-in Semantic Segmentation algorithm: it reads
 * the job's four channels from S3, trains the small CPU model of `pixel-model.ts` for the job's
 * `epochs`, scores it on the validation channel, writes `model.tar.gz` where SageMaker would, and
 * answers with the DescribeTrainingJob fields the workflow reads, metrics under the algorithm's names.
 */
export async function runLocalTrainingJob(
  store: S3ObjectStore,
  request: TrainingJobRequest,
  log: (line: string) => void = () => undefined,
) {
  const started = Date.now();
  const channel = (name: string) => {
    const found = request.InputDataConfig.find((c) => c.ChannelName === name);
    if (!found) throw new Error(`the training job has no ${name} channel`);
    return found.DataSource.S3DataSource;
  };
  const numClasses = Number(request.HyperParameters.num_classes);
  const epochs = Number(request.HyperParameters.epochs ?? '10');
  const trainChannel = await ChannelPair.list(store, channel('train'), channel('train_annotation'));
  const validationChannel = await ChannelPair.list(store, channel('validation'), channel('validation_annotation'));
  const trainKeys = evenSample(trainChannel.keys, MAX_LOCAL_TRAIN_IMAGES);
  const train: TrainingImage[] = [];
  for (const key of trainKeys) train.push(await trainChannel.read(key));
  const learnsFrom =
    trainKeys.length < trainChannel.keys.length
      ? `learning from an even sample of ${trainKeys.length} of the ${plural(trainChannel.keys.length, 'train image')}`
      : plural(train.length, 'train image');
  log(
    `LOCAL STAND-IN training: a small per-pixel network on the CPU, not the built-in FCN; ${learnsFrom}, ${plural(validationChannel.keys.length, 'validation image')}, ${plural(numClasses, 'class')}, ${plural(epochs, 'epoch')}`,
  );
  const model: PixelModel = trainPixelModel(train, {
    numClasses,
    epochs,
    onEpoch: (epoch, loss) => {
      if (epoch === epochs || epoch % Math.max(1, Math.round(epochs / 5)) === 0) log(`  epoch ${epoch}/${epochs}: loss ${loss.toFixed(4)}`);
    },
  });
  const score = new SegmentationScore(numClasses);
  const background = new SegmentationScore(numClasses);
  // Every validation image is scored, one at a time.
  for (const key of validationChannel.keys) {
    const item = await validationChannel.read(key);
    score.add(item.labels, predictClassIndices(model, item.rgb, item.width, item.height));
    background.add(item.labels, new Uint8Array(item.labels.length));
  }
  const artifact = modelArtifactUri(request);
  await store.write(artifact, await packModelArtifact(model), 'application/gzip');
  log(
    `  validation:mIOU ${score.miou.toFixed(3)} (predicting background everywhere: ${background.miou.toFixed(3)}), validation:pixel_accuracy ${score.pixelAccuracy.toFixed(3)}; model ${artifact}`,
  );
  return completedTrainingJob(request, artifact, started, [
    { MetricName: 'validation:mIOU', Value: score.miou },
    { MetricName: 'validation:pixel_accuracy', Value: score.pixelAccuracy },
  ]);
}

/** Where SageMaker puts a training job's `model.tar.gz`: `<S3OutputPath>/<job>/output/model.tar.gz`. */
export function modelArtifactUri(request: {
  readonly TrainingJobName: string;
  readonly OutputDataConfig: { readonly S3OutputPath: string };
}): string {
  return `${request.OutputDataConfig.S3OutputPath.replace(/\/?$/, '/')}${request.TrainingJobName}/output/model.tar.gz`;
}

/** What `createTrainingJob.sync` answers for a job that completed, as a stand-in's training gives it. */
export function completedTrainingJob(
  request: { readonly TrainingJobName: string },
  artifact: string,
  startedAt: number,
  metrics: readonly { MetricName: string; Value: number }[],
) {
  const seconds = Math.max(1, Math.round((Date.now() - startedAt) / 1000));
  return {
    TrainingJobName: request.TrainingJobName,
    TrainingJobStatus: 'Completed',
    TrainingTimeInSeconds: seconds,
    BillableTimeInSeconds: seconds,
    ModelArtifacts: { S3ModelArtifacts: artifact },
    FinalMetricDataList: metrics,
  };
}
