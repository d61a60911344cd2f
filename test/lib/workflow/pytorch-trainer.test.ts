import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYTORCH_IMAGE_ACCOUNTS } from '../../../lib/pytorch-images';
import { PYTORCH_METRIC_DEFINITIONS, PYTORCH_SOURCE_DIR } from '../../../lib/workflow/pytorch-trainer';
import { apiModelProblems, withPathsFilled } from '../../helpers/sagemaker-api-model';
import { statementsOf } from '../../helpers/stack';
import { ALGORITHM_IMAGE_URI, workflowStack } from '../../helpers/workflow-stack';

/**
 * The PyTorch trainer in the synthesized workflow (training.trainer "pytorch"): its CreateTrainingJob
 * and CreateModel requests, checked against the SageMaker API model; its images, source asset and grants.
 * The script itself is exercised in test/pytorch/trainer.slow.test.ts.
 */
const PYTORCH = workflowStack({
  training: { trainer: 'pytorch', spot: true, pytorch: { instanceType: 'ml.g6.xlarge', model: 'lraspp', imageSize: 384 } },
});
const BUILTIN = workflowStack({});
// CPU training, GPU hosting: the other image of each.
const CPU_TRAINING_GPU_HOSTING = workflowStack({
  training: { trainer: 'pytorch', pytorch: { instanceType: 'ml.c5.xlarge' } },
  hosting: { instanceType: 'ml.g4dn.xlarge' },
});
const train = PYTORCH.stateOf('Train').Parameters as Record<string, any>;
const createModel = PYTORCH.stateOf('Create model').Parameters as Record<string, any>;

describe('CreateTrainingJob for the PyTorch trainer', () => {
  test('is a request the SageMaker API model takes', () => {
    expect(apiModelProblems('CreateTrainingJob', withPathsFilled(train))).toEqual([]);
    // The checker finds what it should: a member the API does not have, a wrong type, a channel name.
    expect(
      apiModelProblems('CreateTrainingJob', {
        ...(withPathsFilled(train) as object),
        Trainer: 'pytorch',
        EnableManagedSpotTraining: 'true',
      }),
    ).toEqual([
      'CreateTrainingJob.Trainer: not a member of CreateTrainingJobRequest',
      'CreateTrainingJob.EnableManagedSpotTraining: a boolean',
    ]);
  });

  test("runs the region's PyTorch 2.8 GPU training image on the PyTorch instance type, with the script's metrics", () => {
    expect(train.AlgorithmSpecification).toEqual({
      TrainingImage: `${PYTORCH_IMAGE_ACCOUNTS['us-east-1']}.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-gpu-py312`,
      TrainingInputMode: 'File',
      MetricDefinitions: PYTORCH_METRIC_DEFINITIONS,
    });
    expect(train.ResourceConfig.InstanceType).toBe('ml.g6.xlarge');
    expect(CPU_TRAINING_GPU_HOSTING.stateOf('Train').Parameters).toMatchObject({
      AlgorithmSpecification: { TrainingImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.8.0-cpu-py312' },
    });
  });

  test('metric definitions read the lines the script prints', () => {
    // The format string the script prints with, filled in by Python itself.
    const script = readFileSync(join(PYTORCH_SOURCE_DIR, 'train.py'), 'utf8');
    const format = /print\('(epoch=%d; train:loss=[^']+)' %/.exec(script)![1];
    const line = execFileSync('python3', ['-c', `print('${format}' % (3, 0.25, 0.5123, 0.9))`]).toString();
    const caught = Object.fromEntries(
      PYTORCH_METRIC_DEFINITIONS.map(({ Name, Regex }) => [Name, Number(new RegExp(Regex).exec(line)?.[1])]),
    );
    expect(caught).toEqual({ 'validation:mIOU': 0.5123, 'validation:pixel_accuracy': 0.9, 'train:loss': 0.25 });
  });

  test('reads the same four manifest channels, and the script from a code channel, as the SageMaker SDK sends it', () => {
    const channels = train.InputDataConfig as Record<string, any>[];
    expect(channels.map((c) => c.ChannelName)).toEqual(['train', 'validation', 'train_annotation', 'validation_annotation', 'code']);
    expect(channels.slice(0, 4)).toEqual((BUILTIN.stateOf('Train').Parameters as Record<string, any>).InputDataConfig);
    const code = channels[4].DataSource.S3DataSource;
    expect(code).toMatchObject({ S3DataType: 'S3Prefix', S3DataDistributionType: 'FullyReplicated' });
    const key = /^s3:\/\/cdk-[a-z0-9]+-assets-\d{12}-us-east-1\/([0-9a-f]{64}\.gz)$/.exec(code.S3Uri)?.[1];
    expect(key).toBeDefined();
    // JSON-encoded as the SDK encodes them; the training toolkit decodes each.
    expect(train.HyperParameters).toEqual({
      sagemaker_program: '"train.py"',
      sagemaker_submit_directory: `"/opt/ml/input/data/code/${key}"`,
      sagemaker_container_log_level: '20',
      model: '"lraspp"',
      backbone: '"mobilenet_v3_large"',
      pretrained: '"auto"',
      epochs: '30',
      batch_size: '8',
      learning_rate: '0.001',
      image_size: '384',
      'num_classes.$': "States.Format('{}', $.channels.numClasses)",
    });
    expect(train).toMatchObject({
      EnableManagedSpotTraining: true,
      CheckpointConfig: { 'S3Uri.$': expect.stringContaining('checkpoints/') },
    });
  });
});

describe('CreateModel for a PyTorch model', () => {
  test('is a request the SageMaker API model takes', () => {
    expect(apiModelProblems('CreateModel', withPathsFilled(createModel))).toEqual([]);
  });

  test("serves with the PyTorch inference image for the hosting instance, running the model's own inference code", () => {
    expect(createModel.PrimaryContainer).toEqual({
      Image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312',
      'ModelDataUrl.$': '$.training.ModelArtifacts.S3ModelArtifacts',
      Environment: {
        SAGEMAKER_PROGRAM: 'inference.py',
        SAGEMAKER_SUBMIT_DIRECTORY: '/opt/ml/model/code',
        SAGEMAKER_CONTAINER_LOG_LEVEL: '20',
        SAGEMAKER_REGION: 'us-east-1',
        SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'image/png',
      },
    });
    const gpuHosting = CPU_TRAINING_GPU_HOSTING.stateOf('Create model').Parameters as Record<string, any>;
    expect(gpuHosting.PrimaryContainer.Image).toBe('763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-gpu-py312');
  });
});

describe('the built-in algorithm stays the default, unchanged', () => {
  test('its requests keep the algorithm image and hold nothing of PyTorch', () => {
    const builtinTrain = BUILTIN.stateOf('Train').Parameters as Record<string, any>;
    expect(builtinTrain.AlgorithmSpecification).toEqual({ TrainingImage: ALGORITHM_IMAGE_URI, TrainingInputMode: 'File' });
    expect((BUILTIN.stateOf('Create model').Parameters as Record<string, any>).PrimaryContainer).toEqual({
      Image: ALGORITHM_IMAGE_URI,
      'ModelDataUrl.$': '$.training.ModelArtifacts.S3ModelArtifacts',
    });
    expect(JSON.stringify(BUILTIN.template.toJSON())).not.toMatch(/pytorch|PyTorch/);
    expect(apiModelProblems('CreateTrainingJob', withPathsFilled(builtinTrain))).toEqual([]);
  });
});

describe('what the PyTorch trainer grants', () => {
  const text = (prefix: string) => JSON.stringify(statementsOf(PYTORCH.template, prefix));

  test('the training role reads the source tarball alone, and pulls the training image', () => {
    const training = statementsOf(PYTORCH.template, 'WorkflowTrainingRole');
    const source = training.find((s) => JSON.stringify(s.Resource).includes('cdk-'));
    expect(source).toMatchObject({ Action: 's3:GetObject' });
    expect(JSON.stringify(source!.Resource)).toMatch(/assets-.*\/[0-9a-f]{64}\.gz"/);
    expect(text('WorkflowTrainingRole')).toContain(':repository/pytorch-training');
    expect(text('WorkflowTrainingRole')).not.toContain(':repository/pytorch-inference');
  });

  test("the model role pulls the inference image, and still the built-in's (a built-in champion keeps serving beside it)", () => {
    expect(text('WorkflowModelRole')).toContain(':repository/pytorch-inference');
    expect(text('WorkflowModelRole')).toContain(':repository/semantic-segmentation');
  });

  test('the stack refuses a region without the PyTorch images', () => {
    const rule = Object.values(PYTORCH.template.toJSON().Rules as Record<string, any>).find((r) => JSON.stringify(r).includes('PyTorch'));
    expect(rule.Assertions[0].Assert['Fn::Contains'][0]).toEqual(Object.keys(PYTORCH_IMAGE_ACCOUNTS).sort());
  });
});
