import { ArnFormat, type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { endpointName } from '../../lambda/workflow/names';
import type { SegpipeConfig } from '../config';
import { LOG_RETENTION, WORKFLOW_WAITS } from '../defaults';
import type { HandlerFunction } from '../handler-function';
import { WaitForBatch, WaitForCorrectionsTurn, WaitForImportTurn } from './1-wait-for-batch';
import { Prepare } from './2-prepare';
import { Label } from './3-label';
import { Convert } from './4-convert';
import { TrainAndGate } from './5-train-and-gate';
import { Deploy } from './6-deploy';
import { Report } from './7-report';
import { WorkflowFunctions } from './functions';
import { PyTorchTrainer } from './pytorch-trainer';
import { grantSageMakerCalls, SageMakerRoles } from './roles';
import { RunEnded } from './run-ended';
import { acknowledgeWorkflowWildcards } from './wildcards';

export { LABEL_ATTRIBUTE_NAME } from './3-label';
export { hasInstanceStorage } from './states';

/** `logging.level` as Step Functions spells it. */
const STATE_MACHINE_LOG_LEVELS = { error: sfn.LogLevel.ERROR, fatal: sfn.LogLevel.FATAL, all: sfn.LogLevel.ALL } as const;

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
 * The run: labeling in Label Studio or Ground Truth (or imported labels) → conversion into the algorithm's channels →
 * training → a gate on validation mIOU → the stack's endpoint, where the new model is evaluated beside
 * the serving one and replaces it only if it is not worse (see `Deploy`); a report,
 * an SNS notification and an EventBridge event either way. Every SageMaker call is a state.
 */
export class SegpipeWorkflow extends Construct {
  public readonly stateMachine: sfn.IStateMachine;
  public readonly topic: sns.ITopic;
  public readonly endpointName: string;
  public readonly groundTruthRole: iam.IRole;
  public readonly trainingRole: iam.IRole;
  public readonly modelRole: iam.IRole;
  /** The workflow's Lambdas, by handler file name (`lambda/handlers/<name>.ts`). */
  public readonly handlers: Readonly<Record<string, HandlerFunction>>;
  /** Reports runs that end where the workflow could not, and gives their images back. */
  public readonly runEnded: RunEnded;

  constructor(scope: Construct, id: string, props: SegpipeWorkflowProps) {
    super(scope, id);
    const { config, encryptionKey } = props;
    const labeling = config.labeling.tool === 'groundtruth';
    if (labeling && !props.groundTruthLambdaAccount)
      throw new Error('SegpipeWorkflow: groundTruthLambdaAccount is required when a workforce is configured');
    this.endpointName = endpointName(props.resourcePrefix);

    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: 'segpipe runs',
      enforceSSL: true,
      masterKey: encryptionKey ?? kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
    });
    if (config.notificationEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.notificationEmail));
    const endpointPollInterval = props.endpointPollInterval ?? WORKFLOW_WAITS.endpointPollInterval;
    const endpointPollAttempts = props.endpointPollAttempts ?? WORKFLOW_WAITS.endpointPollAttempts;
    // Longer than any deploy stage: four endpoint changes polled to their limit, and an hour for the evaluation and the calls between.
    const deployLockSeconds = 4 * endpointPollAttempts * endpointPollInterval.toSeconds() + 3600;
    const functions = new WorkflowFunctions(this, { ...props, deployLockSeconds });
    this.handlers = functions.byHandlerName();
    const roles = new SageMakerRoles(this, props);
    this.groundTruthRole = roles.groundTruth;
    this.trainingRole = roles.training;
    this.modelRole = roles.model;

    // The stages, in the order a run goes through them. Every stage hands its failures to the
    // report, so the report is made first.
    const fn = (handler: HandlerFunction) => handler.function;
    const report = new Report(this, 'Report', { finishRun: fn(functions.finishRun), topic: this.topic });
    const onFailure = report.failed;
    const waitForBatch = new WaitForBatch(this, 'WaitForBatch', {
      checkBatch: fn(functions.checkBatch),
      snapshotBatch: fn(functions.snapshotBatch),
      pollInterval: props.batchPollInterval ?? WORKFLOW_WAITS.batchPollInterval,
      onFailure,
    });
    const waitForImportTurn = new WaitForImportTurn(this, 'WaitForImportTurn', {
      takeImportTurn: fn(functions.takeImportTurn),
      pollInterval: WORKFLOW_WAITS.importTurnPollInterval,
      attempts: WORKFLOW_WAITS.importTurnAttempts,
      onFailure,
    });
    const prepare = new Prepare(this, 'Prepare', {
      prepareRun: fn(functions.prepareRun),
      checkQuota: fn(functions.checkQuota),
      checkBudget: fn(functions.checkBudget),
      onFailure,
    });
    const label = new Label(this, 'Label', {
      labeling: config.labeling,
      workforce: config.workforce,
      labelClasses: config.labelClasses,
      inboxBucket: props.inboxBucket,
      groundTruthRole: roles.groundTruth,
      groundTruthLambdaAccount: props.groundTruthLambdaAccount,
      encryptionKey,
      writeLabelStudioTasks: functions.writeLabelStudioTasks?.function,
      countAnnotations: functions.countAnnotations?.function,
      topic: this.topic,
      onFailure,
    });
    const convert = new Convert(this, 'Convert', {
      planConversion: fn(functions.planConversion),
      convertChunk: fn(functions.convertChunk),
      assembleChannels: fn(functions.assembleChannels),
      maxConcurrency: config.conversion.maxConcurrency,
      onFailure,
    });
    const pytorchTrainer =
      config.training.trainer === 'pytorch'
        ? new PyTorchTrainer(this, 'PyTorchTrainer', {
            training: config.training,
            hostingInstanceType: config.hosting.instanceType,
            trainingRole: roles.training,
            modelRole: roles.model,
          })
        : undefined;
    const trainAndGate = new TrainAndGate(this, 'TrainAndGate', {
      training: config.training,
      minValidationMiou: config.minValidationMiou,
      artifactsBucket: props.artifactsBucket,
      algorithmImageUri: props.algorithmImageUri,
      encryptionKey,
      trainingRole: roles.training,
      pytorchTrainer,
      belowMinimum: report.notDeployed,
      onFailure,
    });
    const deploy = new Deploy(this, 'Deploy', {
      instanceType: config.hosting.instanceType,
      algorithmImageUri: props.algorithmImageUri,
      encryptionKey,
      modelRole: roles.model,
      modelContainer: pytorchTrainer && ((modelDataPath: string) => pytorchTrainer.modelContainer(modelDataPath)),
      endpointName: this.endpointName,
      pollInterval: endpointPollInterval,
      pollAttempts: endpointPollAttempts,
      evaluateVariants: fn(functions.evaluateVariants),
      deployLock: fn(functions.deployLock),
      deployLockSeconds,
      deployed: report,
      notPromoted: report.notPromoted,
      onFailure,
    });
    const start = new sfn.Choice(this, 'Started by an upload?')
      .when(sfn.Condition.isPresent('$.generation'), waitForBatch.next(prepare))
      .when(sfn.Condition.isPresent('$.importGeneration'), waitForImportTurn.next(prepare));
    if (functions.takeCorrectionsTurn) {
      const waitForCorrectionsTurn = new WaitForCorrectionsTurn(this, 'WaitForCorrectionsTurn', {
        takeCorrectionsTurn: fn(functions.takeCorrectionsTurn),
        pollInterval: WORKFLOW_WAITS.importTurnPollInterval,
        attempts: WORKFLOW_WAITS.importTurnAttempts,
        onFailure,
      });
      start.when(sfn.Condition.isPresent('$.correctionsGeneration'), waitForCorrectionsTurn.next(prepare));
    }
    start.otherwise(prepare);
    prepare.next(label).next(convert).next(trainAndGate).next(deploy);

    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'segpipe run: label, convert, train, gate, deploy as a challenger, evaluate, promote or keep the champion',
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs:
        config.logging.level === 'off'
          ? undefined
          : {
              destination: this.logGroup(encryptionKey),
              level: STATE_MACHINE_LOG_LEVELS[config.logging.level],
              includeExecutionData: config.logging.includeExecutionData,
            },
    });
    this.stateMachine = stateMachine;
    if (config.logging.level !== 'all') {
      // The stack with logging.level "all" has no finding to acknowledge.
      Validations.of(stateMachine).acknowledge({
        id: 'AwsSolutions-SF1',
        reason: `logging.level is "${config.logging.level}": runs' states carry names from uploads, so by default only failures are logged (set logging.level to "all" to log every state).`,
      });
    }
    this.runEnded = new RunEnded(this, 'RunEnded', {
      stateMachine,
      artifactsBucket: props.artifactsBucket,
      topic: this.topic,
      resourcePrefix: props.resourcePrefix,
      minValidationMiou: config.minValidationMiou,
      labeling,
      labelStudio: config.labeling.tool === 'labelstudio',
      encryptionKey,
    });
    grantSageMakerCalls(stateMachine.role, { ...props, endpointName: this.endpointName, roles, labeling });
    acknowledgeWorkflowWildcards(this, {
      ...props,
      readBuckets: config.import.readBuckets,
      stateMachine,
      functions: Object.values(this.handlers),
    });
  }

  /**
   * The state machine's log group; encrypted with the data key in KMS mode. A key the stack creates
   * lets CloudWatch Logs use it for the stack's log groups; an existing key's policy must allow it.
   */
  private logGroup(encryptionKey: kms.IKey | undefined): logs.LogGroup {
    if (encryptionKey) {
      const stack = Stack.of(this);
      encryptionKey.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
          actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          resources: ['*'],
          conditions: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
                service: 'logs',
                resource: 'log-group',
                resourceName: '*',
                arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              }),
            },
          },
        }),
      );
    }
    return new logs.LogGroup(this, 'Logs', { retention: LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY, encryptionKey });
  }
}
