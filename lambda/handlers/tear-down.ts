import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { TearDownTarget, tearDownStackResources } from '../cleanup/tear-down';
import { logger } from './runtime';

/** The custom-resource event the CDK provider framework passes on. */
export interface TearDownEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
}

const target: TearDownTarget = {
  stackName: process.env.STACK_NAME ?? '',
  resourcePrefix: process.env.RESOURCE_PREFIX ?? 'segpipe',
  stateMachineArn: process.env.STATE_MACHINE_ARN ?? '',
};
const clients = { sagemaker: new SageMakerClient({}), sfn: new SFNClient({}) };

/** Nothing to do until the stack is deleted; then the first tear-down pass. */
export async function onEvent(event: TearDownEvent): Promise<{ PhysicalResourceId: string }> {
  const PhysicalResourceId = event.PhysicalResourceId ?? `${target.stackName}-sagemaker-tear-down`;
  if (event.RequestType === 'Delete') await isComplete(event);
  return { PhysicalResourceId };
}

/** Called again and again by the provider framework until the stack's SageMaker resources are gone. */
export async function isComplete(event: TearDownEvent): Promise<{ IsComplete: boolean }> {
  if (event.RequestType !== 'Delete') return { IsComplete: true };
  const result = await tearDownStackResources(clients, target);
  logger.info('tear-down pass', { ...result });
  return { IsComplete: result.complete };
}
