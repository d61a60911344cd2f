// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { parseS3Uri } from '../convert/stores/object-store';
import { type ImportTurn, takeImportTurn } from '../workflow/import-turns';

const settings = readHandlerSettings('take-import-turn');

/** An import run asks for its turn: one run at a time per export file, at most one waiting. */
export const handler = lambdaHandler('take-import-turn', async (event): Promise<{ turn: ImportTurn }> => {
  // The event's schema has checked that the export is an s3:// URI and the generation a whole number.
  const { key } = parseS3Uri(event.export)!;
  const turn = await takeImportTurn(store, settings.artifactsBucket, event.batch, key, event.generation);
  logger.info('import turn', { batch: event.batch, export: event.export, generation: event.generation, turn });
  return { turn };
});
