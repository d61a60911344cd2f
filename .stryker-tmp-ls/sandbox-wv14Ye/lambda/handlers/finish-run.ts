// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { parseS3Uri } from '../convert/stores/object-store';
import { finishCorrectionsTurn, roundEnded } from '../labelstudio/corrections';
import { releaseGeneration } from '../workflow/batch';
import { releaseDeployLock } from '../workflow/deploy-lock';
import { finishImportTurn } from '../workflow/import-turns';
import { runLayout, s3Uri } from '../workflow/layout';
import { endpointName } from '../workflow/names';
import { buildRunReport, notificationText, type RunReport, type RunState, type RunStatus } from '../workflow/run-report';

const settings = readHandlerSettings('finish-run');

export interface FinishRunEvent {
  readonly status: RunStatus;
  /** The execution name, for runs that fail before they are prepared. */
  readonly runId: string;
  readonly state: RunState;
  readonly startedAt: string;
}

/** Writes the run report and returns the notification's subject, message and event detail. */
export const handler = lambdaHandler(
  'finish-run',
  async (event): Promise<{ subject: string; message: string; detail: RunReport; reportUri: string }> => {
    const report = buildRunReport({
      status: event.status,
      state: event.state,
      runId: event.runId,
      endpointName: endpointName(settings.resourcePrefix),
      minimumMiou: settings.minValidationMiou,
      startedAt: event.startedAt,
      finishedAt: new Date().toISOString(),
    });
    await releaseUnlabeledImages(event);
    // Every run that reaches its report lets the next run deploy, whatever became of its own.
    if (await releaseDeployLock(store, settings.artifactsBucket, report.runId))
      logger.info('deploy lock released', { runId: report.runId });
    await finishImport(event.state);
    await finishLabelStudio(event.state);
    const reportUri = s3Uri(settings.artifactsBucket, runLayout(report.runId).report);
    await store.write(reportUri, Buffer.from(`${JSON.stringify(report, null, 2)}\n`), 'application/json');
    logger.info('run finished', { ...report, skippedItems: undefined });
    return { ...notificationText(report, reportUri), detail: report, reportUri };
  },
);

/** An import started by an upload lets the next upload's run of the same export take its turn. */
async function finishImport(state: RunState): Promise<void> {
  const key = typeof state.export === 'string' ? parseS3Uri(state.export)?.key : undefined;
  if (!state.batch || key === undefined || !Number.isInteger(state.importGeneration)) return;
  await finishImportTurn(store, settings.artifactsBucket, state.batch, key, state.importGeneration as number);
}

/** A Label Studio round's run has ended (corrections of its batch may go on), or a corrections run has (the next may take its turn). */
async function finishLabelStudio(state: RunState): Promise<void> {
  const round = state.run?.labelStudio?.round;
  if (state.batch && round) await roundEnded(store, settings.artifactsBucket, state.batch, round);
  if (state.batch && Number.isInteger(state.correctionsGeneration))
    await finishCorrectionsTurn(store, settings.artifactsBucket, state.batch, state.correctionsGeneration as number);
}

/**
 * A run that fails before its labeling job starts (no workforce, no quota) gives its snapshot back,
 * so that nothing is lost: the next run of the batch (a new upload or `_START`) takes those images.
 */
async function releaseUnlabeledImages(event: FinishRunEvent): Promise<void> {
  const { state } = event;
  // A Label Studio run whose tasks were annotated keeps its images: giving them back would have them labeled again.
  const annotated = state.annotations?.state === 'complete' || state.annotations?.state === 'enough';
  if (event.status !== 'failed' || state.labeling || annotated || !state.batch || state.generation === undefined || !state.imagesManifest)
    return;
  await releaseGeneration(store, settings.artifactsBucket, state.batch, state.generation);
  logger.info('snapshot released', { batch: state.batch, generation: state.generation, images: state.imageCount });
}
