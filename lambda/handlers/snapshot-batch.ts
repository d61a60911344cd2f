import { BatchSnapshot, snapshotImages, updateBatchState } from '../workflow/batch';
import { IMAGES_PREFIX } from '../workflow/layout';
import { readHandlerSettings } from '../common/settings';
import { logger, store } from './runtime';

const settings = readHandlerSettings('snapshot-batch');

/** Takes the batch's images no run has taken, and opens the next generation for later uploads. */
export async function handler(event: { batch: string; generation: number }): Promise<BatchSnapshot> {
  const objects = await store.list(settings.inboxBucket, `${IMAGES_PREFIX}${event.batch}/`);
  let snapshot: BatchSnapshot = { images: [], ignored: [] };
  // The generation advances even when nothing is new (a late event): the next upload then starts the next run.
  await updateBatchState(store, settings.artifactsBucket, event.batch, (state) => {
    snapshot = snapshotImages(settings.inboxBucket, objects, state);
    return { generation: Math.max(state.generation, event.generation + 1), snapshotAt: new Date().toISOString(), taken: [...state.taken, ...snapshot.images] };
  });
  for (const { key, reason } of snapshot.ignored) logger.warn('object ignored', { key, reason });
  logger.info('batch snapshot taken', { batch: event.batch, generation: event.generation, images: snapshot.images.length, ignored: snapshot.ignored.length });
  return snapshot;
}
