// @ts-nocheck
import { lambdaHandler, logger, scratchStore, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { assembleChannels, type ChannelSummary } from '../workflow/dataset';

const settings = readHandlerSettings('assemble-channels');

/** Checks what the run staged, commits it to the dataset, and writes the run's four channel manifests, before any GPU is paid for. */
export const handler = lambdaHandler('assemble-channels', async (event): Promise<ChannelSummary> => {
  const summary = await assembleChannels({
    store,
    scratchStore,
    bucket: settings.artifactsBucket,
    runId: event.runId,
    batch: event.batch,
    chunks: event.chunks,
    classes: event.classes,
    configuredClasses: settings.labelClasses,
    minTrainingSamples: settings.minTrainingSamples,
    maxFailedChunkPercent: settings.maxFailedChunkPercent,
  });
  logger.info('channels assembled', { runId: event.runId, ...summary, skippedItems: undefined });
  return summary;
});
