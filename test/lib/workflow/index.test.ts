import { allStates } from '../../../bin/local/workflow-runner';
import { ALGORITHM_IMAGE_URI, GROUND_TRUTH_LAMBDA_ACCOUNT, workflowStack } from '../../helpers/workflow-stack';

/**
 * The synthesized state machine of SegpipeWorkflow (lib/workflow/index.ts composes the stages), in a
 * stack of its own; a describe per stage file for what that stage puts in the definition. Its
 * executions are tested through the local harness (test/workflow/).
 */
const PRIVATE = {
  labelClasses: ['turtle', 'rock'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
};
const PUBLIC = {
  labelClasses: ['turtle'],
  workforce: { type: 'public', publicTaskPriceUsd: 1.08, attestNoPersonalData: true, attestNoAdultContent: true },
  training: { spot: true, maxRuntimeSeconds: 7200, hyperparameters: { learning_rate: 0.01, use_pretrained_model: false } },
};
const privateTeam = workflowStack(PRIVATE);
const { definition, stateOf } = privateTeam;
const publicCrowd = workflowStack(PUBLIC);

describe('the composed definition (index.ts)', () => {
  const text = JSON.stringify(definition);

  test('is valid Amazon States Language', async () => {
    // asl-validator has no type declarations.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const aslValidator = require('asl-validator');
    const { isValid, errorsText } = aslValidator(definition);
    expect(isValid ? 'valid' : errorsText('\n')).toBe('valid');
  });

  test('holds instance types, image, channels, computed hyperparameters and the gate metric literally', () => {
    for (const literal of ['ml.p3.2xlarge', 'ml.c5.xlarge', ALGORITHM_IMAGE_URI,
      '"train"', '"validation"', '"train_annotation"', '"validation_annotation"', 'num_classes.$', 'num_training_samples.$', 'validation:mIOU', 'validation:pixel_accuracy']) {
      expect(text).toContain(literal);
    }
  });

  test('every SageMaker call is a state of its own', () => {
    const resources = allStates(definition).map(([, s]) => s.Resource).filter((r): r is string => typeof r === 'string' && r.includes(':sagemaker:'));
    expect(resources.sort()).toEqual([
      'arn:aws:states:::aws-sdk:sagemaker:deleteEndpointConfig', 'arn:aws:states:::aws-sdk:sagemaker:deleteModel',
      'arn:aws:states:::aws-sdk:sagemaker:describeEndpoint', 'arn:aws:states:::aws-sdk:sagemaker:listEndpoints',
      'arn:aws:states:::sagemaker:createEndpoint', 'arn:aws:states:::sagemaker:createEndpointConfig',
      'arn:aws:states:::sagemaker:createLabelingJob.sync', 'arn:aws:states:::sagemaker:createModel',
      'arn:aws:states:::sagemaker:createTrainingJob.sync', 'arn:aws:states:::sagemaker:updateEndpoint',
    ]);
  });

  test('.sync jobs are never retried (a retry would resubmit the same name); every task has a catch', () => {
    for (const name of ['Label', 'Train']) expect(stateOf(name).Retry).toBeUndefined();
    for (const [name, state] of allStates(definition)) {
      if (state.Type !== 'Task' || name === 'Convert chunk') continue;
      const isTerminalReport = ['Report failure', 'Notify failure', 'Publish failure event', 'Notify', 'Publish event', 'Delete endpoint config', 'Delete model'].includes(name);
      if (!isTerminalReport) expect({ name, catch: Array.isArray(state.Catch) }).toEqual({ name, catch: true });
    }
  });

  test('every request-response SageMaker call, the deletions included, retries throttling under the name its integration raises, and nothing else', () => {
    const sagemakerStates = allStates(definition).filter(([, s]) => typeof s.Resource === 'string' && s.Resource.includes(':sagemaker:') && !s.Resource.endsWith('.sync'));
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
});

describe('3-label', () => {
  test('the labeling request carries the region\'s Ground Truth Lambdas and the workteam', () => {
    expect(stateOf('Label').Parameters).toMatchObject({
      LabelAttributeName: 'segmentation-ref',
      HumanTaskConfig: {
        WorkteamArn: PRIVATE.workforce.workteamArn, NumberOfHumanWorkersPerDataObject: 1, TaskTimeLimitInSeconds: 1800, TaskAvailabilityLifetimeInSeconds: 864000,
        PreHumanTaskLambdaArn: `arn:aws:lambda:us-east-1:${GROUND_TRUTH_LAMBDA_ACCOUNT}:function:PRE-SemanticSegmentation`,
        AnnotationConsolidationConfig: { AnnotationConsolidationLambdaArn: `arn:aws:lambda:us-east-1:${GROUND_TRUTH_LAMBDA_ACCOUNT}:function:ACS-SemanticSegmentation` },
      },
    });
  });

  test('the public crowd gets its ARN, a price, and the content classifiers the user attested to', () => {
    const label = publicCrowd.stateOf('Label').Parameters as Record<string, any>;
    expect(label.HumanTaskConfig).toMatchObject({
      WorkteamArn: 'arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default',
      PublicWorkforceTaskPrice: { AmountInUsd: { Dollars: 1, Cents: 8, TenthFractionsOfACent: 0 } },
      NumberOfHumanWorkersPerDataObject: 3,
    });
    expect(label.InputConfig.DataAttributes.ContentClassifiers).toEqual(['FreeOfPersonallyIdentifiableInformation', 'FreeOfAdultContent']);
  });

  test('without a workforce there is no labeling state; an images batch ends with how to configure one', () => {
    const importOnly = workflowStack({});
    expect(allStates(importOnly.definition).map(([n]) => n)).not.toContain('Label');
    expect(JSON.stringify(importOnly.stateOf('No workforce'))).toContain('set workforce in the segpipe configuration');
  });
});

describe('4-convert', () => {
  test('converts with a Distributed Map over the chunks a Lambda returns (ItemsPath, no ItemReader)', () => {
    const map = stateOf('Convert chunks');
    expect(map).toMatchObject({ Type: 'Map', ItemsPath: '$.plan.chunks', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } } });
    expect(map.ItemReader).toBeUndefined();
  });
});

describe('5-train-and-gate', () => {
  test('spot training waits at least as long as it runs and checkpoints under models/<run-id>/', () => {
    const train = publicCrowd.stateOf('Train').Parameters as Record<string, any>;
    expect(train.EnableManagedSpotTraining).toBe(true);
    expect(train.StoppingCondition.MaxWaitTimeInSeconds).toBeGreaterThanOrEqual(train.StoppingCondition.MaxRuntimeInSeconds);
    expect(train.CheckpointConfig['S3Uri.$']).toMatch(/models\/\{\}\/checkpoints\//);
    expect(train.HyperParameters).toMatchObject({ learning_rate: '0.01', use_pretrained_model: 'False' });
    const onDemand = stateOf('Train').Parameters as Record<string, any>;
    expect(onDemand.EnableManagedSpotTraining).toBeUndefined();
    expect(onDemand.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600 });
  });
});

describe('5-train-and-gate and 6-deploy with a customer key', () => {
  test('no KMS key is passed for instance types with local storage, which SageMaker refuses', () => {
    const kms = workflowStack({ ...PRIVATE, storage: { encryption: 'kms' }, training: { instanceType: 'ml.g4dn.xlarge' } });
    const train = kms.stateOf('Train').Parameters as Record<string, any>;
    expect(train.ResourceConfig.VolumeKmsKeyId).toBeUndefined();
    // The stack's key, by its ARN (a Ref would give the key ID, which SageMaker also takes, but IAM grants name the ARN).
    const [keyId] = Object.keys(kms.template.findResources('AWS::KMS::Key'));
    const keyArn = `arn:aws:local:us-east-1:123456789012:${keyId}`;
    expect(train.OutputDataConfig.KmsKeyId).toBe(keyArn);
    expect((kms.stateOf('Create endpoint config').Parameters as Record<string, any>).KmsKeyId).toBe(keyArn);
  });

  test('a customer key given by ARN encrypts the training output, the training volume and the endpoint', () => {
    const kmsKeyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const kms = workflowStack({ ...PRIVATE, storage: { encryption: 'kms', kmsKeyArn } });
    const train = kms.stateOf('Train').Parameters as Record<string, any>;
    expect({ output: train.OutputDataConfig.KmsKeyId, volume: train.ResourceConfig.VolumeKmsKeyId }).toEqual({ output: kmsKeyArn, volume: kmsKeyArn });
    expect((kms.stateOf('Create endpoint config').Parameters as Record<string, any>).KmsKeyId).toBe(kmsKeyArn);
  });
});
