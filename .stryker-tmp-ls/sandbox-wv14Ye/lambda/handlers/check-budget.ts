// @ts-nocheck
import { lambdaHandler, logger } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { checkBudget } from '../cost/estimate';

const settings = readHandlerSettings('check-budget');

export interface CheckBudgetEvent {
  readonly images: number;
  readonly mode: 'label' | 'import';
}

/** Checks the run's cost estimate against the per-run budget before anyone is paid to label. */
export const handler = lambdaHandler('check-budget', async (event): Promise<{ estimateUsd: number; message: string }> => {
  const result = checkBudget(settings, { images: event.images, labelsImported: event.mode === 'import' });
  logger.info('budget checked', { ...result });
  return result;
});
