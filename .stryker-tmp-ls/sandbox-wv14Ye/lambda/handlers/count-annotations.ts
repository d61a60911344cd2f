// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { countAndCloseRound, type LabelingProgress } from '../labelstudio/workflow-tasks';

const settings = readHandlerSettings('count-annotations');

/** Counts the annotated tasks of a run's labeling round: whether the run goes on (its round then closed), waits, or fails. */
export const handler = lambdaHandler('count-annotations', async (event): Promise<LabelingProgress> => {
  const progress = await countAndCloseRound({
    store,
    artifactsBucket: settings.artifactsBucket,
    inboxBucket: settings.inboxBucket,
    ...event,
    deadlineHours: settings.deadlineHours,
    minLabeledFraction: settings.minLabeledFraction,
  });
  logger.info('Label Studio annotations counted', { batch: event.batch, round: event.round, ...progress });
  return progress;
});
