import { CostSettings, checkBudget } from '../cost/estimate';
import { logger } from './runtime';

const settings: CostSettings = JSON.parse(process.env.COST_SETTINGS ?? 'null');

export interface CheckBudgetEvent {
  readonly images: number;
  readonly mode: 'label' | 'import';
}

/** Checks the run's cost estimate against the per-run budget before anyone is paid to label. */
export async function handler(event: CheckBudgetEvent): Promise<{ estimateUsd: number; message: string }> {
  if (!settings) throw new Error('environment variable COST_SETTINGS is not set');
  const result = checkBudget(settings, { images: event.images, labelsImported: event.mode === 'import' });
  logger.info('budget checked', { ...result });
  return result;
}
