import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { SegpipeTrigger } from '../../lib/trigger';
import { bareStack, statementsOf } from '../helpers/stack';

describe('trigger', () => {
  // SegpipeTrigger in a stack of its own, with the two buckets and the state machine it is given.
  const stack = bareStack();
  const inboxBucket = new s3.Bucket(stack, 'Inbox');
  const artifactsBucket = new s3.Bucket(stack, 'Artifacts');
  const stateMachine = new sfn.StateMachine(stack, 'StateMachine', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Run')) });
  new SegpipeTrigger(stack, 'Trigger', { inboxBucket, artifactsBucket, stateMachine });
  const template = Template.fromStack(stack);
  const idOf = (construct: s3.Bucket | sfn.StateMachine) => stack.getLogicalId(construct.node.defaultChild as never);

  test('an EventBridge rule sends the inbox\'s Object Created events under images/ and labeled/ to the start Lambda', () => {
    const rules = Object.entries(template.findResources('AWS::Events::Rule')).filter(([id]) => id.startsWith('TriggerObjectCreated')).map(([, rule]) => rule);
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
