import { BatchSnapshot, readBatchState, snapshotImages, writeBatchState } from '../workflow/batch';
import { IMAGES_PREFIX } from '../workflow/layout';
import { logger, readSettings, store } from './runtime';

const settings = readSettings();
const inboxBucket = process.env.INBOX_BUCKET ?? '';

/** Takes the batch's images no run has taken, and opens the next generation for later uploads. */
export async function handler(event: { batch: string; generation: number }): Promise<BatchSnapshot> {
  const state = await readBatchState(store, settings.artifactsBucket, event.batch);
  const objects = await store.list(inboxBucket, `${IMAGES_PREFIX}${event.batch}/`);
  const snapshot = snapshotImages(inboxBucket, objects, state);
  // The generation advances even when nothing is new (a late duplicate event): the next upload then starts the next run.
  await writeBatchState(store, settings.artifactsBucket, event.batch, {
    generation: Math.max(state.generation, event.generation + 1),
    snapshotAt: new Date().toISOString(),
    taken: [...state.taken, ...snapshot.images],
  });
  for (const { key, reason } of snapshot.ignored) logger.warn('object ignored', { key, reason });
  logger.info('batch snapshot taken', { batch: event.batch, generation: event.generation, images: snapshot.images.length, ignored: snapshot.ignored.length });
  return snapshot;
}
