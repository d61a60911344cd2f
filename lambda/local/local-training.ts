import sharp from 'sharp';
import { S3ObjectStore } from '../convert/s3-object-store';
import { parseS3Uri } from '../convert/object-store';
import { packModelArtifact } from './model-artifact';
import { PixelModel, SegmentationScore, TrainingImage, predictClassIndices, trainPixelModel } from './pixel-model';

/** The parts of a CreateTrainingJob request the stand-in reads. */
export interface TrainingJobRequest {
  readonly TrainingJobName: string;
  readonly HyperParameters: Record<string, string>;
  readonly InputDataConfig: readonly { ChannelName: string; DataSource: { S3DataSource: { S3Uri: string } } }[];
  readonly OutputDataConfig: { S3OutputPath: string };
}

/** Reads one image channel and its annotation channel: pairs by name, as the algorithm does. */
async function readChannelPair(store: S3ObjectStore, imagesUri: string, annotationsUri: string): Promise<(TrainingImage & { name: string })[]> {
  const images = parseS3Uri(imagesUri)!;
  const annotations = parseS3Uri(annotationsUri)!;
  const listed = await store.list(images.bucket, images.key);
  const pairs: (TrainingImage & { name: string })[] = [];
  for (const { key } of listed) {
    const name = key.slice(images.key.length).replace(/\.jpe?g$/i, '');
    const rgb = await sharp(await store.read(`s3://${images.bucket}/${key}`)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const mask = await sharp(await store.read(`s3://${annotations.bucket}/${annotations.key}${name}.png`)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    if (mask.info.width !== rgb.info.width || mask.info.height !== rgb.info.height) throw new Error(`${name}: image and mask sizes differ`);
    pairs.push({ name, rgb: rgb.data, width: rgb.info.width, height: rgb.info.height, labels: mask.data });
  }
  return pairs;
}

/**
 * LOCAL STAND-IN for a SageMaker training job of the built-in Semantic Segmentation algorithm: it reads
 * the job's four channels from S3, trains the small CPU model of `pixel-model.ts` for the job's
 * `epochs`, scores it on the validation channel, writes `model.tar.gz` where SageMaker would, and
 * answers with the DescribeTrainingJob fields the workflow reads, metrics under the algorithm's names.
 */
export async function runLocalTrainingJob(store: S3ObjectStore, request: TrainingJobRequest, log: (line: string) => void = () => undefined) {
  const started = Date.now();
  const channel = (name: string) => {
    const found = request.InputDataConfig.find((c) => c.ChannelName === name);
    if (!found) throw new Error(`the training job has no ${name} channel`);
    return found.DataSource.S3DataSource.S3Uri;
  };
  const numClasses = Number(request.HyperParameters.num_classes);
  const epochs = Number(request.HyperParameters.epochs ?? '10');
  const train = await readChannelPair(store, channel('train'), channel('train_annotation'));
  const validation = await readChannelPair(store, channel('validation'), channel('validation_annotation'));
  log(`LOCAL STAND-IN training: a small per-pixel network on the CPU, not the built-in FCN; ${train.length} train and ${validation.length} validation images, ${numClasses} classes, ${epochs} epochs`);
  const model: PixelModel = trainPixelModel(train, {
    numClasses, epochs,
    onEpoch: (epoch, loss) => {
      if (epoch === epochs || epoch % Math.max(1, Math.round(epochs / 5)) === 0) log(`  epoch ${epoch}/${epochs}: loss ${loss.toFixed(4)}`);
    },
  });
  const score = new SegmentationScore(numClasses);
  const background = new SegmentationScore(numClasses);
  for (const item of validation) {
    score.add(item.labels, predictClassIndices(model, item.rgb, item.width, item.height));
    background.add(item.labels, new Uint8Array(item.labels.length));
  }
  const artifact = `${request.OutputDataConfig.S3OutputPath.replace(/\/?$/, '/')}${request.TrainingJobName}/output/model.tar.gz`;
  await store.write(artifact, await packModelArtifact(model), 'application/gzip');
  const seconds = Math.max(1, Math.round((Date.now() - started) / 1000));
  log(`  validation:mIOU ${score.miou.toFixed(3)} (predicting background everywhere: ${background.miou.toFixed(3)}), validation:pixel_accuracy ${score.pixelAccuracy.toFixed(3)}; model ${artifact}`);
  return {
    TrainingJobName: request.TrainingJobName,
    TrainingJobStatus: 'Completed',
    TrainingTimeInSeconds: seconds,
    BillableTimeInSeconds: seconds,
    ModelArtifacts: { S3ModelArtifacts: artifact },
    FinalMetricDataList: [
      { MetricName: 'validation:mIOU', Value: score.miou },
      { MetricName: 'validation:pixel_accuracy', Value: score.pixelAccuracy },
    ],
  };
}
