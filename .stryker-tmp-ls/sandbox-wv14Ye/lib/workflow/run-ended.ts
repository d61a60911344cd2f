import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { LABELSTUDIO_CORRECTIONS_FOLDER } from '../../lambda/labelstudio/corrections';
import { DEPLOY_LOCK_KEY } from '../../lambda/workflow/deploy-lock';
import { BATCHES_PREFIX, RUN_PATHS, RUNS_PREFIX } from '../../lambda/workflow/layout';
import { grantDataKey } from '../data-key';
import { DeadLetters } from '../dead-letters';
import { HandlerFunction } from '../handler-function';
import { acknowledgeWildcards, nagArnOf } from '../nag';

export interface RunEndedProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly artifactsBucket: s3.IBucket;
  readonly topic: sns.ITopic;
  readonly resourcePrefix: string;
  readonly minValidationMiou: number;
  /** Whether a workforce is configured (a run may have a labeling job). */
  readonly labeling: boolean;
  /**
   * Whether Label Studio labels: an ended run may have been converting a labeling round, or correcting one.
   * @default false
   */
  readonly labelStudio?: boolean;
  /**
   * Customer key of the buckets and the topic.
   * @default - S3-managed encryption, the AWS-managed SNS key
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The safety net under the workflow's own failure handling: an EventBridge rule on the state
 * machine's executions ending FAILED, TIMED_OUT or ABORTED runs a Lambda that reports a run the
 * workflow could not report (a stopped or timed-out execution, a state past Step Functions' limits)
 * and gives its batch's images back when its labeling job never started.
 */
export class RunEnded extends Construct {
  public readonly rule: events.IRule;
  public readonly function: HandlerFunction;
  public readonly deadLetters: DeadLetters;

  constructor(scope: Construct, id: string, props: RunEndedProps) {
    super(scope, id);
    const { artifactsBucket } = props;
    this.function = new HandlerFunction(this, 'Function', {
      handler: 'run-ended',
      description: 'segpipe: reports a run that ended where its workflow could not, and gives its images back',
      settings: {
        artifactsBucket: artifactsBucket.bucketName,
        resourcePrefix: props.resourcePrefix,
        minValidationMiou: props.minValidationMiou,
        labeling: props.labeling,
        labelStudio: props.labelStudio ?? false,
        topicArn: props.topic.topicArn,
      },
      encryptionKey: props.encryptionKey,
    });
    const role = this.function.role;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [
          artifactsBucket.arnForObjects(`${RUNS_PREFIX}*/report.json`),
          artifactsBucket.arnForObjects(`${BATCHES_PREFIX}*/state.json`),
        ],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:DeleteObject'], resources: [artifactsBucket.arnForObjects(`${RUN_PATHS.staging}*`)] }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [
          artifactsBucket.arnForObjects(`${BATCHES_PREFIX}*/imports/*`),
          // A Label Studio round's conversion, or a corrections run, is over (lambda/labelstudio/corrections.ts).
          ...(props.labelStudio ? [artifactsBucket.arnForObjects(`${BATCHES_PREFIX}*/${LABELSTUDIO_CORRECTIONS_FOLDER}*`)] : []),
        ],
      }),
    );
    // An ended run's deploy lock, if it held it, is released.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [artifactsBucket.arnForObjects(DEPLOY_LOCK_KEY)],
      }),
    );
    // A missing lock answers 403 instead of 404 without ListBucket, and S3 checks an s3:prefix condition on a GetObject, which has none.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [artifactsBucket.bucketArn] }));
    // Without ListBucket a missing report answers 403, not 404.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [artifactsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${RUNS_PREFIX}*`, `${BATCHES_PREFIX}*`] } },
      }),
    );
    const labelingJobs = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'labeling-job',
      resourceName: `${props.resourcePrefix}-label-*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    if (props.labeling)
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sagemaker:DescribeLabelingJob'], resources: [labelingJobs] }));
    // It publishes to the topic, whose key (in KMS mode) it may use only through SNS.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }));
    if (props.encryptionKey) grantDataKey(props.encryptionKey, role, 'encrypt-decrypt', ['sns']);

    this.deadLetters = new DeadLetters(this, 'DeadLetters', {
      description: 'segpipe: an ended run could not be checked',
      alarmTopic: props.topic,
      alarmTopicKey: props.encryptionKey,
    });
    this.rule = new events.Rule(this, 'Rule', {
      description: 'segpipe: a run ended FAILED, TIMED_OUT or ABORTED; report it if its workflow could not',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
      targets: [
        this.deadLetters.lambdaTarget(this.function.function, { retryAttempts: 8, maxEventAge: Duration.hours(6), invokeRetryAttempts: 2 }),
      ],
    });
    acknowledgeWildcards(this, {
      [`Resource::${nagArnOf(artifactsBucket)}/${RUNS_PREFIX}*/report.json`]:
        "Each run's report, under runs/<run id>/; run ids are execution names.",
      [`Resource::${nagArnOf(artifactsBucket)}/${RUN_PATHS.staging}*`]:
        "An ended run's staging area, under runs/<run id>/staging/: what it converted and did not commit is removed.",
      [`Resource::${nagArnOf(artifactsBucket)}/${BATCHES_PREFIX}*/imports/*`]:
        "Each export file's import turns, under batches/<hash of its batch>/imports/<hash of its key>.json: an ended import lets the next upload run.",
      ...(props.labelStudio
        ? {
            [`Resource::${nagArnOf(artifactsBucket)}/${BATCHES_PREFIX}*/${LABELSTUDIO_CORRECTIONS_FOLDER}*`]:
              "Each batch's Label Studio corrections turns, under batches/<hash of its name>/labelstudio-corrections/: an ended round or corrections run lets the next corrections run go on.",
          }
        : {}),
      [`Resource::${nagArnOf(artifactsBucket)}/${BATCHES_PREFIX}*/state.json`]:
        "Each batch's state, under batches/<hash of its name>/; batch names are the users'.",
      [`Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:labeling-job/${props.resourcePrefix}-label-*`]:
        "The stack's labeling jobs, named per run under its prefix: whether a run's job started.",
    });
  }
}
