// @ts-nocheck
import { paginateListServiceQuotas, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { ADAPTIVE_RETRY } from '../common/aws-calls';
import { lambdaHandler, logger } from '../common/runtime';
import { readHandlerSettings } from '../common/settings';
import { checkTrainingQuota, trainingQuotaName } from '../workflow/quota';

const { trainingInstanceType: instanceType, spot } = readHandlerSettings('check-quota');
const quotas = new ServiceQuotasClient(ADAPTIVE_RETRY);

/** Checks the account's SageMaker quota for the training instance before anyone is paid to label. */
export const handler = lambdaHandler('check-quota', async (): Promise<{ message: string }> => {
  const wanted = trainingQuotaName(instanceType, spot);
  let found: { name: string; code?: string; value?: number } | undefined;
  for await (const page of paginateListServiceQuotas({ client: quotas }, { ServiceCode: 'sagemaker' })) {
    const quota = page.Quotas?.find((q) => q.QuotaName === wanted);
    if (quota) {
      found = { name: wanted, code: quota.QuotaCode, value: quota.Value };
      break;
    }
  }
  const message = checkTrainingQuota(found, instanceType, spot);
  // `message` is the logger's own key (the log line's text): the verdict goes under a key of its own.
  logger.info('training quota checked', { verdict: message });
  return { message };
});
