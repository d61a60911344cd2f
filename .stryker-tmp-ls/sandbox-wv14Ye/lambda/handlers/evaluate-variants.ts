// @ts-nocheck
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ADAPTIVE_RETRY } from '../common/aws-calls';
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { evaluateRun, type RunEvaluationResult } from '../evaluation/run-evaluation';

const settings = readHandlerSettings('evaluate-variants');
// SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT, SEGPIPE_NO_CLOUDWATCH and SEGPIPE_LOCAL_HOLDOUT_KEY are set only
// by the local run and the tests: the local endpoint stand-in, no CloudWatch to read training curves
// from, and a holdout key where there is no Secrets Manager.
const runtime = new SageMakerRuntimeClient({ ...ADAPTIVE_RETRY, endpoint: process.env.SEGPIPE_SAGEMAKER_RUNTIME_ENDPOINT || undefined });
const cloudwatch = process.env.SEGPIPE_NO_CLOUDWATCH ? undefined : new CloudWatchClient(ADAPTIVE_RETRY);
const secrets = new SecretsManagerClient(ADAPTIVE_RETRY);

let holdoutKey: Promise<string> | undefined;
/** The key, read once per container; a failed read is tried again by the next invocation. */
function readHoldoutKey(): Promise<string> {
  const local = process.env.SEGPIPE_LOCAL_HOLDOUT_KEY;
  if (local) return Promise.resolve(local);
  holdoutKey ??= secrets
    .send(new GetSecretValueCommand({ SecretId: settings.holdoutKeySecret }))
    .then((answer) => {
      if (!answer.SecretString) throw new Error(`the holdout key secret ${settings.holdoutKeySecret} holds no string`);
      return answer.SecretString;
    })
    .catch((err: unknown) => {
      holdoutKey = undefined;
      throw err;
    });
  return holdoutKey;
}

/** Evaluates the champion and challenger variants of the stack's endpoint on the run's validation images. */
export const handler = lambdaHandler('evaluate-variants', async (event): Promise<RunEvaluationResult> => {
  return evaluateRun(
    {
      store,
      runtime,
      cloudwatch,
      region: process.env.AWS_REGION ?? 'us-east-1',
      holdoutKey: readHoldoutKey,
      log: (message, details) => logger.info(message, details),
    },
    settings,
    event,
  );
});
