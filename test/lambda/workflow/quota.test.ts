import { TrainingQuotaError, checkTrainingQuota } from '../../../lambda/workflow/quota';

describe('training quota', () => {
  test('a quota of 0 stops the run naming the quota and the alternatives', () => {
    expect(() => checkTrainingQuota({ name: 'x', code: 'L-2D0D3C5E', value: 0 }, 'ml.p3.2xlarge', false)).toThrow(
      /quota "ml\.p3\.2xlarge for training job usage" \(L-2D0D3C5E\) is 0.*ml\.g4dn\.xlarge or ml\.g5\.xlarge/,
    );
    expect(checkTrainingQuota({ name: 'x', value: 2 }, 'ml.p3.2xlarge', true)).toBe('quota "ml.p3.2xlarge for spot training job usage" is 2');
  });

  test('a quota Service Quotas does not list, or lists without a value, stops the run too: it is not taken as unchecked', () => {
    expect(() => checkTrainingQuota(undefined, 'ml.g5.xlarge', true)).toThrow(
      /^Service Quotas lists no SageMaker quota "ml\.g5\.xlarge for spot training job usage" in this region, .*stopped before labeling\. .*ml\.g4dn\.xlarge or ml\.p3\.2xlarge/,
    );
    expect(() => checkTrainingQuota({ name: 'x', code: 'L-1' }, 'ml.p3.2xlarge', false)).toThrow(TrainingQuotaError);
  });
});
