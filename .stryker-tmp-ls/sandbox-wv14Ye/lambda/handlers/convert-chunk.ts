// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { useSharpForConcurrentItems } from '../convert/codecs/mask';
import { sourceAllowList } from '../convert/stores/source-allow-list';
import { type ChunkSummary, convertChunk } from '../workflow/dataset';

const settings = readHandlerSettings('convert-chunk');
useSharpForConcurrentItems();

/** Converts one chunk of the labels' export into the run's staging area, reading only what the run may. */
export const handler = lambdaHandler('convert-chunk', async (event): Promise<ChunkSummary> => {
  const summary = await convertChunk({
    store,
    bucket: settings.artifactsBucket,
    runId: event.runId,
    export: event.export,
    batch: event.batch,
    labelStudioRound: event.labelStudioRound || undefined,
    labelStudioFiles: event.labelStudioFiles || undefined,
    inboxBucket: settings.inboxBucket,
    allowList: sourceAllowList(settings, event),
    chunk: event.chunk,
    classes: event.classes,
    exportVersion: event.exportVersion,
    validationFraction: settings.validationFraction,
    seed: settings.splitSeed,
  });
  logger.info('chunk converted', { runId: event.runId, ...summary });
  return summary;
});
