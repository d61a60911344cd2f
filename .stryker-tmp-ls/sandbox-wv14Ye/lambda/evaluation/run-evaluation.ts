// @ts-nocheck
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { ObjectStore } from '../convert/stores/object-store';
import { readDatasetIndex } from '../workflow/dataset-index';
import { runLayout, s3ConsoleUrl, s3Uri } from '../workflow/layout';
import type { ListingStore } from '../workflow/versioned-json';
import { type EvaluationResult, evaluateVariants, sageMakerInvoker, type VariantToEvaluate, validationChannel } from './evaluate';
import { evaluationReportHtml, metricsDocument } from './report-html';
import { trainerOfImage } from './trainer';
import { type TrainingCurvePoint, trainingCurves } from './training-curves';
import { promotionVerdict, type Verdict } from './verdict';

export interface RunEvaluationSettings {
  readonly artifactsBucket: string;
  readonly endpointName: string;
  readonly maxImages: number;
  /** Largest share of the evaluation's images one batch may supply (`evaluation.maxBatchShare`). */
  readonly maxBatchShare: number;
  /** Fewest images every variant must answer (`evaluation.minImages`). */
  readonly minImages: number;
  readonly tolerance: number;
  readonly minValidationMiou: number;
}

export interface RunEvaluationEvent {
  readonly runId: string;
  readonly trainingJob: string;
  /** Class names by index, the background first (the run's channels' classes). */
  readonly classes: string[];
  /** The serving variant; absent at a first deployment, which is evaluated alone. */
  readonly champion?: string;
  /** This run's variant. */
  readonly challenger: string;
  /** The serving containers' images, which tell the trainer of each (`trainerOfImage`). */
  readonly championImage?: string;
  readonly challengerImage?: string;
}

export interface VariantSummary {
  readonly variant: string;
  /** The trainer that made its model, when its image says. */
  readonly trainer?: string;
  readonly miou: number;
  readonly pixelAccuracy: number;
}

/** What the state machine decides on and the run report quotes: small, so the execution state stays small. */
export interface RunEvaluationResult extends Verdict {
  readonly images: number;
  readonly champion?: VariantSummary;
  readonly challenger: VariantSummary;
  readonly metricsUri: string;
  readonly reportUri: string;
  /** The report's page in the S3 console. */
  readonly reportConsoleUrl: string;
}

export interface RunEvaluationDependencies {
  readonly store: ObjectStore & ListingStore;
  readonly runtime: SageMakerRuntimeClient;
  /** Undefined where there is no CloudWatch (the local run): the report says there are no training curves. */
  readonly cloudwatch?: CloudWatchClient;
  readonly region: string;
  /** The stack's holdout key (Secrets Manager), the order in which validation images are chosen. */
  readonly holdoutKey: () => Promise<string>;
  readonly log?: (message: string, details: Record<string, unknown>) => void;
}

/**
 * The run's evaluation on the live endpoint: the same validation images to the champion and the
 * challenger variant (`TargetVariant`), their scores, the verdict, then `metrics.json` and `report.html`
 * under `runs/<run-id>/evaluation/`. A failed request fails it; the state machine then removes the challenger.
 */
export async function evaluateRun(
  deps: RunEvaluationDependencies,
  settings: RunEvaluationSettings,
  event: RunEvaluationEvent,
): Promise<RunEvaluationResult> {
  const layout = runLayout(event.runId);
  const source = validationChannel(deps.store, s3Uri(settings.artifactsBucket, layout.channels));
  const challengerTrainer = trainerOfImage(event.challengerImage);
  const championTrainer = trainerOfImage(event.championImage);
  const variants: VariantToEvaluate[] = event.champion
    ? [
        { variant: event.champion, role: 'champion', trainer: championTrainer },
        { variant: event.challenger, role: 'challenger', trainer: challengerTrainer },
      ]
    : [{ variant: event.challenger, role: 'model', trainer: challengerTrainer }];
  // An item's batch, from the dataset's index (the lineage), for the batches' cap.
  const batches = new Map(
    [...(await readDatasetIndex(deps.store, settings.artifactsBucket)).values()].map((item) => [item.name, item.batch]),
  );
  const batchOf = (name: string) => batches.get(name);
  const result: EvaluationResult = await evaluateVariants({
    source,
    variants,
    numClasses: event.classes.length,
    maxImages: settings.maxImages,
    minImages: settings.minImages,
    holdout: { key: await deps.holdoutKey(), maxBatchShare: settings.maxBatchShare, batchOf },
    invoke: sageMakerInvoker(deps.runtime, settings.endpointName),
  });
  const summary = (index: number): VariantSummary => {
    const { variant, trainer, miou, pixelAccuracy } = result.variants[index];
    return { variant: variant!, ...(trainer ? { trainer } : {}), miou, pixelAccuracy };
  };
  const challenger = summary(result.variants.length - 1);
  const champion = event.champion ? summary(0) : undefined;
  const refused = event.champion ? { challenger: result.variants[1].refused, champion: result.variants[0].refused } : undefined;
  const verdict = promotionVerdict(
    challenger,
    champion,
    { tolerance: settings.tolerance, minimumMiou: settings.minValidationMiou },
    result.images.length,
    refused,
  );
  deps.log?.('evaluated', {
    runId: event.runId,
    images: result.images.length,
    chosen: result.chosen,
    refused: result.skipped.refused.length,
    unreadable: result.skipped.unreadable.length,
    unlabelled: result.skipped.unlabelled.length,
    champion,
    challenger,
    ...verdict,
  });

  let curves: readonly TrainingCurvePoint[] = [];
  if (deps.cloudwatch) {
    try {
      curves = await trainingCurves(deps.cloudwatch, event.trainingJob);
    } catch (err) {
      // The curves illustrate the report; a CloudWatch refusal is logged, and the report says it has none.
      deps.log?.('training curves unavailable', { trainingJob: event.trainingJob, error: (err as Error).message });
    }
  }
  const generatedAt = new Date().toISOString();
  const common = { endpoint: settings.endpointName, classes: event.classes, result, verdict, generatedAt };
  const metricsUri = s3Uri(settings.artifactsBucket, layout.evaluationMetrics);
  await deps.store.write(metricsUri, Buffer.from(`${JSON.stringify(metricsDocument(common), null, 2)}\n`), 'application/json');
  const html = await evaluationReportHtml({
    ...common,
    title: `segpipe run ${event.runId}: ${event.champion ? 'champion against challenger' : 'first model'}`,
    source,
    training: { job: event.trainingJob, curves },
  });
  const reportUri = s3Uri(settings.artifactsBucket, layout.evaluationReport);
  await deps.store.write(reportUri, Buffer.from(html), 'text/html; charset=utf-8');
  return {
    ...verdict,
    images: result.images.length,
    champion,
    challenger,
    metricsUri,
    reportUri,
    reportConsoleUrl: s3ConsoleUrl(settings.artifactsBucket, layout.evaluationReport, deps.region),
  };
}
