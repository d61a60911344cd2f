// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { type CorrectionsTurn, takeCorrectionsTurn } from '../labelstudio/corrections';

const settings = readHandlerSettings('take-corrections-turn');

/** A Label Studio corrections run asks for its turn: one at a time per batch, after the batch's converting rounds. */
export const handler = lambdaHandler('take-corrections-turn', async (event): Promise<CorrectionsTurn> => {
  const turn = await takeCorrectionsTurn({
    store,
    artifactsBucket: settings.artifactsBucket,
    inboxBucket: settings.inboxBucket,
    batch: event.batch,
    generation: event.generation,
    runId: event.runId,
  });
  logger.info('corrections turn', { batch: event.batch, generation: event.generation, ...turn });
  return turn;
});
