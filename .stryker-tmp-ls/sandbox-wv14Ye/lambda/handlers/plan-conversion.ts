// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { sourceAllowList } from '../convert/stores/source-allow-list';
import { type ConversionPlan, planConversion } from '../workflow/dataset';

const settings = readHandlerSettings('plan-conversion');

/** Reads the labels' export once: fixes the class order and cuts its entries into chunks for the Distributed Map. */
export const handler = lambdaHandler('plan-conversion', async (event): Promise<ConversionPlan> => {
  const plan = await planConversion({
    store,
    bucket: settings.artifactsBucket,
    runId: event.runId,
    export: event.export,
    batch: event.batch,
    labelStudioRound: event.labelStudioRound || undefined,
    labelStudioFiles: event.labelStudioFiles || undefined,
    inboxBucket: settings.inboxBucket,
    allowList: sourceAllowList(settings, event),
    configuredClasses: settings.labelClasses,
    chunkEntries: settings.chunkEntries,
  });
  logger.info('conversion planned', {
    runId: event.runId,
    format: plan.format,
    entries: plan.entries,
    chunks: plan.chunks.length,
    classes: plan.classes.count,
  });
  return plan;
});
