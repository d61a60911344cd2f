import { Arn, ArnFormat, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { STACK_TAG_KEY } from '../lambda/workflow/names';
import type { CleanupConfig, HostingConfig } from './config';
import { grantDataKey } from './data-key';
import { DeadLetters } from './dead-letters';
import { LOG_RETENTION } from './defaults';
import { HandlerFunction } from './handler-function';
import { acknowledgeWildcards, nagArnOf } from './nag';

export interface SegpipeCleanupProps {
  readonly cleanup: CleanupConfig;
  readonly hosting: HostingConfig;
  /** Lower-case prefix of the stack's SageMaker resource names. */
  readonly resourcePrefix: string;
  /** The endpoint the workflow deploys to. */
  readonly endpointName: string;
  /** The workflow: its running executions are stopped when the stack is deleted. */
  readonly stateMachine: sfn.IStateMachine;
  /** Where a failed endpoint is reported. */
  readonly topic: sns.ITopic;
  /**
   * Key the topic is encrypted with; the clean-up uses it only to publish there, and the dead-letter
   * alarm notifies the topic only when it is under this key.
   * @default - the topic's key is AWS managed (nothing to grant, no alarm action)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Endpoint configs and models younger than this are never deleted: a run may be about to deploy them.
   * @default Duration.hours(1)
   */
  readonly deployGracePeriod?: Duration;
  /**
   * Longest wait, when the stack is deleted, for its endpoints and jobs to go (CloudFormation waits
   * an hour at most for a custom resource).
   * @default Duration.minutes(55)
   */
  readonly tearDownTimeout?: Duration;
}

/**
 * Nothing left billing: a schedule deletes the stack's idle or expired endpoints and the endpoint
 * configs and models nobody uses; a rule reacts to the endpoint failing; and a custom resource stops
 * the stack's jobs and deletes its SageMaker resources when the stack is deleted. The workflow, not
 * CloudFormation, creates those resources, and tags them with the stack's name: every delete here is
 * limited by IAM to resources carrying that tag and the stack's name prefix.
 */
export class SegpipeCleanup extends Construct {
  public readonly cleanUp: HandlerFunction;
  public readonly scheduleRule: events.IRule;
  public readonly failedEndpointRule: events.IRule;
  public readonly tearDown: CustomResource;
  /** The clean-up's failures: events EventBridge could not deliver to it, and sweeps that failed. */
  public readonly deadLetters: DeadLetters;

  constructor(scope: Construct, id: string, props: SegpipeCleanupProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { resourcePrefix: prefix } = props;
    const sagemakerArn = (resource: string) => Arn.format({ service: 'sagemaker', resource, resourceName: `${prefix}-*` }, stack);
    const ownedByStack = { StringEquals: { [`aws:ResourceTag/${STACK_TAG_KEY}`]: stack.stackName } };
    const identity = { stackName: stack.stackName, resourcePrefix: prefix };
    const deployable = [sagemakerArn('endpoint'), sagemakerArn('endpoint-config'), sagemakerArn('model')];

    this.cleanUp = new HandlerFunction(this, 'CleanUp', {
      handler: 'clean-up',
      description: 'segpipe: deletes idle, expired or failed endpoints and unused endpoint configs and models',
      settings: {
        ...identity,
        idleMinutes: props.hosting.idleMinutes,
        timeToLiveHours: props.hosting.timeToLiveHours,
        keepModels: props.cleanup.keepModels,
        dryRun: props.cleanup.dryRun,
        graceMinutes: (props.deployGracePeriod ?? Duration.hours(1)).toMinutes(),
        topicArn: props.topic.topicArn,
      },
      timeout: Duration.minutes(5),
    });
    // Failures go somewhere: an event EventBridge could not deliver, and a sweep that failed (not run
    // again at once, it would notify twice: the next scheduled one retries), land in this queue, and
    // its alarm says so (on the topic, when the topic is under the customer key).
    this.deadLetters = new DeadLetters(this, 'DeadLetters', {
      description: 'segpipe: the clean-up failed or could not be started, and endpoints may be left running',
      alarmTopic: props.topic,
      alarmTopicKey: props.encryptionKey,
    });
    const tearDownStart = new HandlerFunction(this, 'TearDownStart', {
      handler: 'tear-down',
      exportName: 'onEvent',
      description: "segpipe: on stack deletion, stops the stack's jobs and deletes its SageMaker resources",
      settings: { ...identity, stateMachineArn: props.stateMachine.stateMachineArn },
      timeout: Duration.minutes(5),
    });
    const tearDownCheck = new HandlerFunction(this, 'TearDownCheck', {
      handler: 'tear-down',
      exportName: 'isComplete',
      description: "segpipe: on stack deletion, goes on until the stack's SageMaker resources are gone",
      settings: { ...identity, stateMachineArn: props.stateMachine.stateMachineArn },
      timeout: Duration.minutes(5),
    });

    const allow = (role: iam.IRole, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    for (const fn of [this.cleanUp, tearDownStart, tearDownCheck]) {
      // List actions take no resource; what they return is filtered by the stack's tag before anything else.
      allow(fn.role, ['sagemaker:ListEndpoints', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListModels'], ['*']);
      allow(fn.role, ['sagemaker:ListTags', 'sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig'], deployable);
      allow(fn.role, ['sagemaker:DeleteEndpoint', 'sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], deployable, ownedByStack);
    }
    // Invocations per endpoint variant: CloudWatch reads take no resource.
    allow(this.cleanUp.role, ['cloudwatch:GetMetricStatistics'], ['*']);
    allow(
      this.cleanUp.role,
      ['events:PutEvents'],
      [Arn.format({ service: 'events', resource: 'event-bus', resourceName: 'default' }, stack)],
    );
    allow(this.cleanUp.role, ['sns:Publish'], [props.topic.topicArn]);
    if (props.encryptionKey) grantDataKey(props.encryptionKey, this.cleanUp.role, 'encrypt-decrypt', ['sns']);
    for (const fn of [tearDownStart, tearDownCheck]) {
      allow(fn.role, ['sagemaker:ListTrainingJobs', 'sagemaker:ListLabelingJobs'], ['*']);
      allow(fn.role, ['sagemaker:ListTags'], [sagemakerArn('training-job'), sagemakerArn('labeling-job')]);
      allow(
        fn.role,
        ['sagemaker:StopTrainingJob', 'sagemaker:StopLabelingJob'],
        [sagemakerArn('training-job'), sagemakerArn('labeling-job')],
        ownedByStack,
      );
      allow(fn.role, ['states:ListExecutions'], [props.stateMachine.stateMachineArn]);
      // A Delete of the resource tears down only while the stack itself is being deleted.
      allow(fn.role, ['cloudformation:DescribeStacks'], [stack.stackId]);
      allow(
        fn.role,
        ['states:StopExecution'],
        [
          Arn.format(
            {
              service: 'states',
              resource: 'execution',
              resourceName: `${Arn.split(props.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            stack,
          ),
        ],
      );
    }

    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: `segpipe: every ${props.cleanup.everyMinutes} minutes, deletes endpoints idle for ${props.hosting.idleMinutes} minutes and what no endpoint uses`,
      schedule: events.Schedule.rate(Duration.minutes(props.cleanup.everyMinutes)),
      targets: [
        this.deadLetters.lambdaTarget(this.cleanUp.function, { retryAttempts: 2, maxEventAge: Duration.hours(1), invokeRetryAttempts: 0 }),
      ],
    });
    this.failedEndpointRule = new events.Rule(this, 'EndpointFailed', {
      description: `segpipe: ${props.endpointName} entering FAILED is cleaned up and reported`,
      eventPattern: {
        source: ['aws.sagemaker'],
        detailType: ['SageMaker Endpoint State Change'],
        // The event spells states in upper snake case; the Lambda checks the stack's tag before deleting.
        detail: { EndpointName: [props.endpointName], EndpointStatus: ['FAILED'] },
      },
      targets: [
        this.deadLetters.lambdaTarget(this.cleanUp.function, { retryAttempts: 4, maxEventAge: Duration.hours(6), invokeRetryAttempts: 0 }),
      ],
    });

    const provider = new cr.Provider(this, 'TearDownProvider', {
      onEventHandler: tearDownStart.function,
      isCompleteHandler: tearDownCheck.function,
      queryInterval: Duration.seconds(30),
      totalTimeout: props.tearDownTimeout ?? Duration.minutes(55),
      logGroup: new logs.LogGroup(this, 'TearDownProviderLogs', { retention: LOG_RETENTION }),
    });
    this.tearDown = new CustomResource(this, 'TearDown', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SegpipeSageMakerTearDown',
    });
    // Deleted first, while the workflow and the clean-up Lambda still exist: it stops the one and outlives the other.
    this.tearDown.node.addDependency(
      props.stateMachine,
      this.cleanUp,
      this.scheduleRule,
      this.failedEndpointRule,
      tearDownStart,
      tearDownCheck,
    );

    const stateMachineName = JSON.stringify(
      stack.resolve(Arn.split(props.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName),
    );
    for (const fn of [tearDownStart, tearDownCheck]) {
      Validations.of(provider).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArnOf(fn.function)}:*]`,
        reason: `CDK's provider framework invokes ${fn.node.id} and its versions; nothing else.`,
      });
    }
    for (const finding of ['framework-isComplete', 'framework-onTimeout']) {
      const fn = provider.node.findChild(finding);
      Validations.of(provider).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArnOf(fn)}:*]`,
        reason: `The provider framework's waiter state machine invokes its own ${finding} function and its versions.`,
      });
    }
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's provider framework functions come with this role; its only managed policy lets them write their own logs.",
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-SF1',
      reason: "CDK's provider waiter state machine only polls the tear-down check; its steps are logged by the check function itself.",
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-SF2',
      reason: "CDK's provider waiter state machine only polls the tear-down check once per stack deletion; tracing it adds nothing.",
    });
    acknowledgeWildcards(this, {
      [`Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}:*`]:
        "The workflow's executions, whose names derive from batches: stopped when the stack is deleted.",
      'Resource::*':
        "SageMaker List* actions and cloudwatch:GetMetricStatistics take no resource; every listed resource is checked for the stack's tag before it is touched.",
      [`Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint/${prefix}-*`]:
        "The stack's endpoints, by its name prefix; deletes also require the stack's tag.",
      [`Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/${prefix}-*`]:
        "The stack's endpoint configs, named per run under its prefix; deletes also require the stack's tag.",
      [`Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model/${prefix}-*`]:
        "The stack's models, named per run under its prefix; deletes also require the stack's tag.",
      [`Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/${prefix}-*`]:
        "The stack's training jobs, named per run under its prefix; stopping also requires the stack's tag.",
      [`Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:labeling-job/${prefix}-*`]:
        "The stack's labeling jobs, named per run under its prefix; stopping also requires the stack's tag.",
    });
  }
}
