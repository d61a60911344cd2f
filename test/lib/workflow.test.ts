import { Template } from 'aws-cdk-lib/assertions';
import { allStates, synthesizedDefinition } from '../../bin/local/workflow-runner';
import { synthStack } from '../helpers/stack';

const PRIVATE = {
  labelClasses: ['turtle', 'rock'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
};
const PUBLIC = {
  labelClasses: ['turtle'],
  workforce: { type: 'public', publicTaskPriceUsd: 1.08, attestNoPersonalData: true, attestNoAdultContent: true },
  training: { spot: true, maxRuntimeSeconds: 7200, hyperparameters: { learning_rate: 0.01, use_pretrained_model: false } },
};

function definitionOf(template: Template) {
  const [logicalId] = Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).filter((id) => id.startsWith('WorkflowStateMachine'));
  return synthesizedDefinition(template, logicalId, {});
}

function stateOf(template: Template, name: string) {
  const state = allStates(definitionOf(template)).find(([n]) => n === name);
  if (!state) throw new Error(`no state ${name}`);
  return state[1];
}

/** Policy statements of the role whose logical ID starts with `prefix`. */
function statementsOf(template: Template, prefix: string) {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(prefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[]);
}

describe('workflow definition', () => {
  const { template } = synthStack(PRIVATE);
  const text = JSON.stringify(definitionOf(template));

  test('is valid Amazon States Language', async () => {
    // asl-validator has no type declarations.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const aslValidator = require('asl-validator');
    const { isValid, errorsText } = aslValidator(definitionOf(template));
    expect(isValid ? 'valid' : errorsText('\n')).toBe('valid');
  });

  test('holds instance types, image, channels, computed hyperparameters and the gate metric literally', () => {
    for (const literal of ['ml.p3.2xlarge', 'ml.c5.xlarge', '811284229777.dkr.ecr.us-east-1.amazonaws.com/semantic-segmentation:1',
      '"train"', '"validation"', '"train_annotation"', '"validation_annotation"', 'num_classes.$', 'num_training_samples.$', 'validation:mIOU', 'validation:pixel_accuracy']) {
      expect(text).toContain(literal);
    }
  });

  test('every SageMaker call is a state of its own', () => {
    const resources = allStates(definitionOf(template)).map(([, s]) => s.Resource).filter((r): r is string => typeof r === 'string' && r.includes(':sagemaker:'));
    expect(resources.sort()).toEqual([
      'arn:aws:states:::aws-sdk:sagemaker:deleteEndpointConfig', 'arn:aws:states:::aws-sdk:sagemaker:deleteModel',
      'arn:aws:states:::aws-sdk:sagemaker:describeEndpoint', 'arn:aws:states:::aws-sdk:sagemaker:listEndpoints',
      'arn:aws:states:::sagemaker:createEndpoint', 'arn:aws:states:::sagemaker:createEndpointConfig',
      'arn:aws:states:::sagemaker:createLabelingJob.sync', 'arn:aws:states:::sagemaker:createModel',
      'arn:aws:states:::sagemaker:createTrainingJob.sync', 'arn:aws:states:::sagemaker:updateEndpoint',
    ]);
  });

  test('.sync jobs are never retried (a retry would resubmit the same name); every task has a catch', () => {
    for (const name of ['Label', 'Train']) expect(stateOf(template, name).Retry).toBeUndefined();
    for (const [name, state] of allStates(definitionOf(template))) {
      if (state.Type !== 'Task' || name === 'Convert chunk') continue;
      const isTerminalReport = ['Report failure', 'Notify failure', 'Publish failure event', 'Notify', 'Publish event', 'Delete endpoint config', 'Delete model'].includes(name);
      if (!isTerminalReport) expect({ name, catch: Array.isArray(state.Catch) }).toEqual({ name, catch: true });
    }
  });

  test('every request-response SageMaker call, the deletions included, retries throttling under the name its integration raises, and nothing else', () => {
    const sagemakerStates = allStates(definitionOf(template)).filter(([, s]) => typeof s.Resource === 'string' && s.Resource.includes(':sagemaker:') && !s.Resource.endsWith('.sync'));
    const retried = Object.fromEntries(sagemakerStates.map(([name, s]) => [name, (s.Retry as { ErrorEquals: string[] }[] | undefined)?.flatMap((r) => r.ErrorEquals)]));
    expect(retried).toEqual({
      // The optimized integration reports throttling as its catch-all exception.
      'Create model': ['SageMaker.AmazonSageMakerException'], 'Create endpoint config': ['SageMaker.AmazonSageMakerException'],
      'Create endpoint': ['SageMaker.AmazonSageMakerException'], 'Update endpoint': ['SageMaker.AmazonSageMakerException'],
      // AWS SDK integrations name the API's error, with the Exception suffix.
      'Find endpoint': ['SageMaker.ThrottlingException'], 'Describe endpoint': ['SageMaker.ThrottlingException'],
      'Delete endpoint config': ['SageMaker.ThrottlingException'], 'Delete model': ['SageMaker.ThrottlingException'],
    });
  });

  test('converts with a Distributed Map over the chunks a Lambda returns (ItemsPath, no ItemReader)', () => {
    const map = stateOf(template, 'Convert chunks');
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.plan.chunks', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } } });
    expect(map.ItemReader).toBeUndefined();
  });

  test('the labeling request carries the region\'s Ground Truth Lambdas from the mapping and the workteam', () => {
    const raw = JSON.stringify(template.toJSON().Resources);
    expect(raw).toContain('function:PRE-SemanticSegmentation');
    expect(raw).toContain('"Fn::FindInMap":["RegionTable",{"Ref":"AWS::Region"},"GroundTruthLambdaAccount"]');
    expect(stateOf(template, 'Label').Parameters).toMatchObject({
      LabelAttributeName: 'segmentation-ref',
      HumanTaskConfig: { WorkteamArn: PRIVATE.workforce.workteamArn, NumberOfHumanWorkersPerDataObject: 1, TaskTimeLimitInSeconds: 1800, TaskAvailabilityLifetimeInSeconds: 864000 },
    });
  });

  test('the public crowd gets its ARN, a price, and the content classifiers the user attested to', () => {
    const label = stateOf(synthStack(PUBLIC).template, 'Label').Parameters as Record<string, any>;
    expect(label.HumanTaskConfig).toMatchObject({
      WorkteamArn: 'arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default',
      PublicWorkforceTaskPrice: { AmountInUsd: { Dollars: 1, Cents: 8, TenthFractionsOfACent: 0 } },
      NumberOfHumanWorkersPerDataObject: 3,
    });
    expect(label.InputConfig.DataAttributes.ContentClassifiers).toEqual(['FreeOfPersonallyIdentifiableInformation', 'FreeOfAdultContent']);
  });

  test('spot training waits at least as long as it runs and checkpoints under models/<run-id>/', () => {
    const train = stateOf(synthStack(PUBLIC).template, 'Train').Parameters as Record<string, any>;
    expect(train.EnableManagedSpotTraining).toBe(true);
    expect(train.StoppingCondition.MaxWaitTimeInSeconds).toBeGreaterThanOrEqual(train.StoppingCondition.MaxRuntimeInSeconds);
    expect(train.CheckpointConfig['S3Uri.$']).toMatch(/models\/\{\}\/checkpoints\//);
    expect(train.HyperParameters).toMatchObject({ learning_rate: '0.01', use_pretrained_model: 'False' });
    const onDemand = stateOf(template, 'Train').Parameters as Record<string, any>;
    expect(onDemand.EnableManagedSpotTraining).toBeUndefined();
    expect(onDemand.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600 });
  });

  test('without a workforce there is no labeling state; an images batch ends with how to configure one', () => {
    const { template: importOnly } = synthStack({});
    expect(allStates(definitionOf(importOnly)).map(([n]) => n)).not.toContain('Label');
    expect(JSON.stringify(stateOf(importOnly, 'No workforce'))).toContain('set workforce in the segpipe configuration');
  });
});

describe('workflow IAM', () => {
  const { template } = synthStack(PRIVATE);

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

  test('Lambdas run on Node.js 22 or newer, and every log group keeps its logs a month', () => {
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      if (fn.Properties.Handler !== 'index.handler' || !fn.Properties.Layers) continue;
      expect(Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
    }
    for (const group of Object.values(template.findResources('AWS::Logs::LogGroup'))) expect(group.Properties.RetentionInDays).toBe(30);
  });

  test('a customer key is granted to every role that touches the data', () => {
    const { template: kms } = synthStack({ ...PRIVATE, storage: { encryption: 'kms' } });
    for (const role of ['WorkflowStateMachineRole', 'WorkflowGroundTruthRole', 'WorkflowTrainingRole', 'WorkflowModelRole', 'WorkflowConvertChunkRole', 'WorkflowAssembleChannelsRole']) {
      expect({ role, kms: JSON.stringify(statementsOf(kms, role)).includes('kms:Decrypt') }).toEqual({ role, kms: true });
    }
  });

  test('no KMS key is passed for instance types with local storage, which SageMaker refuses', () => {
    const { template: kms } = synthStack({ ...PRIVATE, storage: { encryption: 'kms' }, training: { instanceType: 'ml.g4dn.xlarge' } });
    const train = stateOf(kms, 'Train').Parameters as Record<string, any>;
    expect(train.ResourceConfig.VolumeKmsKeyId).toBeUndefined();
    // The stack's key, by its ARN (a Ref would give the key ID, which SageMaker also takes, but IAM grants name the ARN).
    const [keyId] = Object.keys(kms.findResources('AWS::KMS::Key'));
    const keyArn = `arn:aws:local:us-east-1:123456789012:${keyId}`;
    expect(train.OutputDataConfig.KmsKeyId).toBe(keyArn);
    expect((stateOf(kms, 'Create endpoint config').Parameters as Record<string, any>).KmsKeyId).toBe(keyArn);
  });

  test('a customer key given by ARN encrypts the training output, the training volume and the endpoint', () => {
    const kmsKeyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template: kms } = synthStack({ ...PRIVATE, storage: { encryption: 'kms', kmsKeyArn } });
    const train = stateOf(kms, 'Train').Parameters as Record<string, any>;
    expect({ output: train.OutputDataConfig.KmsKeyId, volume: train.ResourceConfig.VolumeKmsKeyId }).toEqual({ output: kmsKeyArn, volume: kmsKeyArn });
    expect((stateOf(kms, 'Create endpoint config').Parameters as Record<string, any>).KmsKeyId).toBe(kmsKeyArn);
  });

  test('buckets listed in import.readBuckets are granted read-only to the converter, nothing else', () => {
    const { template: imports } = synthStack({ import: { readBuckets: ['old-labeling-output'] } });
    const statements = statementsOf(imports, 'WorkflowConvertChunkRole');
    const foreign = statements.filter((s) => JSON.stringify(s.Resource).includes('old-labeling-output'));
    expect(foreign.flatMap((s) => [s.Action].flat()).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
  });

  test('outputs add the state machine console link, the topic and the endpoint name', () => {
    const outputs = template.toJSON().Outputs;
    expect(outputs.EndpointName.Value).toBe('segpipe-endpoint');
    expect(JSON.stringify(outputs.StateMachineConsoleUrl.Value)).toContain('#/statemachines/view/');
    expect(outputs.NotificationTopicArn.Value).toEqual({ Ref: expect.stringMatching(/^WorkflowNotifications/) });
  });
});
