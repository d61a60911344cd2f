import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { SegpipeCleanup } from '../../lib/cleanup';
import { resolveConfig } from '../../lib/config';
import { resolveCloudFormation } from '../../local/workflow-runner';
import { bareStack, statementsOf } from '../helpers/stack';

const sagemakerArn = (resource: string) => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}/segpipe-*`],
  ],
});
const OWNED_BY_STACK = { StringEquals: { 'aws:ResourceTag/segpipe:stack': 'Segpipe' } };

/** SegpipeCleanup in a stack of its own, with the state machine and topic it is given. */
function cleanupStack(rawConfig: unknown = {}) {
  const stack = bareStack('Segpipe');
  const config = resolveConfig(rawConfig);
  const stateMachine = new sfn.StateMachine(stack, 'StateMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Run')),
  });
  const topic = new sns.Topic(stack, 'Topic');
  const cleanup = new SegpipeCleanup(stack, 'Cleanup', {
    cleanup: config.cleanup,
    hosting: config.hosting,
    resourcePrefix: 'segpipe',
    endpointName: 'segpipe-endpoint',
    stateMachine,
    topic,
  });
  return {
    stack,
    cleanup,
    template: Template.fromStack(stack),
    ids: { stateMachine: logicalId(stack, stateMachine), topic: logicalId(stack, topic) },
  };
}

function logicalId(stack: Stack, construct: sfn.StateMachine | sns.Topic): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

describe('clean-up', () => {
  const { template, ids } = cleanupStack();
  const rules = template.findResources('AWS::Events::Rule');
  const ruleOf = (prefix: string) => Object.entries(rules).find(([id]) => id.startsWith(prefix))![1].Properties;
  const cleanUpFunction = { 'Fn::GetAtt': [expect.stringMatching(/^CleanupCleanUpFunction/), 'Arn'] };

  test('a schedule runs the clean-up Lambda hourly by default, at the configured rate otherwise', () => {
    const schedule = ruleOf('CleanupSchedule');
    expect(schedule.ScheduleExpression).toBe('rate(1 hour)');
    expect(schedule.Targets[0].Arn).toEqual(cleanUpFunction);
    const { template: every15 } = cleanupStack({ cleanup: { everyMinutes: 15 } });
    const [custom] = Object.entries(every15.findResources('AWS::Events::Rule')).filter(([id]) => id.startsWith('CleanupSchedule'));
    expect(custom[1].Properties.ScheduleExpression).toBe('rate(15 minutes)');
  });

  test("the stack's endpoint entering FAILED (upper snake case in the event) goes to the clean-up Lambda", () => {
    const failed = ruleOf('CleanupEndpointFailed');
    expect(failed.EventPattern).toEqual({
      source: ['aws.sagemaker'],
      'detail-type': ['SageMaker Endpoint State Change'],
      detail: { EndpointName: ['segpipe-endpoint'], EndpointStatus: ['FAILED'] },
    });
    expect(failed.Targets[0].Arn).toEqual(cleanUpFunction);
  });

  test('the clean-up Lambda gets its policy in its settings', () => {
    const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('CleanupCleanUpFunction'))![1];
    const settings = JSON.parse(
      resolveCloudFormation(fn.Properties.Environment.Variables.SEGPIPE_SETTINGS, {
        refs: { [ids.topic]: 'the-topic' },
        mappings: {},
      }) as string,
    );
    expect(settings).toEqual({
      stackName: 'Segpipe',
      resourcePrefix: 'segpipe',
      idleMinutes: 120,
      timeToLiveHours: 0,
      keepModels: 1,
      dryRun: false,
      graceMinutes: 60,
      topicArn: 'the-topic',
    });
  });

  test("the clean-up Lambda deletes only the stack's prefix, and only what carries the stack's tag", () => {
    const statements = statementsOf(template, 'CleanupCleanUpRole');
    const deletes = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sagemaker:Delete')));
    expect(deletes).toEqual([
      {
        Effect: 'Allow',
        Action: ['sagemaker:DeleteEndpoint', 'sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'],
        Resource: [sagemakerArn('endpoint-config'), sagemakerArn('endpoint'), sagemakerArn('model')],
        Condition: OWNED_BY_STACK,
      },
    ]);
    const wildcard = statements
      .filter((s) => s.Resource === '*')
      .flatMap((s) => [s.Action].flat())
      .sort();
    expect(wildcard).toEqual([
      'cloudwatch:GetMetricStatistics',
      'sagemaker:ListEndpointConfigs',
      'sagemaker:ListEndpoints',
      'sagemaker:ListModels',
    ]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['events:PutEvents', 'sns:Publish']));
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: ids.topic } }));
    expect(actions.filter((a) => /^(s3|iam):/.test(a))).toEqual([]);
  });

  test("the clean-up's failures go somewhere: both rules retry, then dead-letter into an encrypted, TLS-only queue, as do failed sweeps; an alarm watches it", () => {
    const [[queueId, queue]] = Object.entries(template.findResources('AWS::SQS::Queue'));
    expect(queueId).toMatch(/^CleanupDeadLetters/);
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };
    for (const [rule, retries] of [
      ['CleanupSchedule', 2],
      ['CleanupEndpointFailed', 4],
    ] as const) {
      expect({ rule, target: ruleOf(rule).Targets[0] }).toMatchObject({
        rule,
        target: { RetryPolicy: { MaximumRetryAttempts: retries }, DeadLetterConfig: { Arn: queueArn } },
      });
    }
    const [asyncInvoke] = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig'));
    expect(asyncInvoke.Properties.DestinationConfig).toEqual({ OnFailure: { Destination: queueArn } });
    const [policy] = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const statements = policy.Properties.PolicyDocument.Statement as { Effect: string; Principal: unknown; Condition?: unknown }[];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' } }));
    const [alarm] = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarm.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test("a delete-time custom resource stops the stack's jobs and deletes its tagged resources, before the clean-up goes", () => {
    const [[id, resource]] = Object.entries(template.findResources('Custom::SegpipeSageMakerTearDown'));
    expect(id).toMatch(/^CleanupTearDown/);
    expect(resource.DependsOn).toEqual(
      expect.arrayContaining([
        ids.stateMachine,
        expect.stringMatching(/^CleanupCleanUpFunction/),
        expect.stringMatching(/^CleanupSchedule/),
        expect.stringMatching(/^CleanupEndpointFailed/),
      ]),
    );
    const statements = statementsOf(template, 'CleanupTearDownCheckRole');
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['sagemaker:StopLabelingJob', 'sagemaker:StopTrainingJob'],
      Resource: [sagemakerArn('labeling-job'), sagemakerArn('training-job')],
      Condition: OWNED_BY_STACK,
    });
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'states:ListExecutions', Resource: { Ref: ids.stateMachine } }));
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'cloudformation:DescribeStacks', Resource: { Ref: 'AWS::StackId' } }),
    );
    const [asyncInvoke] = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig'));
    expect(asyncInvoke.Properties).toMatchObject({
      FunctionName: { Ref: expect.stringMatching(/^CleanupCleanUpFunction/) },
      MaximumRetryAttempts: 0,
    });
  });
});
