// @ts-nocheck
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { labelingRound, planTasks, type TaskPlan } from '../labelstudio/workflow-tasks';
import { type LabelingInputs, writeLabelingInputs } from '../workflow/labeling';
import { type RunResourceNames, runResourceNames } from '../workflow/names';

export interface PreparedRun {
  readonly runId: string;
  readonly batch: string;
  readonly mode: 'label' | 'import';
  readonly names: RunResourceNames;
  readonly labeling?: LabelingInputs;
  /** Label Studio labels: where the run's tasks go, in chunks a map writes. */
  readonly labelStudio?: TaskPlan;
  readonly export?: string;
  /** An import: the list of Label Studio target-storage files a corrections run converts, else `''`. */
  readonly labelStudioFiles?: string;
  readonly images: number;
}

const settings = readHandlerSettings('prepare-run');

/** Names what the run creates and, for a batch of images, writes the labeling job's inputs. */
export const handler = lambdaHandler('prepare-run', async (event): Promise<PreparedRun> => {
  const { runId, input } = event;
  logger.appendKeys({ runId, batch: input.batch });
  const names = runResourceNames(settings.resourcePrefix, runId);
  const labels = input.export ?? input.manifest;
  if (labels !== undefined) {
    logger.info('importing labels', { export: labels });
    return { runId, batch: input.batch, mode: 'import', names, export: labels, labelStudioFiles: input.labelStudioFiles ?? '', images: 0 };
  }
  // The schema has it: an imagesManifest comes with its imageCount.
  const images =
    input.imagesManifest !== undefined ? { manifest: input.imagesManifest, count: input.imageCount ?? 0 } : (input.images ?? []);
  const count = Array.isArray(images) ? images.length : images.count;
  if (settings.labelStudioInbox !== undefined) {
    const labelStudio = await planTasks({
      store,
      inboxBucket: settings.labelStudioInbox,
      artifactsBucket: settings.artifactsBucket,
      runId,
      batch: input.batch,
      round: labelingRound(input, runId),
      images,
    });
    logger.info('Label Studio tasks planned', {
      tasks: labelStudio.tasks,
      chunks: labelStudio.chunks.length,
      prefix: labelStudio.tasksPrefix,
    });
    return { runId, batch: input.batch, mode: 'label', names, labelStudio, images: count };
  }
  if (settings.workforce === 'none') return { runId, batch: input.batch, mode: 'label', names, images: count };
  const labeling = await writeLabelingInputs(store, settings.artifactsBucket, runId, images, settings.labelClasses);
  logger.info('labeling inputs written', { images: count, ...labeling });
  return { runId, batch: input.batch, mode: 'label', names, labeling, images: count };
});
