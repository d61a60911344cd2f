import { BatchReadiness, batchReadiness, readBatchState } from '../workflow/batch';
import { IMAGES_PREFIX } from '../workflow/layout';
import { logger, readSettings, store } from './runtime';

const settings = readSettings();
const inboxBucket = process.env.INBOX_BUCKET ?? '';
const quietSeconds = Number(process.env.QUIET_SECONDS ?? '120');

/** Whether a batch has settled: quiet for the configured window, or a fresh `_START` dropped in. */
export async function handler(event: { batch: string }): Promise<BatchReadiness> {
  const objects = await store.list(inboxBucket, `${IMAGES_PREFIX}${event.batch}/`);
  const readiness = batchReadiness(objects, await readBatchState(store, settings.artifactsBucket, event.batch), quietSeconds, new Date());
  logger.info('batch checked', { batch: event.batch, ...readiness });
  return readiness;
}
