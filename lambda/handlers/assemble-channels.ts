import { ChannelSummary, assembleChannels } from '../workflow/dataset';
import { readHandlerSettings } from '../common/settings';
import { logger, scratchStore, store } from './runtime';

const settings = readHandlerSettings('assemble-channels');

/** Builds and checks the run's four channels from the dataset, before any GPU is paid for. */
export async function handler(event: { runId: string; chunks: unknown[] }): Promise<ChannelSummary> {
  const summary = await assembleChannels({
    store, scratchStore, bucket: settings.artifactsBucket, runId: event.runId, chunks: event.chunks.length, minTrainingSamples: settings.minTrainingSamples,
  });
  logger.info('channels assembled', { runId: event.runId, ...summary, skippedItems: undefined });
  return summary;
}
