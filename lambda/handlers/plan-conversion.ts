import { ConversionPlan, planConversion } from '../workflow/dataset';
import { readHandlerSettings } from '../common/settings';
import { logger, store } from './runtime';

const settings = readHandlerSettings('plan-conversion');

/** Cuts the labeled manifest into chunks for the Distributed Map, and fixes the class order. */
export async function handler(event: { runId: string; manifest: string }): Promise<ConversionPlan> {
  const plan = await planConversion({ store, bucket: settings.artifactsBucket, manifest: event.manifest, configuredClasses: settings.labelClasses });
  logger.info('conversion planned', { runId: event.runId, lines: plan.lines, chunks: plan.chunks.length, classes: plan.classes });
  return plan;
}
