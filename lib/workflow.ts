import { Arn, ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BATCHES_PREFIX, CHANNEL_NAMES, DATASETS_PREFIX, IMAGES_PREFIX, LABELED_PREFIX, MODELS_PREFIX, RUNS_PREFIX } from '../lambda/workflow/layout';
import { RUN_TAG_KEY, STACK_TAG_KEY, endpointName } from '../lambda/workflow/names';
import { pickCostSettings } from '../lambda/cost/estimate';
import { SegpipeConfig } from './config';
import { HandlerFunction, LOG_RETENTION, sharpLayer } from './handler-function';
import { KMS_GRANT_FINDINGS, acknowledgeWildcards, nagArnOf } from './nag';

/** The label attribute of segpipe's labeling jobs: semantic segmentation requires the `-ref` suffix. */
export const LABEL_ATTRIBUTE_NAME = 'segmentation-ref';
/** Account of the public Mechanical Turk workteam in every Ground Truth region. */
const PUBLIC_WORKTEAM_ACCOUNT = '394669845002';
/** Error names of throttling, the only SageMaker failure a request-response task retries. */
const THROTTLING_ERRORS = ['SageMaker.ThrottlingException', 'ThrottlingException'];

/**
 * SageMaker refuses a KMS key for the storage volume of instance types with local (NVMe) storage,
 * which it encrypts itself: `d` families (c5d, m5d, ...), g4dn, g5/g6, p3dn, p4d, p5.
 */
export function hasInstanceStorage(instanceType: string): boolean {
  const family = instanceType.split('.')[1] ?? '';
  return /d$|dn$/.test(family) || /^(g5|g6|g6e|p4de|p5|p5e)$/.test(family);
}

export interface SegpipeWorkflowProps {
  readonly config: SegpipeConfig;
  readonly inboxBucket: s3.IBucket;
  readonly artifactsBucket: s3.IBucket;
  /** `<account>.dkr.ecr.<region>.<url suffix>/semantic-segmentation:1` of the deployment region. */
  readonly algorithmImageUri: string;
  readonly algorithmImageAccount: string;
  /** Account of Ground Truth's `PRE-`/`ACS-SemanticSegmentation` Lambdas; required with a workforce. */
  readonly groundTruthLambdaAccount?: string;
  /** Lower-case prefix of every SageMaker resource the workflow creates. */
  readonly resourcePrefix: string;
  /**
   * Customer key of the buckets, granted to every role that touches the data.
   * @default - S3-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Wait between two looks at a batch that is still receiving uploads.
   * @default Duration.seconds(30)
   */
  readonly batchPollInterval?: Duration;
  /**
   * Wait between two looks at a deploying endpoint.
   * @default Duration.minutes(1)
   */
  readonly endpointPollInterval?: Duration;
  /**
   * Looks at a deploying endpoint before the run gives up on it.
   * @default 60
   */
  readonly endpointPollAttempts?: number;
}

/**
 * The run: Ground Truth labeling (or imported labels) → conversion into the algorithm's channels →
 * training → a gate on validation mIOU → the stack's endpoint, created or updated in place; a report,
 * an SNS notification and an EventBridge event either way. Every SageMaker call is a state.
 */
export class SegpipeWorkflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly topic: sns.Topic;
  public readonly endpointName: string;
  public readonly groundTruthRole: iam.Role;
  public readonly trainingRole: iam.Role;
  public readonly modelRole: iam.Role;
  /** The workflow's Lambdas, by handler file name (`lambda/handlers/<name>.ts`). */
  public readonly handlers: Readonly<Record<string, HandlerFunction>>;

  constructor(scope: Construct, id: string, props: SegpipeWorkflowProps) {
    super(scope, id);
    const { config, inboxBucket, artifactsBucket, encryptionKey, resourcePrefix } = props;
    const labeling = config.workforce.type !== 'none';
    if (labeling && !props.groundTruthLambdaAccount) throw new Error('SegpipeWorkflow: groundTruthLambdaAccount is required when a workforce is configured');
    const pollInterval = props.endpointPollInterval ?? Duration.minutes(1);
    const batchPollInterval = props.batchPollInterval ?? Duration.seconds(30);
    const pollAttempts = props.endpointPollAttempts ?? 60;
    this.endpointName = endpointName(resourcePrefix);
    const stack = Stack.of(this);

    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: 'segpipe runs',
      enforceSSL: true,
      masterKey: encryptionKey ?? kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
    });
    if (config.notificationEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.notificationEmail));

    // Lambdas.
    const layer = sharpLayer(this, 'SharpLayer');
    const environment = {
      ARTIFACTS_BUCKET: artifactsBucket.bucketName,
      INBOX_BUCKET: inboxBucket.bucketName,
      QUIET_SECONDS: String(config.batch.quietSeconds),
      TRAINING_INSTANCE_TYPE: config.training.instanceType,
      TRAINING_SPOT: String(config.training.spot),
      LABEL_CLASSES: JSON.stringify(config.labelClasses),
      WORKFORCE: config.workforce.type,
      VALIDATION_FRACTION: String(config.split.validationFraction),
      SPLIT_SEED: config.split.seed,
      MIN_TRAINING_SAMPLES: String(config.training.minSamples),
      MIN_VALIDATION_MIOU: String(config.minValidationMiou),
      RESOURCE_PREFIX: resourcePrefix,
      POWERTOOLS_SERVICE_NAME: 'segpipe',
    };
    const handler = (id: string, name: string, description: string, extra: { timeout?: Duration; memorySize?: number; sharp?: boolean } = {}) =>
      new HandlerFunction(this, id, { handler: name, description, layers: extra.sharp ? [layer] : [], environment, encryptionKey, ...extra });
    const checkBatch = handler('CheckBatch', 'check-batch', 'segpipe: tells whether an uploaded batch has settled');
    const snapshotBatch = handler('SnapshotBatch', 'snapshot-batch', 'segpipe: takes the batch images no run has taken');
    const prepareRun = handler('PrepareRun', 'prepare-run', 'segpipe: names a run, writes its labeling inputs');
    const checkQuota = handler('CheckQuota', 'check-quota', 'segpipe: checks the training instance quota before anyone is paid');
    const checkBudget = handler('CheckBudget', 'check-budget', 'segpipe: checks the run\'s cost estimate against the budget before anyone is paid');
    checkBudget.function.addEnvironment('COST_SETTINGS', JSON.stringify(pickCostSettings(config)));
    const planConversion = handler('PlanConversion', 'plan-conversion', 'segpipe: fixes the class order, cuts the manifest into chunks', { timeout: Duration.minutes(5), sharp: true });
    const convertChunk = handler('ConvertChunk', 'convert-chunk', 'segpipe: converts Ground Truth output into the dataset', { timeout: Duration.minutes(15), memorySize: 2048, sharp: true });
    const assembleChannels = handler('AssembleChannels', 'assemble-channels', 'segpipe: builds and checks the run\'s channels', { timeout: Duration.minutes(15), memorySize: 1024, sharp: true });
    const finishRun = handler('FinishRun', 'finish-run', 'segpipe: writes the run report and the notification');
    this.handlers = {
      'check-batch': checkBatch, 'snapshot-batch': snapshotBatch, 'prepare-run': prepareRun, 'check-quota': checkQuota, 'check-budget': checkBudget,
      'plan-conversion': planConversion, 'convert-chunk': convertChunk, 'assemble-channels': assembleChannels, 'finish-run': finishRun,
    };

    const objects = (bucket: s3.IBucket, prefix: string) => bucket.arnForObjects(`${prefix}*`);
    const allow = (role: iam.IRole, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    allow(prepareRun.role, ['s3:PutObject'], [objects(artifactsBucket, RUNS_PREFIX)]);
    allow(planConversion.role, ['s3:GetObject'], [objects(inboxBucket, LABELED_PREFIX), objects(artifactsBucket, RUNS_PREFIX), objects(artifactsBucket, DATASETS_PREFIX)]);
    allow(planConversion.role, ['s3:PutObject'], [objects(artifactsBucket, DATASETS_PREFIX)]);
    allow(convertChunk.role, ['s3:GetObject'], [objects(inboxBucket, IMAGES_PREFIX), objects(inboxBucket, LABELED_PREFIX), objects(artifactsBucket, RUNS_PREFIX)]);
    allow(convertChunk.role, ['s3:PutObject'], [objects(artifactsBucket, DATASETS_PREFIX), objects(artifactsBucket, RUNS_PREFIX)]);
    allow(assembleChannels.role, ['s3:GetObject'], [objects(artifactsBucket, RUNS_PREFIX), objects(artifactsBucket, DATASETS_PREFIX)]);
    allow(assembleChannels.role, ['s3:PutObject', 's3:PutObjectTagging'], [objects(artifactsBucket, RUNS_PREFIX), objects(artifactsBucket, DATASETS_PREFIX)]);
    allow(finishRun.role, ['s3:PutObject'], [objects(artifactsBucket, RUNS_PREFIX), objects(artifactsBucket, BATCHES_PREFIX)]);
    allow(finishRun.role, ['s3:GetObject'], [objects(artifactsBucket, BATCHES_PREFIX)]);
    for (const fn of [checkBatch, snapshotBatch]) {
      allow(fn.role, ['s3:ListBucket'], [inboxBucket.bucketArn], { StringLike: { 's3:prefix': [`${IMAGES_PREFIX}*`] } });
      allow(fn.role, ['s3:GetObject'], [objects(artifactsBucket, BATCHES_PREFIX)]);
    }
    allow(snapshotBatch.role, ['s3:PutObject'], [objects(artifactsBucket, BATCHES_PREFIX)]);
    // Service Quotas reads take no resource narrower than the service's quotas.
    allow(checkQuota.role, ['servicequotas:ListServiceQuotas'], ['*']);
    // Imported manifests may refer to the buckets the configuration lists: read-only.
    for (const name of config.import.readBuckets) {
      const bucket = s3.Bucket.fromBucketName(this, `ReadBucket-${name}`, name);
      for (const fn of [convertChunk, assembleChannels]) {
        allow(fn.role, ['s3:GetObject'], [bucket.arnForObjects('*')]);
        allow(fn.role, ['s3:ListBucket'], [bucket.bucketArn]);
      }
    }
    // A missing key answers 403 instead of 404 without ListBucket; the converter reports missing files by name.
    for (const fn of [planConversion, convertChunk, assembleChannels]) {
      allow(fn.role, ['s3:ListBucket'], [inboxBucket.bucketArn, artifactsBucket.bucketArn]);
    }

    // SageMaker roles.
    const sagemakerPrincipal = new iam.ServicePrincipal('sagemaker.amazonaws.com');
    this.groundTruthRole = new iam.Role(this, 'GroundTruthRole', { assumedBy: sagemakerPrincipal, description: 'segpipe: Ground Truth labeling jobs' });
    allow(this.groundTruthRole, ['s3:GetObject'], [objects(inboxBucket, IMAGES_PREFIX), objects(artifactsBucket, RUNS_PREFIX)]);
    allow(this.groundTruthRole, ['s3:PutObject'], [objects(artifactsBucket, RUNS_PREFIX)]);
    allow(this.groundTruthRole, ['s3:ListBucket'], [artifactsBucket.bucketArn]);
    this.trainingRole = new iam.Role(this, 'TrainingRole', { assumedBy: sagemakerPrincipal, description: 'segpipe: training jobs' });
    allow(this.trainingRole, ['s3:GetObject'], [objects(artifactsBucket, RUNS_PREFIX), objects(artifactsBucket, MODELS_PREFIX)]);
    allow(this.trainingRole, ['s3:PutObject'], [objects(artifactsBucket, MODELS_PREFIX)]);
    allow(this.trainingRole, ['s3:ListBucket'], [artifactsBucket.bucketArn], { StringLike: { 's3:prefix': [`${RUNS_PREFIX}*`, `${MODELS_PREFIX}*`] } });
    this.modelRole = new iam.Role(this, 'ModelRole', { assumedBy: sagemakerPrincipal, description: 'segpipe: endpoints serving a trained model' });
    allow(this.modelRole, ['s3:GetObject'], [objects(artifactsBucket, MODELS_PREFIX)]);
    const imageRepository = Arn.format({ service: 'ecr', account: props.algorithmImageAccount, resource: 'repository', resourceName: 'semantic-segmentation' }, stack);
    for (const [role, logPrefix] of [[this.groundTruthRole, 'LabelingJobs'], [this.trainingRole, 'TrainingJobs'], [this.modelRole, 'Endpoints']] as const) {
      allow(role, ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], [
        Arn.format({ service: 'logs', resource: 'log-group', resourceName: `/aws/sagemaker/${logPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack),
      ]);
      allow(role, ['cloudwatch:PutMetricData'], ['*'], { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'AWS/SageMaker'] } });
      encryptionKey?.grantEncryptDecrypt(role);
    }
    for (const role of [this.trainingRole, this.modelRole]) {
      allow(role, ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], [imageRepository]);
      allow(role, ['ecr:GetAuthorizationToken'], ['*']);
    }

    // States.
    const tags = [
      { Key: STACK_TAG_KEY, Value: stack.stackName },
      { Key: RUN_TAG_KEY, 'Value.$': '$.run.runId' },
    ];
    const invoke = (id: string, fn: HandlerFunction, payload: Record<string, unknown>, resultPath: string) =>
      new tasks.LambdaInvoke(this, id, {
        lambdaFunction: fn.function,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: true,
      });
    const sagemaker = (id: string, action: string, parameters: Record<string, unknown>, resultPath: string | null, resultSelector?: Record<string, unknown>) =>
      new sfn.CustomState(this, id, {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${Aws.PARTITION}:states:::${action}`,
          Parameters: parameters,
          ResultPath: resultPath,
          ...(resultSelector ? { ResultSelector: resultSelector } : {}),
        },
      });
    const retryThrottling = (state: sfn.CustomState) =>
      state.addRetry({ errors: THROTTLING_ERRORS, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 4 });

    // Failure: report, notify, fail.
    const reportFailure = invoke('Report failure', finishRun, { status: 'failed', 'state.$': '$', 'runId.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime' }, '$.outcome');
    const notifyFailure = new tasks.SnsPublish(this, 'Notify failure', {
      topic: this.topic, subject: sfn.JsonPath.stringAt('$.outcome.subject'), message: sfn.TaskInput.fromJsonPathAt('$.outcome.message'), resultPath: sfn.JsonPath.DISCARD,
    });
    const failureEvent = new tasks.EventBridgePutEvents(this, 'Publish failure event', {
      entries: [{ source: 'segpipe', detailType: 'Segpipe Run Failed', detail: sfn.TaskInput.fromJsonPathAt('$.outcome.detail') }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    const runFailed = new sfn.Fail(this, 'Run failed', { errorPath: '$.error.Error', causePath: '$.outcome.message' });
    reportFailure.next(notifyFailure).next(failureEvent).next(runFailed);
    const catchTo = (state: sfn.TaskStateBase | sfn.CustomState | sfn.DistributedMap, target: sfn.IChainable) => {
      state.addCatch(target, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
      return state;
    };

    // Success: report, notify, publish.
    const notify = new tasks.SnsPublish(this, 'Notify', {
      topic: this.topic, subject: sfn.JsonPath.stringAt('$.outcome.subject'), message: sfn.TaskInput.fromJsonPathAt('$.outcome.message'), resultPath: sfn.JsonPath.DISCARD,
    });
    const finishedEvent = new tasks.EventBridgePutEvents(this, 'Publish event', {
      entries: [{ source: 'segpipe', detailType: 'Segpipe Run Finished', detail: sfn.TaskInput.fromJsonPathAt('$.outcome.detail') }],
      resultPath: sfn.JsonPath.DISCARD,
    });
    notify.next(finishedEvent).next(new sfn.Succeed(this, 'Run finished'));
    const reportDeployed = catchTo(invoke('Report deployed', finishRun, { status: 'deployed', 'state.$': '$', 'runId.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime' }, '$.outcome'), reportFailure);
    reportDeployed.next(notify);
    const reportNotDeployed = catchTo(invoke('Report not deployed', finishRun, { status: 'not-deployed', 'state.$': '$', 'runId.$': '$$.Execution.Name', 'startedAt.$': '$$.Execution.StartTime' }, '$.outcome'), reportFailure);
    reportNotDeployed.next(notify);
    for (const state of [notify, finishedEvent, notifyFailure, failureEvent, reportFailure]) {
      state.addRetry({ errors: ['States.TaskFailed'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 });
    }

    // Deploy: model → endpoint config → create or update the endpoint → poll.
    const cleanUp = sagemaker('Delete endpoint config', 'aws-sdk:sagemaker:deleteEndpointConfig', { 'EndpointConfigName.$': '$.run.names.endpointConfig' }, sfn.JsonPath.DISCARD);
    const deleteModel = sagemaker('Delete model', 'aws-sdk:sagemaker:deleteModel', { 'ModelName.$': '$.run.names.model' }, sfn.JsonPath.DISCARD);
    cleanUp.addCatch(deleteModel, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(deleteModel);
    deleteModel.addCatch(reportFailure, { errors: [sfn.Errors.ALL], resultPath: sfn.JsonPath.DISCARD }).next(reportFailure);

    const createModel = catchTo(retryThrottling(sagemaker('Create model', 'sagemaker:createModel', {
      'ModelName.$': '$.run.names.model',
      ExecutionRoleArn: this.modelRole.roleArn,
      PrimaryContainer: { Image: props.algorithmImageUri, 'ModelDataUrl.$': '$.training.ModelArtifacts.S3ModelArtifacts' },
      Tags: tags,
    }, sfn.JsonPath.DISCARD)), cleanUp);
    const createEndpointConfig = catchTo(retryThrottling(sagemaker('Create endpoint config', 'sagemaker:createEndpointConfig', {
      'EndpointConfigName.$': '$.run.names.endpointConfig',
      ProductionVariants: [{
        VariantName: 'AllTraffic', 'ModelName.$': '$.run.names.model', InstanceType: config.hosting.instanceType, InitialInstanceCount: 1, InitialVariantWeight: 1,
      }],
      ...(encryptionKey && !hasInstanceStorage(config.hosting.instanceType) ? { KmsKeyId: encryptionKey.keyArn } : {}),
      Tags: tags,
    }, sfn.JsonPath.DISCARD)), cleanUp);
    const findEndpoint = catchTo(retryThrottling(sagemaker('Find endpoint', 'aws-sdk:sagemaker:listEndpoints', { NameContains: this.endpointName, MaxResults: 100 }, '$.existing', {
      'endpoints.$': '$.Endpoints',
    })), cleanUp);
    // NameContains matches substrings: look for the exact name (ArrayContains needs a non-empty list).
    const checkNames = new sfn.Pass(this, 'Check endpoint names', {
      parameters: { 'exists.$': `States.ArrayContains($.existing.endpoints[*].EndpointName, '${this.endpointName}')` },
      resultPath: '$.existing',
    });
    const createEndpoint = catchTo(retryThrottling(sagemaker('Create endpoint', 'sagemaker:createEndpoint', {
      EndpointName: this.endpointName, 'EndpointConfigName.$': '$.run.names.endpointConfig', Tags: tags,
    }, sfn.JsonPath.DISCARD)), cleanUp);
    const updateEndpoint = catchTo(retryThrottling(sagemaker('Update endpoint', 'sagemaker:updateEndpoint', {
      EndpointName: this.endpointName, 'EndpointConfigName.$': '$.run.names.endpointConfig',
    }, sfn.JsonPath.DISCARD)), cleanUp);
    const startPolling = new sfn.Pass(this, 'Start polling', { parameters: { attempt: 0 }, resultPath: '$.poll' });
    const waitForEndpoint = new sfn.Wait(this, 'Wait for endpoint', { time: sfn.WaitTime.duration(pollInterval) });
    const describeEndpoint = catchTo(retryThrottling(sagemaker('Describe endpoint', 'aws-sdk:sagemaker:describeEndpoint', { EndpointName: this.endpointName }, '$.endpoint', {
      'status.$': '$.EndpointStatus', 'config.$': '$.EndpointConfigName', 'details.$': '$',
    })), reportFailure);
    // FailureReason is absent for some states: hand over the whole description, the report picks from it.
    const endpointFailed = new sfn.Pass(this, 'Endpoint failed', {
      parameters: { Error: 'EndpointFailed', 'Cause.$': 'States.JsonToString($.endpoint.details)' },
      resultPath: '$.error',
    });
    endpointFailed.next(reportFailure);
    // A failed update rolls back: InService again, on the previous config; this run's model and config are unused.
    const updateRolledBack = new sfn.Pass(this, 'Update rolled back', {
      parameters: { Error: 'EndpointUpdateFailed', 'Cause.$': 'States.JsonToString($.endpoint.details)' },
      resultPath: '$.error',
    });
    updateRolledBack.next(cleanUp);
    const endpointTimedOut = new sfn.Pass(this, 'Endpoint timed out', {
      parameters: { Error: 'EndpointTimeout', Cause: `endpoint ${this.endpointName} did not reach InService after ${pollAttempts} looks, ${pollInterval.toHumanString()} apart` },
      resultPath: '$.error',
    });
    endpointTimedOut.next(reportFailure);
    const countAttempt = new sfn.Pass(this, 'Count attempt', { parameters: { 'attempt.$': 'States.MathAdd($.poll.attempt, 1)' }, resultPath: '$.poll' });
    startPolling.next(waitForEndpoint).next(describeEndpoint).next(
      new sfn.Choice(this, 'Endpoint in service?')
        .when(sfn.Condition.and(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), sfn.Condition.stringEqualsJsonPath('$.endpoint.config', '$.run.names.endpointConfig')), reportDeployed)
        .when(sfn.Condition.stringEquals('$.endpoint.status', 'InService'), updateRolledBack)
        .when(sfn.Condition.or(sfn.Condition.stringEquals('$.endpoint.status', 'Failed'), sfn.Condition.stringEquals('$.endpoint.status', 'UpdateRollbackFailed'), sfn.Condition.stringEquals('$.endpoint.status', 'OutOfService')), endpointFailed)
        .otherwise(countAttempt.next(
          new sfn.Choice(this, 'Waited too long?')
            .when(sfn.Condition.numberGreaterThanEquals('$.poll.attempt', pollAttempts), endpointTimedOut)
            .otherwise(waitForEndpoint),
        )),
    );
    createEndpoint.next(startPolling);
    updateEndpoint.next(startPolling);
    createModel.next(createEndpointConfig).next(findEndpoint).next(
      new sfn.Choice(this, 'Any endpoint listed?')
        .when(sfn.Condition.isPresent('$.existing.endpoints[0]'), checkNames.next(
          new sfn.Choice(this, 'Endpoint exists?')
            .when(sfn.Condition.booleanEquals('$.existing.exists', true), updateEndpoint)
            .otherwise(createEndpoint),
        ))
        .otherwise(createEndpoint),
    );

    // Train and gate.
    const { training } = config;
    const channelUri = (channel: string) => `States.Format('{}${channel}/', $.channels.channels)`;
    const modelsUri = (suffix: string) => `States.Format('s3://${artifactsBucket.bucketName}/${MODELS_PREFIX}{}/${suffix}', $.run.runId)`;
    const train = catchTo(sagemaker('Train', 'sagemaker:createTrainingJob.sync', {
      'TrainingJobName.$': '$.run.names.trainingJob',
      AlgorithmSpecification: { TrainingImage: props.algorithmImageUri, TrainingInputMode: 'File' },
      RoleArn: this.trainingRole.roleArn,
      HyperParameters: {
        ...training.hyperparameters,
        algorithm: training.algorithm,
        backbone: training.backbone,
        epochs: String(training.epochs),
        'num_classes.$': 'States.Format(\'{}\', $.channels.numClasses)',
        'num_training_samples.$': 'States.Format(\'{}\', $.channels.numTrainingSamples)',
      },
      InputDataConfig: CHANNEL_NAMES.map((channel) => ({
        ChannelName: channel,
        ContentType: channel.endsWith('_annotation') ? 'image/png' : 'image/jpeg',
        CompressionType: 'None',
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3DataDistributionType: 'FullyReplicated', 'S3Uri.$': channelUri(channel) } },
      })),
      OutputDataConfig: { 'S3OutputPath.$': modelsUri('output/'), ...(encryptionKey ? { KmsKeyId: encryptionKey.keyArn } : {}) },
      ResourceConfig: {
        InstanceType: training.instanceType, InstanceCount: 1, VolumeSizeInGB: training.volumeSizeGb,
        ...(encryptionKey && !hasInstanceStorage(training.instanceType) ? { VolumeKmsKeyId: encryptionKey.keyArn } : {}),
      },
      StoppingCondition: training.spot
        ? { MaxRuntimeInSeconds: training.maxRuntimeSeconds, MaxWaitTimeInSeconds: training.maxRuntimeSeconds * 2 }
        : { MaxRuntimeInSeconds: training.maxRuntimeSeconds },
      ...(training.spot ? { EnableManagedSpotTraining: true, 'CheckpointConfig': { 'S3Uri.$': modelsUri('checkpoints/') } } : {}),
      Tags: tags,
    }, '$.training', {
      // Only what the gate, the model and the report read: the state stays far below 256 KiB.
      'TrainingJobName.$': '$.TrainingJobName',
      'TrainingTimeInSeconds.$': '$.TrainingTimeInSeconds',
      'BillableTimeInSeconds.$': '$.BillableTimeInSeconds',
      'ModelArtifacts.$': '$.ModelArtifacts',
      'FinalMetricDataList.$': '$.FinalMetricDataList',
    }), reportFailure);
    const readMetrics = new sfn.Pass(this, 'Read metrics', {
      parameters: {
        'miou.$': "$.training.FinalMetricDataList[?(@.MetricName == 'validation:mIOU')].Value",
        'pixelAccuracy.$': "$.training.FinalMetricDataList[?(@.MetricName == 'validation:pixel_accuracy')].Value",
      },
      resultPath: '$.metrics',
    });
    const gate = new sfn.Choice(this, 'mIOU at least the minimum?')
      .when(sfn.Condition.and(
        sfn.Condition.isPresent('$.metrics.miou[0]'),
        sfn.Condition.numberGreaterThanEquals('$.metrics.miou[0]', config.minValidationMiou),
      ), createModel)
      .otherwise(reportNotDeployed);
    train.next(readMetrics).next(gate);

    // Convert and check.
    const plan = catchTo(invoke('Plan conversion', planConversion, { 'runId.$': '$.run.runId', 'manifest.$': '$.conversion.manifest' }, '$.plan'), reportFailure);
    const convertChunks = new sfn.DistributedMap(this, 'Convert chunks', {
      itemsPath: '$.plan.chunks',
      itemSelector: { 'runId.$': '$.run.runId', 'chunk.$': '$$.Map.Item.Value', 'classes.$': '$.plan.classes' },
      maxConcurrency: 10,
      resultPath: '$.chunks',
    });
    convertChunks.itemProcessor(invoke('Convert chunk', convertChunk, { 'runId.$': '$.runId', 'chunk.$': '$.chunk', 'classes.$': '$.classes' }, '$'));
    catchTo(convertChunks, reportFailure);
    const assemble = catchTo(invoke('Assemble channels', assembleChannels, { 'runId.$': '$.run.runId', 'chunks.$': '$.chunks' }, '$.channels'), reportFailure);
    plan.next(convertChunks).next(assemble).next(train);

    // Prepare, and label unless the labels are imported.
    const prepare = catchTo(invoke('Prepare run', prepareRun, { 'runId.$': '$$.Execution.Name', 'input.$': '$' }, '$.run'), reportFailure);
    const useImported = new sfn.Pass(this, 'Use imported labels', { parameters: { 'manifest.$': '$.run.manifest' }, resultPath: '$.conversion' });
    useImported.next(plan);
    const route = new sfn.Choice(this, 'Labels imported?').when(sfn.Condition.stringEquals('$.run.mode', 'import'), useImported);
    if (labeling) {
      const label = catchTo(sagemaker('Label', 'sagemaker:createLabelingJob.sync', this.labelingJobParameters(props, tags), '$.labeling', {
        'LabelingJobName.$': '$.LabelingJobName', 'LabelCounters.$': '$.LabelCounters', 'LabelingJobOutput.$': '$.LabelingJobOutput',
      }), reportFailure);
      label.next(new sfn.Pass(this, 'Use labeling output', { parameters: { 'manifest.$': '$.labeling.LabelingJobOutput.OutputDatasetS3Uri' }, resultPath: '$.conversion' })).next(plan);
      route.otherwise(label);
    } else {
      route.otherwise(new sfn.Pass(this, 'No workforce', {
        parameters: {
          Error: 'NoWorkforceConfigured',
          Cause: 'This stack has no labeling workforce (workforce.type "none"): import labels under labeled/<batch>/, or set workforce in the segpipe configuration, deploy, and drop _START into the batch.',
        },
        resultPath: '$.error',
      }).next(reportFailure));
    }
    const checkQuotaState = catchTo(invoke('Check training quota', checkQuota, {}, sfn.JsonPath.DISCARD), reportFailure);
    const checkBudgetState = catchTo(invoke('Check budget', checkBudget, { 'images.$': '$.run.images', 'mode.$': '$.run.mode' }, '$.estimate'), reportFailure);
    prepare.next(checkQuotaState).next(checkBudgetState).next(route);

    // A batch of uploads: wait for it to settle, then take its images no run has taken.
    const checkBatchState = catchTo(invoke('Check batch', checkBatch, { 'batch.$': '$.batch' }, '$.readiness'), reportFailure);
    const snapshot = catchTo(invoke('Snapshot batch', snapshotBatch, { 'batch.$': '$.batch', 'generation.$': '$.generation' }, '$.snapshot'), reportFailure);
    const useSnapshot = new sfn.Pass(this, 'Use snapshot', {
      // Its output replaces the state (the default ResultPath): the run goes on as if started with these images.
      parameters: { 'batch.$': '$.batch', 'generation.$': '$.generation', 'images.$': '$.snapshot.images' },
    });
    checkBatchState.next(
      new sfn.Choice(this, 'Batch settled?')
        .when(sfn.Condition.booleanEquals('$.readiness.ready', true), snapshot.next(
          new sfn.Choice(this, 'Anything new?')
            .when(sfn.Condition.isPresent('$.snapshot.images[0]'), useSnapshot.next(prepare))
            .otherwise(new sfn.Succeed(this, 'Nothing new', { comment: 'Every image of the batch was taken by an earlier run (a late or repeated upload event).' })),
        ))
        .otherwise(new sfn.Wait(this, 'Wait for quiet', { time: sfn.WaitTime.duration(batchPollInterval) }).next(checkBatchState)),
    );
    const start = new sfn.Choice(this, 'Started by an upload?')
      .when(sfn.Condition.isPresent('$.generation'), checkBatchState)
      .otherwise(prepare);

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'segpipe run: label, convert, train, gate, deploy',
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    this.grantSageMaker(props, labeling);
    this.acknowledgeScopedWildcards(props, Object.values(this.handlers));
  }

  /**
   * cdk-nag flags every `*` in an IAM resource. Each one left here is scoped as far as IAM allows;
   * the reasons say why.
   */
  private acknowledgeScopedWildcards(props: SegpipeWorkflowProps, functions: HandlerFunction[]): void {
    const stack = Stack.of(this);
    const arnOf = nagArnOf;
    const inbox = arnOf(props.inboxBucket);
    const artifacts = arnOf(props.artifactsBucket);
    const prefix = props.resourcePrefix;
    const sagemaker = (resource: string) => `arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:${resource}/${prefix}-*`;
    const logGroup = (name: string) => `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/${name}*`;
    const stateMachine = stack.resolve(this.stateMachine.stateMachineArn);
    const mapRun = `{"Fn::Select":[6,{"Fn::Split":[":",${JSON.stringify(stateMachine)}]}]}`;
    const findings: Record<string, string> = {
      [`Resource::${inbox}/${IMAGES_PREFIX}*`]: 'Images are read by their keys under images/, which users choose; nothing outside that prefix.',
      [`Resource::${inbox}/${LABELED_PREFIX}*`]: 'Imported manifests are read by their keys under labeled/, which users choose; nothing outside that prefix.',
      [`Resource::${artifacts}/${RUNS_PREFIX}*`]: 'Each run writes and reads its own keys under runs/<run-id>/; run ids are made per execution, so the prefix is the narrowest fixed scope.',
      [`Resource::${artifacts}/${DATASETS_PREFIX}*`]: 'The dataset accumulates converted items under datasets/, one key per item; the prefix is the narrowest fixed scope.',
      [`Resource::${artifacts}/${BATCHES_PREFIX}*`]: 'Each batch keeps its progress under batches/<hash of its name>/; batch names are the users\'.',
      ...Object.fromEntries(props.config.import.readBuckets.map((name) => [
        `Resource::arn:<AWS::Partition>:s3:::${name}/*`, `import.readBuckets lists ${name}: imported manifests may refer to any of its objects (read-only).`,
      ])),
      [`Resource::${artifacts}/${MODELS_PREFIX}*`]: 'Training writes, and endpoints read, model artifacts under models/<run-id>/; run ids are made per execution.',
      'Resource::*': 'Only actions IAM cannot scope to a resource: ecr:GetAuthorizationToken, sagemaker:ListEndpoints, sagemaker:ListTags, servicequotas:ListServiceQuotas, and cloudwatch:PutMetricData limited by a namespace condition.',
      ...KMS_GRANT_FINDINGS,
      [`Resource::${sagemaker('training-job')}`]: 'Training jobs are named per run under the stack\'s lower-case resource prefix.',
      [`Resource::${sagemaker('labeling-job')}`]: 'Labeling jobs are named per run under the stack\'s lower-case resource prefix.',
      [`Resource::${sagemaker('model')}`]: 'Models are named per run under the stack\'s lower-case resource prefix.',
      [`Resource::${sagemaker('endpoint-config')}`]: 'Endpoint configs are named per run under the stack\'s lower-case resource prefix.',
      [`Resource::${logGroup('LabelingJobs')}`]: 'SageMaker writes labeling-job logs to log groups under /aws/sagemaker/LabelingJobs.',
      [`Resource::${logGroup('TrainingJobs')}`]: 'SageMaker writes training-job logs to log groups under /aws/sagemaker/TrainingJobs.',
      [`Resource::${logGroup('Endpoints')}`]: 'SageMaker writes endpoint logs to log groups under /aws/sagemaker/Endpoints/<endpoint>.',
      'Resource::arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:rule/StepFunctionsGetEventsForSageMaker*': 'The managed rules Step Functions creates to wait for SageMaker jobs (.sync), as its documentation prescribes.',
      [`Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${mapRun}/*:*`]: 'The Distributed Map\'s child executions, which Step Functions names itself.',
      [`Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${mapRun}:*`]: 'The Distributed Map\'s map runs, which Step Functions names itself.',
      ...Object.fromEntries(functions.map((fn) => [
        `Resource::${arnOf(fn.function)}:*`,
        `CDK's LambdaInvoke grants ${fn.node.id} and its versions; nothing else.`,
      ])),
    };
    acknowledgeWildcards(this, findings);
  }

  private labelingJobParameters(props: SegpipeWorkflowProps, tags: unknown[]): Record<string, unknown> {
    const { config } = props;
    const { workforce } = config;
    const lambdaArn = (name: string) => `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${props.groundTruthLambdaAccount}:function:${name}`;
    const workteamArn = workforce.type === 'public'
      ? `arn:${Aws.PARTITION}:sagemaker:${Aws.REGION}:${PUBLIC_WORKTEAM_ACCOUNT}:workteam/public-crowd/default`
      : workforce.workteamArn;
    const classifiers = [
      ...(workforce.attestNoPersonalData ? ['FreeOfPersonallyIdentifiableInformation'] : []),
      ...(workforce.attestNoAdultContent ? ['FreeOfAdultContent'] : []),
    ];
    const price = workforce.type === 'public' ? Math.round((workforce.publicTaskPriceUsd ?? 0) * 1000) : undefined;
    return {
      'LabelingJobName.$': '$.run.names.labelingJob',
      LabelAttributeName: LABEL_ATTRIBUTE_NAME,
      InputConfig: {
        DataSource: { S3DataSource: { 'ManifestS3Uri.$': '$.run.labeling.inputManifestUri' } },
        ...(classifiers.length > 0 ? { DataAttributes: { ContentClassifiers: classifiers } } : {}),
      },
      OutputConfig: { 'S3OutputPath.$': '$.run.labeling.outputPath', ...(props.encryptionKey ? { KmsKeyId: props.encryptionKey.keyArn } : {}) },
      RoleArn: this.groundTruthRole.roleArn,
      'LabelCategoryConfigS3Uri.$': '$.run.labeling.labelCategoriesUri',
      HumanTaskConfig: {
        WorkteamArn: workteamArn,
        UiConfig: { 'UiTemplateS3Uri.$': '$.run.labeling.uiTemplateUri' },
        PreHumanTaskLambdaArn: lambdaArn('PRE-SemanticSegmentation'),
        AnnotationConsolidationConfig: { AnnotationConsolidationLambdaArn: lambdaArn('ACS-SemanticSegmentation') },
        TaskTitle: 'Paint the objects in an image',
        TaskDescription: `Paint every pixel of each ${config.labelClasses.join(', ')}`.slice(0, 255),
        TaskKeywords: ['Images', 'image segmentation'],
        NumberOfHumanWorkersPerDataObject: workforce.workersPerObject,
        TaskTimeLimitInSeconds: workforce.taskTimeLimitSeconds,
        TaskAvailabilityLifetimeInSeconds: workforce.taskAvailabilityLifetimeSeconds,
        ...(price !== undefined ? {
          PublicWorkforceTaskPrice: { AmountInUsd: { Dollars: Math.floor(price / 1000), Cents: Math.floor((price % 1000) / 10), TenthFractionsOfACent: price % 10 } },
        } : {}),
      },
      Tags: tags,
    };
  }

  /** What the state machine's SageMaker states need, scoped to the stack's resource-name prefix. */
  private grantSageMaker(props: SegpipeWorkflowProps, labeling: boolean): void {
    const stack = Stack.of(this);
    const role = this.stateMachine.role;
    const prefix = props.resourcePrefix;
    const arn = (resource: string, name: string) => Arn.format({ service: 'sagemaker', resource, resourceName: name }, stack);
    const statements: [string[], string[]][] = [
      [['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob'], [arn('training-job', `${prefix}-*`)]],
      [['sagemaker:CreateModel', 'sagemaker:DeleteModel'], [arn('model', `${prefix}-*`)]],
      [['sagemaker:CreateEndpointConfig', 'sagemaker:DeleteEndpointConfig'], [arn('endpoint-config', `${prefix}-*`)]],
      [['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint'], [arn('endpoint', this.endpointName), arn('endpoint-config', `${prefix}-*`)]],
      [['sagemaker:AddTags'], [arn('training-job', `${prefix}-*`), arn('model', `${prefix}-*`), arn('endpoint-config', `${prefix}-*`), arn('endpoint', this.endpointName), arn('labeling-job', `${prefix}-*`)]],
      // List actions take no resource; .sync reads job tags with ListTags.
      [['sagemaker:ListEndpoints', 'sagemaker:ListTags'], ['*']],
      [['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], [Arn.format({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForSageMaker*' }, stack)]],
    ];
    if (labeling) statements.push([['sagemaker:CreateLabelingJob', 'sagemaker:DescribeLabelingJob', 'sagemaker:StopLabelingJob'], [arn('labeling-job', `${prefix}-*`)]]);
    for (const [actions, resources] of statements) role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    if (props.encryptionKey) {
      // The state machine hands the key to SageMaker jobs, endpoint configs and the SNS topic.
      props.encryptionKey.grantEncryptDecrypt(role);
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kms:CreateGrant', 'kms:DescribeKey'],
        resources: [props.encryptionKey.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }));
    }
    const passed = [this.trainingRole, this.modelRole, ...(labeling ? [this.groundTruthRole] : [])];
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: passed.map((r) => r.roleArn),
      conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    }));
  }
}
