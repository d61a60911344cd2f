// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { type BatchReadiness, batchReadiness, readBatchState } from '../workflow/batch';
import { IMAGES_PREFIX } from '../workflow/layout';

const settings = readHandlerSettings('check-batch');

/** Whether a batch has settled: quiet for the configured window, or a fresh `_START` dropped in. */
export const handler = lambdaHandler('check-batch', async (event): Promise<BatchReadiness> => {
  const objects = await store.list(settings.inboxBucket, `${IMAGES_PREFIX}${event.batch}/`);
  const readiness = batchReadiness(
    objects,
    await readBatchState(store, settings.artifactsBucket, event.batch),
    settings.quietSeconds,
    new Date(),
  );
  logger.info('batch checked', { batch: event.batch, ...readiness });
  return readiness;
});
