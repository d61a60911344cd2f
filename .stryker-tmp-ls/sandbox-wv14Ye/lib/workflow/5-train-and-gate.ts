import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { CHANNEL_NAMES, MODELS_PREFIX } from '../../lambda/workflow/layout';
import type { SegpipeConfig } from '../config';
import type { PyTorchTrainer } from './pytorch-trainer';
import { catchInto, choiceBranch, hasInstanceStorage, runTags, sageMakerCall } from './states';

export interface TrainAndGateProps {
  /** The training settings (`training`). */
  readonly training: SegpipeConfig['training'];
  /** The gate: a model whose validation mIOU is below this is not deployed. */
  readonly minValidationMiou: number;
  readonly artifactsBucket: s3.IBucket;
  /** The role training jobs run as. */
  readonly trainingRole: iam.IRole;
  /** The built-in semantic-segmentation image of the deployment region. */
  readonly algorithmImageUri: string;
  /**
   * Key of the model artifacts and, where SageMaker takes one, of the training volume.
   * @default - S3-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The PyTorch trainer's image, source and script settings, when `training.trainer` is `pytorch`.
   * @default - the built-in algorithm trains
   */
  readonly pytorchTrainer?: PyTorchTrainer;
  /** Where the run goes when validation mIOU is below the minimum: it ends "not deployed". */
  readonly belowMinimum: sfn.IChainable;
  /** Where a failure goes. */
  readonly onFailure: sfn.IChainable;
}

/**
 * Train on the run's channels (`createTrainingJob.sync`, a custom state so that managed spot
 * training, its wait time and checkpoints can be set), then gate on validation mIOU. The stage
 * ends where the gate passes.
 */
export class TrainAndGate extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: TrainAndGateProps) {
    super(scope, id);
    const { training, minValidationMiou, encryptionKey } = props;
    const channelUri = (channel: string) => `States.Format('{}${channel}.manifest', $.channels.channels)`;
    const modelsUri = (suffix: string) =>
      `States.Format('s3://${props.artifactsBucket.bucketName}/${MODELS_PREFIX}{}/${suffix}', $.run.runId)`;
    const { pytorchTrainer } = props;
    const instanceType = pytorchTrainer ? training.pytorch.instanceType : training.instanceType;
    const train = catchInto(
      sageMakerCall(this, 'Train', {
        action: 'sagemaker:createTrainingJob.sync',
        parameters: {
          'TrainingJobName.$': '$.run.names.trainingJob',
          AlgorithmSpecification: pytorchTrainer
            ? pytorchTrainer.algorithmSpecification()
            : { TrainingImage: props.algorithmImageUri, TrainingInputMode: 'File' },
          RoleArn: props.trainingRole.roleArn,
          HyperParameters: pytorchTrainer
            ? pytorchTrainer.hyperParameters()
            : {
                ...training.hyperparameters,
                algorithm: training.algorithm,
                backbone: training.backbone,
                epochs: String(training.epochs),
                'num_classes.$': "States.Format('{}', $.channels.numClasses)",
                'num_training_samples.$': "States.Format('{}', $.channels.numTrainingSamples)",
              },
          InputDataConfig: [
            ...CHANNEL_NAMES.map((channel) => ({
              ChannelName: channel,
              ContentType: channel.endsWith('_annotation') ? 'image/png' : 'image/jpeg',
              CompressionType: 'None',
              // A manifest of the dataset's objects: the job reads them where they are, no run copies them.
              DataSource: {
                S3DataSource: { S3DataType: 'ManifestFile', S3DataDistributionType: 'FullyReplicated', 'S3Uri.$': channelUri(channel) },
              },
            })),
            ...(pytorchTrainer ? [pytorchTrainer.codeChannel()] : []),
          ],
          OutputDataConfig: { 'S3OutputPath.$': modelsUri('output/'), ...(encryptionKey ? { KmsKeyId: encryptionKey.keyArn } : {}) },
          ResourceConfig: {
            InstanceType: instanceType,
            InstanceCount: 1,
            VolumeSizeInGB: training.volumeSizeGb,
            ...(encryptionKey && !hasInstanceStorage(instanceType) ? { VolumeKmsKeyId: encryptionKey.keyArn } : {}),
          },
          StoppingCondition: training.spot
            ? { MaxRuntimeInSeconds: training.maxRuntimeSeconds, MaxWaitTimeInSeconds: training.maxRuntimeSeconds * 2 }
            : { MaxRuntimeInSeconds: training.maxRuntimeSeconds },
          ...(training.spot ? { EnableManagedSpotTraining: true, CheckpointConfig: { 'S3Uri.$': modelsUri('checkpoints/') } } : {}),
          Tags: runTags(this),
        },
        resultPath: '$.training',
        resultSelector: {
          // Only what the gate, the model and the report read: the state stays far below 256 KiB.
          'TrainingJobName.$': '$.TrainingJobName',
          'TrainingTimeInSeconds.$': '$.TrainingTimeInSeconds',
          'BillableTimeInSeconds.$': '$.BillableTimeInSeconds',
          'ModelArtifacts.$': '$.ModelArtifacts',
          'FinalMetricDataList.$': '$.FinalMetricDataList',
        },
      }),
      props.onFailure,
    );
    const readMetrics = new sfn.Pass(this, 'Read metrics', {
      parameters: {
        'miou.$': "$.training.FinalMetricDataList[?(@.MetricName == 'validation:mIOU')].Value",
        'pixelAccuracy.$': "$.training.FinalMetricDataList[?(@.MetricName == 'validation:pixel_accuracy')].Value",
      },
      resultPath: '$.metrics',
    });
    const gate = new sfn.Choice(this, 'mIOU at least the minimum?').otherwise(props.belowMinimum);
    train.next(readMetrics).next(gate);
    this.startState = train;
    this.endStates = [
      choiceBranch(
        gate,
        sfn.Condition.and(
          sfn.Condition.isPresent('$.metrics.miou[0]'),
          sfn.Condition.numberGreaterThanEquals('$.metrics.miou[0]', minValidationMiou),
        ),
      ),
    ];
  }
}
