import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RunEnded } from '../../../lib/workflow/run-ended';
import { bareStack, statementsOf } from '../../helpers/stack';

describe('the rule on runs that end where the workflow cannot report them', () => {
  const stack = bareStack();
  const stateMachine = new sfn.StateMachine(stack, 'StateMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Run')),
  });
  const artifactsBucket = new s3.Bucket(stack, 'Artifacts');
  const runEnded = new RunEnded(stack, 'RunEnded', {
    stateMachine,
    artifactsBucket,
    topic: new sns.Topic(stack, 'Topic'),
    resourcePrefix: 'segpipe-ab12',
    minValidationMiou: 0.5,
    labeling: true,
  });
  const template = Template.fromStack(stack);
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

  test('FAILED, TIMED_OUT and ABORTED executions of this state machine go to its Lambda, with retries and dead letters', () => {
    const rule = template.findResources('AWS::Events::Rule')[id(runEnded.rule)];
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [{ Ref: id(stateMachine) }] },
    });
    expect(rule.Properties.Targets[0]).toMatchObject({
      Arn: { 'Fn::GetAtt': [id(runEnded.function.function), 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [id(runEnded.deadLetters.queue), 'Arn'] } },
    });
    const [asyncInvoke] = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig'));
    expect(asyncInvoke.Properties.DestinationConfig).toEqual({
      OnFailure: { Destination: { 'Fn::GetAtt': [id(runEnded.deadLetters.queue), 'Arn'] } },
    });
  });

  test("its Lambda reads and writes only run reports, batch states and import turns, deletes only staging areas and the deploy lock, and asks only about the stack's labeling jobs", () => {
    const statements = statementsOf(template, 'RunEndedFunctionRole');
    const s3Objects = statements.find((s) => [s.Action].flat().includes('s3:PutObject'))!;
    expect(s3Objects.Resource).toEqual(
      expect.arrayContaining([
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(artifactsBucket), 'Arn'] }, '/runs/*/report.json']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(artifactsBucket), 'Arn'] }, '/batches/*/state.json']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(artifactsBucket), 'Arn'] }, '/batches/*/imports/*']] },
      ]),
    );
    expect(s3Objects.Resource).toHaveLength(3);
    const deletes = statements
      .filter((s) => [s.Action].flat().includes('s3:DeleteObject'))
      .flatMap((s) => [s.Resource].flat())
      .map((r) => JSON.stringify(r));
    expect(deletes.map((r) => /"(\/[^"]*)"\]\]\}$/.exec(r)?.[1]).sort()).toEqual(['/locks/deploy.json', '/runs/*/staging/*']);
    const describe = statements.find((s) => s.Action === 'sagemaker:DescribeLabelingJob')!;
    expect(JSON.stringify(describe.Resource)).toContain(':labeling-job/segpipe-ab12-label-*');
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('sagemaker:'))).toEqual([
      'sagemaker:DescribeLabelingJob',
    ]);
  });
});
