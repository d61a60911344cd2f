/** Instance families the built-in algorithm trains on, to suggest when a quota is 0. */
export const ALTERNATIVE_TRAINING_INSTANCES = ['ml.g4dn.xlarge', 'ml.g5.xlarge', 'ml.p3.2xlarge'];

/** The Service Quotas name of the training quota for an instance type. */
export function trainingQuotaName(instanceType: string, spot: boolean): string {
  return `${instanceType} for ${spot ? 'spot ' : ''}training job usage`;
}

export class TrainingQuotaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingQuotaError';
  }
}

/** Refuses a run the account cannot train, naming the quota and what to do. */
export function checkTrainingQuota(quota: { name: string; code?: string; value?: number } | undefined, instanceType: string, spot: boolean): string {
  const name = trainingQuotaName(instanceType, spot);
  if (!quota || quota.value === undefined) return `quota "${name}" not found in Service Quotas; not checked`;
  if (quota.value >= 1) return `quota "${name}" is ${quota.value}`;
  const alternatives = ALTERNATIVE_TRAINING_INSTANCES.filter((type) => type !== instanceType).join(' or ');
  throw new TrainingQuotaError(
    `this account's SageMaker quota "${name}"${quota.code ? ` (${quota.code})` : ''} is ${quota.value}, so training could not start. ` +
      `Request an increase in the Service Quotas console, or set training.instanceType to a type you have quota for (${alternatives}), deploy, and drop _START into the batch.`,
  );
}
