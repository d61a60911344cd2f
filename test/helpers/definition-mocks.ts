import type { LabelCounters, LabelingJobOutput } from '@aws-sdk/client-sagemaker';
import type { RunEvaluationResult } from '../../lambda/evaluation/run-evaluation';
import type { PreparedRun } from '../../lambda/handlers/prepare-run';
import type { CorrectionsTurn } from '../../lambda/labelstudio/corrections';
import type { LabelingProgress, TaskChunkSummary, TaskPlan } from '../../lambda/labelstudio/workflow-tasks';
import type { BatchReadiness, BatchSnapshot } from '../../lambda/workflow/batch';
import type { ChannelSummary, ChunkSummary, ConversionChunk, ConversionPlan } from '../../lambda/workflow/dataset';
import type { LockAnswer } from '../../lambda/workflow/deploy-lock';
import type { ImportTurn } from '../../lambda/workflow/import-turns';
import { endpointName, type RunResourceNames } from '../../lambda/workflow/names';
import { type AslDefinition, allStates, runWorkflow, type TaskHandler, type WorkflowOutcome } from '../../local/workflow-runner';
import { DEFINITION_BUCKETS } from './workflow-stack';

/**
 * Every Task state of the workflow's definition answered by a canned response, as Step Functions
 * Local's mocked service integrations do: the Lambda states as their handlers return (their return
 * types), the SageMaker, SNS and EventBridge states as those services answer. The definition's
 * routing and the parameters it builds are then checked in milliseconds an execution, with no S3
 * and no handler (test/lib/workflow/definition-paths.test.ts). The defaults are a first deployment
 * of a Ground Truth run; a test replaces the answers of the states its path takes otherwise.
 */

const { inbox, artifacts } = DEFINITION_BUCKETS;
export const RUN_ID = 'run-1';
/** The endpoint of a workflow made by `workflowDefinition` (resource prefix `segpipe`). */
export const ENDPOINT = endpointName('segpipe');
export const NAMES: RunResourceNames = {
  labelingJob: 'segpipe-label-run-1',
  trainingJob: 'segpipe-train-run-1',
  model: 'segpipe-model-run-1',
  endpointConfig: 'segpipe-config-run-1',
  trialConfig: 'segpipe-trial-run-1',
  variant: 'segpipe-variant-run-1',
};
/** What the endpoint serves before a challenger joins it. */
export const CHAMPION = {
  config: 'segpipe-config-previous',
  variant: {
    VariantName: 'AllTraffic',
    ModelName: 'segpipe-model-previous',
    InstanceType: 'ml.c5.xlarge',
    InitialInstanceCount: 1,
    InitialVariantWeight: 1,
  },
  image: '811284229777.dkr.ecr.us-east-1.amazonaws.com/semantic-segmentation:1',
};
export const IMAGES = [`s3://${inbox}/images/b/0.jpg`, `s3://${inbox}/images/b/1.jpg`, `s3://${inbox}/images/b/2.jpg`];
export const CHANNELS = `s3://${artifacts}/runs/${RUN_ID}/channels/`;
export const MODEL_ARTIFACT = `s3://${artifacts}/models/${RUN_ID}/output/${NAMES.trainingJob}/output/model.tar.gz`;
export const LABELING_OUTPUT = `s3://${artifacts}/runs/${RUN_ID}/labeling/output/${NAMES.labelingJob}/manifests/output/output.manifest`;

/** An answer: a value, an error to throw, or made from the state's input and how many times the state ran before. */
export type Answer = unknown;
export type Answers = Record<string, Answer>;

/** The SageMaker (or Lambda) failure a Task state reports as `Error` / `Cause`. */
export function failure(error: string, cause: string): Error {
  return Object.assign(new Error(cause), { name: error });
}

/** Answers in turn, one a call, the last one repeated. */
export function inTurn(...answers: Answer[]): (input: unknown, call: number) => Answer {
  return (input, call) => {
    const answer = answers[Math.min(call, answers.length - 1)];
    return typeof answer === 'function' ? answer(input, call) : answer;
  };
}

/** `DescribeEndpoint`'s answer. */
export function endpointIs(status: string, config: string, failureReason?: string) {
  return {
    EndpointName: ENDPOINT,
    EndpointStatus: status,
    EndpointConfigName: config,
    ...(failureReason ? { FailureReason: failureReason } : {}),
  };
}

const prepared = (event: { runId: string; input: Record<string, string> }): PreparedRun => {
  const labels = event.input.export ?? event.input.manifest;
  return labels
    ? { runId: event.runId, batch: event.input.batch, mode: 'import', names: NAMES, export: labels, labelStudioFiles: '', images: 0 }
    : {
        runId: event.runId,
        batch: event.input.batch,
        mode: 'label',
        names: NAMES,
        labeling: {
          inputManifestUri: `s3://${artifacts}/runs/${RUN_ID}/labeling/input.manifest`,
          labelCategoriesUri: `s3://${artifacts}/runs/${RUN_ID}/labeling/categories.json`,
          uiTemplateUri: `s3://${artifacts}/runs/${RUN_ID}/labeling/template.liquid`,
          outputPath: `s3://${artifacts}/runs/${RUN_ID}/labeling/output/`,
        },
        images: IMAGES.length,
      };
};

/** A Label Studio run's plan (prepare-run's `labelStudio`). */
export const TASK_PLAN: TaskPlan = {
  round: '1',
  tasksPrefix: `s3://${inbox}/labelstudio/tasks/b/1/`,
  tasks: 3,
  chunks: [{ index: 0 }, { index: 1 }],
};

export const ONE_CHUNK: ConversionChunk[] = [{ index: 0, first: 0, last: 2 }];
const plan = (event: { export: string }): ConversionPlan => ({
  export: event.export,
  exportVersion: '"etag-1"',
  format: 'groundtruth',
  classes: { location: `s3://${artifacts}/runs/${RUN_ID}/conversion/classes.json`, version: '0123456789abcdef', count: 3 },
  entries: 3,
  chunks: ONE_CHUNK,
});

export const CHANNEL_SUMMARY: ChannelSummary = {
  channels: CHANNELS,
  classes: ['BACKGROUND', 'turtle', 'rock'],
  numClasses: 3,
  numTrainingSamples: 2,
  numValidationSamples: 1,
  converted: 3,
  skipped: 0,
  skippedItems: [],
  failedChunks: 0,
  duplicatesAcrossSplits: 0,
};

/** CreateTrainingJob.sync's answer: DescribeTrainingJob of the finished job. */
export function trainingJob(miou: number | undefined) {
  return {
    TrainingJobName: NAMES.trainingJob,
    TrainingJobStatus: 'Completed',
    TrainingTimeInSeconds: 420,
    BillableTimeInSeconds: 380,
    ModelArtifacts: { S3ModelArtifacts: MODEL_ARTIFACT },
    FinalMetricDataList: [
      { MetricName: 'validation:pixel_accuracy', Value: 0.93 },
      ...(miou === undefined ? [] : [{ MetricName: 'validation:mIOU', Value: miou }]),
      { MetricName: 'train:loss', Value: 0.2 },
    ],
    HyperParameters: { epochs: '30' },
  };
}

/** evaluate-variants's answer. */
export function evaluation(promote: boolean, champion = false): RunEvaluationResult {
  return {
    promote,
    reason: promote ? 'the challenger is not worse than the champion' : 'the challenger is worse than the champion',
    images: 5,
    ...(champion ? { champion: { variant: CHAMPION.variant.VariantName, miou: 0.8, pixelAccuracy: 0.9 } } : {}),
    challenger: { variant: NAMES.variant, miou: promote ? 0.8 : 0.6, pixelAccuracy: 0.9 },
    metricsUri: `s3://${artifacts}/runs/${RUN_ID}/evaluation/metrics.json`,
    reportUri: `s3://${artifacts}/runs/${RUN_ID}/evaluation/report.html`,
    reportConsoleUrl: 'https://console.aws.amazon.com/s3/object/artifacts',
  };
}

const labelingJob = {
  LabelingJobName: NAMES.labelingJob,
  LabelingJobStatus: 'Completed',
  LabelCounters: { TotalLabeled: 3, HumanLabeled: 3, MachineLabeled: 0, FailedNonRetryableError: 0, Unlabeled: 0 } satisfies LabelCounters,
  LabelingJobOutput: { OutputDatasetS3Uri: LABELING_OUTPUT } satisfies LabelingJobOutput,
  RoleArn: 'arn:aws:iam::123456789012:role/ground-truth',
};

/** finish-run's answer: the notification's subject and message, and the event's detail. */
const finished = (event: { status: string }) => ({
  subject: `segpipe: b ${event.status}`,
  message: `run ${RUN_ID} ${event.status}`,
  detail: { runId: RUN_ID, status: event.status },
  reportUri: `s3://${artifacts}/runs/${RUN_ID}/report.json`,
});

const inService = (config: string) => endpointIs('InService', config);

/** The answers of a first deployment's run, and of a promoted challenger's states. */
export const DEFAULT_ANSWERS: Answers = {
  'Check batch': { ready: true, reason: 'quiet for 60 s', images: 3 } satisfies BatchReadiness,
  'Snapshot batch': {
    imagesManifest: `s3://${artifacts}/batches/b/snapshots/1.manifest`,
    images: 3,
    ignored: 0,
    ignoredList: '',
  } satisfies BatchSnapshot,
  'Take import turn': { turn: 'taken' satisfies ImportTurn },
  'Take corrections turn': {
    turn: 'taken',
    files: 2,
    export: `s3://${inbox}/labelstudio/annotations/`,
    labelStudioFiles: `s3://${artifacts}/runs/${RUN_ID}/labelstudio/files.json`,
  } satisfies CorrectionsTurn,
  'Prepare run': prepared,
  'Check training quota': { message: 'quota "ml.p3.2xlarge for training job usage" is 1' },
  'Check budget': { estimateUsd: 4.2, message: 'the estimated cost of this run, $4.20, is within the budget' },
  Label: labelingJob,
  'Write task chunk': (event: { chunk: { index: number } }): TaskChunkSummary => ({
    index: event.chunk.index,
    tasks: 2,
    predicted: 2,
    prelabels: 'pre-labeled by the serving model',
  }),
  'Notify tasks ready': { MessageId: 'tasks' },
  'Count annotations': {
    annotated: 3,
    tasks: 3,
    state: 'complete',
    reason: 'every task is annotated',
    labelStudioFiles: `s3://${artifacts}/runs/${RUN_ID}/labelstudio/files.json`,
  } satisfies LabelingProgress,
  'Plan conversion': plan,
  'Convert chunk': (event: { chunk: ConversionChunk }): ChunkSummary => ({ index: event.chunk.index, converted: 3, skipped: 0 }),
  'Assemble channels': CHANNEL_SUMMARY,
  Train: trainingJob(0.71),
  'Take deploy lock': { acquired: true } satisfies LockAnswer,
  'Create model': { ModelArn: 'arn:aws:sagemaker:us-east-1:123456789012:model/segpipe-model-run-1' },
  'Create endpoint config': { EndpointConfigArn: 'arn:config' },
  'Find endpoint': { Endpoints: [] },
  'Create endpoint': { EndpointArn: 'arn:endpoint' },
  'Describe endpoint': inTurn(endpointIs('Creating', NAMES.endpointConfig), inService(NAMES.endpointConfig)),
  'Evaluate model': evaluation(true),
  'Delete new endpoint': {},
  'Describe serving endpoint': inService(CHAMPION.config),
  'Describe serving config': { EndpointConfigName: CHAMPION.config, ProductionVariants: [CHAMPION.variant] },
  'Describe champion model': { ModelName: CHAMPION.variant.ModelName, PrimaryContainer: { Image: CHAMPION.image } },
  'Create trial config': { EndpointConfigArn: 'arn:trial' },
  'Add challenger': { EndpointArn: 'arn:endpoint' },
  'Describe endpoint (challenger added)': inTurn(endpointIs('Updating', CHAMPION.config), inService(NAMES.trialConfig)),
  'Evaluate champion and challenger': evaluation(true, true),
  'Read endpoint again (before promotion)': inService(NAMES.trialConfig),
  'Shift traffic to challenger': { EndpointArn: 'arn:endpoint' },
  'Describe endpoint (traffic shifted)': inService(NAMES.trialConfig),
  'Retire champion': { EndpointArn: 'arn:endpoint' },
  'Describe endpoint (champion retired)': inTurn(endpointIs('Updating', NAMES.trialConfig), inService(NAMES.endpointConfig)),
  'Read endpoint again (before removing challenger)': inService(NAMES.trialConfig),
  'Remove challenger': { EndpointArn: 'arn:endpoint' },
  'Describe endpoint (challenger removed)': inService(CHAMPION.config),
  'Delete trial config': {},
  'Delete endpoint config': {},
  'Delete model': {},
  'Report deployed': finished,
  'Report not deployed': finished,
  'Report not promoted': finished,
  'Report failure': finished,
  Notify: { MessageId: 'finished' },
  'Publish event': { Entries: [{ EventId: '1' }], FailedEntryCount: 0 },
  'Notify failure': { MessageId: 'failed' },
  'Publish failure event': { Entries: [{ EventId: '2' }], FailedEntryCount: 0 },
};

/** An existing endpoint: a run's model joins it as a challenger. */
export const ENDPOINT_EXISTS: Answers = { 'Find endpoint': { Endpoints: [{ EndpointName: ENDPOINT }] } };

/** Longer than any path here takes (the longest, 301 asks for the deploy lock, about a second on a busy machine). */
const EXECUTION_LIMIT_MS = 10_000;

export interface MockedRun {
  readonly outcome: WorkflowOutcome;
  /** The input each Task state received, by state name, in order. */
  readonly calls: Record<string, unknown[]>;
  /** How many times the execution entered the state. */
  readonly entered: (state: string) => number;
}

/** Executes the definition with every Task state answered by `answers` over {@link DEFAULT_ANSWERS}. */
export async function runMocked(definition: AslDefinition, input: unknown, ...answers: Answers[]): Promise<MockedRun> {
  const table: Answers = Object.assign({}, DEFAULT_ANSWERS, ...answers);
  const calls: Record<string, unknown[]> = {};
  const tasks: Record<string, TaskHandler> = {};
  for (const [name, state] of allStates(definition)) {
    if (state.Type !== 'Task') continue;
    if (!(name in table)) throw new Error(`no answer for the Task state ${name}`);
    tasks[name] = async (taskInput) => {
      const received = (calls[name] ??= []);
      received.push(taskInput);
      const answer = table[name];
      const value = typeof answer === 'function' ? answer(taskInput, received.length - 1) : answer;
      if (value instanceof Error) throw value;
      return value;
    };
  }
  // A definition that loops for ever (a mutant's, under `npm run mutate:workflow`) is stopped, and fails its test.
  const outcome = await runWorkflow({ definition, input, executionName: RUN_ID, tasks, signal: AbortSignal.timeout(EXECUTION_LIMIT_MS) });
  return { outcome, calls, entered: (state) => outcome.path.filter((name) => name === state).length };
}
