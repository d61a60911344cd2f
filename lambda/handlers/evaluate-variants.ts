import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { ADAPTIVE_RETRY } from '../common/aws-calls';
import { readHandlerSettings } from '../common/settings';
import { RunEvaluationEvent, RunEvaluationResult, evaluateRun } from '../evaluation/run-evaluation';
import { logger, store } from './runtime';

const settings = readHandlerSettings('evaluate-variants');
// SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT and SEGPIPE_NO_CLOUDWATCH are set only by the local run and the
// tests: the local endpoint stand-in, and no CloudWatch to read training curves from.
const runtime = new SageMakerRuntimeClient({ ...ADAPTIVE_RETRY, endpoint: process.env.SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT || undefined });
const cloudwatch = process.env.SEGPIPE_NO_CLOUDWATCH ? undefined : new CloudWatchClient(ADAPTIVE_RETRY);

/** Evaluates the champion and challenger variants of the stack's endpoint on the run's validation images. */
export async function handler(event: RunEvaluationEvent): Promise<RunEvaluationResult> {
  return evaluateRun({ store, runtime, cloudwatch, region: process.env.AWS_REGION ?? 'us-east-1', log: (message, details) => logger.info(message, details) }, settings, event);
}
