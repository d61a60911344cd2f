// @ts-nocheck
import { DescribeLabelingJobCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ADAPTIVE_RETRY } from '../common/aws-calls';
import { lambdaHandler, logger, store } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { type RunEndVerdict, reportUncaughtRunEnd } from '../workflow/run-ended';

const settings = readHandlerSettings('run-ended');
const sagemaker = new SageMakerClient(ADAPTIVE_RETRY);
const sns = new SNSClient(ADAPTIVE_RETRY);

async function labelingJobExists(name: string): Promise<boolean> {
  try {
    await sagemaker.send(new DescribeLabelingJobCommand({ LabelingJobName: name }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFound') return false;
    throw err;
  }
}

/** An execution ended FAILED, TIMED_OUT or ABORTED: report it and give its images back if the workflow could not. */
export const handler = lambdaHandler('run-ended', async (event): Promise<RunEndVerdict['action']> => {
  const verdict = await reportUncaughtRunEnd({
    event,
    store,
    bucket: settings.artifactsBucket,
    resourcePrefix: settings.resourcePrefix,
    minimumMiou: settings.minValidationMiou,
    labeling: settings.labeling,
    labelStudio: settings.labelStudio,
    labelingJobExists,
    notify: async (subject, message) => {
      await sns.send(new PublishCommand({ TopicArn: settings.topicArn, Subject: subject, Message: message }));
    },
  });
  logger.info('execution ended', {
    name: event.detail.name,
    status: event.detail.status,
    action: verdict.action,
    released: verdict.action === 'reported' && verdict.released,
  });
  return verdict.action;
});
