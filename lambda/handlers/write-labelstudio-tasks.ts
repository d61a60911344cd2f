import { TaskChunk, TaskChunkSummary, writeTaskChunk } from '../labelstudio/workflow-tasks';
import { readHandlerSettings } from '../common/settings';
import { logger, store } from './runtime';

const settings = readHandlerSettings('write-labelstudio-tasks');

/** Writes one Label Studio task file per image of one chunk of the run's images. */
export async function handler(event: { runId: string; batch: string; round: string; chunk: TaskChunk }): Promise<TaskChunkSummary> {
  const summary = await writeTaskChunk({ store, inboxBucket: settings.inboxBucket, artifactsBucket: settings.artifactsBucket, ...event });
  logger.info('Label Studio tasks written', { runId: event.runId, ...summary });
  return summary;
}
