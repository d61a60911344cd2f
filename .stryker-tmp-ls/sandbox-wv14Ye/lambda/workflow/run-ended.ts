// @ts-nocheck
import type { ObjectStore } from '../convert/stores/object-store';
import { parseS3Uri } from '../convert/stores/object-store';
import { finishCorrectionsTurn, roundEnded } from '../labelstudio/corrections';
import { labelingRound } from '../labelstudio/workflow-tasks';
import { releaseGeneration } from './batch';
import { releaseDeployLock } from './deploy-lock';
import { finishImportTurn } from './import-turns';
import { runLayout, s3Uri } from './layout';
import { endpointName, runResourceNames } from './names';
import { buildRunReport, notificationText, type RunReport } from './run-report';
import { removeStaging } from './staging';
import type { ListingStore, VersionedStore } from './versioned-json';

/** Step Functions' "Execution Status Change" event, the fields read here (EventBridge delivers it). */
export interface ExecutionStatusChange {
  readonly detail: {
    readonly name: string;
    readonly status: string;
    /** The execution's input as a string; absent when larger than EventBridge carries. */
    readonly input?: string | null;
    readonly error?: string | null;
    readonly cause?: string | null;
    /** Milliseconds since the epoch. */
    readonly startDate?: number | null;
    readonly stopDate?: number | null;
  };
}

/** What became of an ended execution. */
export type RunEndVerdict =
  | { readonly action: 'already-reported' }
  | { readonly action: 'reported'; readonly released: boolean; readonly report: RunReport };

/**
 * A run that ended FAILED, TIMED_OUT or ABORTED without its own report: a failure the workflow could
 * not catch (an oversized state, a stopped or timed-out execution). It gets the report and the
 * notification its workflow would have sent, and, when its labeling job never started, its batch's
 * images back, so that nothing an upload brought is lost. A run that reported itself is left alone,
 * but for what every ended run leaves: its staging area (what it converted and did not commit) is
 * removed, so the dataset holds only what checked runs committed; its deploy lock, if it held it, is
 * released, so that the next run can deploy; an import's turn is over, so that the next upload
 * of its export runs; and so is a Label Studio round's conversion or a corrections run's turn.
 */
export async function reportUncaughtRunEnd(options: {
  readonly event: ExecutionStatusChange;
  readonly store: VersionedStore & ListingStore & Pick<ObjectStore, 'readStart' | 'write' | 'remove'>;
  readonly bucket: string;
  readonly resourcePrefix: string;
  readonly minimumMiou: number;
  /** Whether the stack can label at all (a workforce is configured). */
  readonly labeling: boolean;
  /** Whether Label Studio labels: the run may have been converting a round, or correcting one. @default false */
  readonly labelStudio?: boolean;
  /** Whether a labeling job of this name exists (SageMaker's DescribeLabelingJob). */
  readonly labelingJobExists: (name: string) => Promise<boolean>;
  readonly notify: (subject: string, message: string) => Promise<void>;
}): Promise<RunEndVerdict> {
  const { detail } = options.event;
  const runId = detail.name;
  const reportUri = s3Uri(options.bucket, runLayout(runId).report);
  await removeStaging(options.store, options.bucket, runId);
  await releaseDeployLock(options.store, options.bucket, runId);
  const input = parseInput(detail.input);
  const batch = typeof input.batch === 'string' ? input.batch : undefined;
  const exportKey = typeof input.export === 'string' ? parseS3Uri(input.export)?.key : undefined;
  if (batch !== undefined && exportKey !== undefined && Number.isInteger(input.importGeneration)) {
    await finishImportTurn(options.store, options.bucket, batch, exportKey, input.importGeneration as number);
  }
  if (options.labelStudio && batch !== undefined) {
    if (Number.isInteger(input.correctionsGeneration))
      await finishCorrectionsTurn(options.store, options.bucket, batch, input.correctionsGeneration as number);
    // A round this run closed is no longer converting (a round never closed changes nothing).
    else if (input.export === undefined)
      await roundEnded(options.store, options.bucket, batch, labelingRound(input as { generation?: number }, runId));
  }
  if (await options.store.readStart(reportUri, 1)) return { action: 'already-reported' };
  const generation = Number.isInteger(input.generation) ? (input.generation as number) : undefined;
  let released = false;
  if (batch !== undefined && generation !== undefined) {
    const labelingJob = runResourceNames(options.resourcePrefix, runId).labelingJob;
    if (!options.labeling || !(await options.labelingJobExists(labelingJob))) {
      await releaseGeneration(options.store, options.bucket, batch, generation);
      released = true;
    }
  }
  const startedAt = new Date(detail.startDate ?? Date.now()).toISOString();
  const finishedAt = new Date(detail.stopDate ?? Date.now()).toISOString();
  const cause = [
    detail.cause || 'no cause given',
    `the execution ended ${detail.status} where the workflow could not report it`,
    released ? 'its images are given back to the batch for its next run' : undefined,
  ]
    .filter(Boolean)
    .join('; ');
  const report = buildRunReport({
    status: 'failed',
    runId,
    state: { batch, generation, error: { Error: detail.error || `Execution${detail.status}`, Cause: cause } },
    endpointName: endpointName(options.resourcePrefix),
    minimumMiou: options.minimumMiou,
    startedAt,
    finishedAt,
  });
  await options.store.write(reportUri, Buffer.from(`${JSON.stringify(report, null, 2)}\n`), 'application/json');
  const { subject, message } = notificationText(report, reportUri);
  await options.notify(subject, message);
  return { action: 'reported', released, report };
}

function parseInput(input: string | null | undefined): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(input ?? '{}');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
