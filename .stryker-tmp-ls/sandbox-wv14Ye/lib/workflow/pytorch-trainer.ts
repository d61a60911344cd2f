import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Arn, AssetHashType, Aws, CfnMapping, CfnRule, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import * as tar from 'tar';
import type { SegpipeConfig } from '../config';
import { PYTORCH_IMAGE_ACCOUNTS, PYTORCH_REGIONS, pytorchImage } from '../pytorch-images';
import { hasNvidiaGpu } from '../sagemaker-instance-types';

/** The folder of the training script and its serving code: `pytorch/` of the repository (found from lib/workflow or from the bundled dist/). */
export const PYTORCH_SOURCE_DIR = ((): string => {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pytorch', 'train.py'))) return join(dir, 'pytorch');
    if (dirname(dir) === dir) return join(__dirname, '..', '..', 'pytorch');
  }
})();
/** What the training container gets: the script and the files it copies into the model's `code/`. */
export const PYTORCH_SOURCE_FILES = ['train.py', 'segmentation_model.py', 'inference.py'] as const;
/** The script SageMaker's training toolkit runs (`sagemaker_program`). */
export const PYTORCH_PROGRAM = 'train.py';
/** Where the `code` channel places the source tarball in the training container. */
const CODE_CHANNEL_DIR = '/opt/ml/input/data/code';

/**
 * The metrics the script prints each epoch (`validation:mIOU=0.5123;`), under the built-in algorithm's
 * names: the gate and the report's training curves read them unchanged.
 */
export const PYTORCH_METRIC_DEFINITIONS = ['validation:mIOU', 'validation:pixel_accuracy', 'train:loss'].map((name) => ({
  Name: name,
  Regex: `${name}=([0-9.eE+-]+);`,
}));

/** A hyperparameter value as the SageMaker Python SDK sends it: JSON, which the training toolkit decodes. */
const json = (value: string | number) => JSON.stringify(value);

/** The hash of the script's files: the source asset's hash, so the asset's key names the files it holds. */
export function pytorchSourceHash(): string {
  const hash = createHash('sha256');
  for (const name of PYTORCH_SOURCE_FILES)
    hash
      .update(name)
      .update('\0')
      .update(readFileSync(join(PYTORCH_SOURCE_DIR, name)))
      .update('\0');
  return hash.digest('hex');
}

/** `sourcedir.tar.gz` of the script, byte for byte the same for the same files (no times, owners or modes). */
function sourceTarball(): { file: string; hash: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'segpipe-pytorch-')), 'sourcedir.tar.gz');
  tar.create({ sync: true, gzip: true, portable: true, noMtime: true, cwd: PYTORCH_SOURCE_DIR, file }, [...PYTORCH_SOURCE_FILES]);
  return { file, hash: pytorchSourceHash() };
}

export interface PyTorchTrainerProps {
  /** The training settings (`training`, its `pytorch` ones among them). */
  readonly training: SegpipeConfig['training'];
  /** The endpoint's instance type, which picks the inference image (GPU or CPU). */
  readonly hostingInstanceType: string;
  /** Reads the source tarball, pulls the training image. */
  readonly trainingRole: iam.IRole;
  /** Pulls the inference image. */
  readonly modelRole: iam.IRole;
}

/**
 * What the PyTorch trainer adds to the stack: its source as an asset, the region's PyTorch images
 * (a mapping, and a rule that refuses a region without them), the roles' pulls of those images, and the
 * parts of the CreateTrainingJob and CreateModel requests that differ from the built-in algorithm's.
 */
export class PyTorchTrainer extends Construct {
  public readonly trainingImageUri: string;
  public readonly inferenceImageUri: string;
  public readonly source: assets.Asset;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: PyTorchTrainerProps,
  ) {
    super(scope, id);
    const { training, hostingInstanceType } = props;
    const stack = Stack.of(this);
    const accounts = new CfnMapping(this, 'ImageAccounts', {
      mapping: Object.fromEntries(PYTORCH_REGIONS.map((region) => [region, { Account: PYTORCH_IMAGE_ACCOUNTS[region] }])),
    });
    new CfnRule(this, 'Region', {
      assertions: [
        {
          assert: Fn.conditionContains([...PYTORCH_REGIONS], Aws.REGION),
          assertDescription: `training.trainer is "pytorch", and SageMaker's PyTorch ${pytorchImage('training', true)} image exists only in: ${PYTORCH_REGIONS.join(', ')}.`,
        },
      ],
    });
    const account = accounts.findInMap(Aws.REGION, 'Account');
    const uri = (image: string) => Fn.join('', [account, '.dkr.ecr.', Aws.REGION, '.', Aws.URL_SUFFIX, '/', image]);
    const trainingImage = pytorchImage('training', hasNvidiaGpu(training.pytorch.instanceType));
    const inferenceImage = pytorchImage('inference', hasNvidiaGpu(hostingInstanceType));
    this.trainingImageUri = uri(trainingImage);
    this.inferenceImageUri = uri(inferenceImage);

    const tarball = sourceTarball();
    this.source = new assets.Asset(this, 'Source', { path: tarball.file, assetHash: tarball.hash, assetHashType: AssetHashType.CUSTOM });
    // The job reads the one object (its `code` channel), not the whole assets bucket.
    props.trainingRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          Arn.format(
            { service: 's3', region: '', account: '', resource: this.source.s3BucketName, resourceName: this.source.s3ObjectKey },
            stack,
          ),
        ],
      }),
    );
    const pull = (role: iam.IRole, image: string) =>
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
          resources: [Arn.format({ service: 'ecr', account, resource: 'repository', resourceName: image.split(':')[0] }, stack)],
        }),
      );
    pull(props.trainingRole, trainingImage);
    pull(props.modelRole, inferenceImage);
  }

  /** CreateTrainingJob's `AlgorithmSpecification`: the PyTorch image, and the metrics the script prints. */
  algorithmSpecification(): Record<string, unknown> {
    return { TrainingImage: this.trainingImageUri, TrainingInputMode: 'File', MetricDefinitions: PYTORCH_METRIC_DEFINITIONS };
  }

  /** The script's hyperparameters, and those that tell the training toolkit what to run. */
  hyperParameters(): Record<string, string> {
    const { training } = this.props;
    const { pytorch } = training;
    return {
      sagemaker_program: json(PYTORCH_PROGRAM),
      sagemaker_submit_directory: json(`${CODE_CHANNEL_DIR}/${this.source.s3ObjectKey}`),
      sagemaker_container_log_level: '20',
      model: json(pytorch.model),
      backbone: json(pytorch.backbone),
      pretrained: json(pytorch.pretrained ? 'auto' : 'false'),
      epochs: String(training.epochs),
      batch_size: String(pytorch.batchSize),
      learning_rate: String(pytorch.learningRate),
      image_size: String(pytorch.imageSize),
      'num_classes.$': "States.Format('{}', $.channels.numClasses)",
    };
  }

  /** The input channel holding the source tarball (it reaches a job even without internet access). */
  codeChannel(): Record<string, unknown> {
    return {
      ChannelName: 'code',
      CompressionType: 'None',
      DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3DataDistributionType: 'FullyReplicated', S3Uri: this.source.s3ObjectUrl } },
    };
  }

  /** CreateModel's `PrimaryContainer`: the PyTorch inference image running the model's own `code/inference.py`. */
  modelContainer(modelDataPath: string): Record<string, unknown> {
    return {
      Image: this.inferenceImageUri,
      'ModelDataUrl.$': modelDataPath,
      Environment: {
        SAGEMAKER_PROGRAM: 'inference.py',
        SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code',
        SAGEMAKER_CONTAINER_LOG_LEVEL: '20',
        SAGEMAKER_REGION: Aws.REGION,
        // A request without Accept (or */*) gets the built-in algorithm's answer, a class-index PNG.
        SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'image/png',
      },
    };
  }
}
