import { ConfusionMatrix, imageMiou, percentile } from '../../../lambda/evaluation/metrics';
import { promotionVerdict } from '../../../lambda/evaluation/verdict';

describe('segmentation metrics', () => {
  test('pixel accuracy, per-class IoU, mean IoU and the confusion matrix, 255 ignored', () => {
    const m = new ConfusionMatrix(3);
    // truth:     0 0 1 1 2 255
    // predicted: 0 1 1 1 0 2
    m.add(Uint8Array.from([0, 0, 1, 1, 2, 255]), Uint8Array.from([0, 1, 1, 1, 0, 2]));
    const metrics = m.metrics();
    expect(metrics.pixels).toBe(5);
    expect(metrics.pixelAccuracy).toBeCloseTo(3 / 5);
    expect(metrics.confusion).toEqual([
      [1, 1, 0, 0],
      [0, 2, 0, 0],
      [1, 0, 0, 0],
    ]);
    // class 0: TP 1, FP 1 (a 2 predicted 0), FN 1 → 1/3; class 1: TP 2, FP 1 → 2/3; class 2: TP 0, FN 1 → 0.
    expect(metrics.classIou[0]).toBeCloseTo(1 / 3);
    expect(metrics.classIou[1]).toBeCloseTo(2 / 3);
    expect(metrics.classIou[2]).toBe(0);
    expect(metrics.miou).toBeCloseTo(1 / 3);
  });

  test('a class neither in the truth nor predicted has no IoU and stays out of the mean; images accumulate', () => {
    const m = new ConfusionMatrix(3);
    m.add(Uint8Array.from([0, 1]), Uint8Array.from([0, 1]));
    m.add(Uint8Array.from([1, 255]), Uint8Array.from([1, 0]));
    expect(m.metrics()).toMatchObject({ classIou: [1, 1, null], miou: 1, pixelAccuracy: 1, pixels: 3 });
  });

  test('a predicted index past the classes counts against the true class', () => {
    const m = new ConfusionMatrix(2);
    m.add(Uint8Array.from([1, 1]), Uint8Array.from([1, 7]));
    expect(m.metrics()).toMatchObject({
      confusion: [
        [0, 0, 0],
        [0, 1, 1],
      ],
      classIou: [null, 0.5],
      pixelAccuracy: 0.5,
    });
  });

  test('bad input says what is wrong', () => {
    expect(() => new ConfusionMatrix(2).add(Uint8Array.from([0]), Uint8Array.from([0, 1]))).toThrow(
      'the mask has 1 pixels and the prediction 2',
    );
    expect(() => new ConfusionMatrix(2).add(Uint8Array.from([5]), Uint8Array.from([0]))).toThrow(
      'the mask holds class 5, past the 2 classes (0-1, and 255 to ignore)',
    );
    expect(() => new ConfusionMatrix(0)).toThrow('numClasses must be a positive whole number, not 0');
  });

  test('per-image mean IoU and nearest-rank percentiles', () => {
    expect(imageMiou(Uint8Array.from([0, 1, 255]), Uint8Array.from([0, 0, 1]), 2)).toBeCloseTo((1 / 2 + 0) / 2);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(95);
    expect(percentile([], 95)).toBe(0);
  });
});

describe('the promotion verdict', () => {
  const rule = { tolerance: 0.01, minimumMiou: 0.5 };
  test('promotes a challenger not worse than the champion by more than the tolerance', () => {
    expect(promotionVerdict({ variant: 'new', miou: 0.795 }, { variant: 'old', miou: 0.8 }, rule, 100)).toEqual({
      promote: true,
      reason:
        'challenger new mIoU 0.795, champion old mIoU 0.800 on the same 100 validation images: the challenger is not worse than the champion by more than the tolerance 0.01',
    });
  });
  test('keeps the champion when the challenger is worse by more than the tolerance, with both scores', () => {
    expect(promotionVerdict({ variant: 'new', miou: 0.7 }, { variant: 'old', miou: 0.8 }, rule, 40)).toEqual({
      promote: false,
      reason:
        'challenger new mIoU 0.700, champion old mIoU 0.800 on the same 40 validation images: the challenger is worse by 0.100, more than the tolerance 0.01',
    });
  });
  test('refuses a model below the minimum, first or not', () => {
    expect(promotionVerdict({ variant: 'new', miou: 0.4 }, undefined, rule, 1)).toEqual({
      promote: false,
      reason: 'mIoU 0.400 on 1 validation image: the challenger is below the minimum mIoU 0.5',
    });
    expect(promotionVerdict({ variant: 'new', miou: 0.45 }, { variant: 'old', miou: 0.3 }, rule, 9).promote).toBe(false);
    expect(promotionVerdict({ variant: 'new', miou: 0.6 }, undefined, rule, 9)).toMatchObject({
      promote: true,
      reason: expect.stringContaining('the first model'),
    });
  });
  test('a score exactly at the minimum passes it ("below the minimum" is strict)', () => {
    expect(promotionVerdict({ variant: 'new', miou: 0.5 }, undefined, rule, 9)).toMatchObject({
      promote: true,
      reason: expect.stringContaining('at least the minimum mIoU 0.5'),
    });
    expect(promotionVerdict({ variant: 'new', miou: 0.5 }, { variant: 'old', miou: 0.5 }, rule, 9).promote).toBe(true);
    expect(promotionVerdict({ variant: 'new', miou: 0.5 - 1e-9 }, undefined, rule, 9).promote).toBe(false);
  });
  test('a challenger worse by exactly the tolerance is promoted ("more than the tolerance" is strict)', () => {
    const wide = { tolerance: 0.25, minimumMiou: 0.5 };
    expect(promotionVerdict({ variant: 'new', miou: 0.5 }, { variant: 'old', miou: 0.75 }, wide, 1)).toEqual({
      promote: true,
      reason:
        'challenger new mIoU 0.500, champion old mIoU 0.750 on the same 1 validation image: the challenger is not worse than the champion by more than the tolerance 0.25',
    });
    expect(promotionVerdict({ variant: 'new', miou: 0.5 + 2 ** -20 }, { variant: 'old', miou: 0.75 + 2 ** -19 }, wide, 1).promote).toBe(
      false,
    );
  });
  test('keeps the champion when the challenger refused more images than it did, whatever its score', () => {
    expect(
      promotionVerdict({ variant: 'new', miou: 0.9 }, { variant: 'old', miou: 0.8 }, rule, 90, { challenger: 10, champion: 0 }),
    ).toEqual({
      promote: false,
      reason:
        'challenger new mIoU 0.900, champion old mIoU 0.800 on the same 90 validation images: the challenger refused 10 images, the champion 0',
    });
    expect(
      promotionVerdict({ variant: 'new', miou: 0.9 }, { variant: 'old', miou: 0.8 }, rule, 90, { challenger: 2, champion: 2 }).promote,
    ).toBe(true);
  });
});
