/** Instance families the built-in algorithm trains on, to suggest when a quota is 0 or missing. */
// @ts-nocheck

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

/**
 * Refuses a run the account cannot train, naming the quota and what to do. A quota Service Quotas
 * does not list is refused too: SageMaker has no quota for a type it does not train on in the region,
 * and letting the run go on would pay for labeling before CreateTrainingJob fails.
 */
export function checkTrainingQuota(
  quota: { name: string; code?: string; value?: number } | undefined,
  instanceType: string,
  spot: boolean,
): string {
  const name = trainingQuotaName(instanceType, spot);
  const alternatives = ALTERNATIVE_TRAINING_INSTANCES.filter((type) => type !== instanceType).join(' or ');
  const whatToDo = `set training.instanceType (training.pytorch.instanceType for the PyTorch trainer) to a type you have quota for (${alternatives}), deploy, and drop _START into the batch.`;
  if (quota?.value === undefined) {
    throw new TrainingQuotaError(
      `Service Quotas lists no SageMaker quota "${name}" in this region, so ${instanceType} cannot be used for ${spot ? 'spot ' : ''}training here and the run stopped before labeling. ` +
        `Check the instance type and the region, or ${whatToDo}`,
    );
  }
  if (quota.value >= 1) return `quota "${name}" is ${quota.value}`;
  throw new TrainingQuotaError(
    `this account's SageMaker quota "${name}"${quota.code ? ` (${quota.code})` : ''} is ${quota.value}, so training could not start. ` +
      `Request an increase in the Service Quotas console, or ${whatToDo}`,
  );
}
