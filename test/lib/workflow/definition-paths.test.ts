import type { CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CfnKey } from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { CfnSubscription, CfnTopic } from 'aws-cdk-lib/aws-sns';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { resolveConfig } from '../../../lib/config';
import { Label } from '../../../lib/workflow/3-label';
import { PYTORCH_METRIC_DEFINITIONS } from '../../../lib/workflow/pytorch-trainer';
import { hasInstanceStorage } from '../../../lib/workflow/states';
import { type AslDefinition, allStates } from '../../../local/workflow-runner';
import {
  type Answers,
  CHAMPION,
  CHANNEL_SUMMARY,
  CHANNELS,
  ENDPOINT,
  ENDPOINT_EXISTS,
  endpointIs,
  evaluation,
  failure,
  IMAGES,
  inTurn,
  LABELING_OUTPUT,
  MODEL_ARTIFACT,
  NAMES,
  RUN_ID,
  runMocked,
  TASK_PLAN,
  trainingJob,
} from '../../helpers/definition-mocks';
import { bareStack } from '../../helpers/stack';
import { ALGORITHM_IMAGE_URI, DEFINITION_BUCKETS, workflowDefinition } from '../../helpers/workflow-stack';

/**
 * The synthesized definition's routing, executed with every Task state answered by a mock
 * (test/helpers/definition-mocks.ts): each path's states, its end, and the requests the definition
 * builds. Milliseconds an execution; the whole-workflow suites (test/workflow/) run the same paths
 * with the real handlers and S3. `npm run mutate:workflow` runs this file against lib/workflow/'s mutants.
 */

const { inbox, artifacts } = DEFINITION_BUCKETS;
const PRIVATE = {
  labelClasses: ['turtle', 'rock'],
  workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/team' },
};
const BATCH = { batch: 'b', images: IMAGES };
const RUN_TAGS = [
  { Key: 'segpipe:stack', Value: 'Test' },
  { Key: 'segpipe:run', Value: RUN_ID },
];

const START = ['Started by an upload?', 'Prepare run', 'Check training quota', 'Check budget', 'Labels imported?'];
const LABEL = ['Label', 'Use labeling output'];
const CONVERT = ['Plan conversion', 'Convert chunks', 'Convert chunk', 'Assemble channels'];
const TRAIN = ['Train', 'Read metrics', 'mIOU at least the minimum?'];
const LOCK = ['Start waiting for deploy lock', 'Take deploy lock', 'Deploy lock taken?'];
const MODEL = ['Create model', 'Create endpoint config', 'Find endpoint', 'Any endpoint listed?'];
/** A poll that sees the change through on its second look. */
const poll = (label?: string) => {
  const named = (base: string) => (label ? `${base} (${label})` : base);
  return [
    named('Start polling'),
    named('Wait for endpoint'),
    named('Describe endpoint'),
    named('Endpoint in service?'),
    named('Count attempt'),
    named('Waited too long?'),
    named('Wait for endpoint'),
    named('Describe endpoint'),
    named('Endpoint in service?'),
  ];
};
/** A poll that sees the change through on its first look. */
const pollOnce = (label: string) => [
  `Start polling (${label})`,
  `Wait for endpoint (${label})`,
  `Describe endpoint (${label})`,
  `Endpoint in service? (${label})`,
];
const CHALLENGER = [
  'Check endpoint names',
  'Endpoint exists?',
  'Describe serving endpoint',
  'Describe serving config',
  'Describe champion model',
  'Create trial config',
  'Add challenger',
  ...poll('challenger added'),
  'Evaluate champion and challenger',
  'Promote challenger?',
];
const CLEAN_UP = ['Delete trial config', 'Delete endpoint config', 'Delete model', 'Failed or not promoted?'];
const FINISHED = ['Notify', 'Publish event', 'Run finished'];
const FAILED = ['Report failure', 'Notify failure', 'Publish failure event', 'Run failed'];
const TO_TRAINING = [...START, ...LABEL, ...CONVERT, ...TRAIN];
const TO_DEPLOY = [...TO_TRAINING, ...LOCK, ...MODEL];

/** The state the report was given (finish-run's `state`), and its status. */
function reported(calls: Record<string, unknown[]>, state: string) {
  const [input] = calls[state] as { status: string; runId: string; startedAt: string; state: Record<string, any> }[];
  return input;
}

describe('what an execution does not show, read from the definition', () => {
  let gt: AslDefinition;
  let ls: AslDefinition;
  const state = (definition: AslDefinition, name: string) => allStates(definition).find(([n]) => n === name)?.[1];
  beforeAll(() => {
    ({ definition: gt } = workflowDefinition(PRIVATE));
    ({ definition: ls } = workflowDefinition({ labeling: { labelStudio: { pollMinutes: 7 } }, conversion: { maxConcurrency: 17 } }));
  });

  test('how long each wait is (the executions here wait for none)', () => {
    const waits = (definition: AslDefinition) =>
      Object.fromEntries(
        allStates(definition)
          .filter(([, s]) => s.Type === 'Wait')
          .map(([name, s]) => [name, s.Seconds]),
      );
    const endpointWaits = ['', ' (challenger added)', ' (traffic shifted)', ' (champion retired)', ' (challenger removed)'].map((label) => [
      `Wait for endpoint${label}`,
      60,
    ]);
    expect(waits(ls)).toEqual({
      'Wait for quiet': 30,
      'Wait for import turn': 300,
      'Wait for corrections turn': 300,
      'Wait for annotations': 7 * 60,
      'Wait for deploy lock': 60,
      ...Object.fromEntries(endpointWaits),
    });
  });

  test("request-response SageMaker calls retry throttling with backoff; the report's notifications retry any failure", () => {
    const throttling = (error: string) => [{ ErrorEquals: [error], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 4 }];
    expect(state(gt, 'Create model')?.Retry).toEqual(throttling('SageMaker.AmazonSageMakerException'));
    expect(state(gt, 'Delete model')?.Retry).toEqual(throttling('SageMaker.ThrottlingException'));
    expect(state(gt, 'Train')?.Retry).toBeUndefined();
    for (const name of ['Notify', 'Publish event', 'Notify failure', 'Publish failure event', 'Report failure'])
      expect(state(gt, name)?.Retry).toEqual(
        expect.arrayContaining([{ ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 3 }]),
      );
  });

  test('conversion chunks run as many at once as configured; task chunks ten at once', () => {
    expect(state(ls, 'Convert chunks')?.MaxConcurrency).toBe(17);
    expect(state(ls, 'Write Label Studio tasks')?.MaxConcurrency).toBe(10);
    expect(state(ls, 'Convert chunks')?.ItemProcessor).toMatchObject({
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
    });
  });
});

describe('the state machine and its topic, read from their constructs', () => {
  type Built = ReturnType<typeof workflowDefinition>;
  let plain: Built;
  let everything: Built;
  let off: Built;
  beforeAll(() => {
    plain = workflowDefinition(PRIVATE);
    everything = workflowDefinition({
      logging: { level: 'all', includeExecutionData: true },
      storage: { encryption: 'kms' },
      notificationEmail: 'ops@example.com',
    });
    off = workflowDefinition({ logging: { level: 'off' } });
  });
  const machine = ({ workflow }: Built) => workflow.stateMachine.node.defaultChild as CfnStateMachine;
  const topic = ({ workflow }: Built) => workflow.topic.node.defaultChild as CfnTopic;
  const logGroup = ({ stack }: Built) =>
    stack.node.findAll().find((c) => c.node.path === 'Test/Workflow/Logs/Resource') as CfnLogGroup | undefined;

  test('a Standard state machine, traced, whose definition says what a run does', () => {
    expect(machine(plain).stateMachineType).toBe('STANDARD');
    expect(plain.stack.resolve(machine(plain).tracingConfiguration)).toEqual({ enabled: true });
    expect((plain.definition as { Comment?: string }).Comment).toBe(
      'segpipe run: label, convert, train, gate, deploy as a challenger, evaluate, promote or keep the champion',
    );
  });

  test('logs failures by default, without execution data; every state with it when asked; nothing with "off"', () => {
    const group = (built: Built) => ({ 'Fn::GetAtt': [built.stack.getLogicalId(logGroup(built) as CfnElement), 'Arn'] });
    expect(plain.stack.resolve(machine(plain).loggingConfiguration)).toEqual({
      level: 'ERROR',
      includeExecutionData: false,
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: group(plain) } }],
    });
    expect(everything.stack.resolve(machine(everything).loggingConfiguration)).toEqual({
      level: 'ALL',
      includeExecutionData: true,
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: group(everything) } }],
    });
    expect(machine(off).loggingConfiguration).toBeUndefined();
    expect(logGroup(off)).toBeUndefined();
    expect(logGroup(plain)?.retentionInDays).toBe(30);
    expect(logGroup(plain)?.cfnOptions.deletionPolicy).toBe('Delete');
    expect(plain.stack.resolve(logGroup(plain)?.kmsKeyId)).toBeUndefined();
    expect(everything.stack.resolve(logGroup(everything)?.kmsKeyId)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'] });
  });

  test("a data key lets CloudWatch Logs use it for the stack's log groups, and nothing else", () => {
    const key = everything.stack.node
      .findAll()
      .find((c) => (c as { cfnResourceType?: string }).cfnResourceType === 'AWS::KMS::Key') as CfnKey;
    const statements = everything.stack.resolve(key.keyPolicy).Statement as Record<string, unknown>[];
    const logs = statements.filter((statement) => JSON.stringify(statement.Principal).includes('"logs.'));
    expect(logs).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
        Action: ['kms:Decrypt*', 'kms:Describe*', 'kms:Encrypt*', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*'],
              ],
            },
          },
        },
      },
    ]);
  });

  test('the topic: named, encrypted with the AWS-managed SNS key or the data key, and mailed to the configured address', () => {
    expect(topic(plain).displayName).toBe('segpipe runs');
    expect(JSON.stringify(plain.stack.resolve(topic(plain).kmsMasterKeyId))).toContain(':alias/aws/sns"');
    expect(everything.stack.resolve(topic(everything).kmsMasterKeyId)).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'],
    });
    const subscriptions = (built: Built) =>
      built.stack.node
        .findAll()
        .filter((c) => (c as { cfnResourceType?: string }).cfnResourceType === 'AWS::SNS::Subscription') as CfnSubscription[];
    expect(subscriptions(plain)).toEqual([]);
    expect(subscriptions(everything).map((s) => ({ protocol: s.protocol, endpoint: s.endpoint }))).toEqual([
      { protocol: 'email', endpoint: 'ops@example.com' },
    ]);
  });

  test('a Ground Truth workflow without the account of its Lambdas is refused', () => {
    expect(() => workflowDefinition(PRIVATE, { groundTruthLambdaAccount: undefined })).toThrow(
      'SegpipeWorkflow: groundTruthLambdaAccount is required when a workforce is configured',
    );
  });
});

describe('the labeling stage on its own', () => {
  test.each(['writeLabelStudioTasks', 'countAnnotations', 'topic'])('Label Studio labeling without its %s is refused', (missing) => {
    const stack = bareStack();
    const fn = (id: string) => lambda.Function.fromFunctionArn(stack, id, `arn:aws:lambda:us-east-1:123456789012:function:${id}`);
    const props = {
      labeling: resolveConfig({}).labeling,
      workforce: resolveConfig({}).workforce,
      labelClasses: ['turtle'],
      groundTruthRole: iam.Role.fromRoleName(stack, 'Role', 'ground-truth'),
      inboxBucket: s3.Bucket.fromBucketName(stack, 'Inbox', 'inbox'),
      onFailure: new sfn.Pass(stack, 'Failed'),
      writeLabelStudioTasks: fn('write'),
      countAnnotations: fn('count'),
      topic: sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:us-east-1:123456789012:runs'),
    };
    expect(() => new Label(stack, 'Label', { ...props, [missing]: undefined })).toThrow(
      'Label: writeLabelStudioTasks, countAnnotations and topic are required when Label Studio labels',
    );
  });
});

describe('a Ground Truth stack', () => {
  let definition: AslDefinition;
  let handlerOfState: Record<string, string>;
  const run = (input: unknown, ...answers: Answers[]) => runMocked(definition, input, ...answers);
  beforeAll(() => {
    ({ definition, handlerOfState } = workflowDefinition(PRIVATE));
  });

  test('each Lambda state invokes its handler', () => {
    expect(handlerOfState).toEqual({
      'Check batch': 'check-batch',
      'Snapshot batch': 'snapshot-batch',
      'Take import turn': 'take-import-turn',
      'Prepare run': 'prepare-run',
      'Check training quota': 'check-quota',
      'Check budget': 'check-budget',
      'Plan conversion': 'plan-conversion',
      'Convert chunk': 'convert-chunk',
      'Assemble channels': 'assemble-channels',
      'Take deploy lock': 'deploy-lock',
      'Evaluate model': 'evaluate-variants',
      'Evaluate champion and challenger': 'evaluate-variants',
      'Report deployed': 'finish-run',
      'Report not deployed': 'finish-run',
      'Report not promoted': 'finish-run',
      'Report failure': 'finish-run',
    });
  });

  test('each other Task state calls its service action (the mocks answer by state name, so an execution does not show it)', () => {
    const action = (name: string) => `arn:aws:states:::${name}`;
    const actions: Record<string, string[]> = {
      'sagemaker:createLabelingJob.sync': ['Label'],
      'sagemaker:createTrainingJob.sync': ['Train'],
      'sagemaker:createModel': ['Create model'],
      'sagemaker:createEndpointConfig': ['Create endpoint config', 'Create trial config'],
      'aws-sdk:sagemaker:listEndpoints': ['Find endpoint'],
      'sagemaker:createEndpoint': ['Create endpoint'],
      'aws-sdk:sagemaker:describeEndpoint': [
        'Describe endpoint',
        'Describe serving endpoint',
        'Describe endpoint (challenger added)',
        'Read endpoint again (before removing challenger)',
        'Read endpoint again (before promotion)',
        'Describe endpoint (traffic shifted)',
        'Describe endpoint (champion retired)',
        'Describe endpoint (challenger removed)',
      ],
      'aws-sdk:sagemaker:describeEndpointConfig': ['Describe serving config'],
      'aws-sdk:sagemaker:describeModel': ['Describe champion model'],
      'sagemaker:updateEndpoint': ['Add challenger', 'Remove challenger', 'Retire champion'],
      'aws-sdk:sagemaker:updateEndpointWeightsAndCapacities': ['Shift traffic to challenger'],
      'aws-sdk:sagemaker:deleteEndpoint': ['Delete new endpoint'],
      'aws-sdk:sagemaker:deleteEndpointConfig': ['Delete trial config', 'Delete endpoint config'],
      'aws-sdk:sagemaker:deleteModel': ['Delete model'],
      'sns:publish': ['Notify', 'Notify failure'],
      'events:putEvents': ['Publish event', 'Publish failure event'],
    };
    const expected = Object.fromEntries(Object.entries(actions).flatMap(([name, states]) => states.map((state) => [state, action(name)])));
    const resources = Object.fromEntries(
      allStates(definition)
        .filter(([name, state]) => state.Type === 'Task' && !(name in handlerOfState))
        .map(([name, state]) => [name, state.Resource]),
    );
    expect(resources).toEqual(expected);
  });

  test('first deployment: labels, converts, trains, passes the gate, creates the endpoint and evaluates the model alone', async () => {
    const { outcome, calls } = await run(BATCH);
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.path).toEqual([
      ...TO_DEPLOY,
      'Create endpoint',
      ...poll(),
      'Evaluate model',
      'Model good enough?',
      'Report deployed',
      ...FINISHED,
    ]);
    expect(calls['Prepare run']).toEqual([{ runId: RUN_ID, input: BATCH }]);
    expect(calls['Check training quota']).toEqual([{}]);
    expect(calls['Check budget']).toEqual([{ images: 3, mode: 'label' }]);
    expect(calls.Label).toEqual([
      {
        LabelingJobName: NAMES.labelingJob,
        LabelAttributeName: 'segmentation-ref',
        InputConfig: { DataSource: { S3DataSource: { ManifestS3Uri: `s3://${artifacts}/runs/${RUN_ID}/labeling/input.manifest` } } },
        OutputConfig: { S3OutputPath: `s3://${artifacts}/runs/${RUN_ID}/labeling/output/` },
        RoleArn: expect.stringContaining('GroundTruthRole'),
        LabelCategoryConfigS3Uri: `s3://${artifacts}/runs/${RUN_ID}/labeling/categories.json`,
        HumanTaskConfig: {
          WorkteamArn: PRIVATE.workforce.workteamArn,
          UiConfig: { UiTemplateS3Uri: `s3://${artifacts}/runs/${RUN_ID}/labeling/template.liquid` },
          PreHumanTaskLambdaArn: 'arn:aws:lambda:us-east-1:432418664414:function:PRE-SemanticSegmentation',
          AnnotationConsolidationConfig: {
            AnnotationConsolidationLambdaArn: 'arn:aws:lambda:us-east-1:432418664414:function:ACS-SemanticSegmentation',
          },
          TaskTitle: 'Paint the objects in an image',
          TaskDescription: 'Paint every pixel of each turtle, rock',
          TaskKeywords: ['Images', 'image segmentation'],
          NumberOfHumanWorkersPerDataObject: 1,
          TaskTimeLimitInSeconds: 1800,
          TaskAvailabilityLifetimeInSeconds: 864000,
        },
        Tags: RUN_TAGS,
      },
    ]);
    const conversion = { runId: RUN_ID, export: LABELING_OUTPUT, batch: 'b', labelStudioRound: '', labelStudioFiles: '' };
    expect(calls['Plan conversion']).toEqual([conversion]);
    const classes = { location: `s3://${artifacts}/runs/${RUN_ID}/conversion/classes.json`, version: '0123456789abcdef', count: 3 };
    expect(calls['Convert chunk']).toEqual([{ ...conversion, exportVersion: '"etag-1"', chunk: { index: 0, first: 0, last: 2 }, classes }]);
    expect(calls['Assemble channels']).toEqual([{ runId: RUN_ID, batch: 'b', chunks: [{ index: 0, converted: 3, skipped: 0 }], classes }]);
    const channels = ['train', 'validation', 'train_annotation', 'validation_annotation'];
    expect(calls.Train).toEqual([
      {
        TrainingJobName: NAMES.trainingJob,
        AlgorithmSpecification: { TrainingImage: ALGORITHM_IMAGE_URI, TrainingInputMode: 'File' },
        RoleArn: expect.stringContaining('TrainingRole'),
        HyperParameters: { algorithm: 'fcn', backbone: 'resnet-50', epochs: '30', num_classes: '3', num_training_samples: '2' },
        InputDataConfig: channels.map((channel) => ({
          ChannelName: channel,
          ContentType: channel.endsWith('_annotation') ? 'image/png' : 'image/jpeg',
          CompressionType: 'None',
          DataSource: {
            S3DataSource: {
              S3DataType: 'ManifestFile',
              S3DataDistributionType: 'FullyReplicated',
              S3Uri: `${CHANNELS}${channel}.manifest`,
            },
          },
        })),
        OutputDataConfig: { S3OutputPath: `s3://${artifacts}/models/${RUN_ID}/output/` },
        ResourceConfig: { InstanceType: 'ml.p3.2xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
        StoppingCondition: { MaxRuntimeInSeconds: 3600 },
        Tags: RUN_TAGS,
      },
    ]);
    expect(calls['Take deploy lock']).toEqual([{ runId: RUN_ID }]);
    expect(calls['Create model']).toEqual([
      {
        ModelName: NAMES.model,
        ExecutionRoleArn: expect.stringContaining('ModelRole'),
        PrimaryContainer: { Image: ALGORITHM_IMAGE_URI, ModelDataUrl: MODEL_ARTIFACT },
        Tags: RUN_TAGS,
      },
    ]);
    const alone = { VariantName: NAMES.variant, ModelName: NAMES.model, InstanceType: 'ml.c5.xlarge', InitialInstanceCount: 1 };
    expect(calls['Create endpoint config']).toEqual([
      { EndpointConfigName: NAMES.endpointConfig, ProductionVariants: [{ ...alone, InitialVariantWeight: 1 }], Tags: RUN_TAGS },
    ]);
    expect(calls['Find endpoint']).toEqual([{ NameContains: ENDPOINT, MaxResults: 100 }]);
    expect(calls['Create endpoint']).toEqual([{ EndpointName: ENDPOINT, EndpointConfigName: NAMES.endpointConfig, Tags: RUN_TAGS }]);
    expect(calls['Describe endpoint']).toEqual([{ EndpointName: ENDPOINT }, { EndpointName: ENDPOINT }]);
    expect(calls['Evaluate model']).toEqual([
      {
        runId: RUN_ID,
        trainingJob: NAMES.trainingJob,
        classes: CHANNEL_SUMMARY.classes,
        challenger: NAMES.variant,
        challengerImage: ALGORITHM_IMAGE_URI,
      },
    ]);
    // The report gets the whole state, the job descriptions cut to what it reads.
    const report = reported(calls, 'Report deployed');
    expect(report).toMatchObject({ status: 'deployed', runId: RUN_ID, startedAt: expect.any(String) });
    expect(report.state).toEqual({
      ...BATCH,
      run: expect.objectContaining({ runId: RUN_ID, batch: 'b', names: NAMES }),
      estimate: { estimateUsd: 4.2, message: expect.any(String) },
      labeling: {
        LabelingJobName: NAMES.labelingJob,
        LabelCounters: expect.objectContaining({ TotalLabeled: 3 }),
        LabelingJobOutput: { OutputDatasetS3Uri: LABELING_OUTPUT },
      },
      conversion: { export: LABELING_OUTPUT, labelStudioRound: '', labelStudioFiles: '' },
      plan: expect.objectContaining({ entries: 3 }),
      chunks: [{ index: 0, converted: 3, skipped: 0 }],
      channels: CHANNEL_SUMMARY,
      training: {
        TrainingJobName: NAMES.trainingJob,
        TrainingTimeInSeconds: 420,
        BillableTimeInSeconds: 380,
        ModelArtifacts: { S3ModelArtifacts: MODEL_ARTIFACT },
        FinalMetricDataList: trainingJob(0.71).FinalMetricDataList,
      },
      metrics: { miou: [0.71], pixelAccuracy: [0.93] },
      lockWait: { attempt: 0 },
      deployLock: { acquired: true },
      existing: { endpoints: [] },
      poll: { attempt: 1 },
      endpoint: { status: 'InService', config: NAMES.endpointConfig, details: endpointIs('InService', NAMES.endpointConfig) },
      evaluation: evaluation(true),
    });
    expect(calls.Notify).toEqual([
      { TopicArn: expect.stringContaining('Notifications'), Subject: 'segpipe: b deployed', Message: `run ${RUN_ID} deployed` },
    ]);
    expect(calls['Publish event']).toEqual([
      { Entries: [{ Source: 'segpipe', DetailType: 'Segpipe Run Finished', Detail: { runId: RUN_ID, status: 'deployed' } }] },
    ]);
  });

  test('a batch started by an upload waits for quiet, then goes on with its snapshot in place of the event', async () => {
    const snapshot = { imagesManifest: `s3://${artifacts}/batches/b/snapshots/1.manifest`, images: 3, ignored: 0, ignoredList: '' };
    const { outcome, calls } = await run(
      { batch: 'b', generation: 1, extra: 'dropped' },
      { 'Check batch': inTurn({ ready: false, reason: 'last upload 3 s ago', images: 3 }, { ready: true, reason: 'quiet', images: 3 }) },
    );
    expect(outcome.path.slice(0, 8)).toEqual([
      'Started by an upload?',
      'Check batch',
      'Batch settled?',
      'Wait for quiet',
      'Check batch',
      'Batch settled?',
      'Snapshot batch',
      'Anything new?',
    ]);
    expect(outcome.path.slice(8, 10)).toEqual(['Use snapshot', 'Prepare run']);
    expect(calls['Check batch']).toEqual([{ batch: 'b' }, { batch: 'b' }]);
    expect(calls['Snapshot batch']).toEqual([{ batch: 'b', generation: 1 }]);
    expect(calls['Prepare run']).toEqual([
      { runId: RUN_ID, input: { batch: 'b', generation: 1, imagesManifest: snapshot.imagesManifest, imageCount: 3 } },
    ]);
  });

  test('a snapshot with nothing new ends the run at once, succeeded', async () => {
    const { outcome, calls } = await run(
      { batch: 'b', generation: 2 },
      { 'Snapshot batch': { imagesManifest: '', images: 0, ignored: 1, ignoredList: 'x' } },
    );
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.path).toEqual([
      'Started by an upload?',
      'Check batch',
      'Batch settled?',
      'Snapshot batch',
      'Anything new?',
      'Nothing new',
    ]);
    expect(calls['Prepare run']).toBeUndefined();
  });

  test('import: the export converts as it is, without labeling, onto the serving endpoint', async () => {
    const manifest = `s3://${inbox}/labeled/b/output.manifest`;
    const { outcome, calls } = await run({ batch: 'b', manifest }, ENDPOINT_EXISTS);
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.path.slice(0, 7)).toEqual([...START, 'Use imported labels', 'Plan conversion']);
    expect(calls.Label).toBeUndefined();
    expect(calls['Check budget']).toEqual([{ images: 0, mode: 'import' }]);
    expect(calls['Plan conversion']).toEqual([{ runId: RUN_ID, export: manifest, batch: 'b', labelStudioRound: '', labelStudioFiles: '' }]);
  });

  describe('an import started by an upload takes its turn', () => {
    const input = { batch: 'b', export: `s3://${inbox}/labeled/b/output.manifest`, importGeneration: 3 };
    const turn = (...turns: string[]) => ({ 'Take import turn': inTurn(...turns.map((t) => ({ turn: t }))) });

    test('waiting while an earlier run of the export goes on', async () => {
      const { outcome, calls } = await run(input, turn('wait', 'taken'));
      expect(outcome.path.slice(0, 10)).toEqual([
        'Started by an upload?',
        'Start waiting for import turn',
        'Take import turn',
        'Import turn?',
        'Count import turn attempt',
        'Waited too long for the import turn?',
        'Wait for import turn',
        'Take import turn',
        'Import turn?',
        'Import turn taken',
      ]);
      expect(calls['Take import turn']).toEqual([
        { batch: 'b', export: input.export, generation: 3 },
        { batch: 'b', export: input.export, generation: 3 },
      ]);
      expect(calls['Prepare run']).toEqual([{ runId: RUN_ID, input }]);
    });

    test('a generation taken already ends the run, succeeded', async () => {
      const { outcome } = await run(input, turn('stale'));
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path).toEqual([
        'Started by an upload?',
        'Start waiting for import turn',
        'Take import turn',
        'Import turn?',
        'Import taken already',
      ]);
    });

    test('after 288 looks five minutes apart the run fails', async () => {
      const { outcome, calls, entered } = await run(input, turn('wait'));
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'ImportTurnTimeout' });
      expect(entered('Take import turn')).toBe(288);
      expect(outcome.path.slice(-5)).toEqual(['Import turn timed out', ...FAILED]);
      expect(reported(calls, 'Report failure').state.error).toEqual({
        Error: 'ImportTurnTimeout',
        Cause: 'an earlier run of this export had not ended after 288 looks, 5 minutes apart',
      });
    });

    test('a failing turn Lambda fails the run', async () => {
      const { outcome } = await run(input, { 'Take import turn': failure('Error', 'S3 refused') });
      expect(outcome.path).toEqual(['Started by an upload?', 'Start waiting for import turn', 'Take import turn', ...FAILED]);
    });
  });

  test('a stack without Label Studio has no corrections turn: a corrections event runs as any other', async () => {
    const { outcome } = await run({ batch: 'b', correctionsGeneration: 1, images: IMAGES });
    expect(outcome.path.slice(0, 2)).toEqual(['Started by an upload?', 'Prepare run']);
  });

  test.each([
    ['Prepare run', 'EventError'],
    ['Check batch', 'Error'],
    ['Check training quota', 'TrainingQuotaError'],
    ['Check budget', 'BudgetExceeded'],
    ['Label', 'States.TaskFailed'],
    ['Plan conversion', 'ConversionPlanError'],
    ['Assemble channels', 'ChannelCheckError'],
    ['Train', 'States.TaskFailed'],
    ['Take deploy lock', 'Error'],
  ])('%s failing ends the run failed, reported with its error, and nothing after it runs', async (state, error) => {
    const input = state === 'Check batch' ? { batch: 'b', generation: 1 } : BATCH;
    const { outcome, calls } = await run(input, { [state]: failure(error, `${state} said no`) });
    expect(outcome).toMatchObject({ status: 'FAILED', error, cause: `run ${RUN_ID} failed` });
    expect(outcome.path.slice(-5)).toEqual([state, ...FAILED]);
    expect(calls[state]).toHaveLength(1);
    expect(reported(calls, 'Report failure')).toMatchObject({
      status: 'failed',
      runId: RUN_ID,
      state: { error: { Error: error, Cause: `${state} said no` } },
    });
    expect(calls['Notify failure']).toEqual([
      { TopicArn: expect.any(String), Subject: 'segpipe: b failed', Message: `run ${RUN_ID} failed` },
    ]);
    expect(calls['Publish failure event']).toEqual([
      { Entries: [{ Source: 'segpipe', DetailType: 'Segpipe Run Failed', Detail: { runId: RUN_ID, status: 'failed' } }] },
    ]);
    expect(calls['Create model']).toBeUndefined();
  });

  test('a chunk whose Lambda fails is caught in the map and reported by its entries, and the channels decide', async () => {
    const chunks = [
      { index: 0, first: 0, last: 1 },
      { index: 1, first: 2, last: 2 },
    ];
    const { outcome, calls } = await run(BATCH, {
      'Plan conversion': (event: { export: string }) => ({
        export: event.export,
        exportVersion: '"etag-1"',
        format: 'groundtruth',
        classes: { location: 'x', version: 'y', count: 3 },
        entries: 3,
        chunks,
      }),
      'Convert chunk': (event: { chunk: { index: number } }) =>
        event.chunk.index === 1
          ? failure('Sandbox.Timedout', 'Task timed out after 900.00 seconds')
          : { index: 0, converted: 2, skipped: 0 },
    });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.path.filter((s) => s === 'Convert chunk' || s === 'Chunk failed').sort()).toEqual([
      'Chunk failed',
      'Convert chunk',
      'Convert chunk',
    ]);
    expect(calls['Convert chunk']).toHaveLength(2);
    const [assemble] = calls['Assemble channels'] as { chunks: unknown[] }[];
    expect(assemble.chunks).toEqual([
      { index: 0, converted: 2, skipped: 0 },
      { index: 1, first: 2, last: 2, error: 'Sandbox.Timedout' },
    ]);
  });

  describe('the gate on validation mIOU (minimum 0.5)', () => {
    test('below it: the run ends "not deployed" before any model is made', async () => {
      const { outcome, calls } = await run(BATCH, { Train: trainingJob(0.49) });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path).toEqual([...TO_TRAINING, 'Report not deployed', ...FINISHED]);
      expect(reported(calls, 'Report not deployed')).toMatchObject({ status: 'not-deployed', state: { metrics: { miou: [0.49] } } });
      expect(calls['Take deploy lock']).toBeUndefined();
    });

    test('at the minimum exactly, the model goes on to the endpoint', async () => {
      const { outcome } = await run(BATCH, { Train: trainingJob(0.5) });
      expect(outcome.path.slice(TO_TRAINING.length, TO_TRAINING.length + 2)).toEqual(LOCK.slice(0, 2));
    });
  });

  describe('the deploy lock', () => {
    const held = { acquired: false, holder: 'other-run', until: '2026-12-07T20:00:00.000Z' };

    test('held by another run: asked again a minute later', async () => {
      const { outcome, calls } = await run(BATCH, { 'Take deploy lock': inTurn(held, { acquired: true }) });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      const at = TO_TRAINING.length;
      expect(outcome.path.slice(at, at + 8)).toEqual([
        ...LOCK,
        'Count lock attempt',
        'Waited too long for the lock?',
        'Wait for deploy lock',
        'Take deploy lock',
        'Deploy lock taken?',
      ]);
      expect(outcome.path[at + 8]).toBe('Create model');
      expect(calls['Take deploy lock']).toEqual([{ runId: RUN_ID }, { runId: RUN_ID }]);
    });

    test('held past its longest hold (five hours) and a look more: the run fails naming the holder, nothing created', async () => {
      const { outcome, calls, entered } = await run(BATCH, { 'Take deploy lock': held });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'DeployLockTimeout' });
      expect(entered('Take deploy lock')).toBe(301);
      expect(outcome.path.slice(-6)).toEqual(['Waited too long for the lock?', 'Deploy lock timed out', ...FAILED]);
      expect(reported(calls, 'Report failure').state.error).toEqual({
        Error: 'DeployLockTimeout',
        Cause: 'another run (other-run) held the deploy lock after 301 looks, 1 minute apart',
      });
      expect(calls['Create model']).toBeUndefined();
    });
  });

  describe('a first deployment', () => {
    const FIRST = [...TO_DEPLOY, 'Create endpoint', ...poll()];

    test('a model the evaluation refuses: its new endpoint is deleted, then its config and model; "not promoted"', async () => {
      const { outcome, calls } = await run(BATCH, { 'Evaluate model': evaluation(false) });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path).toEqual([
        ...FIRST,
        'Evaluate model',
        'Model good enough?',
        'Delete new endpoint',
        ...CLEAN_UP,
        'Report not promoted',
        ...FINISHED,
      ]);
      expect(calls['Delete new endpoint']).toEqual([{ EndpointName: ENDPOINT }]);
      expect(calls['Delete trial config']).toEqual([{ EndpointConfigName: NAMES.trialConfig }]);
      expect(calls['Delete endpoint config']).toEqual([{ EndpointConfigName: NAMES.endpointConfig }]);
      expect(calls['Delete model']).toEqual([{ ModelName: NAMES.model }]);
      expect(reported(calls, 'Report not promoted')).toMatchObject({ status: 'not-promoted', state: { evaluation: { promote: false } } });
    });

    test("an evaluation that fails: the new endpoint is deleted, and the run fails with the evaluation's error", async () => {
      const { outcome, calls } = await run(BATCH, {
        'Evaluate model': failure('Error', 'only 2 of 5 images answered'),
        'Delete new endpoint': failure('SageMaker.ValidationException', 'gone already'),
      });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'Error' });
      expect(outcome.path).toEqual([...FIRST, 'Evaluate model', 'Delete new endpoint', ...CLEAN_UP, ...FAILED]);
      expect(reported(calls, 'Report failure').state).toMatchObject({
        error: { Error: 'Error', Cause: 'only 2 of 5 images answered' },
        deleteEndpointError: { Error: 'SageMaker.ValidationException', Cause: 'gone already' },
      });
    });

    test.each(['Failed', 'OutOfService', 'UpdateRollbackFailed'])('an endpoint %s: the run fails with its description', async (status) => {
      const description = endpointIs(status, NAMES.endpointConfig, 'The primary container failed to start');
      const { outcome, calls } = await run(BATCH, { 'Describe endpoint': description });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'EndpointFailed' });
      expect(outcome.path).toEqual([...TO_DEPLOY, 'Create endpoint', ...poll().slice(0, 4), 'Endpoint failed', ...FAILED]);
      expect(reported(calls, 'Report failure').state.error).toEqual({ Error: 'EndpointFailed', Cause: JSON.stringify(description) });
    });

    test('an endpoint still creating after 60 looks a minute apart: the run fails', async () => {
      const { outcome, calls, entered } = await run(BATCH, { 'Describe endpoint': endpointIs('Creating', NAMES.endpointConfig) });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'EndpointTimeout' });
      expect(entered('Describe endpoint')).toBe(60);
      expect(outcome.path.slice(-6)).toEqual(['Waited too long?', 'Endpoint timed out', ...FAILED]);
      expect(reported(calls, 'Report failure').state.error).toEqual({
        Error: 'EndpointTimeout',
        Cause: `endpoint ${ENDPOINT} did not reach InService after 60 looks, 1 minute apart`,
      });
    });

    test("an endpoint listed under a longer name is not the stack's: the run creates its own", async () => {
      const { outcome, calls } = await run(BATCH, { 'Find endpoint': { Endpoints: [{ EndpointName: `${ENDPOINT}-old` }] } });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path).toEqual([
        ...TO_DEPLOY,
        'Check endpoint names',
        'Endpoint exists?',
        'Create endpoint',
        ...poll(),
        'Evaluate model',
        'Model good enough?',
        'Report deployed',
        ...FINISHED,
      ]);
      expect(calls['Create endpoint']).toHaveLength(1);
    });

    test.each(['Create model', 'Create endpoint config', 'Find endpoint', 'Create endpoint'])(
      "%s failing deletes the run's config and model, then reports the failure",
      async (state) => {
        const { outcome, calls } = await run(BATCH, { [state]: failure('SageMaker.ResourceLimitExceededException', 'limit') });
        expect(outcome).toMatchObject({ status: 'FAILED', error: 'SageMaker.ResourceLimitExceededException' });
        expect(outcome.path.slice(-9)).toEqual([state, ...CLEAN_UP, ...FAILED]);
        expect(calls['Delete model']).toEqual([{ ModelName: NAMES.model }]);
      },
    );

    test('every clean-up step is tried when the ones before it fail', async () => {
      const { outcome, calls } = await run(BATCH, {
        'Evaluate model': evaluation(false),
        'Delete trial config': failure('SageMaker.ValidationException', 'no such config'),
        'Delete endpoint config': failure('SageMaker.ValidationException', 'no such config'),
        'Delete model': failure('SageMaker.ValidationException', 'no such model'),
      });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path.slice(-8)).toEqual([...CLEAN_UP, 'Report not promoted', ...FINISHED]);
      // Each failed deletion is dropped: the report gets the run's state, with no error in it.
      const { state } = reported(calls, 'Report not promoted');
      expect(state.error).toBeUndefined();
      expect(state.run).toMatchObject({ runId: RUN_ID, names: NAMES });
    });
  });

  describe('a challenger on the serving endpoint', () => {
    const REMOVE = [
      'Read endpoint again (before removing challenger)',
      'Endpoint as left? (before removing challenger)',
      'Remove challenger',
      ...pollOnce('challenger removed'),
    ];

    test('promoted: joins at zero weight, is evaluated beside the champion, gets all the traffic, then the champion is retired', async () => {
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS);
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path).toEqual([
        ...TO_DEPLOY,
        ...CHALLENGER,
        'Read endpoint again (before promotion)',
        'Endpoint as left? (before promotion)',
        'Shift traffic to challenger',
        ...pollOnce('traffic shifted'),
        'Retire champion',
        ...poll('champion retired'),
        'Report deployed',
        ...FINISHED,
      ]);
      expect(calls['Describe serving endpoint']).toEqual([{ EndpointName: ENDPOINT }]);
      expect(calls['Describe serving config']).toEqual([{ EndpointConfigName: CHAMPION.config }]);
      expect(calls['Describe champion model']).toEqual([{ ModelName: CHAMPION.variant.ModelName }]);
      expect(calls['Create trial config']).toEqual([
        {
          EndpointConfigName: NAMES.trialConfig,
          ProductionVariants: [
            CHAMPION.variant,
            {
              VariantName: NAMES.variant,
              ModelName: NAMES.model,
              InstanceType: 'ml.c5.xlarge',
              InitialInstanceCount: 1,
              InitialVariantWeight: 0,
            },
          ],
          Tags: RUN_TAGS,
        },
      ]);
      expect(calls['Add challenger']).toEqual([{ EndpointName: ENDPOINT, EndpointConfigName: NAMES.trialConfig }]);
      expect(calls['Evaluate champion and challenger']).toEqual([
        {
          runId: RUN_ID,
          trainingJob: NAMES.trainingJob,
          classes: CHANNEL_SUMMARY.classes,
          champion: CHAMPION.variant.VariantName,
          championImage: CHAMPION.image,
          challenger: NAMES.variant,
          challengerImage: ALGORITHM_IMAGE_URI,
        },
      ]);
      expect(calls['Read endpoint again (before promotion)']).toEqual([{ EndpointName: ENDPOINT }]);
      expect(calls['Shift traffic to challenger']).toEqual([
        {
          EndpointName: ENDPOINT,
          DesiredWeightsAndCapacities: [
            { VariantName: CHAMPION.variant.VariantName, DesiredWeight: 0 },
            { VariantName: NAMES.variant, DesiredWeight: 1 },
          ],
        },
      ]);
      expect(calls['Retire champion']).toEqual([{ EndpointName: ENDPOINT, EndpointConfigName: NAMES.endpointConfig }]);
      expect(reported(calls, 'Report deployed').state).toMatchObject({
        existing: { exists: true },
        champion: { config: CHAMPION.config, serving: { variant: CHAMPION.variant }, model: { image: CHAMPION.image } },
      });
    });

    test('a champion model that cannot be described is of unknown trainer, not a failure', async () => {
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS, {
        'Describe champion model': failure('SageMaker.ValidationException', 'Could not find model'),
      });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path).toContain('Champion image unknown');
      expect(calls['Evaluate champion and challenger']).toEqual([expect.objectContaining({ championImage: '' })]);
    });

    test('worse: removed, the endpoint back on the champion\'s config, the run\'s config and model deleted; "not promoted"', async () => {
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS, { 'Evaluate champion and challenger': evaluation(false, true) });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path).toEqual([...TO_DEPLOY, ...CHALLENGER, ...REMOVE, ...CLEAN_UP, 'Report not promoted', ...FINISHED]);
      expect(calls['Remove challenger']).toEqual([{ EndpointName: ENDPOINT, EndpointConfigName: CHAMPION.config }]);
      expect(calls['Shift traffic to challenger']).toBeUndefined();
    });

    test("an evaluation failing midway removes the challenger, and the run fails with the evaluation's error", async () => {
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS, {
        'Evaluate champion and challenger': failure('Error', 'variant refused request 3'),
      });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'Error' });
      expect(outcome.path).toEqual([...TO_DEPLOY, ...CHALLENGER.slice(0, -1), ...REMOVE, ...CLEAN_UP, ...FAILED]);
      expect(reported(calls, 'Report failure').state.error).toEqual({ Error: 'Error', Cause: 'variant refused request 3' });
    });

    test('an endpoint changed by someone else during the evaluation is left alone: the run fails', async () => {
      const changed = endpointIs('InService', 'someone-elses-config');
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS, { 'Read endpoint again (before promotion)': changed });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'EndpointChanged' });
      expect(outcome.path.slice(-11)).toEqual([
        'Read endpoint again (before promotion)',
        'Endpoint as left? (before promotion)',
        'Endpoint changed (before promotion)',
        ...CLEAN_UP,
        ...FAILED,
      ]);
      expect(calls['Shift traffic to challenger']).toBeUndefined();
      expect(reported(calls, 'Report failure').state.error).toEqual({ Error: 'EndpointChanged', Cause: JSON.stringify(changed) });
    });

    test.each([
      ['Read endpoint again (before removing challenger)', endpointIs('Updating', NAMES.trialConfig)],
      ['Read endpoint again (before removing challenger)', failure('SageMaker.ThrottlingException', 'Rate exceeded')],
    ])('%s finding the endpoint not as left: the challenger is not removed', async (state, answer) => {
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS, {
        'Evaluate champion and challenger': evaluation(false, true),
        [state]: answer,
      });
      expect(calls['Remove challenger']).toBeUndefined();
      expect(outcome.path.slice(-8)).toEqual([...CLEAN_UP, ...FAILED]);
    });

    test("an update that rolls back: the run fails with the endpoint's description, and deletes what it made", async () => {
      const rolledBack = endpointIs('InService', CHAMPION.config, 'The primary container failed to start');
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS, { 'Describe endpoint (challenger added)': rolledBack });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'EndpointUpdateFailed' });
      expect(outcome.path).toEqual([
        ...TO_DEPLOY,
        ...CHALLENGER.slice(0, 7),
        ...pollOnce('challenger added'),
        'Update rolled back (challenger added)',
        ...CLEAN_UP,
        ...FAILED,
      ]);
      expect(reported(calls, 'Report failure').state.error).toEqual({ Error: 'EndpointUpdateFailed', Cause: JSON.stringify(rolledBack) });
    });

    test('an endpoint that fails while the challenger is added: reported at once', async () => {
      const { outcome } = await run(BATCH, ENDPOINT_EXISTS, {
        'Describe endpoint (challenger added)': endpointIs('Failed', NAMES.trialConfig),
      });
      expect(outcome.path.slice(-6)).toEqual(['Endpoint in service? (challenger added)', 'Endpoint failed (challenger added)', ...FAILED]);
    });

    test.each([
      ['Shift traffic to challenger', failure('SageMaker.ValidationException', 'no such variant')],
      ['Describe endpoint (traffic shifted)', endpointIs('InService', CHAMPION.config)],
      ['Retire champion', failure('SageMaker.ValidationException', 'busy')],
      ['Describe endpoint (champion retired)', endpointIs('InService', NAMES.trialConfig)],
      ['Describe endpoint (champion retired)', endpointIs('Failed', NAMES.trialConfig)],
    ])("%s failing puts the endpoint back on the champion's config", async (state, answer) => {
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS, { [state]: answer });
      expect(outcome).toMatchObject({ status: 'FAILED' });
      expect(calls['Remove challenger']).toEqual([{ EndpointName: ENDPOINT, EndpointConfigName: CHAMPION.config }]);
      expect(outcome.path.slice(-13)).toEqual(['Remove challenger', ...pollOnce('challenger removed'), ...CLEAN_UP, ...FAILED]);
    });

    test.each([
      ['rolled back', endpointIs('InService', NAMES.trialConfig), 'EndpointUpdateFailed'],
      ['failed', endpointIs('Failed', NAMES.trialConfig), 'EndpointFailed'],
    ])("a removal that %s is reported at once: nothing more is the run's to change", async (_, answer, error) => {
      const { outcome, calls } = await run(BATCH, ENDPOINT_EXISTS, {
        'Evaluate champion and challenger': evaluation(false, true),
        'Describe endpoint (challenger removed)': answer,
      });
      expect(outcome).toMatchObject({ status: 'FAILED', error });
      expect(calls['Delete model']).toBeUndefined();
    });

    test('a removal refused by SageMaker is reported at once', async () => {
      const { outcome } = await run(BATCH, ENDPOINT_EXISTS, {
        'Evaluate champion and challenger': evaluation(false, true),
        'Remove challenger': failure('SageMaker.AmazonSageMakerException', 'in progress'),
      });
      expect(outcome.path.slice(-5)).toEqual(['Remove challenger', ...FAILED]);
    });

    test.each(['Describe serving endpoint', 'Describe serving config', 'Create trial config', 'Add challenger'])(
      "%s failing deletes the run's configs and model",
      async (state) => {
        const { outcome } = await run(BATCH, ENDPOINT_EXISTS, { [state]: failure('SageMaker.ResourceLimitExceededException', 'limit') });
        expect(outcome.path.slice(-9)).toEqual([state, ...CLEAN_UP, ...FAILED]);
      },
    );
  });

  describe('retries', () => {
    test("a request-response SageMaker call retries throttling under its integration's name; a job is never retried", async () => {
      const throttled = (name: string, answer: unknown) => inTurn(failure(name, 'Rate exceeded'), answer);
      const { outcome, calls } = await run(BATCH, {
        'Create model': throttled('SageMaker.AmazonSageMakerException', { ModelArn: 'arn' }),
        'Find endpoint': throttled('SageMaker.ThrottlingException', { Endpoints: [] }),
        'Check budget': throttled('Lambda.ServiceException', { estimateUsd: 1, message: 'ok' }),
      });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(calls['Create model']).toHaveLength(2);
      expect(calls['Find endpoint']).toHaveLength(2);
      expect(calls['Check budget']).toHaveLength(2);
      const other = await run(BATCH, { 'Find endpoint': failure('SageMaker.AmazonSageMakerException', 'refused') });
      expect(other.calls['Find endpoint']).toHaveLength(1);
      const job = await run(BATCH, { Train: failure('SageMaker.AmazonSageMakerException', 'Rate exceeded') });
      expect(job.calls.Train).toHaveLength(1);
    });

    test('a throttled call is asked four times more, then its failure is handled', async () => {
      const { outcome, calls } = await run(BATCH, { 'Create endpoint': failure('SageMaker.AmazonSageMakerException', 'Rate exceeded') });
      expect(calls['Create endpoint']).toHaveLength(5);
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'SageMaker.AmazonSageMakerException' });
    });
  });

  describe('the report', () => {
    test("a notification SNS refuses is tried three times more; the event and the run's status follow", async () => {
      const { outcome, calls } = await run(BATCH, { Notify: failure('States.TaskFailed', 'SNS.AuthorizationError') });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(calls.Notify).toHaveLength(4);
      expect(outcome.path.slice(-3)).toEqual(FINISHED);
      expect(outcome.output).toMatchObject({ notificationError: { Error: 'States.TaskFailed', Cause: 'SNS.AuthorizationError' } });
    });

    test('a failure notification refused (any error, as States.TaskFailed matches every one): the failure event follows, and the run fails', async () => {
      const { outcome, calls } = await run(BATCH, {
        Train: failure('States.TaskFailed', 'AlgorithmError'),
        'Notify failure': failure('SNS.InvalidParameter', 'refused'),
      });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
      expect(calls['Notify failure']).toHaveLength(4);
      expect(calls['Publish failure event']).toHaveLength(1);
    });

    test('a failing event or failure report is tried three times more', async () => {
      const event = await run(BATCH, { 'Publish event': inTurn(failure('States.TaskFailed', 'x'), { FailedEntryCount: 0 }) });
      expect(event.outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(event.calls['Publish event']).toHaveLength(2);
      const failed = await run(BATCH, {
        Train: failure('States.TaskFailed', 'AlgorithmError'),
        'Report failure': inTurn(failure('States.TaskFailed', 'S3 slow'), (e: { status: string }) => ({
          subject: 's',
          message: e.status,
          detail: {},
          reportUri: 'u',
        })),
        'Publish failure event': inTurn(
          failure('States.TaskFailed', 'x'),
          failure('States.TaskFailed', 'x'),
          failure('States.TaskFailed', 'x'),
          {},
        ),
      });
      expect(failed.calls['Report failure']).toHaveLength(2);
      expect(failed.calls['Publish failure event']).toHaveLength(4);
      expect(failed.outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed', cause: 'failed' });
    });

    test.each(['Report deployed', 'Report not deployed'])('%s failing is reported as a failure', async (state) => {
      const { outcome, calls } = await run(BATCH, {
        Train: trainingJob(state === 'Report deployed' ? 0.7 : 0.1),
        [state]: failure('Error', 'S3 refused the report'),
      });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'Error' });
      expect(outcome.path.slice(-5)).toEqual([state, ...FAILED]);
      expect(calls.Notify).toBeUndefined();
    });

    test('Report not promoted failing is reported as a failure', async () => {
      const { outcome } = await run(BATCH, { 'Evaluate model': evaluation(false), 'Report not promoted': failure('Error', 'S3') });
      expect(outcome.path.slice(-5)).toEqual(['Report not promoted', ...FAILED]);
    });
  });
});

describe('a stack without labeling (labeling.tool "none")', () => {
  let definition: AslDefinition;
  beforeAll(() => {
    ({ definition } = workflowDefinition({ labeling: { tool: 'none' } }));
  });

  test('an images batch ends at once, failed, saying how to configure labeling', async () => {
    const { outcome, calls } = await runMocked(definition, BATCH);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'NoWorkforceConfigured' });
    expect(outcome.path).toEqual([...START, 'No workforce', ...FAILED]);
    expect(reported(calls, 'Report failure').state.error).toEqual({
      Error: 'NoWorkforceConfigured',
      Cause:
        'This stack labels nothing (labeling.tool "none"): import labels under labeled/<batch>/, or set labeling.tool to "labelstudio" (or a Ground Truth workforce) in the segpipe configuration, deploy, and drop _START into the batch.',
    });
  });

  test('an import converts', async () => {
    const { outcome } = await runMocked(definition, { batch: 'b', manifest: `s3://${inbox}/labeled/b/output.manifest` });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.path.slice(0, 7)).toEqual([...START, 'Use imported labels', 'Plan conversion']);
  });
});

describe('a Label Studio stack (the default)', () => {
  let definition: AslDefinition;
  const labelStudioRun = (event: { runId: string; input: { batch: string } }) => ({
    runId: event.runId,
    batch: event.input.batch,
    mode: 'label',
    names: NAMES,
    labelStudio: TASK_PLAN,
    images: 3,
  });
  const run = (input: unknown, ...answers: Answers[]) => runMocked(definition, input, { 'Prepare run': labelStudioRun }, ...answers);
  const ROUND_FILES = `s3://artifacts/runs/${RUN_ID}/labelstudio/files.json`;
  beforeAll(() => {
    ({ definition } = workflowDefinition({}));
  });

  test('tasks written chunk by chunk, announced, then counted until annotated; the round converts', async () => {
    const { outcome, calls } = await run(BATCH, {
      'Write task chunk': (event: { chunk: { index: number }; progress: { next?: number } }) =>
        event.chunk.index === 1 && event.progress.next === 0
          ? { index: 1, tasks: 1, predicted: 0, prelabels: 'without pre-labels: no model has been trained yet', next: 1 }
          : { index: event.chunk.index, tasks: 1, predicted: 0, prelabels: 'without pre-labels: no model has been trained yet' },
      'Count annotations': inTurn(
        { annotated: 1, tasks: 3, state: 'waiting', reason: '1 of 3 annotated' },
        { annotated: 3, tasks: 3, state: 'complete', reason: 'every task annotated', labelStudioFiles: ROUND_FILES },
      ),
    });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    const write = outcome.path.indexOf('Write Label Studio tasks');
    expect(outcome.path.slice(0, write)).toEqual(START);
    expect(outcome.path.filter((s) => s === 'Write task chunk')).toHaveLength(3);
    const after = outcome.path.indexOf('Note pre-labels once');
    expect(outcome.path.slice(after, after + 8)).toEqual([
      'Note pre-labels once',
      'Notify tasks ready',
      'Count annotations',
      'Annotated?',
      'Wait for annotations',
      'Count annotations',
      'Annotated?',
      'Use Label Studio annotations',
    ]);
    expect(outcome.path[after + 8]).toBe('Plan conversion');
    const chunk = (index: number, next: number) => ({ runId: RUN_ID, batch: 'b', round: '1', chunk: { index }, progress: { next } });
    expect(calls['Write task chunk']).toEqual(
      expect.arrayContaining([
        chunk(0, 0),
        chunk(1, 0),
        { ...chunk(1, 0), progress: { index: 1, tasks: 1, predicted: 0, prelabels: expect.any(String), next: 1 } },
      ]),
    );
    expect(calls['Notify tasks ready']).toEqual([
      {
        TopicArn: expect.stringContaining('Notifications'),
        Subject: 'segpipe: Label Studio tasks ready',
        Message: `3 Label Studio tasks of batch b are ready under ${TASK_PLAN.tasksPrefix}: sync the source storage on that prefix to label them. The run goes on when every one is annotated (or at the deadline, with labeling.labelStudio.minLabeledFraction of them). Pre-labels from the serving model: ["without pre-labels: no model has been trained yet"] (the task writer's log has each image's reason).`,
      },
    ]);
    const count = { runId: RUN_ID, batch: 'b', round: '1', tasks: 3, since: expect.any(String) };
    expect(calls['Count annotations']).toEqual([count, count]);
    // The round's files, as the count listed them.
    expect(calls['Plan conversion']).toEqual([
      { runId: RUN_ID, export: `s3://${inbox}/labelstudio/annotations/`, batch: 'b', labelStudioRound: '1', labelStudioFiles: ROUND_FILES },
    ]);
    const report = reported(calls, 'Report deployed').state;
    expect(report.labelStudioTasks).toEqual({ chunks: 2, prelabels: ['without pre-labels: no model has been trained yet'] });
    expect(report.conversion).toEqual({
      export: `s3://${inbox}/labelstudio/annotations/`,
      labelStudioRound: '1',
      labelStudioFiles: ROUND_FILES,
    });
  });

  test('enough annotated at the deadline: the run goes on', async () => {
    const { outcome } = await run(BATCH, {
      'Count annotations': { annotated: 2, tasks: 3, state: 'enough', reason: '2 of 3', labelStudioFiles: ROUND_FILES },
    });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.path).toContain('Use Label Studio annotations');
    expect(outcome.path).not.toContain('Wait for annotations');
  });

  test("too few annotated at the deadline: the run fails with the count's reason", async () => {
    const { outcome, calls } = await run(BATCH, {
      'Count annotations': { annotated: 1, tasks: 3, state: 'short', reason: 'only 1 of 3 tasks annotated' },
    });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'LabelingDeadline' });
    expect(outcome.path.slice(-7)).toEqual(['Count annotations', 'Annotated?', 'Too few annotations', ...FAILED]);
    expect(reported(calls, 'Report failure').state.error).toEqual({ Error: 'LabelingDeadline', Cause: 'only 1 of 3 tasks annotated' });
  });

  test('a notification that fails does not stop labeling', async () => {
    const { outcome, calls } = await run(BATCH, { 'Notify tasks ready': failure('SNS.KMSDisabled', 'key disabled') });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    expect(calls['Notify tasks ready']).toHaveLength(1);
    expect(reported(calls, 'Report deployed').state).not.toHaveProperty('error');
  });

  test.each(['Write task chunk', 'Count annotations'])('%s failing fails the run', async (state) => {
    const { outcome } = await run(BATCH, { [state]: failure('Error', 'S3 refused') });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'Error' });
    expect(outcome.path.slice(-4)).toEqual(FAILED);
  });

  describe('a corrections run takes its turn', () => {
    const input = { batch: 'b', correctionsGeneration: 2 };
    test('waiting while an earlier one goes on, then converting the files kept for it', async () => {
      const { outcome, calls } = await run(input, {
        'Take corrections turn': inTurn(
          { turn: 'wait', files: 0 },
          {
            turn: 'taken',
            files: 2,
            export: `s3://${inbox}/labelstudio/annotations/`,
            labelStudioFiles: `s3://${artifacts}/runs/${RUN_ID}/labelstudio/files.json`,
          },
        ),
      });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path.slice(0, 11)).toEqual([
        'Started by an upload?',
        'Start waiting for corrections turn',
        'Take corrections turn',
        'Corrections turn?',
        'Count corrections turn attempt',
        'Waited too long for the corrections turn?',
        'Wait for corrections turn',
        'Take corrections turn',
        'Corrections turn?',
        'Corrections turn taken',
        'Prepare run',
      ]);
      expect(calls['Take corrections turn']).toEqual([
        { runId: RUN_ID, batch: 'b', generation: 2 },
        { runId: RUN_ID, batch: 'b', generation: 2 },
      ]);
      expect(calls['Prepare run']).toEqual([
        {
          runId: RUN_ID,
          input: {
            batch: 'b',
            correctionsGeneration: 2,
            export: `s3://${inbox}/labelstudio/annotations/`,
            labelStudioFiles: `s3://${artifacts}/runs/${RUN_ID}/labelstudio/files.json`,
          },
        },
      ]);
    });

    test.each([
      [{ turn: 'taken', files: 0 }, 'No corrections'],
      [{ turn: 'stale', files: 0 }, 'Corrections taken already'],
    ])('%j ends the run, succeeded, at %s', async (turn, end) => {
      const { outcome } = await run(input, { 'Take corrections turn': turn });
      expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
      expect(outcome.path).toEqual([
        'Started by an upload?',
        'Start waiting for corrections turn',
        'Take corrections turn',
        'Corrections turn?',
        end,
      ]);
    });

    test('after 288 looks the run fails', async () => {
      const { outcome, calls, entered } = await run(input, { 'Take corrections turn': { turn: 'wait', files: 0 } });
      expect(outcome).toMatchObject({ status: 'FAILED', error: 'CorrectionsTurnTimeout' });
      expect(entered('Take corrections turn')).toBe(288);
      expect(reported(calls, 'Report failure').state.error).toEqual({
        Error: 'CorrectionsTurnTimeout',
        Cause: "the batch's earlier corrections run, or a labeling round's conversion, had not ended after 288 looks, 5 minutes apart",
      });
    });

    test('a corrections run converts the files of its list as an import', async () => {
      const files = `s3://${artifacts}/runs/${RUN_ID}/labelstudio/files.json`;
      const { outcome, calls } = await run(input, {
        'Prepare run': (event: { runId: string; input: { batch: string; export: string; labelStudioFiles: string } }) => ({
          runId: event.runId,
          batch: event.input.batch,
          mode: 'import',
          names: NAMES,
          export: event.input.export,
          labelStudioFiles: event.input.labelStudioFiles,
          images: 0,
        }),
      });
      expect(outcome.path).toContain('Use imported labels');
      expect(calls['Plan conversion']).toEqual([
        { runId: RUN_ID, export: `s3://${inbox}/labelstudio/annotations/`, batch: 'b', labelStudioRound: '', labelStudioFiles: files },
      ]);
    });
  });
});

describe('a customer key', () => {
  let ownStorage: AslDefinition;
  let plain: AslDefinition;
  beforeAll(() => {
    const keyed = (instanceType?: string) =>
      workflowDefinition({
        ...PRIVATE,
        storage: { encryption: 'kms' },
        ...(instanceType ? { training: { instanceType }, hosting: { instanceType } } : {}),
      }).definition;
    plain = keyed();
    ownStorage = keyed('ml.g4dn.xlarge');
  });
  const KEY = expect.stringMatching(/^arn:aws:local:us-east-1:123456789012:DataKey/);

  test('encrypts the labeling output, the model artifacts, and the training and endpoint volumes', async () => {
    const { calls } = await runMocked(plain, BATCH, ENDPOINT_EXISTS);
    expect(calls.Label).toEqual([expect.objectContaining({ OutputConfig: { S3OutputPath: expect.any(String), KmsKeyId: KEY } })]);
    expect(calls.Train).toEqual([
      expect.objectContaining({
        OutputDataConfig: { S3OutputPath: expect.any(String), KmsKeyId: KEY },
        ResourceConfig: { InstanceType: 'ml.p3.2xlarge', InstanceCount: 1, VolumeSizeInGB: 30, VolumeKmsKeyId: KEY },
      }),
    ]);
    expect(calls['Create endpoint config']).toEqual([expect.objectContaining({ KmsKeyId: KEY })]);
    expect(calls['Create trial config']).toEqual([expect.objectContaining({ KmsKeyId: KEY })]);
  });

  test('but not for the volumes of instances with storage of their own, which SageMaker refuses', async () => {
    const { calls } = await runMocked(ownStorage, BATCH, ENDPOINT_EXISTS);
    expect(calls.Train).toEqual([
      expect.objectContaining({
        OutputDataConfig: { S3OutputPath: expect.any(String), KmsKeyId: KEY },
        ResourceConfig: { InstanceType: 'ml.g4dn.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      }),
    ]);
    expect(calls['Create endpoint config']).toEqual([expect.not.objectContaining({ KmsKeyId: expect.anything() })]);
    expect(calls['Create trial config']).toEqual([expect.not.objectContaining({ KmsKeyId: expect.anything() })]);
  });
});

test.each([
  ['ml.c5d.xlarge', true],
  ['ml.g4dn.xlarge', true],
  ['ml.p3dn.24xlarge', true],
  ['ml.g5.2xlarge', true],
  ['ml.g6e.xlarge', true],
  ['ml.p4de.24xlarge', true],
  ['ml.p5en.48xlarge', true],
  ['ml.p3.2xlarge', false],
  ['ml.c5.xlarge', false],
  ['ml.g5dx.xlarge', false],
  ['ml.xg5.xlarge', false],
  ['ml.g5x.xlarge', false],
  ['ml.dnx.xlarge', false],
  ['g4dn', false],
])('%s has storage of its own (no KMS key for its volume): %s', (instanceType, own) => {
  expect(hasInstanceStorage(instanceType)).toBe(own);
});

describe('a public workforce, spot training', () => {
  const CLASSES = Array.from({ length: 12 }, (_, i) => `sea turtle of kind ${i + 1}`);
  let definition: AslDefinition;
  beforeAll(() => {
    ({ definition } = workflowDefinition({
      // Enough classes that the task's description is cut to the 255 characters SageMaker takes.
      labelClasses: CLASSES,
      workforce: { type: 'public', publicTaskPriceUsd: 0.84, attestNoPersonalData: true, attestNoAdultContent: true, workersPerObject: 3 },
      training: { spot: true, maxRuntimeSeconds: 7200, epochs: 12, hyperparameters: { learning_rate: 0.01 } },
    }));
  });

  test("the public crowd's team, its price per task, the content the user attested to, a description SageMaker takes; spot training checkpoints", async () => {
    const { calls } = await runMocked(definition, BATCH);
    expect(calls.Label).toEqual([
      expect.objectContaining({
        InputConfig: {
          DataSource: { S3DataSource: { ManifestS3Uri: expect.any(String) } },
          DataAttributes: { ContentClassifiers: ['FreeOfPersonallyIdentifiableInformation', 'FreeOfAdultContent'] },
        },
        HumanTaskConfig: expect.objectContaining({
          WorkteamArn: 'arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default',
          TaskDescription: `Paint every pixel of each ${CLASSES.join(', ')}`.slice(0, 255),
          NumberOfHumanWorkersPerDataObject: 3,
          PublicWorkforceTaskPrice: { AmountInUsd: { Dollars: 0, Cents: 84, TenthFractionsOfACent: 0 } },
        }),
      }),
    ]);
    expect(`Paint every pixel of each ${CLASSES.join(', ')}`.length).toBeGreaterThan(255);
    expect(calls.Train).toEqual([
      expect.objectContaining({
        HyperParameters: {
          learning_rate: '0.01',
          algorithm: 'fcn',
          backbone: 'resnet-50',
          epochs: '12',
          num_classes: '3',
          num_training_samples: '2',
        },
        StoppingCondition: { MaxRuntimeInSeconds: 7200, MaxWaitTimeInSeconds: 14400 },
        EnableManagedSpotTraining: true,
        CheckpointConfig: { S3Uri: 's3://artifacts/models/run-1/checkpoints/' },
      }),
    ]);
  });
});

describe('the PyTorch trainer', () => {
  let definition: AslDefinition;
  beforeAll(() => {
    ({ definition } = workflowDefinition({ training: { trainer: 'pytorch', pytorch: { instanceType: 'ml.g5.xlarge' } } }));
  });

  test("trains with the region's PyTorch image and the script on its own instance type; the model serves with its own inference code", async () => {
    const { outcome, calls } = await runMocked(definition, BATCH, ENDPOINT_EXISTS, {
      'Prepare run': (event: { runId: string; input: { batch: string } }) => ({
        runId: event.runId,
        batch: event.input.batch,
        mode: 'label',
        names: NAMES,
        labelStudio: TASK_PLAN,
        images: 3,
      }),
    });
    expect(outcome).toMatchObject({ status: 'SUCCEEDED' });
    const images = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-';
    const [train] = calls.Train as Record<string, any>[];
    expect(train.AlgorithmSpecification).toEqual({
      TrainingImage: expect.stringMatching(`^${images}training:.+-gpu-`),
      TrainingInputMode: 'File',
      MetricDefinitions: PYTORCH_METRIC_DEFINITIONS,
    });
    expect(Object.keys(train.HyperParameters).sort()).toEqual([
      'backbone',
      'batch_size',
      'epochs',
      'image_size',
      'learning_rate',
      'model',
      'num_classes',
      'pretrained',
      'sagemaker_container_log_level',
      'sagemaker_program',
      'sagemaker_submit_directory',
    ]);
    expect(train.HyperParameters).toMatchObject({ sagemaker_program: '"train.py"', num_classes: '3' });
    expect(train.InputDataConfig.map((channel: { ChannelName: string }) => channel.ChannelName)).toEqual([
      'train',
      'validation',
      'train_annotation',
      'validation_annotation',
      'code',
    ]);
    expect(train.ResourceConfig).toEqual({ InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 });
    const inferenceImage = expect.stringMatching(`^${images}inference:.+-cpu-`);
    expect(calls['Create model']).toEqual([
      expect.objectContaining({
        PrimaryContainer: expect.objectContaining({
          Image: inferenceImage,
          ModelDataUrl: MODEL_ARTIFACT,
          Environment: expect.objectContaining({ SAGEMAKER_PROGRAM: 'inference.py' }),
        }),
      }),
    ]);
    expect(calls['Evaluate champion and challenger']).toEqual([expect.objectContaining({ challengerImage: inferenceImage })]);
  });
});
