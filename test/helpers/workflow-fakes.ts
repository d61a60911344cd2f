import { LabelingJobRequest, TrueLabels, simulateLabelingJob } from '../../bin/local/simulated-workforce';
import { TaskHandler } from '../../bin/local/workflow-runner';
import { ARTIFACTS_BUCKET, WorkflowHarness } from './workflow-harness';

export const ENDPOINT = 'segpipe-endpoint';

export type Calls = Record<string, unknown[]>;

/** Stand-ins for the SageMaker, SNS and EventBridge states, recording every request they get. */
export function fakes(harness: WorkflowHarness, truth: Map<string, TrueLabels>, options: {
  endpointExists?: boolean;
  miou?: number;
  endpointStatuses?: string[];
  failLabeling?: boolean;
  failTraining?: boolean;
  /** The update fails and the endpoint rolls back to its previous config. */
  rolledBack?: boolean;
} = {}): { tasks: Record<string, TaskHandler>; calls: Calls } {
  const calls: Calls = {};
  const statuses = [...(options.endpointStatuses ?? ['Creating', 'InService'])];
  const record = (state: string, answer: (input: never) => unknown): TaskHandler => async (input) => {
    (calls[state] ??= []).push(input);
    return answer(input as never) as never;
  };
  const failure = (name: string, cause: string) => Object.assign(new Error(cause), { name });
  return {
    calls,
    tasks: {
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
      'Create model': record('Create model', () => ({ ModelArn: 'arn:model' })),
      'Create endpoint config': record('Create endpoint config', () => ({ EndpointConfigArn: 'arn:config' })),
      'Find endpoint': record('Find endpoint', () => ({ Endpoints: options.endpointExists ? [{ EndpointName: ENDPOINT }] : [] })),
      'Create endpoint': record('Create endpoint', () => ({ EndpointArn: 'arn:endpoint' })),
      'Update endpoint': record('Update endpoint', () => ({ EndpointArn: 'arn:endpoint' })),
      'Describe endpoint': record('Describe endpoint', () => {
        const status = statuses.length > 1 ? statuses.shift()! : statuses[0];
        const config = options.rolledBack ? 'segpipe-config-previous' : (calls['Create endpoint config'][0] as { EndpointConfigName: string }).EndpointConfigName;
        return {
          EndpointName: ENDPOINT, EndpointStatus: status, EndpointConfigName: config,
          ...(status === 'Failed' || options.rolledBack ? { FailureReason: 'The primary container failed to start' } : {}),
        };
      }),
      'Delete endpoint config': record('Delete endpoint config', () => ({})),
      'Delete model': record('Delete model', () => ({})),
      Notify: record('Notify', () => ({ MessageId: '1' })),
      'Publish event': record('Publish event', () => ({ FailedEntryCount: 0 })),
      'Notify failure': record('Notify failure', () => ({ MessageId: '2' })),
      'Publish failure event': record('Publish failure event', () => ({ FailedEntryCount: 0 })),
    },
  };
}

