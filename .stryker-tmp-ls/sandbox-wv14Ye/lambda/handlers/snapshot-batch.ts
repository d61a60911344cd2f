// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { type BatchSnapshot, takeBatchSnapshot } from '../workflow/batch';

const settings = readHandlerSettings('snapshot-batch');

/** Takes the batch's images no run has taken, and opens the next generation for later uploads. */
export const handler = lambdaHandler('snapshot-batch', async (event): Promise<BatchSnapshot> => {
  const snapshot = await takeBatchSnapshot({
    store,
    inboxBucket: settings.inboxBucket,
    artifactsBucket: settings.artifactsBucket,
    batch: event.batch,
    generation: event.generation,
  });
  if (snapshot.ignored > 0) logger.warn('objects of the batch ignored', { ignored: snapshot.ignored, list: snapshot.ignoredList });
  logger.info('batch snapshot taken', {
    batch: event.batch,
    generation: event.generation,
    images: snapshot.images,
    manifest: snapshot.imagesManifest,
  });
  return snapshot;
});
