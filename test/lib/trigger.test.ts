import { synthStack } from '../helpers/stack';

describe('trigger', () => {
  const { template } = synthStack();

  test('an EventBridge rule sends the inbox\'s Object Created events under images/ and labeled/ to the start Lambda', () => {
    const rules = Object.entries(template.findResources('AWS::Events::Rule')).filter(([id]) => id.startsWith('TriggerObjectCreated')).map(([, rule]) => rule);
    expect(rules).toHaveLength(1);
    const { EventPattern, Targets } = rules[0].Properties;
    expect(EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [{ Ref: expect.stringMatching(/^StorageInbox/) }] },
        object: { key: [{ prefix: 'images/' }, { prefix: 'labeled/' }] },
      },
    });
    expect(Targets[0].Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^TriggerStartRunFunction/), 'Arn'] });
    expect(Targets[0].RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 21600, MaximumRetryAttempts: 8 });
  });

  test('the start Lambda may start executions of this state machine only, and read, never write, the inbox', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith('TriggerStartRunRole')));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const start = statements.filter((s) => [s.Action].flat().includes('states:StartExecution'));
    expect(start).toHaveLength(1);
    expect(start[0].Resource).toEqual({ Ref: expect.stringMatching(/^WorkflowStateMachine/) });
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => a.startsWith('s3:')).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
  });
});
