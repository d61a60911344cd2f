import { Arn, Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { HandlerName, HandlerSettings } from '../../lambda/common/settings';
import { parseReadLocation } from '../../lambda/convert/stores/source-allow-list';
import { pickCostSettings } from '../../lambda/cost/estimate';
import { LABELSTUDIO_CORRECTIONS_FOLDER } from '../../lambda/labelstudio/corrections';
import { labelStudioFilesKey } from '../../lambda/labelstudio/run-files';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from '../../lambda/labelstudio/storage-layout';
import { DEPLOY_LOCK_KEY } from '../../lambda/workflow/deploy-lock';
import {
  BATCHES_PREFIX,
  DATASETS_PREFIX,
  datasetLayout,
  IMAGES_PREFIX,
  LABELED_PREFIX,
  RUN_PATHS,
  RUNS_PREFIX,
} from '../../lambda/workflow/layout';
import { endpointName } from '../../lambda/workflow/names';
import { type SegpipeConfig, trainingInstanceType } from '../config';
import { type DataKeyAccess, grantDataKey } from '../data-key';
import { HandlerFunction, sharpLayer } from '../handler-function';

export interface WorkflowFunctionsProps {
  readonly config: SegpipeConfig;
  readonly inboxBucket: s3.IBucket;
  readonly artifactsBucket: s3.IBucket;
  /** Lower-case prefix of every SageMaker resource the workflow creates. */
  readonly resourcePrefix: string;
  /**
   * Customer key of the buckets, granted to every function.
   * @default - S3-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /** How long a run may hold the deploy lock before another run may take it over (longer than any deploy stage). */
  readonly deployLockSeconds: number;
}

/**
 * The workflow's Lambdas, each with its own role granted only the prefixes it touches. They are
 * made in the workflow's scope: their construct IDs are the stack's logical IDs.
 */
export class WorkflowFunctions {
  public readonly checkBatch: HandlerFunction;
  public readonly snapshotBatch: HandlerFunction;
  public readonly takeImportTurn: HandlerFunction;
  public readonly prepareRun: HandlerFunction;
  public readonly checkQuota: HandlerFunction;
  public readonly checkBudget: HandlerFunction;
  public readonly planConversion: HandlerFunction;
  public readonly convertChunk: HandlerFunction;
  public readonly assembleChannels: HandlerFunction;
  public readonly evaluateVariants: HandlerFunction;
  public readonly deployLock: HandlerFunction;
  /** The evaluation's holdout key (Secrets Manager). */
  public readonly holdoutKey: secretsmanager.ISecret;
  public readonly finishRun: HandlerFunction;
  /** Label Studio labels: writes a chunk of the run's task files into the inbox. */
  public readonly writeLabelStudioTasks?: HandlerFunction;
  /** Label Studio labels: counts a run's annotated tasks. */
  public readonly countAnnotations?: HandlerFunction;
  /** Label Studio labels: a corrections run's turn, and the annotation files it converts. */
  public readonly takeCorrectionsTurn?: HandlerFunction;

  constructor(scope: Construct, props: WorkflowFunctionsProps) {
    const { config, inboxBucket, artifactsBucket, encryptionKey } = props;
    const layer = sharpLayer(scope, 'SharpLayer');
    const artifacts = { artifactsBucket: artifactsBucket.bucketName };
    // Each function gets the data key for what it does with objects: none when it touches none.
    const handler = <N extends HandlerName>(
      id: string,
      name: N,
      description: string,
      settings: HandlerSettings<N>,
      extra: { timeout?: Duration; memorySize?: number; sharp?: boolean; keyAccess?: DataKeyAccess | 'none' } = {},
    ) => {
      const { keyAccess, ...rest } = extra;
      return new HandlerFunction(scope, id, {
        handler: name,
        description,
        settings,
        layers: extra.sharp ? [layer] : [],
        ...rest,
        ...(keyAccess === 'none' ? {} : { encryptionKey, keyAccess }),
      });
    };
    this.checkBatch = handler(
      'CheckBatch',
      'check-batch',
      'segpipe: tells whether an uploaded batch has settled',
      {
        ...artifacts,
        inboxBucket: inboxBucket.bucketName,
        quietSeconds: config.batch.quietSeconds,
      },
      { keyAccess: 'decrypt' },
    );
    this.snapshotBatch = handler('SnapshotBatch', 'snapshot-batch', 'segpipe: takes the batch images no run has taken', {
      ...artifacts,
      inboxBucket: inboxBucket.bucketName,
    });
    this.takeImportTurn = handler(
      'TakeImportTurn',
      'take-import-turn',
      'segpipe: one import run at a time per export file, at most one waiting',
      artifacts,
    );
    this.prepareRun = handler('PrepareRun', 'prepare-run', 'segpipe: names a run, writes its labeling inputs', {
      ...artifacts,
      resourcePrefix: props.resourcePrefix,
      workforce: config.labeling.tool === 'groundtruth' ? config.workforce.type : 'none',
      labelClasses: [...config.labelClasses],
      ...(config.labeling.tool === 'labelstudio' ? { labelStudioInbox: inboxBucket.bucketName } : {}),
    });
    if (config.labeling.tool === 'labelstudio') {
      this.writeLabelStudioTasks = handler(
        'WriteLabelStudioTasks',
        'write-labelstudio-tasks',
        "segpipe: writes Label Studio task files for a chunk of a run's images",
        {
          ...artifacts,
          inboxBucket: inboxBucket.bucketName,
          endpointName: endpointName(props.resourcePrefix),
          labelClasses: [...config.labelClasses],
        },
        { timeout: Duration.minutes(15), memorySize: 1024, sharp: true },
      );
      this.countAnnotations = handler(
        'CountAnnotations',
        'count-annotations',
        "segpipe: counts a Label Studio run's annotated tasks",
        {
          ...artifacts,
          inboxBucket: inboxBucket.bucketName,
          deadlineHours: config.labeling.labelStudio.deadlineHours,
          minLabeledFraction: config.labeling.labelStudio.minLabeledFraction,
        },
        // It closes the round when the run goes on (lambda/labelstudio/corrections.ts).
        { keyAccess: 'encrypt-decrypt' },
      );
      this.takeCorrectionsTurn = handler(
        'TakeCorrectionsTurn',
        'take-corrections-turn',
        "segpipe: one Label Studio corrections run at a time per batch, after the batch's converting rounds",
        { ...artifacts, inboxBucket: inboxBucket.bucketName },
      );
    }
    this.checkQuota = handler(
      'CheckQuota',
      'check-quota',
      'segpipe: checks the training instance quota before anyone is paid',
      {
        trainingInstanceType: trainingInstanceType(config),
        spot: config.training.spot,
      },
      { keyAccess: 'none' },
    );
    this.checkBudget = handler(
      'CheckBudget',
      'check-budget',
      "segpipe: checks the run's cost estimate against the budget before anyone is paid",
      pickCostSettings(config),
      { keyAccess: 'none' },
    );
    // Where the conversion may read (lambda/convert/stores/source-allow-list.ts), besides the run's own prefixes.
    const sources = { inboxBucket: inboxBucket.bucketName, readLocations: [...config.import.readBuckets] };
    this.planConversion = handler(
      'PlanConversion',
      'plan-conversion',
      "segpipe: reads the labels' export once, fixes the class order, cuts it into chunks",
      {
        ...artifacts,
        ...sources,
        labelClasses: [...config.labelClasses],
        chunkEntries: config.conversion.chunkEntries,
      },
      { timeout: Duration.minutes(15), memorySize: 2048, sharp: true },
    );
    this.convertChunk = handler(
      'ConvertChunk',
      'convert-chunk',
      "segpipe: converts a chunk of the labels' export into the run's staging area",
      {
        ...artifacts,
        ...sources,
        validationFraction: config.split.validationFraction,
        splitSeed: config.split.seed,
      },
      { timeout: Duration.minutes(15), memorySize: 2048, sharp: true },
    );
    this.assembleChannels = handler(
      'AssembleChannels',
      'assemble-channels',
      "segpipe: checks what a run staged, commits it to the dataset, writes the run's channel manifests",
      {
        ...artifacts,
        labelClasses: [...config.labelClasses],
        minTrainingSamples: config.training.minSamples,
        maxFailedChunkPercent: config.conversion.maxFailedChunkPercent,
      },
      { timeout: Duration.minutes(15), memorySize: 2048, sharp: true },
    );
    // Up to 2 × evaluation.maxImages requests, 4 images in flight: at the built-in algorithm's ~1 s per
    // CPU request, 100 images take under 2 minutes; 15 minutes leaves room for slow GPU-less models.
    // The key that orders the evaluation's images: made at deploy, read only by the evaluation, so no
    // uploader can choose names that take the holdout's places.
    this.holdoutKey = new secretsmanager.Secret(scope, 'HoldoutKey', {
      description: 'segpipe: the key that orders the validation images champion and challenger are compared on',
      encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    // Rotating the key would reshuffle the holdout: runs would stop being compared on the images
    // earlier runs were, for no gain (the key never leaves the evaluation function).
    Validations.of(this.holdoutKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation would reshuffle the evaluation holdout, so successive models would no longer be compared on mostly the same images; the key is read only by the evaluation function.',
    });
    this.evaluateVariants = handler(
      'EvaluateVariants',
      'evaluate-variants',
      "segpipe: scores the champion and challenger variants on the run's validation images",
      {
        ...artifacts,
        endpointName: endpointName(props.resourcePrefix),
        maxImages: config.evaluation.maxImages,
        maxBatchShare: config.evaluation.maxBatchShare,
        minImages: config.evaluation.minImages,
        tolerance: config.evaluation.tolerance,
        minValidationMiou: config.minValidationMiou,
        holdoutKeySecret: this.holdoutKey.secretArn,
      },
      { timeout: Duration.minutes(15), memorySize: 1024, sharp: true },
    );
    this.deployLock = handler(
      'DeployLock',
      'deploy-lock',
      "segpipe: one deploy at a time: takes the endpoint's lock for a run, or says who holds it",
      {
        ...artifacts,
        holdSeconds: props.deployLockSeconds,
      },
      { keyAccess: 'none' },
    );
    this.finishRun = handler('FinishRun', 'finish-run', 'segpipe: writes the run report and the notification', {
      ...artifacts,
      resourcePrefix: props.resourcePrefix,
      minValidationMiou: config.minValidationMiou,
    });
    this.grant(scope, props);
  }

  /** The functions by handler file name (`lambda/handlers/<name>.ts`). */
  public byHandlerName(): Record<string, HandlerFunction> {
    return {
      'check-batch': this.checkBatch,
      'snapshot-batch': this.snapshotBatch,
      'take-import-turn': this.takeImportTurn,
      'prepare-run': this.prepareRun,
      'check-quota': this.checkQuota,
      'check-budget': this.checkBudget,
      'plan-conversion': this.planConversion,
      'convert-chunk': this.convertChunk,
      'assemble-channels': this.assembleChannels,
      'evaluate-variants': this.evaluateVariants,
      'deploy-lock': this.deployLock,
      'finish-run': this.finishRun,
      ...(this.writeLabelStudioTasks ? { 'write-labelstudio-tasks': this.writeLabelStudioTasks } : {}),
      ...(this.countAnnotations ? { 'count-annotations': this.countAnnotations } : {}),
      ...(this.takeCorrectionsTurn ? { 'take-corrections-turn': this.takeCorrectionsTurn } : {}),
    };
  }

  private grant(scope: Construct, props: WorkflowFunctionsProps): void {
    const { inboxBucket, artifactsBucket } = props;
    const {
      checkBatch,
      snapshotBatch,
      takeImportTurn,
      prepareRun,
      checkQuota,
      planConversion,
      convertChunk,
      assembleChannels,
      evaluateVariants,
      deployLock,
      finishRun,
    } = this;
    const objects = (bucket: s3.IBucket, prefix: string) => bucket.arnForObjects(`${prefix}*`);
    const allow = (role: iam.IRole, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    allow(prepareRun.role, ['s3:PutObject'], [objects(artifactsBucket, RUN_PATHS.labeling)]);
    // The conversion reads a run's labeling output, never the rest of runs/ (RUN_PATHS).
    // Stage, check, commit: the plan only reads the dataset's class list, the chunks write only the
    // run's staging area, and the dataset is written by the one function that checks first.
    allow(
      planConversion.role,
      ['s3:GetObject'],
      [
        objects(inboxBucket, LABELED_PREFIX),
        objects(artifactsBucket, RUN_PATHS.labelingOutput),
        artifactsBucket.arnForObjects(datasetLayout().classes),
      ],
    );
    allow(planConversion.role, ['s3:PutObject'], [objects(artifactsBucket, RUN_PATHS.conversion)]);
    allow(
      convertChunk.role,
      ['s3:GetObject'],
      [
        objects(inboxBucket, IMAGES_PREFIX),
        objects(inboxBucket, LABELED_PREFIX),
        objects(artifactsBucket, RUN_PATHS.labelingOutput),
        objects(artifactsBucket, RUN_PATHS.conversion),
      ],
    );
    allow(
      convertChunk.role,
      ['s3:PutObject'],
      [objects(artifactsBucket, RUN_PATHS.staging), objects(artifactsBucket, RUN_PATHS.conversion)],
    );
    allow(
      assembleChannels.role,
      ['s3:GetObject'],
      [
        objects(artifactsBucket, RUN_PATHS.conversion),
        objects(artifactsBucket, RUN_PATHS.staging),
        objects(artifactsBucket, DATASETS_PREFIX),
      ],
    );
    allow(prepareRun.role, ['s3:GetObject'], [objects(artifactsBucket, BATCHES_PREFIX)]);
    allow(
      assembleChannels.role,
      ['s3:PutObject', 's3:PutObjectTagging'],
      [
        objects(artifactsBucket, RUN_PATHS.conversion),
        objects(artifactsBucket, RUN_PATHS.channels),
        objects(artifactsBucket, DATASETS_PREFIX),
      ],
    );
    allow(assembleChannels.role, ['s3:DeleteObject'], [objects(artifactsBucket, RUN_PATHS.staging)]);
    // The evaluation reads the run's channel manifests, the dataset's validation items they list and
    // the dataset's index (each item's batch); it writes only the run's evaluation/.
    const dataset = datasetLayout();
    allow(
      evaluateVariants.role,
      ['s3:GetObject'],
      [
        objects(artifactsBucket, RUN_PATHS.channels),
        objects(artifactsBucket, dataset.channelPrefix('validation')),
        objects(artifactsBucket, dataset.channelPrefix('validation_annotation')),
        objects(artifactsBucket, dataset.index),
        artifactsBucket.arnForObjects(dataset.legacyItems),
      ],
    );
    allow(evaluateVariants.role, ['s3:PutObject'], [objects(artifactsBucket, RUN_PATHS.evaluation)]);
    // Listing the index's shards; and a missing key (an index of earlier versions, items.json) answers
    // 403 instead of 404 without ListBucket, which an s3:prefix condition would refuse on a GetObject.
    allow(evaluateVariants.role, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
    allow(evaluateVariants.role, ['secretsmanager:GetSecretValue'], [this.holdoutKey.secretArn]);
    if (props.encryptionKey) grantDataKey(props.encryptionKey, evaluateVariants.role, 'decrypt', ['secretsmanager']);
    allow(
      evaluateVariants.role,
      ['sagemaker:InvokeEndpoint'],
      [Arn.format({ service: 'sagemaker', resource: 'endpoint', resourceName: endpointName(props.resourcePrefix) }, Stack.of(scope))],
    );
    // CloudWatch metric reads take no resource; the training curves are read from the jobs' namespace only.
    allow(evaluateVariants.role, ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricData'], ['*']);
    allow(finishRun.role, ['s3:PutObject'], [objects(artifactsBucket, RUNS_PREFIX), objects(artifactsBucket, BATCHES_PREFIX)]);
    allow(finishRun.role, ['s3:GetObject'], [objects(artifactsBucket, BATCHES_PREFIX)]);
    // The deploy lock: taken by one function, released by the report (run-ended.ts releases it too).
    const lock = artifactsBucket.arnForObjects(DEPLOY_LOCK_KEY);
    allow(deployLock.role, ['s3:GetObject', 's3:PutObject'], [lock]);
    allow(finishRun.role, ['s3:GetObject', 's3:DeleteObject'], [lock]);
    // A missing lock answers 403 instead of 404 without ListBucket (no s3:prefix condition: a GetObject has no prefix).
    for (const fn of [deployLock, finishRun]) allow(fn.role, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
    for (const fn of [checkBatch, snapshotBatch]) {
      allow(fn.role, ['s3:ListBucket'], [inboxBucket.bucketArn], { StringLike: { 's3:prefix': [`${IMAGES_PREFIX}*`] } });
      allow(fn.role, ['s3:GetObject'], [objects(artifactsBucket, BATCHES_PREFIX)]);
    }
    allow(snapshotBatch.role, ['s3:PutObject'], [objects(artifactsBucket, BATCHES_PREFIX)]);
    allow(takeImportTurn.role, ['s3:GetObject', 's3:PutObject'], [objects(artifactsBucket, BATCHES_PREFIX)]);
    allow(takeImportTurn.role, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
    // Service Quotas reads take no resource narrower than the service's quotas.
    allow(checkQuota.role, ['servicequotas:ListServiceQuotas'], ['*']);
    // Imported manifests may refer to the locations the configuration lists: read-only, only by the
    // converter (the channels are assembled from the dataset), and only in a bucket of the expected
    // account, so that a bucket deleted and re-created by someone else is not read.
    const { readBuckets, readBucketOwners } = props.config.import;
    for (const location of readBuckets) {
      const { bucket: name, prefix } = parseReadLocation(location);
      const bucket = s3.Bucket.fromBucketName(scope, `ReadBucket-${location}`, name);
      const owner = { StringEquals: { 's3:ResourceAccount': readBucketOwners[name] ?? Aws.ACCOUNT_ID } };
      allow(convertChunk.role, ['s3:GetObject'], [bucket.arnForObjects(`${prefix}*`)], owner);
      allow(convertChunk.role, ['s3:ListBucket'], [bucket.bucketArn], {
        ...owner,
        ...(prefix ? { StringLike: { 's3:prefix': [`${prefix}*`] } } : {}),
      });
    }
    // A missing key answers 403 instead of 404 without ListBucket; the converter reports missing files
    // by name. No s3:prefix condition: S3 checks it on a GetObject, which has no prefix (docs/design-notes.md, Known limits).
    for (const fn of [planConversion, convertChunk]) allow(fn.role, ['s3:ListBucket'], [inboxBucket.bucketArn, artifactsBucket.bucketArn]);
    const { writeLabelStudioTasks, countAnnotations, takeCorrectionsTurn } = this;
    if (writeLabelStudioTasks && countAnnotations && takeCorrectionsTurn) {
      // Label Studio: the run's chunk manifests, the tasks prefix of the inbox, the markers of annotated
      // tasks (listed, never read), and the annotations the conversion reads as an export.
      allow(prepareRun.role, ['s3:PutObject'], [objects(artifactsBucket, RUN_PATHS.labelStudio)]);
      allow(writeLabelStudioTasks.role, ['s3:GetObject'], [objects(artifactsBucket, RUN_PATHS.labelStudio)]);
      allow(writeLabelStudioTasks.role, ['s3:PutObject'], [objects(inboxBucket, LABELSTUDIO_TASKS_PREFIX)]);
      // Pre-labels: the images sent to the serving endpoint, and the dataset's class list that names its indices.
      allow(
        writeLabelStudioTasks.role,
        ['s3:GetObject'],
        [objects(inboxBucket, IMAGES_PREFIX), artifactsBucket.arnForObjects(datasetLayout().classes)],
      );
      allow(
        writeLabelStudioTasks.role,
        ['sagemaker:InvokeEndpoint'],
        [Arn.format({ service: 'sagemaker', resource: 'endpoint', resourceName: endpointName(props.resourcePrefix) }, Stack.of(scope))],
      );
      // A missing class list answers 403 instead of 404 without ListBucket.
      allow(writeLabelStudioTasks.role, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
      // The count lists its round's markers; once the run goes on it closes the round: the batch's
      // corrections turns (read first: a missing one answers 403 without ListBucket, which an s3:prefix
      // condition would refuse on a GetObject) and the round's closed mark.
      allow(countAnnotations.role, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
      const corrections = objects(artifactsBucket, `${BATCHES_PREFIX}*/${LABELSTUDIO_CORRECTIONS_FOLDER}`);
      allow(countAnnotations.role, ['s3:GetObject', 's3:PutObject'], [corrections]);
      allow(countAnnotations.role, ['s3:PutObject'], [objects(artifactsBucket, `${BATCHES_PREFIX}*/labelstudio/`)]);
      // The round's files, listed into the run's own list when the run goes on.
      allow(countAnnotations.role, ['s3:PutObject'], [artifactsBucket.arnForObjects(labelStudioFilesKey('*'))]);
      // A corrections run's turn: the batch's turns and the markers of its generation, listed into the run's own list of files.
      allow(takeCorrectionsTurn.role, ['s3:GetObject', 's3:PutObject'], [corrections]);
      allow(takeCorrectionsTurn.role, ['s3:PutObject'], [artifactsBucket.arnForObjects(labelStudioFilesKey('*'))]);
      allow(takeCorrectionsTurn.role, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
      for (const fn of [planConversion, convertChunk]) {
        allow(fn.role, ['s3:GetObject'], [objects(inboxBucket, LABELSTUDIO_ANNOTATIONS_PREFIX)]);
        // A Label Studio run's list of files (its round's, or its corrections'), written by the run itself.
        allow(fn.role, ['s3:GetObject'], [artifactsBucket.arnForObjects(labelStudioFilesKey('*'))]);
      }
    }
    // The channels are assembled from the artifacts bucket alone.
    allow(assembleChannels.role, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
  }
}
