import { runLayout, s3Uri } from '../workflow/layout';
import { endpointName } from '../workflow/names';
import { RunReport, RunState, RunStatus, buildRunReport, notificationText } from '../workflow/run-report';
import { logger, readSettings, store } from './runtime';

const settings = readSettings();
const minimumMiou = Number(process.env.MIN_VALIDATION_MIOU ?? '0.5');

export interface FinishRunEvent {
  readonly status: RunStatus;
  readonly state: RunState;
  readonly startedAt: string;
}

/** Writes the run report and returns the notification's subject, message and event detail. */
export async function handler(event: FinishRunEvent): Promise<{ subject: string; message: string; detail: RunReport; reportUri: string }> {
  const report = buildRunReport({
    status: event.status, state: event.state, endpointName: endpointName(settings.resourcePrefix), minimumMiou,
    startedAt: event.startedAt, finishedAt: new Date().toISOString(),
  });
  const reportUri = s3Uri(settings.artifactsBucket, runLayout(report.runId).report);
  await store.write(reportUri, Buffer.from(`${JSON.stringify(report, null, 2)}\n`), 'application/json');
  logger.info('run finished', { ...report, skippedItems: undefined });
  return { ...notificationText(report, reportUri), detail: report, reportUri };
}
