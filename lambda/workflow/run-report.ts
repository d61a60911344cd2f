import { plainText, quoted, snsSubject } from '../common/untrusted-text';
import type { SkippedItem } from '../convert/conversion/report';
import type { RunEvaluationResult } from '../evaluation/run-evaluation';

export type RunStatus = 'deployed' | 'not-deployed' | 'not-promoted' | 'failed';

/** The parts of the execution state the report reads; each is present once its step has run. */
export interface RunState {
  /** From a batch snapshot: the batch, its generation, and the manifest of the images the run took. */
  readonly batch?: string;
  readonly generation?: number;
  readonly imagesManifest?: string;
  readonly imageCount?: number;
  /** From an upload of an export: the export, and the generation of its uploads the run took. */
  readonly export?: string;
  readonly importGeneration?: number;
  /** From Label Studio annotations saved after their round's run took its annotations: the batch's corrections generation the run took. */
  readonly correctionsGeneration?: number;
  readonly run?: {
    runId: string;
    batch: string;
    mode: string;
    names: Record<string, string>;
    /** A Label Studio run's round (`labelingRound`). */
    labelStudio?: { round?: string };
  };
  readonly channels?: {
    numClasses: number;
    numTrainingSamples: number;
    numValidationSamples: number;
    converted: number;
    skipped: number;
    skippedItems: SkippedItem[];
    classes: string[];
  };
  readonly labeling?: { LabelingJobName?: string; LabelCounters?: Record<string, number> };
  /** A Label Studio run's last count of its annotated tasks (`state` `complete` or `enough`: its images are labeled). */
  readonly annotations?: { state?: string; annotated?: number; tasks?: number };
  readonly training?: {
    TrainingJobName?: string;
    TrainingTimeInSeconds?: number;
    BillableTimeInSeconds?: number;
    ModelArtifacts?: { S3ModelArtifacts?: string };
  };
  readonly metrics?: { miou?: number[]; pixelAccuracy?: number[] };
  /** The serving endpoint's config when the run found one: its model was the champion. */
  readonly champion?: { config?: string };
  readonly evaluation?: RunEvaluationResult;
  readonly error?: { Error?: string; Cause?: string };
}

export interface RunReport {
  readonly runId: string;
  readonly batch: string;
  readonly status: RunStatus;
  readonly reason?: string;
  /** What brings back what a failed run took and did not commit (a Label Studio run's annotations). */
  readonly next?: string;
  readonly mode?: string;
  readonly labelingJob?: string;
  readonly trainingJob?: string;
  readonly model?: string;
  readonly endpoint?: string;
  readonly classes?: string[];
  readonly counts?: { converted: number; skipped: number; train: number; validation: number };
  readonly skippedItems?: SkippedItem[];
  readonly metrics?: { 'validation:mIOU'?: number; 'validation:pixel_accuracy'?: number; minimumMiou: number };
  /** The evaluation on the endpoint: both variants' scores on the same images, the verdict, and the report's addresses. */
  readonly evaluation?: RunEvaluationResult;
  readonly durations: { totalSeconds: number; trainingSeconds?: number; billableTrainingSeconds?: number };
  readonly startedAt: string;
  readonly finishedAt: string;
}

/** Explains an error the way a user can act on it; Step Functions wraps causes in JSON. */
function reasonOf(error: RunState['error']): string | undefined {
  if (!error) return undefined;
  let cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause);
    cause = parsed.EndpointName
      ? `endpoint ${parsed.EndpointName} is ${parsed.EndpointStatus}${parsed.FailureReason ? `: ${parsed.FailureReason}` : ''}`
      : (parsed.errorMessage ?? parsed.FailureReason ?? parsed.Message ?? cause);
  } catch {
    // A plain-text cause.
  }
  return `${error.Error ?? 'Error'}: ${cause}`.slice(0, 2000);
}

/**
 * A Label Studio run that took its annotations (its round closed, or a corrections run) and failed
 * before committing them: a later save of those files goes to the batch's next corrections run, and
 * a Sync of the target storage saves every annotation again.
 */
const LABEL_STUDIO_RETRY =
  "this run's Label Studio annotations were not added to the dataset: once the cause is fixed, Sync the project's target storage in Label Studio (it writes every annotation again), and the batch's next corrections run converts them";

function tookAnnotations(state: RunState): boolean {
  return state.annotations?.state === 'complete' || state.annotations?.state === 'enough' || Number.isInteger(state.correctionsGeneration);
}

export function buildRunReport(options: {
  readonly status: RunStatus;
  readonly runId: string;
  readonly state: RunState;
  readonly endpointName: string;
  readonly minimumMiou: number;
  readonly startedAt: string;
  readonly finishedAt: string;
}): RunReport {
  const { state } = options;
  const miou = state.metrics?.miou?.[0];
  const pixelAccuracy = state.metrics?.pixelAccuracy?.[0];
  return {
    runId: options.runId,
    batch: state.run?.batch ?? state.batch ?? 'unknown',
    status: options.status,
    reason:
      options.status === 'failed'
        ? reasonOf(state.error)
        : options.status === 'not-deployed'
          ? miou === undefined
            ? `the training job reported no validation:mIOU, so the model cannot pass the minimum ${options.minimumMiou}; the endpoint was left as it was`
            : `validation:mIOU ${rounded(miou)} is below the minimum ${options.minimumMiou}; the endpoint was left as it was`
          : options.status === 'not-promoted'
            ? `${state.evaluation?.reason ?? 'the evaluation did not promote the model'}; ${state.champion ? 'the champion keeps serving, the challenger variant was removed' : 'the new endpoint was deleted'}`
            : undefined,
    ...(options.status === 'failed' && tookAnnotations(state) && !state.channels ? { next: LABEL_STUDIO_RETRY } : {}),
    mode: state.run?.mode,
    labelingJob: state.run?.mode === 'label' ? state.run.names.labelingJob : undefined,
    trainingJob: state.training?.TrainingJobName,
    model: options.status === 'deployed' ? state.run?.names.model : undefined,
    endpoint: options.status === 'deployed' || (options.status === 'not-promoted' && state.champion) ? options.endpointName : undefined,
    classes: state.channels?.classes,
    counts: state.channels && {
      converted: state.channels.converted,
      skipped: state.channels.skipped,
      train: state.channels.numTrainingSamples,
      validation: state.channels.numValidationSamples,
    },
    skippedItems: state.channels?.skippedItems,
    metrics: state.metrics && { 'validation:mIOU': miou, 'validation:pixel_accuracy': pixelAccuracy, minimumMiou: options.minimumMiou },
    ...(state.evaluation ? { evaluation: state.evaluation } : {}),
    durations: {
      totalSeconds: Math.round((Date.parse(options.finishedAt) - Date.parse(options.startedAt)) / 1000),
      trainingSeconds: state.training?.TrainingTimeInSeconds,
      billableTrainingSeconds: state.training?.BillableTimeInSeconds,
    },
    startedAt: options.startedAt,
    finishedAt: options.finishedAt,
  };
}

/** Characters of an uploader's text (a batch name, a `source-ref`, a skip reason) an e-mail quotes. */
export const QUOTED_FIELD_MAX = 200;

/**
 * The e-mail: a subject SNS accepts (printable ASCII, under 100 characters) and a plain-text body.
 * The batch name and the skipped items come from uploads: the body quotes them (escaped, cut to
 * {@link QUOTED_FIELD_MAX} characters) and the subject keeps only their printable ASCII.
 */
export function notificationText(report: RunReport, reportUri: string): { subject: string; message: string } {
  const [before, after] = {
    deployed: ['segpipe: ', ` deployed to ${report.endpoint}`],
    'not-deployed': ['segpipe: ', ' trained, not deployed (mIOU below minimum)'],
    'not-promoted': ['segpipe: ', ' trained, not promoted (evaluated on the endpoint)'],
    failed: ['segpipe: run for ', ' failed'],
  }[report.status];
  const lines = [
    `${before}${quoted(report.batch, QUOTED_FIELD_MAX)}${after}`,
    '',
    `Run: ${report.runId}`,
    report.reason ? `Reason: ${plainText(report.reason)}` : undefined,
    report.next ? `Next: ${report.next}` : undefined,
    report.endpoint ? `Endpoint: ${report.endpoint}${report.status === 'not-promoted' ? ' (still serving the champion)' : ''}` : undefined,
    report.evaluation && report.status !== 'not-promoted' ? `Evaluation: ${plainText(report.evaluation.reason)}` : undefined,
    report.evaluation ? `Evaluation report: ${report.evaluation.reportUri}` : undefined,
    report.evaluation ? `  in the S3 console: ${report.evaluation.reportConsoleUrl}` : undefined,
    report.metrics
      ? `validation:mIOU ${rounded(report.metrics['validation:mIOU'])}, validation:pixel_accuracy ${rounded(report.metrics['validation:pixel_accuracy'])} (minimum mIOU ${report.metrics.minimumMiou})`
      : undefined,
    report.counts
      ? `Items: ${report.counts.converted} converted this run, ${report.counts.skipped} skipped; dataset ${report.counts.train} train, ${report.counts.validation} validation`
      : undefined,
    ...(report.skippedItems ?? []).map(
      (s) =>
        `  skipped ${s.source === null || s.source === undefined ? `line ${s.line}` : quoted(s.source, QUOTED_FIELD_MAX)}: ${quoted(s.reason, QUOTED_FIELD_MAX)}`,
    ),
    `Duration: ${report.durations.totalSeconds} s${report.durations.trainingSeconds !== undefined ? ` (training ${report.durations.trainingSeconds} s)` : ''}`,
    `Report: ${reportUri}`,
  ];
  return { subject: snsSubject(before, report.batch, after), message: lines.filter((l) => l !== undefined).join('\n') };
}

/** A metric as people read it: three decimals (the report keeps the full value). */
function rounded(value: number | undefined): string {
  return value === undefined ? 'missing' : String(Number(value.toFixed(3)));
}
