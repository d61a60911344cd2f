import { endpointName, resourcePrefix } from '../../lambda/workflow/names';
import { type LabelingJobRequest, simulateLabelingJob, type TrueLabels } from '../../local/simulated-workforce';
import { allStates, type TaskHandler } from '../../local/workflow-runner';
import { ARTIFACTS_BUCKET, type WorkflowHarness } from './workflow-harness';

/** The endpoint of the harness's stack (`Segpipe`, lib/synthesize.ts). */
export const ENDPOINT = endpointName(resourcePrefix('Segpipe'));
/** What an existing endpoint serves before a run (`endpointExists`): an earlier run's config and model. */
export const CHAMPION = { config: 'segpipe-config-previous', model: 'segpipe-model-previous', variant: 'AllTraffic' };

export type Calls = Record<string, unknown[]>;

/**
 * Stand-ins for the SageMaker, SNS and EventBridge states, recording every request they get by state
 * name. The endpoint states are answered by their action (several states describe or update the
 * endpoint) from a small model of the endpoint: the config it is on, which creates and updates change.
 */
export function fakes(
  harness: WorkflowHarness,
  truth: Map<string, TrueLabels>,
  options: {
    endpointExists?: boolean;
    miou?: number;
    /** The endpoint's status at each look, the last one repeated. */
    endpointStatuses?: string[];
    failLabeling?: boolean;
    failTraining?: boolean;
    /** The first update fails and the endpoint rolls back to the config it was on. */
    rolledBack?: boolean;
  } = {},
): { tasks: Record<string, TaskHandler>; calls: Calls; endpoint: { config?: string; weights?: unknown } } {
  const calls: Calls = {};
  const statuses = [...(options.endpointStatuses ?? ['Creating', 'InService'])];
  const endpoint: { config?: string; weights?: unknown } = options.endpointExists ? { config: CHAMPION.config } : {};
  const configs = new Map<string, unknown[]>([
    [
      CHAMPION.config,
      [
        {
          VariantName: CHAMPION.variant,
          ModelName: CHAMPION.model,
          InstanceType: 'ml.c5.xlarge',
          InitialInstanceCount: 1,
          InitialVariantWeight: 1,
        },
      ],
    ],
  ]);
  let rollBackNextUpdate = options.rolledBack ?? false;
  const record =
    (state: string, answer: (input: never) => unknown): TaskHandler =>
    async (input) => {
      (calls[state] ??= []).push(input);
      return answer(input as never) as never;
    };
  const failure = (name: string, cause: string) => Object.assign(new Error(cause), { name });
  const byAction: Record<string, (input: never) => unknown> = {
    'sagemaker:createModel': () => ({ ModelArn: 'arn:model' }),
    'sagemaker:createEndpointConfig': (request: { EndpointConfigName: string; ProductionVariants: unknown[] }) => {
      configs.set(request.EndpointConfigName, request.ProductionVariants);
      return { EndpointConfigArn: 'arn:config' };
    },
    'aws-sdk:sagemaker:listEndpoints': () => ({ Endpoints: options.endpointExists ? [{ EndpointName: ENDPOINT }] : [] }),
    'sagemaker:createEndpoint': (request: { EndpointConfigName: string }) => {
      endpoint.config = request.EndpointConfigName;
      return { EndpointArn: 'arn:endpoint' };
    },
    'sagemaker:updateEndpoint': (request: { EndpointConfigName: string }) => {
      if (rollBackNextUpdate) rollBackNextUpdate = false;
      else endpoint.config = request.EndpointConfigName;
      return { EndpointArn: 'arn:endpoint' };
    },
    'aws-sdk:sagemaker:updateEndpointWeightsAndCapacities': (request: { DesiredWeightsAndCapacities: unknown }) => {
      endpoint.weights = request.DesiredWeightsAndCapacities;
      return { EndpointArn: 'arn:endpoint' };
    },
    'aws-sdk:sagemaker:describeEndpoint': () => {
      const status = statuses.length > 1 ? statuses.shift()! : statuses[0];
      return {
        EndpointName: ENDPOINT,
        EndpointStatus: status,
        EndpointConfigName: endpoint.config,
        ...(status === 'Failed' || options.rolledBack ? { FailureReason: 'The primary container failed to start' } : {}),
      };
    },
    'aws-sdk:sagemaker:describeModel': (request: { ModelName: string }) => ({
      ModelName: request.ModelName,
      PrimaryContainer: { Image: '811284229777.dkr.ecr.us-east-1.amazonaws.com/semantic-segmentation:1' },
    }),
    'aws-sdk:sagemaker:describeEndpointConfig': (request: { EndpointConfigName: string }) => ({
      EndpointConfigName: request.EndpointConfigName,
      ProductionVariants: configs.get(request.EndpointConfigName),
    }),
    'aws-sdk:sagemaker:deleteEndpoint': () => {
      endpoint.config = undefined;
      return {};
    },
    'aws-sdk:sagemaker:deleteEndpointConfig': () => ({}),
    'aws-sdk:sagemaker:deleteModel': () => ({}),
  };
  const tasks: Record<string, TaskHandler> = {
    // The quota Lambda calls Service Quotas: answered here as an account with quota would.
    'Check training quota': record('Check training quota', () => ({ message: 'quota "ml.p3.2xlarge for training job usage" is 1' })),
    Label: record('Label', async (request: LabelingJobRequest) => {
      if (options.failLabeling) throw failure('States.TaskFailed', '{"FailureReason":"ClientError: workteam has no workers"}');
      return simulateLabelingJob(harness.store, request, (source) => truth.get(source));
    }),
    Train: record('Train', (request: { TrainingJobName: string }) => {
      if (options.failTraining) throw failure('States.TaskFailed', '{"FailureReason":"AlgorithmError: CUDA out of memory"}');
      return {
        TrainingJobName: request.TrainingJobName,
        TrainingJobStatus: 'Completed',
        TrainingTimeInSeconds: 420,
        BillableTimeInSeconds: 420,
        ModelArtifacts: { S3ModelArtifacts: `s3://${ARTIFACTS_BUCKET}/models/x/output/${request.TrainingJobName}/output/model.tar.gz` },
        FinalMetricDataList: [
          { MetricName: 'validation:pixel_accuracy', Value: 0.93 },
          { MetricName: 'validation:mIOU', Value: options.miou ?? 0.71 },
        ],
      };
    }),
    Notify: record('Notify', () => ({ MessageId: '1' })),
    'Notify tasks ready': record('Notify tasks ready', () => ({ MessageId: '3' })),
    'Publish event': record('Publish event', () => ({ FailedEntryCount: 0 })),
    'Notify failure': record('Notify failure', () => ({ MessageId: '2' })),
    'Publish failure event': record('Publish failure event', () => ({ FailedEntryCount: 0 })),
  };
  for (const [name, state] of allStates(harness.definition)) {
    const action = /:states:::(.+)$/.exec(String(state.Resource ?? ''))?.[1];
    if (action && byAction[action]) tasks[name] = record(name, byAction[action]);
  }
  return { calls, tasks, endpoint };
}
