// @ts-nocheck
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ADAPTIVE_RETRY } from '../common/aws-calls';
import { predictMask } from '../common/endpoint-mask';
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { endpointPrelabeler, type Prelabeler, type TaskChunkSummary, writeTaskChunk } from '../labelstudio/workflow-tasks';
import { datasetLayout, s3Uri } from '../workflow/layout';
import { readJson } from '../workflow/versioned-json';

const settings = readHandlerSettings('write-labelstudio-tasks');
// SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT is set only by the local run (its stand-in endpoint).
const runtime = new SageMakerRuntimeClient({ ...ADAPTIVE_RETRY, endpoint: process.env.SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT || undefined });
/** Time kept after the last image is taken: its answer (at most PRELABEL_IMAGE_TIMEOUT_MS) and its task's write. */
const WRITE_MARGIN_MS = 3 * 60_000;

/**
 * Writes one Label Studio task file per image of one chunk of the run's images, pre-labeled by the
 * serving endpoint when one serves, from where the previous invocation stopped; it stops in time and
 * says where the next one goes on (the state machine invokes it again until the chunk is done).
 */
export const handler = lambdaHandler('write-labelstudio-tasks', async (event, context): Promise<TaskChunkSummary> => {
  const deadline = Date.now() + context.getRemainingTimeInMillis() - WRITE_MARGIN_MS;
  const { prelabel, reason } = await prelabeler();
  if (reason) logger.info('tasks written without predictions', { reason });
  const summary = await writeTaskChunk({
    store,
    inboxBucket: settings.inboxBucket,
    artifactsBucket: settings.artifactsBucket,
    runId: event.runId,
    batch: event.batch,
    round: event.round,
    chunk: event.chunk,
    resume: event.progress,
    deadline,
    prelabel: prelabel ?? (async () => ({ reason })),
  });
  logger.info('Label Studio tasks written', { runId: event.runId, ...summary });
  return summary;
});

/** The serving endpoint's pre-labels, named by the dataset's class list (the indices the models were trained on); none before any model. */
async function prelabeler(): Promise<{ prelabel?: Prelabeler; reason?: string }> {
  const known = await readJson<string[]>(store, s3Uri(settings.artifactsBucket, datasetLayout().classes), []);
  if (known.length < 2) return { reason: 'no model has been trained yet (the dataset has no classes)' };
  const classes = known.slice(1);
  const missing = settings.labelClasses.filter((c) => !classes.includes(c));
  if (missing.length > 0) return { reason: `the serving model knows no class ${missing.slice(0, 5).join(', ')} of labelClasses` };
  return {
    prelabel: endpointPrelabeler({
      maskOf: async (image, signal) => {
        const { request, mask } = await predictMask(runtime, settings.endpointName, image, signal);
        return { mask, width: request.width, height: request.height };
      },
      read: (image) => store.read(image),
      classes,
      modelVersion: settings.endpointName,
    }),
  };
}
