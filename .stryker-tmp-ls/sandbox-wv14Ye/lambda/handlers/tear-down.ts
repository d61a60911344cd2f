// @ts-nocheck
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { tearDownStackResources } from '../cleanup/tear-down';
import { ADAPTIVE_RETRY } from '../common/aws-calls';
import type { HandlerEvent } from '../common/handler-events';
import { lambdaHandler, logger } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';

/** The custom-resource event the CDK provider framework passes on. */
export type TearDownEvent = HandlerEvent<'tear-down'>;

/**
 * Stack states in which a Delete means the stack is going away. A Delete also comes when the resource
 * alone is replaced or an update rolls back; the stack's SageMaker resources must stay then.
 */
const STACK_GOING_AWAY = new Set(['DELETE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS']);

const target = readHandlerSettings('tear-down');
const clients = { sagemaker: new SageMakerClient(ADAPTIVE_RETRY), sfn: new SFNClient(ADAPTIVE_RETRY) };
const cloudformation = new CloudFormationClient(ADAPTIVE_RETRY);

async function stackGoingAway(stackId: string): Promise<boolean> {
  const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackId }));
  const status = Stacks?.[0]?.StackStatus ?? 'unknown';
  if (!STACK_GOING_AWAY.has(status)) logger.info('delete of the tear-down resource while the stack stays: nothing torn down', { status });
  return STACK_GOING_AWAY.has(status);
}

/** Nothing to do until the stack is deleted; then the first tear-down pass. */
export const onEvent = lambdaHandler('tear-down', async (event): Promise<{ PhysicalResourceId: string }> => {
  const PhysicalResourceId = event.RequestType === 'Create' ? `${target.stackName}-sagemaker-tear-down` : event.PhysicalResourceId;
  if (event.RequestType === 'Delete') await tearDownPass(event);
  return { PhysicalResourceId };
});

/** Called again and again by the provider framework until the stack's SageMaker resources are gone. */
export const isComplete = lambdaHandler('tear-down', tearDownPass);

async function tearDownPass(event: TearDownEvent): Promise<{ IsComplete: boolean }> {
  if (event.RequestType !== 'Delete' || !(await stackGoingAway(event.StackId))) return { IsComplete: true };
  const result = await tearDownStackResources(clients, target);
  logger.info('tear-down pass', { ...result });
  return { IsComplete: result.complete };
}
