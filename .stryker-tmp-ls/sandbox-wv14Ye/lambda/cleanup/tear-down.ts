// @ts-nocheck
import { type SageMakerClient, StopLabelingJobCommand, StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { ListExecutionsCommand, type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { isNotFound } from '../common/aws-calls';
import { deleteResource } from './endpoint-cleanup';
import { ENDPOINT_CHANGING_STATES, type StackIdentity, StackResources } from './stack-resources';

export interface TearDownClients {
  readonly sagemaker: SageMakerClient;
  readonly sfn: SFNClient;
}

export interface TearDownTarget extends StackIdentity {
  /** The workflow: its running executions are stopped first, so that they create nothing more. */
  readonly stateMachineArn: string;
}

export interface TearDownResult {
  /** True once nothing of the stack's is left in SageMaker that bills or that a run could still use. */
  readonly complete: boolean;
  /** What was done in this pass, one line each. */
  readonly actions: string[];
  /** What is still there, and why. */
  readonly waitingFor: string[];
}

/**
 * One pass of the stack's tear-down, repeated until `complete`: stop the workflow's running
 * executions, stop the stack's running labeling and training jobs, delete its endpoints (waiting for
 * those SageMaker is still changing), and once no endpoint is left, its endpoint configs and models.
 * CloudFormation never created these, so without this they would outlive the stack and keep billing.
 */
export async function tearDownStackResources(clients: TearDownClients, target: TearDownTarget): Promise<TearDownResult> {
  const resources = new StackResources(clients.sagemaker, target);
  const actions: string[] = [];
  const waitingFor: string[] = [];
  const ignoreGone = async (what: string, call: () => Promise<unknown>) => {
    try {
      await call();
      actions.push(what);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  };

  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: target.stateMachineArn, statusFilter: 'RUNNING', nextToken }),
    );
    for (const execution of page.executions ?? []) {
      await ignoreGone(`stopped execution ${execution.name}`, () =>
        clients.sfn.send(
          new StopExecutionCommand({
            executionArn: execution.executionArn,
            error: 'StackDeleted',
            cause: 'The segpipe stack is being deleted.',
          }),
        ),
      );
    }
    nextToken = page.nextToken;
  } while (nextToken);

  for (const job of await resources.unfinishedJobs()) {
    if (job.status !== 'Stopping') {
      await ignoreGone(`stopped ${job.kind} ${job.name}`, () =>
        job.kind === 'training-job'
          ? clients.sagemaker.send(new StopTrainingJobCommand({ TrainingJobName: job.name }))
          : clients.sagemaker.send(new StopLabelingJobCommand({ LabelingJobName: job.name })),
      );
    }
    waitingFor.push(`${job.kind} ${job.name} to stop`);
  }

  const endpoints = await resources.endpoints();
  for (const endpoint of endpoints) {
    if (endpoint.status === 'Deleting') waitingFor.push(`endpoint ${endpoint.name} to be deleted`);
    else if (ENDPOINT_CHANGING_STATES.has(endpoint.status))
      waitingFor.push(`endpoint ${endpoint.name} (${endpoint.status}) before deleting it`);
    else {
      await ignoreGone(`deleted endpoint ${endpoint.name} (${endpoint.status})`, () => deleteResource(clients.sagemaker, endpoint));
      waitingFor.push(`endpoint ${endpoint.name} to be deleted`);
    }
  }
  if (endpoints.length === 0) {
    for (const resource of [...(await resources.endpointConfigs()), ...(await resources.models())]) {
      await ignoreGone(`deleted ${resource.kind} ${resource.name}`, () => deleteResource(clients.sagemaker, resource));
    }
  } else {
    waitingFor.push('the endpoints to go before deleting endpoint configs and models');
  }
  return { complete: waitingFor.length === 0, actions, waitingFor };
}
