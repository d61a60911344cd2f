import { ChannelSummary, ChunkResult, assembleChannels } from '../workflow/dataset';
import { readHandlerSettings } from '../common/settings';
import { logger, scratchStore, store } from './runtime';

const settings = readHandlerSettings('assemble-channels');

/** Writes and checks the run's four channel manifests over the dataset, before any GPU is paid for. */
export async function handler(event: { runId: string; chunks: ChunkResult[] }): Promise<ChannelSummary> {
  const summary = await assembleChannels({
    store, scratchStore, bucket: settings.artifactsBucket, runId: event.runId, chunks: event.chunks,
    minTrainingSamples: settings.minTrainingSamples, maxFailedChunkPercent: settings.maxFailedChunkPercent,
  });
  logger.info('channels assembled', { runId: event.runId, ...summary, skippedItems: undefined });
  return summary;
}
