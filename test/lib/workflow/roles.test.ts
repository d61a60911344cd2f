import { statementsOf } from '../../helpers/stack';
import { workflowStack } from '../../helpers/workflow-stack';

/** The SageMaker roles and the state machine's SageMaker grants (lib/workflow/roles.ts), with a customer key. */
const { template } = workflowStack({
  labelClasses: ['turtle', 'rock'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
  storage: { encryption: 'kms' },
});

describe('workflow IAM: the state machine and the SageMaker roles', () => {
  test('SageMaker actions are scoped to the stack\'s lower-case resource prefix, never sagemaker:*', () => {
    const statements = statementsOf(template, 'WorkflowStateMachineRole');
    const sagemaker = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sagemaker:')));
    for (const statement of sagemaker) {
      expect([statement.Action].flat()).not.toContain('sagemaker:*');
      const resources = JSON.stringify(statement.Resource);
      if (![statement.Action].flat().includes('sagemaker:ListEndpoints')) expect(resources).toMatch(/(training-job|labeling-job|model|endpoint-config|endpoint)\/segpipe-/);
    }
    expect(JSON.stringify(statements)).toContain(':training-job/segpipe-*');
  });

  test('PassRole goes only to SageMaker, only for the stack\'s roles', () => {
    const passRole = statementsOf(template, 'WorkflowStateMachineRole').filter((s) => s.Action === 'iam:PassRole');
    expect(passRole).toHaveLength(1);
    expect(passRole[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    const passed = JSON.stringify(passRole[0].Resource);
    for (const role of ['WorkflowTrainingRole', 'WorkflowModelRole', 'WorkflowGroundTruthRole']) expect(passed).toContain(role);
    expect((passRole[0].Resource as unknown[]).length).toBe(3);
  });

  test('the .sync jobs may manage only Step Functions\' SageMaker event rules', () => {
    const rules = statementsOf(template, 'WorkflowStateMachineRole').filter((s) => [s.Action].flat().includes('events:PutRule'));
    expect(rules).toHaveLength(1);
    expect([rules[0].Action].flat().sort()).toEqual(['events:DescribeRule', 'events:PutRule', 'events:PutTargets']);
    expect(JSON.stringify(rules[0].Resource)).toMatch(/^\{"Fn::Join":\["",\[.*":rule\/StepFunctionsGetEventsForSageMaker\*"\]\]\}$/);
  });

  test('Ground Truth reads images/ in the inbox and reads and writes runs/ in the artifacts bucket', () => {
    const text = JSON.stringify(statementsOf(template, 'WorkflowGroundTruthRole'));
    expect(text).toContain('/images/*');
    expect(text).toContain('/runs/*');
    expect(text).not.toContain('/datasets/*');
    expect(text).not.toContain('/models/*');
  });

  test('training reads the run channels and writes models/', () => {
    const statements = statementsOf(template, 'WorkflowTrainingRole');
    const writes = statements.filter((s) => s.Action === 's3:PutObject');
    expect(JSON.stringify(writes)).toContain('/models/*');
    expect(JSON.stringify(writes)).not.toContain('/runs/*');
  });

  test('a customer key is granted to the state machine and every SageMaker role', () => {
    for (const role of ['WorkflowStateMachineRole', 'WorkflowGroundTruthRole', 'WorkflowTrainingRole', 'WorkflowModelRole']) {
      expect({ role, kms: JSON.stringify(statementsOf(template, role)).includes('kms:Decrypt') }).toEqual({ role, kms: true });
    }
  });
});
