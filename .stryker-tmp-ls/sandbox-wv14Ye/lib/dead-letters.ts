import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLettersProps {
  /** What the alarm says lands here. */
  readonly description: string;
  /**
   * Told when a message lands in the queue, if it is encrypted with `alarmTopicKey`: CloudWatch
   * cannot publish to a topic under the AWS-managed SNS key (SNS Developer Guide, "Enable
   * compatibility between event sources from AWS services and encrypted topics").
   * @default - the alarm has no action
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The customer key of `alarmTopic`; CloudWatch is granted its use for this account's alarms.
   * @default - the topic is under the AWS-managed key: the alarm has no action
   */
  readonly alarmTopicKey?: kms.IKey;
}

/**
 * Where an EventBridge target's events go when every retry failed: an SQS queue that keeps them 14
 * days (SQS's longest), encrypted and TLS-only, with an alarm as soon as one lands. SQS-managed
 * encryption, because EventBridge cannot write to a queue under a customer key without that key's
 * policy naming it.
 */
export class DeadLetters extends Construct {
  public readonly queue: sqs.IQueue;
  public readonly alarm: cloudwatch.IAlarm;
  private readonly invokeConfigured = new Set<lambda.IFunction>();

  constructor(scope: Construct, id: string, props: DeadLettersProps) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue.' });
    const alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmDescription: `${props.description}: an event landed in the dead-letter queue; see docs/workflow.md on replaying it.`,
      metric: this.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm = alarm;
    if (props.alarmTopic && props.alarmTopicKey) {
      props.alarmTopicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
        }),
      );
      alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
    }
  }

  /**
   * An EventBridge target for `fn` that loses nothing: an event EventBridge cannot deliver after
   * `retryAttempts` lands here (the target's dead-letter queue), and so does an invocation whose
   * handler failed after Lambda's own `invokeRetryAttempts` (the function's on-failure destination),
   * which the target's queue alone would never see.
   */
  lambdaTarget(
    fn: lambda.IFunction,
    options: { readonly retryAttempts: number; readonly maxEventAge: Duration; readonly invokeRetryAttempts: number },
  ): targets.LambdaFunction {
    if (!this.invokeConfigured.has(fn)) {
      fn.configureAsyncInvoke({ retryAttempts: options.invokeRetryAttempts, onFailure: new destinations.SqsDestination(this.queue) });
      this.invokeConfigured.add(fn);
    }
    return new targets.LambdaFunction(fn, {
      retryAttempts: options.retryAttempts,
      maxEventAge: options.maxEventAge,
      deadLetterQueue: this.queue,
    });
  }
}
