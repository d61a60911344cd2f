import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { LABELSTUDIO_CORRECTIONS_FOLDER } from '../lambda/labelstudio/corrections';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from '../lambda/labelstudio/storage-layout';
import { BATCHES_PREFIX, IMAGES_PREFIX, LABELED_PREFIX } from '../lambda/workflow/layout';
import { DeadLetters } from './dead-letters';
import { HandlerFunction } from './handler-function';
import { acknowledgeWildcards, nagArnOf } from './nag';

export interface SegpipeTriggerProps {
  readonly inboxBucket: s3.IBucket;
  readonly artifactsBucket: s3.IBucket;
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Customer key of the buckets.
   * @default - S3-managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Reserved concurrency of the start Lambda: a bulk upload's events queue (EventBridge retries them)
   * instead of taking the account's Lambda concurrency. Lambda refuses a reservation that would leave
   * the account fewer than 100 unreserved executions, and a new account's quota can be 10: reserving
   * any makes the first deploy fail there.
   * @default - none: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
  /**
   * Told when an upload event could not start a run after every retry (its event is then in the
   * dead-letter queue, to replay); only when it is under `encryptionKey` (see {@link DeadLetters}).
   * @default - the dead-letter alarm has no action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Label Studio labels: each file its target storage writes under `labelstudio/annotations/` is an
   * event, which the start Lambda records as one marker of an annotated task under `batches/`.
   * @default false
   */
  readonly labelStudioAnnotations?: boolean;
}

/**
 * Uploads start runs: the inbox's "Object Created" events under `images/` and `labeled/` go to a
 * Lambda that starts one execution per batch generation (or per imported manifest). Only the inbox
 * triggers: the pipeline writes to the artifacts bucket.
 */
export class SegpipeTrigger extends Construct {
  public readonly rule: events.IRule;
  public readonly startRun: HandlerFunction;
  /** Upload events the start Lambda could not take after every retry: none is lost. */
  public readonly deadLetters: DeadLetters;

  constructor(scope: Construct, id: string, props: SegpipeTriggerProps) {
    super(scope, id);
    const { inboxBucket, artifactsBucket } = props;
    this.startRun = new HandlerFunction(this, 'StartRun', {
      handler: 'start-run',
      description: 'segpipe: starts one run per uploaded batch',
      settings: { artifactsBucket: artifactsBucket.bucketName, stateMachineArn: props.stateMachine.stateMachineArn },
      encryptionKey: props.encryptionKey,
      // It only reads (the first byte of an upload, a batch's progress), but for Label Studio's markers.
      keyAccess: props.labelStudioAnnotations ? 'encrypt-decrypt' : 'decrypt',
    });
    const { reservedConcurrency } = props;
    if (reservedConcurrency !== undefined) {
      if (!Number.isInteger(reservedConcurrency) || reservedConcurrency < 1)
        throw new Error(`SegpipeTrigger: reservedConcurrency must be a whole number, at least 1 (received ${reservedConcurrency})`);
      (this.startRun.function.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = reservedConcurrency;
    }
    const role = this.startRun.role;
    // It reads the first byte of the object to learn which key spelling exists (event keys may be URL-encoded).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [
          inboxBucket.arnForObjects(`${IMAGES_PREFIX}*`),
          inboxBucket.arnForObjects(`${LABELED_PREFIX}*`),
          artifactsBucket.arnForObjects(`${BATCHES_PREFIX}*`),
        ],
      }),
    );
    // Without ListBucket a missing key answers 403, not 404.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [inboxBucket.bucketArn, artifactsBucket.bucketArn] }),
    );
    if (props.labelStudioAnnotations) {
      // The annotation file, and the first byte of the task it answers (only a task segpipe wrote counts).
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [
            inboxBucket.arnForObjects(`${LABELSTUDIO_ANNOTATIONS_PREFIX}*`),
            inboxBucket.arnForObjects(`${LABELSTUDIO_TASKS_PREFIX}*`),
          ],
        }),
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [
            artifactsBucket.arnForObjects(`${BATCHES_PREFIX}*/labelstudio/*`),
            // An annotation saved after its round's run took the annotations: kept for the batch's corrections run.
            artifactsBucket.arnForObjects(`${BATCHES_PREFIX}*/${LABELSTUDIO_CORRECTIONS_FOLDER}*`),
          ],
        }),
      );
    }
    props.stateMachine.grantStartExecution(role);

    this.deadLetters = new DeadLetters(this, 'DeadLetters', {
      description: 'segpipe: an upload event could not start its run',
      alarmTopic: props.alarmTopic,
      alarmTopicKey: props.encryptionKey,
    });
    this.rule = new events.Rule(this, 'ObjectCreated', {
      description: 'segpipe: an upload under images/<batch>/ or labeled/<batch>/ starts a run',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [inboxBucket.bucketName] },
          object: {
            key: [
              { prefix: IMAGES_PREFIX },
              { prefix: LABELED_PREFIX },
              ...(props.labelStudioAnnotations ? [{ prefix: LABELSTUDIO_ANNOTATIONS_PREFIX }] : []),
            ],
          },
        },
      },
      targets: [
        this.deadLetters.lambdaTarget(this.startRun.function, { retryAttempts: 8, maxEventAge: Duration.hours(6), invokeRetryAttempts: 2 }),
      ],
    });
    acknowledgeWildcards(this, {
      [`Resource::${nagArnOf(inboxBucket)}/${IMAGES_PREFIX}*`]:
        'The start Lambda reads the first byte of the uploaded image, whose key users choose under images/.',
      [`Resource::${nagArnOf(inboxBucket)}/${LABELED_PREFIX}*`]:
        'The start Lambda reads the first byte of the uploaded manifest, whose key users choose under labeled/.',
      [`Resource::${nagArnOf(artifactsBucket)}/${BATCHES_PREFIX}*`]:
        "Each batch keeps its progress under batches/<hash of its name>/; batch names are the users'.",
      ...(props.labelStudioAnnotations
        ? {
            [`Resource::${nagArnOf(inboxBucket)}/${LABELSTUDIO_ANNOTATIONS_PREFIX}*`]:
              "Label Studio names its target storage's files by annotation or task id: the start Lambda reads each one it is told of.",
            [`Resource::${nagArnOf(inboxBucket)}/${LABELSTUDIO_TASKS_PREFIX}*`]:
              "The start Lambda reads the first byte of the task an annotation answers, named by the users' batch and image names.",
            [`Resource::${nagArnOf(artifactsBucket)}/${BATCHES_PREFIX}*/labelstudio/*`]:
              "One marker per annotated task, under the batch's hashed prefix and its labeling round.",
            [`Resource::${nagArnOf(artifactsBucket)}/${BATCHES_PREFIX}*/${LABELSTUDIO_CORRECTIONS_FOLDER}*`]:
              "One marker per annotation file saved after its round's run took the annotations, under the batch's hashed prefix and its corrections generation.",
          }
        : {}),
    });
  }
}
