import { ChannelSummary, ChunkResult, ClassListRef, assembleChannels } from '../workflow/dataset';
import { readHandlerSettings } from '../common/settings';
import { logger, scratchStore, store } from './runtime';

const settings = readHandlerSettings('assemble-channels');

/** Checks what the run staged, commits it to the dataset, and writes the run's four channel manifests, before any GPU is paid for. */
export async function handler(event: { runId: string; batch?: string; chunks: ChunkResult[]; classes: ClassListRef }): Promise<ChannelSummary> {
  const summary = await assembleChannels({
    store, scratchStore, bucket: settings.artifactsBucket, runId: event.runId, batch: event.batch, chunks: event.chunks, classes: event.classes, configuredClasses: settings.labelClasses,
    minTrainingSamples: settings.minTrainingSamples, maxFailedChunkPercent: settings.maxFailedChunkPercent,
  });
  logger.info('channels assembled', { runId: event.runId, ...summary, skippedItems: undefined });
  return summary;
}
