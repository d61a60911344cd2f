import { allStates } from '../../../local/workflow-runner';
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
    for (const literal of [
      'ml.p3.2xlarge',
      'ml.c5.xlarge',
      ALGORITHM_IMAGE_URI,
      '"train"',
      '"validation"',
      '"train_annotation"',
      '"validation_annotation"',
      'num_classes.$',
      'num_training_samples.$',
      'validation:mIOU',
      'validation:pixel_accuracy',
    ]) {
      expect(text).toContain(literal);
    }
  });

  test('every SageMaker call is a state of its own', () => {
    const resources = allStates(definition)
      .map(([, s]) => s.Resource)
      .filter((r): r is string => typeof r === 'string' && r.includes(':sagemaker:'));
    expect([...new Set(resources)].sort()).toEqual([
      'arn:aws:states:::aws-sdk:sagemaker:deleteEndpoint',
      'arn:aws:states:::aws-sdk:sagemaker:deleteEndpointConfig',
      'arn:aws:states:::aws-sdk:sagemaker:deleteModel',
      'arn:aws:states:::aws-sdk:sagemaker:describeEndpoint',
      'arn:aws:states:::aws-sdk:sagemaker:describeEndpointConfig',
      'arn:aws:states:::aws-sdk:sagemaker:describeModel',
      'arn:aws:states:::aws-sdk:sagemaker:listEndpoints',
      'arn:aws:states:::aws-sdk:sagemaker:updateEndpointWeightsAndCapacities',
      'arn:aws:states:::sagemaker:createEndpoint',
      'arn:aws:states:::sagemaker:createEndpointConfig',
      'arn:aws:states:::sagemaker:createLabelingJob.sync',
      'arn:aws:states:::sagemaker:createModel',
      'arn:aws:states:::sagemaker:createTrainingJob.sync',
      'arn:aws:states:::sagemaker:updateEndpoint',
    ]);
    // Each endpoint change is a state of its own.
    const updates = allStates(definition)
      .filter(([, s]) => s.Resource === 'arn:aws:states:::sagemaker:updateEndpoint')
      .map(([n]) => n);
    expect(updates.sort()).toEqual(['Add challenger', 'Remove challenger', 'Retire champion']);
  });

  test('.sync jobs are never retried (a retry would resubmit the same name); every task has a catch', () => {
    for (const name of ['Label', 'Train']) expect(stateOf(name).Retry).toBeUndefined();
    for (const [name, state] of allStates(definition)) {
      if (state.Type !== 'Task' || name === 'Convert chunk') continue;
      const isTerminalReport = [
        'Report failure',
        'Notify failure',
        'Publish failure event',
        'Notify',
        'Publish event',
        'Delete endpoint config',
        'Delete model',
      ].includes(name);
      if (!isTerminalReport) expect({ name, catch: Array.isArray(state.Catch) }).toEqual({ name, catch: true });
    }
  });

  test('every request-response SageMaker call, the deletions included, retries throttling under the name its integration raises, and nothing else', () => {
    const sagemakerStates = allStates(definition).filter(
      ([, s]) => typeof s.Resource === 'string' && s.Resource.includes(':sagemaker:') && !s.Resource.endsWith('.sync'),
    );
    expect(sagemakerStates.length).toBeGreaterThan(15);
    for (const [name, state] of sagemakerStates) {
      const retried = (state.Retry as { ErrorEquals: string[] }[] | undefined)?.flatMap((r) => r.ErrorEquals);
      // The optimized integration reports throttling as its catch-all exception; AWS SDK integrations
      // name the API's error, with the Exception suffix.
      const expected = String(state.Resource).includes(':aws-sdk:')
        ? ['SageMaker.ThrottlingException']
        : ['SageMaker.AmazonSageMakerException'];
      expect({ name, retried }).toEqual({ name, retried: expected });
    }
  });
});

describe('3-label', () => {
  test("the labeling request carries the region's Ground Truth Lambdas and the workteam", () => {
    expect(stateOf('Label').Parameters).toMatchObject({
      LabelAttributeName: 'segmentation-ref',
      HumanTaskConfig: {
        WorkteamArn: PRIVATE.workforce.workteamArn,
        NumberOfHumanWorkersPerDataObject: 1,
        TaskTimeLimitInSeconds: 1800,
        TaskAvailabilityLifetimeInSeconds: 864000,
        PreHumanTaskLambdaArn: `arn:aws:lambda:us-east-1:${GROUND_TRUTH_LAMBDA_ACCOUNT}:function:PRE-SemanticSegmentation`,
        AnnotationConsolidationConfig: {
          AnnotationConsolidationLambdaArn: `arn:aws:lambda:us-east-1:${GROUND_TRUTH_LAMBDA_ACCOUNT}:function:ACS-SemanticSegmentation`,
        },
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

  test('with labeling.tool "none" there is no labeling state; an images batch ends with how to configure labeling', () => {
    const importOnly = workflowStack({ labeling: { tool: 'none' } });
    expect(allStates(importOnly.definition).map(([n]) => n)).not.toContain('Label');
    expect(JSON.stringify(importOnly.stateOf('No workforce'))).toContain('or a Ground Truth workforce) in the segpipe configuration');
  });
});

describe('4-convert', () => {
  test('converts with a Distributed Map over the chunks a Lambda returns (ItemsPath, no ItemReader)', () => {
    const map = stateOf('Convert chunks');
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.chunks',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
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

describe('6-deploy', () => {
  /** Whether `target` can be reached from the start without passing through `through`. */
  function reachableAvoiding(target: string, through: string): boolean {
    const states = Object.fromEntries(allStates(definition));
    const seen = new Set<string>();
    const queue = [definition.StartAt];
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (name === through || seen.has(name)) continue;
      seen.add(name);
      const s = states[name] as Record<string, any>;
      const next = [
        s.Next,
        s.Default,
        ...(s.Choices ?? []).map((c: { Next: string }) => c.Next),
        ...(s.Catch ?? []).map((c: { Next: string }) => c.Next),
      ];
      queue.push(...next.filter((n): n is string => typeof n === 'string'));
    }
    return seen.has(target);
  }

  test("the run's model joins the serving one as a second variant at zero weight, in one endpoint update", () => {
    const trial = stateOf('Create trial config').Parameters as Record<string, any>;
    expect(trial.ProductionVariants).toEqual([
      expect.objectContaining({
        'VariantName.$': '$.champion.serving.variant.VariantName',
        'ModelName.$': '$.champion.serving.variant.ModelName',
        InitialVariantWeight: 1,
      }),
      expect.objectContaining({
        'VariantName.$': '$.run.names.variant',
        'ModelName.$': '$.run.names.model',
        InstanceType: 'ml.c5.xlarge',
        InitialVariantWeight: 0,
      }),
    ]);
    expect(stateOf('Add challenger').Parameters).toEqual({
      EndpointName: 'segpipe-endpoint',
      'EndpointConfigName.$': '$.run.names.trialConfig',
    });
  });

  test('both variants are called with a target variant before any weight moves or the champion goes', () => {
    const evaluate = stateOf('Evaluate champion and challenger').Parameters as Record<string, any>;
    expect(evaluate).toMatchObject({
      'champion.$': '$.champion.serving.variant.VariantName',
      'challenger.$': '$.run.names.variant',
      'runId.$': '$.run.runId',
    });
    expect(reachableAvoiding('Shift traffic to challenger', 'Evaluate champion and challenger')).toBe(false);
    expect(reachableAvoiding('Retire champion', 'Shift traffic to challenger')).toBe(false);
    expect(reachableAvoiding('Shift traffic to challenger', 'Add challenger')).toBe(false);
    expect(stateOf('Shift traffic to challenger').Parameters).toEqual({
      EndpointName: 'segpipe-endpoint',
      DesiredWeightsAndCapacities: [
        { 'VariantName.$': '$.champion.serving.variant.VariantName', DesiredWeight: 0 },
        { 'VariantName.$': '$.run.names.variant', DesiredWeight: 1 },
      ],
    });
  });

  test("a failed evaluation, shift or retirement puts the endpoint back on the champion's config", () => {
    // After a failed evaluation the endpoint is read again first: only this run's trial config is put back.
    expect((stateOf('Evaluate champion and challenger').Catch as { Next: string }[]).map((c) => c.Next)).toEqual([
      'Read endpoint again (before removing challenger)',
    ]);
    for (const name of ['Shift traffic to challenger', 'Retire champion']) {
      expect((stateOf(name).Catch as { Next: string }[]).map((c) => c.Next)).toEqual(['Remove challenger']);
    }
    expect(stateOf('Remove challenger').Parameters).toEqual({
      EndpointName: 'segpipe-endpoint',
      'EndpointConfigName.$': '$.champion.config',
    });
  });

  test("the evaluation Lambda may invoke the stack's endpoint and nothing else", () => {
    const policies = privateTeam.template.findResources('AWS::IAM::Policy');
    const invoke = Object.values(policies)
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().includes('sagemaker:InvokeEndpoint'));
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0].Resource)).toMatch(/:endpoint\/segpipe-endpoint"\]\]\}$/);
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
    expect({ output: train.OutputDataConfig.KmsKeyId, volume: train.ResourceConfig.VolumeKmsKeyId }).toEqual({
      output: kmsKeyArn,
      volume: kmsKeyArn,
    });
    expect((kms.stateOf('Create endpoint config').Parameters as Record<string, any>).KmsKeyId).toBe(kmsKeyArn);
  });
});
