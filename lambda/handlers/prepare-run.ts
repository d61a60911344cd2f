import { LabelingInputs, writeLabelingInputs } from '../workflow/labeling';
import { TaskPlan, labelingRound, planTasks } from '../labelstudio/workflow-tasks';
import { RunResourceNames, runResourceNames } from '../workflow/names';
import { readHandlerSettings } from '../common/settings';
import { logger, store } from './runtime';

/** The execution's input. */
export interface RunInput {
  readonly batch: string;
  /** Images to label, as s3:// URIs (a run started by hand); or */
  readonly images?: readonly string[];
  /** a batch snapshot's input manifest of the images to label, and their number; or */
  readonly imagesManifest?: string;
  readonly imageCount?: number;
  /** the batch generation the snapshot took; */
  readonly generation?: number;
  /** labels made elsewhere, imported: a Ground Truth or Lookout for Vision manifest, a COCO or Label Studio JSON, a CVAT or VOC zip; */
  readonly export?: string;
  /** the same, as runs started by earlier versions name it. */
  readonly manifest?: string;
}

export interface PrepareRunEvent {
  /** The execution name: the run's id. */
  readonly runId: string;
  readonly input: RunInput;
}

export interface PreparedRun {
  readonly runId: string;
  readonly batch: string;
  readonly mode: 'label' | 'import';
  readonly names: RunResourceNames;
  readonly labeling?: LabelingInputs;
  /** Label Studio labels: where the run's tasks go, in chunks a map writes. */
  readonly labelStudio?: TaskPlan;
  readonly export?: string;
  readonly images: number;
}

const settings = readHandlerSettings('prepare-run');
const S3_URI = /^s3:\/\/[^/]+\/.+/;

/** Names what the run creates and, for a batch of images, writes the labeling job's inputs. */
export async function handler(event: PrepareRunEvent): Promise<PreparedRun> {
  const { runId, input } = event;
  if (typeof input?.batch !== 'string' || input.batch === '') throw new Error(`the run input needs a "batch" name, received ${JSON.stringify(input)}`);
  logger.appendKeys({ runId, batch: input.batch });
  const names = runResourceNames(settings.resourcePrefix, runId);
  const labels = input.export ?? input.manifest;
  if (labels !== undefined) {
    if (typeof labels !== 'string' || !S3_URI.test(labels)) throw new Error(`export must be an s3://bucket/key URI, received ${JSON.stringify(labels).slice(0, 300)}`);
    logger.info('importing labels', { export: labels });
    return { runId, batch: input.batch, mode: 'import', names, export: labels, images: 0 };
  }
  const images = imagesToLabel(input);
  const count = Array.isArray(images) ? images.length : (images as { count: number }).count;
  if (settings.labelStudioInbox !== undefined) {
    const labelStudio = await planTasks({
      store, inboxBucket: settings.labelStudioInbox, artifactsBucket: settings.artifactsBucket, runId, batch: input.batch,
      round: labelingRound(input, runId), images: Array.isArray(images) ? images : { manifest: (images as { manifest: string }).manifest },
    });
    logger.info('Label Studio tasks planned', { tasks: labelStudio.tasks, chunks: labelStudio.chunks.length, prefix: labelStudio.tasksPrefix });
    return { runId, batch: input.batch, mode: 'label', names, labelStudio, images: count };
  }
  if (settings.workforce === 'none') return { runId, batch: input.batch, mode: 'label', names, images: count };
  const labeling = await writeLabelingInputs(store, settings.artifactsBucket, runId, images, settings.labelClasses);
  logger.info('labeling inputs written', { images: count, ...labeling });
  return { runId, batch: input.batch, mode: 'label', names, labeling, images: count };
}

function imagesToLabel(input: RunInput): readonly string[] | { manifest: string; count: number } {
  if (input.imagesManifest !== undefined) {
    if (!S3_URI.test(input.imagesManifest) || !Number.isInteger(input.imageCount)) {
      throw new Error(`imagesManifest must be an s3://bucket/key URI with a whole imageCount, received ${JSON.stringify({ imagesManifest: input.imagesManifest, imageCount: input.imageCount }).slice(0, 300)}`);
    }
    return { manifest: input.imagesManifest, count: input.imageCount as number };
  }
  const images = input.images ?? [];
  const notS3 = images.filter((image) => typeof image !== 'string' || !S3_URI.test(image));
  if (notS3.length > 0) throw new Error(`images must be s3://bucket/key URIs; these are not: ${notS3.slice(0, 5).map((i) => JSON.stringify(i).slice(0, 200)).join(', ')}`);
  return images;
}
