// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { acquireDeployLock, type LockAnswer } from '../workflow/deploy-lock';

const settings = readHandlerSettings('deploy-lock');

/** Takes the deploy lock for a run about to change the endpoint, or says who holds it. */
export const handler = lambdaHandler('deploy-lock', async (event): Promise<LockAnswer> => {
  const answer = await acquireDeployLock(store, settings.artifactsBucket, event.runId, settings.holdSeconds);
  logger.info(answer.acquired ? 'deploy lock taken' : 'deploy lock held by another run', { runId: event.runId, ...answer });
  return answer;
});
