import { checkTrainingQuota, TrainingQuotaError } from '../../../lambda/workflow/quota';

describe('training quota', () => {
  test('a quota of 0 stops the run naming the quota and the alternatives', () => {
    expect(() => checkTrainingQuota({ name: 'x', code: 'L-2D0D3C5E', value: 0 }, 'ml.p3.2xlarge', false)).toThrow(
      /quota "ml\.p3\.2xlarge for training job usage" \(L-2D0D3C5E\) is 0.*ml\.g4dn\.xlarge or ml\.g5\.xlarge/,
    );
    expect(checkTrainingQuota({ name: 'x', value: 2 }, 'ml.p3.2xlarge', true)).toBe(
      'quota "ml.p3.2xlarge for spot training job usage" is 2',
    );
  });

  test('a quota Service Quotas does not list, or lists without a value, stops the run too: it is not taken as unchecked', () => {
    expect(() => checkTrainingQuota(undefined, 'ml.g5.xlarge', true)).toThrow(
      /^Service Quotas lists no SageMaker quota "ml\.g5\.xlarge for spot training job usage" in this region, .*stopped before labeling\. .*ml\.g4dn\.xlarge or ml\.p3\.2xlarge/,
    );
    expect(() => checkTrainingQuota({ name: 'x', code: 'L-1' }, 'ml.p3.2xlarge', false)).toThrow(TrainingQuotaError);
  });

  test('a quota of exactly 1 is enough (one training instance at a time)', () => {
    expect(checkTrainingQuota({ name: 'x', value: 1 }, 'ml.p3.2xlarge', false)).toBe('quota "ml.p3.2xlarge for training job usage" is 1');
  });

  test('the errors are TrainingQuotaErrors by name (the run report names the failure by it) and say exactly what was missing', () => {
    let missing: Error | undefined;
    try {
      checkTrainingQuota(undefined, 'ml.p3.2xlarge', false);
    } catch (err) {
      missing = err as Error;
    }
    expect(missing?.name).toBe('TrainingQuotaError');
    expect(missing?.message).toContain(
      'so ml.p3.2xlarge cannot be used for training here and the run stopped before labeling. Check the instance type and the region, or set training.instanceType',
    );
    expect(() => checkTrainingQuota({ name: 'x', value: 0 }, 'ml.p3.2xlarge', false)).toThrow(
      /^this account's SageMaker quota "ml\.p3\.2xlarge for training job usage" is 0, so training could not start\. Request an increase/,
    );
  });
});
