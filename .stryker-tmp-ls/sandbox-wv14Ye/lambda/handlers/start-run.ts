// @ts-nocheck
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ADAPTIVE_RETRY } from '../common/aws-calls';
import type { HandlerEvent } from '../common/handler-events';
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { correctionsExecutionName, isRoundClosed, queueCorrection } from '../labelstudio/corrections';
import { LABELSTUDIO_TASKS_PREFIX } from '../labelstudio/storage-layout';
import { isAnnotationKey, MAX_ANNOTATION_FILE_BYTES, readAnnotationEvent, recordAnnotation, taskKey } from '../labelstudio/workflow-tasks';
import {
  ALREADY_TAKEN,
  batchExecutionName,
  classifyInboxKey,
  keyCandidates,
  readBatchState,
  uploadedBeforeSnapshot,
} from '../workflow/batch';
import { importExecutionName, nextImportGeneration } from '../workflow/import-turns';

/** An S3 "Object Created" event, as EventBridge delivers it. */
export type ObjectCreatedEvent = HandlerEvent<'start-run'>;

const settings = readHandlerSettings('start-run');
const sfn = new SFNClient({ ...ADAPTIVE_RETRY, endpoint: process.env.SEGPIPE_SFN_ENDPOINT || undefined });

export interface StartRunResult {
  readonly action: 'started' | 'ignored' | 'recorded';
  readonly executionName?: string;
  readonly reason?: string;
}

/**
 * One event per uploaded object, at least once and in any order: every event of a batch asks for the
 * same execution (name and input derive from the batch and its generation), so one run starts. An
 * event costs two small reads (the object's first byte, the batch's state) and one StartExecution.
 */
export const handler = lambdaHandler('start-run', async (event): Promise<StartRunResult> => {
  const { name: bucket } = event.detail.bucket;
  let key: string | undefined;
  for (const candidate of keyCandidates(event.detail.object.key)) {
    if ((await store.readStart(`s3://${bucket}/${candidate}`, 1)) !== undefined) {
      key = candidate;
      break;
    }
  }
  if (key === undefined) {
    logger.warn('object of the event is gone; ignored', { key: event.detail.object.key });
    return { action: 'ignored', reason: 'the object no longer exists' };
  }
  if (isAnnotationKey(key)) return recordLabelStudioAnnotation(bucket, key);
  const object = classifyInboxKey(key);
  if (object.kind === 'ignored') {
    logger.warn('object ignored', { key, reason: object.reason });
    return { action: 'ignored', reason: object.reason };
  }
  let executionName: string;
  let input: Record<string, unknown>;
  if (object.kind === 'export') {
    // Every upload of the export until a run takes this generation asks for the same execution.
    const generation = await nextImportGeneration(store, settings.artifactsBucket, object.batch, key);
    executionName = importExecutionName(object.batch, key, generation);
    input = { batch: object.batch, export: `s3://${bucket}/${key}`, importGeneration: generation };
  } else {
    // A few numbers, whatever the batch's size: every event costs the same.
    const state = await readBatchState(store, settings.artifactsBucket, object.batch);
    // A repeated or late event of an image the last snapshot listed changes nothing.
    if (object.kind === 'image' && uploadedBeforeSnapshot(key, event.time, state)) {
      logger.info("image uploaded before the batch's last snapshot; event ignored", { key });
      return { action: 'ignored', reason: ALREADY_TAKEN };
    }
    executionName = batchExecutionName(object.batch, state.generation);
    input = { batch: object.batch, generation: state.generation };
  }
  await startExecution(executionName, input);
  logger.info('run requested', { executionName, key });
  return { action: 'started', executionName };
});

/** Asks for an execution; a closed one of that name means its generation already ran (the next event after it starts the next). */
async function startExecution(executionName: string, input: Record<string, unknown>): Promise<void> {
  try {
    await sfn.send(
      new StartExecutionCommand({ stateMachineArn: settings.stateMachineArn, name: executionName, input: JSON.stringify(input) }),
    );
  } catch (err) {
    if (!(err instanceof ExecutionAlreadyExists)) throw err;
    logger.info('execution already exists', { executionName });
  }
}

/**
 * A file Label Studio's target storage wrote: one marker for its task and file, which the waiting run
 * counts and lists. It starts nothing unless the round is closed; a read of the file (bounded), of
 * its task's first byte and of the closed mark, and one small write, whatever the batch's size.
 */
async function recordLabelStudioAnnotation(bucket: string, key: string): Promise<StartRunResult> {
  const start = await store.readStart(`s3://${bucket}/${key}`, MAX_ANNOTATION_FILE_BYTES);
  if (!start) return { action: 'ignored', reason: 'the object no longer exists' };
  if (start.size > MAX_ANNOTATION_FILE_BYTES) {
    logger.warn('annotation file too large; ignored', { key, size: start.size });
    return { action: 'ignored', reason: `${key} holds ${start.size} bytes, over the ${MAX_ANNOTATION_FILE_BYTES} an annotation file may` };
  }
  const annotation = readAnnotationEvent(start.data, key);
  if (annotation.kind === 'ignored') {
    logger.warn('annotation file ignored', { key, reason: annotation.reason });
    return { action: 'ignored', reason: annotation.reason };
  }
  // Only a task segpipe wrote counts: a file naming another image or round (another project, a copy) would inflate the count.
  if ((await store.readStart(`s3://${bucket}/${taskKey(annotation.batch, annotation.round, annotation.image)}`, 1)) === undefined) {
    logger.warn('annotation of no task segpipe wrote; ignored', { key, batch: annotation.batch, round: annotation.round });
    return {
      action: 'ignored',
      reason: `${key}: its task (batch ${annotation.batch}, round ${annotation.round}) is not one segpipe wrote under ${LABELSTUDIO_TASKS_PREFIX}`,
    };
  }
  // The marker first, then the closed mark: a run that closes its round after this read lists its
  // round's files after the close, so it finds this marker; one that closed before is met here, and
  // the batch's next corrections run converts the file.
  await recordAnnotation(store, settings.artifactsBucket, annotation, key);
  if (await isRoundClosed(store, settings.artifactsBucket, annotation.batch, annotation.round)) {
    const generation = await queueCorrection(store, settings.artifactsBucket, { ...annotation, annotationKey: key });
    const executionName = correctionsExecutionName(annotation.batch, generation);
    await startExecution(executionName, { batch: annotation.batch, correctionsGeneration: generation });
    logger.info('correction queued', { key, batch: annotation.batch, round: annotation.round, executionName });
    return {
      action: 'started',
      executionName,
      reason: `a task of batch ${annotation.batch}, round ${annotation.round}, whose run took its annotations already: the batch's next corrections run converts it`,
    };
  }
  logger.info('annotation recorded', { key, batch: annotation.batch, round: annotation.round });
  return { action: 'recorded', reason: `a task of batch ${annotation.batch}, round ${annotation.round}` };
}
