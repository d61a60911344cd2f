import { statementsOf } from '../../helpers/stack';
import { workflowStack } from '../../helpers/workflow-stack';

/** The SageMaker roles and the state machine's SageMaker grants (lib/workflow/roles.ts), with a customer key. */
const { template } = workflowStack({
  labelClasses: ['turtle', 'rock'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
  storage: { encryption: 'kms' },
});

describe('workflow IAM: the state machine and the SageMaker roles', () => {
  test("SageMaker actions are scoped to the stack's lower-case resource prefix, never sagemaker:*", () => {
    const statements = statementsOf(template, 'WorkflowStateMachineRole');
    const sagemaker = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sagemaker:')));
    for (const statement of sagemaker) {
      expect([statement.Action].flat()).not.toContain('sagemaker:*');
      const resources = JSON.stringify(statement.Resource);
      if (![statement.Action].flat().includes('sagemaker:ListEndpoints'))
        expect(resources).toMatch(/(training-job|labeling-job|model|endpoint-config|endpoint)\/segpipe-/);
    }
    expect(JSON.stringify(statements)).toContain(':training-job/segpipe-*');
  });

  test("PassRole goes only to SageMaker, only for the stack's roles", () => {
    const passRole = statementsOf(template, 'WorkflowStateMachineRole').filter((s) => s.Action === 'iam:PassRole');
    expect(passRole).toHaveLength(1);
    expect(passRole[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    const passed = JSON.stringify(passRole[0].Resource);
    for (const role of ['WorkflowTrainingRole', 'WorkflowModelRole', 'WorkflowGroundTruthRole']) expect(passed).toContain(role);
    expect((passRole[0].Resource as unknown[]).length).toBe(3);
  });

  test("the .sync jobs may manage only Step Functions' two SageMaker event rules: training's by its exact name, labeling's", () => {
    const rules = statementsOf(template, 'WorkflowStateMachineRole').filter((s) => [s.Action].flat().includes('events:PutRule'));
    expect(rules).toHaveLength(1);
    expect([rules[0].Action].flat().sort()).toEqual(['events:DescribeRule', 'events:PutRule', 'events:PutTargets']);
    const names = (rules[0].Resource as unknown[]).map((r) => /:rule\/([^"]+)"\]\]\}$/.exec(JSON.stringify(r))?.[1]).sort();
    expect(names).toEqual(['StepFunctionsGetEventsForSageMaker*LabelingJob*', 'StepFunctionsGetEventsForSageMakerTrainingJobsRule']);
  });

  test("creates and AddTags carry the stack's tag and no other tag keys; updates, stops and deletes need it on the resource", () => {
    const statements = statementsOf(template, 'WorkflowStateMachineRole');
    const conditionOf = (action: string) => {
      const found = statements.filter((s) => [s.Action].flat().includes(action));
      expect({ action, statements: found.length }).toEqual({ action, statements: 1 });
      return found[0].Condition;
    };
    for (const action of ['CreateTrainingJob', 'CreateLabelingJob', 'CreateModel', 'CreateEndpointConfig', 'CreateEndpoint', 'AddTags']) {
      expect({ action, condition: conditionOf(`sagemaker:${action}`) }).toEqual({
        action,
        condition: {
          StringEquals: { 'aws:RequestTag/segpipe:stack': 'Test' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['segpipe:stack', 'segpipe:run'] },
        },
      });
    }
    for (const action of ['UpdateEndpoint', 'StopTrainingJob', 'StopLabelingJob', 'DeleteModel', 'DeleteEndpointConfig']) {
      expect({ action, condition: conditionOf(`sagemaker:${action}`) }).toEqual({
        action,
        condition: { StringEquals: { 'aws:ResourceTag/segpipe:stack': 'Test' } },
      });
    }
  });

  test("SageMaker assumes the roles only on behalf of the stack's account", () => {
    const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) =>
      /^Workflow(GroundTruth|Training|Model)Role/.test(id),
    );
    expect(roles).toHaveLength(3);
    for (const [, role] of roles) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'sagemaker.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ]);
    }
  });

  /** The artifacts-bucket keys (`/runs/*\/labeling/*`) a role's statements with `action` name. */
  const artifactKeys = (role: string, action: string) =>
    statementsOf(template, role)
      .filter((s) => [s.Action].flat().includes(action))
      .flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r)))
      .filter((r) => r.includes('Artifacts'))
      .map((r) => /"(\/[^"]*)"\]\]\}$/.exec(r)?.[1])
      .sort();

  test('Ground Truth reads images/ in the inbox and reads, writes and lists only runs/<run-id>/labeling/ in the artifacts bucket', () => {
    expect(JSON.stringify(statementsOf(template, 'WorkflowGroundTruthRole'))).toContain('/images/*');
    expect(artifactKeys('WorkflowGroundTruthRole', 's3:GetObject')).toEqual(['/runs/*/labeling/*']);
    expect(artifactKeys('WorkflowGroundTruthRole', 's3:PutObject')).toEqual(['/runs/*/labeling/*']);
    const listing = statementsOf(template, 'WorkflowGroundTruthRole').filter((s) => s.Action === 's3:ListBucket');
    expect(listing.map((s) => s.Condition)).toEqual([{ StringLike: { 's3:prefix': ['runs/*/labeling/*'] } }]);
  });

  test("training reads the run's channels and the dataset, writes models/, and lists only those", () => {
    expect(artifactKeys('WorkflowTrainingRole', 's3:GetObject')).toEqual(['/datasets/*', '/models/*', '/runs/*/channels/*']);
    expect(artifactKeys('WorkflowTrainingRole', 's3:PutObject')).toEqual(['/models/*']);
    const listing = statementsOf(template, 'WorkflowTrainingRole').filter((s) => s.Action === 's3:ListBucket');
    expect(listing.map((s) => s.Condition)).toEqual([{ StringLike: { 's3:prefix': ['runs/*/channels/*', 'datasets/*', 'models/*'] } }]);
  });

  test('the data key: through S3 for the SageMaker roles, decrypt only for endpoints; through SNS for the state machine', () => {
    const keyStatements = (role: string) => statementsOf(template, role).filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
    const viaS3 = { StringEquals: { 'kms:ViaService': [{ 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }] } };
    for (const role of ['WorkflowGroundTruthRole', 'WorkflowTrainingRole']) {
      expect({ role, key: keyStatements(role).map((s) => [s.Action, s.Condition]) }).toEqual({
        role,
        key: [[['kms:Decrypt', 'kms:GenerateDataKey'], viaS3]],
      });
    }
    expect(keyStatements('WorkflowModelRole').map((s) => [s.Action, s.Condition])).toEqual([['kms:Decrypt', viaS3]]);
    const viaSns = { StringEquals: { 'kms:ViaService': [{ 'Fn::Join': ['', ['sns.', { Ref: 'AWS::Region' }, '.amazonaws.com']] }] } };
    expect(keyStatements('WorkflowStateMachineRole').map((s) => [s.Action, s.Condition])).toEqual([
      [['kms:Decrypt', 'kms:GenerateDataKey'], viaSns],
      [['kms:CreateGrant', 'kms:DescribeKey'], { Bool: { 'kms:GrantIsForAWSResource': 'true' } }],
    ]);
  });
});
