import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { SegpipeTrigger } from '../../lib/trigger';
import { bareStack, statementsOf } from '../helpers/stack';

describe('trigger', () => {
  // SegpipeTrigger in a stack of its own, with the two buckets and the state machine it is given.
  const stack = bareStack();
  const inboxBucket = new s3.Bucket(stack, 'Inbox');
  const artifactsBucket = new s3.Bucket(stack, 'Artifacts');
  const stateMachine = new sfn.StateMachine(stack, 'StateMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Run')),
  });
  new SegpipeTrigger(stack, 'Trigger', { inboxBucket, artifactsBucket, stateMachine });
  const template = Template.fromStack(stack);
  const idOf = (construct: s3.Bucket | sfn.StateMachine) => stack.getLogicalId(construct.node.defaultChild as never);

  test("an EventBridge rule sends the inbox's Object Created events under images/ and labeled/ to the start Lambda", () => {
    const rules = Object.entries(template.findResources('AWS::Events::Rule'))
      .filter(([id]) => id.startsWith('TriggerObjectCreated'))
      .map(([, rule]) => rule);
    expect(rules).toHaveLength(1);
    const { EventPattern, Targets } = rules[0].Properties;
    expect(EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [{ Ref: idOf(inboxBucket) }] },
        object: { key: [{ prefix: 'images/' }, { prefix: 'labeled/' }] },
      },
    });
    expect(Targets[0].Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^TriggerStartRunFunction/), 'Arn'] });
    expect(Targets[0].RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 21600, MaximumRetryAttempts: 8 });
  });

  test('the start Lambda may start executions of this state machine only, and read, never write, the inbox', () => {
    const statements = statementsOf(template, 'TriggerStartRunRole');
    const start = statements.filter((s) => [s.Action].flat().includes('states:StartExecution'));
    expect(start).toHaveLength(1);
    expect(start[0].Resource).toEqual({ Ref: idOf(stateMachine) });
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a.startsWith('s3:')).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
  });
});

describe("the trigger's dead letters", () => {
  test('an event the start Lambda never took lands in an encrypted, TLS-only queue kept 14 days, with an alarm that tells the topic under a customer key', () => {
    const stack = bareStack();
    const key = new kms.Key(stack, 'Key');
    const topic = new sns.Topic(stack, 'Topic', { masterKey: key });
    const stateMachine = new sfn.StateMachine(stack, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Run')),
    });
    const trigger = new SegpipeTrigger(stack, 'Trigger', {
      inboxBucket: new s3.Bucket(stack, 'Inbox'),
      artifactsBucket: new s3.Bucket(stack, 'Artifacts'),
      stateMachine,
      encryptionKey: key,
      alarmTopic: topic,
    });
    const template = Template.fromStack(stack);
    const queueId = stack.getLogicalId(trigger.deadLetters.queue.node.defaultChild as never);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    const rule = Object.values(template.findResources('AWS::Events::Rule'))[0];
    expect(rule.Properties.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    // An event delivered whose handler kept failing (after Lambda's two retries) lands there too.
    const [asyncInvoke] = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig'));
    expect(asyncInvoke.Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    const queuePolicy = Object.values(template.findResources('AWS::SQS::QueuePolicy'))[0].Properties.PolicyDocument.Statement;
    expect(queuePolicy).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } }),
      ]),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      AlarmActions: [{ Ref: stack.getLogicalId(topic.node.defaultChild as never) }],
    });
    const keyPolicy = Object.values(template.findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement;
    expect(keyPolicy).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
      ]),
    );
  });

  test('under the AWS-managed SNS key, which CloudWatch cannot use, the alarm has no action rather than one that silently fails', () => {
    const stack = bareStack();
    const stateMachine = new sfn.StateMachine(stack, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Run')),
    });
    new SegpipeTrigger(stack, 'Trigger', {
      inboxBucket: new s3.Bucket(stack, 'Inbox'),
      artifactsBucket: new s3.Bucket(stack, 'Artifacts'),
      stateMachine,
      alarmTopic: new sns.Topic(stack, 'Topic'),
    });
    const alarm = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))[0];
    expect(alarm.Properties.AlarmActions).toBeUndefined();
  });
});
