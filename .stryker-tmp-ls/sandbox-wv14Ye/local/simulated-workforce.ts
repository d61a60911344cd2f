import type { ObjectStore } from '../lambda/convert/stores/object-store';
import {
  groundTruthFailedLine,
  groundTruthManifestLine,
  groundTruthMaskPng,
  type LabelingClass,
  labelingClasses,
} from './ground-truth-output';

/** What a labeler knows of an image: its true class per pixel (0 background, 1.. the labels in order). */
export interface TrueLabels {
  readonly width: number;
  readonly height: number;
  readonly classIndices: Uint8Array;
}

/** The parts of a CreateLabelingJob request the stand-in reads. */
export interface LabelingJobRequest {
  readonly LabelingJobName: string;
  readonly LabelAttributeName: string;
  readonly InputConfig: { DataSource: { S3DataSource: { ManifestS3Uri: string } } };
  readonly OutputConfig: { S3OutputPath: string };
  readonly LabelCategoryConfigS3Uri: string;
}

/**
 * LOCAL STAND-IN for a SageMaker Ground Truth labeling job and its workforce: it reads the job's input
 * manifest and label categories, and writes what Ground Truth writes — indexed colour masks painted
 * by `internal-color-map` on a white background, and `manifests/output/output.manifest` — from labels
 * it is told are true. Images it has no labels for get a failed line, as an abandoned task does.
 * Returns the DescribeLabelingJob fields the workflow reads.
 */
export async function simulateLabelingJob(
  store: ObjectStore,
  request: LabelingJobRequest,
  truthOf: (source: string) => TrueLabels | undefined,
) {
  const categories = JSON.parse((await store.read(request.LabelCategoryConfigS3Uri)).toString('utf8')) as { labels: { label: string }[] };
  const classes: LabelingClass[] = labelingClasses(categories.labels.map((l) => l.label));
  const manifest = (await store.read(request.InputConfig.DataSource.S3DataSource.ManifestS3Uri)).toString('utf8');
  const sources = manifest
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l)['source-ref'] as string);
  const jobPrefix = `${request.OutputConfig.S3OutputPath.replace(/\/$/, '')}/${request.LabelingJobName}`;
  const lines: string[] = [];
  let labeled = 0;
  for (const [index, source] of sources.entries()) {
    const truth = truthOf(source);
    if (!truth) {
      lines.push(
        JSON.stringify(
          groundTruthFailedLine({
            source,
            attribute: request.LabelAttributeName,
            jobName: request.LabelingJobName,
            reason: 'ClientError: the worker abandoned the task (local stand-in)',
          }),
        ),
      );
      continue;
    }
    const mask = `${jobPrefix}/annotations/consolidated-annotation/output/${index}_2026-11-29T00:00:00.000000.png`;
    await store.write(mask, groundTruthMaskPng(truth.classIndices, truth.width, truth.height, classes), 'image/png');
    lines.push(
      JSON.stringify(
        groundTruthManifestLine({ source, mask, attribute: request.LabelAttributeName, jobName: request.LabelingJobName, classes }),
      ),
    );
    labeled += 1;
  }
  const outputManifest = `${jobPrefix}/manifests/output/output.manifest`;
  await store.write(outputManifest, Buffer.from(`${lines.join('\n')}\n`), 'application/x-ndjson');
  return {
    LabelingJobName: request.LabelingJobName,
    LabelingJobStatus: 'Completed',
    LabelCounters: {
      TotalLabeled: labeled,
      HumanLabeled: labeled,
      MachineLabeled: 0,
      FailedNonRetryableError: sources.length - labeled,
      Unlabeled: 0,
    },
    LabelingJobOutput: { OutputDatasetS3Uri: outputManifest },
  };
}
