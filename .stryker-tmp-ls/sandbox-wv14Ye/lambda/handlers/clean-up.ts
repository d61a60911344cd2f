// @ts-nocheck
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type CleanupResult, cleanUpStackResources, DELETED_DETAIL_TYPE, failedEndpointNotification } from '../cleanup/endpoint-cleanup';
import { ADAPTIVE_RETRY } from '../common/aws-calls';
import type { HandlerEvent } from '../common/handler-events';
import { type LambdaHandler, lambdaHandler, logger } from '../common/runtime';
import { type HandlerSettings, readHandlerSettings } from '../common/settings';

/** What EventBridge hands over: the schedule's event, or an endpoint's state change. */
export type CleanupEvent = HandlerEvent<'clean-up'>;

const clients = { sagemaker: new SageMakerClient(ADAPTIVE_RETRY), cloudwatch: new CloudWatchClient(ADAPTIVE_RETRY) };
const events = new EventBridgeClient(ADAPTIVE_RETRY);
const sns = new SNSClient(ADAPTIVE_RETRY);

/**
 * Sweeps the stack's SageMaker resources by a policy; after an endpoint failed, also tells the user.
 * Lambda's handler has the function's settings; tests make one per policy.
 */
export function cleanUpHandler(policy: HandlerSettings<'clean-up'>): LambdaHandler<CleanupResult> {
  return lambdaHandler('clean-up', (event) => cleanUp(policy, event));
}

export const handler = cleanUpHandler(readHandlerSettings('clean-up'));

async function cleanUp(policy: HandlerSettings<'clean-up'>, event: CleanupEvent): Promise<CleanupResult> {
  const failedEndpoint = event['detail-type'] === 'SageMaker Endpoint State Change' ? event.detail.EndpointName : undefined;
  logger.appendKeys({ dryRun: policy.dryRun, trigger: failedEndpoint ? `endpoint ${failedEndpoint} FAILED` : 'schedule' });
  const result = await cleanUpStackResources(clients, policy, {
    onDeleted: async (decision) => {
      if (policy.dryRun) {
        logger.info('dry run: would delete', { ...decision });
        return;
      }
      logger.info('deleted', { ...decision });
      // The deletion happened: an event that cannot be published is logged, and the sweep goes on.
      try {
        const response = await events.send(
          new PutEventsCommand({
            Entries: [
              { Source: 'segpipe', DetailType: DELETED_DETAIL_TYPE, Detail: JSON.stringify({ stack: policy.stackName, ...decision }) },
            ],
          }),
        );
        if (response.FailedEntryCount) logger.error('deletion event not published', { ...decision, entries: response.Entries });
      } catch (err) {
        logger.error('deletion event not published', { ...decision, error: (err as Error).message });
      }
    },
  });
  for (const vanished of result.vanished) logger.info('already gone', { ...vanished });
  for (const kept of result.kept) logger.debug('kept', { ...kept });
  if (failedEndpoint) await notifyFailedEndpoint(failedEndpoint, result, policy.topicArn);
  if (result.errors.length > 0) {
    // Failing the invocation makes the errors visible in the function's metrics; the next sweep retries.
    throw new Error(`clean-up could not delete ${result.errors.map((e) => `${e.kind} ${e.name} (${e.error})`).join('; ')}`);
  }
  logger.info('clean-up done', { deleted: result.deleted.length, kept: result.kept.length, vanished: result.vanished.length });
  return result;
}

async function notifyFailedEndpoint(endpointName: string, result: CleanupResult, topicArn: string): Promise<void> {
  const { subject, message } = failedEndpointNotification(endpointName, result);
  await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }));
}
