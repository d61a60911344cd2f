/**
 * Segmentation metrics as the built-in algorithm reports them: pixels labelled {@link IGNORE_LABEL}
 * count nowhere; a class's IoU is TP / (TP + FP + FN) over every pixel of every image; the mean IoU
 * averages the classes that occur in the truth or the predictions (a class absent from both has no IoU).
 */
// @ts-nocheck


/** The algorithm's ignore label. */
export const IGNORE_LABEL = 255;

export interface SegmentationMetrics {
  readonly pixelAccuracy: number;
  /** By class index; null for a class neither the truth nor the predictions hold. */
  readonly classIou: (number | null)[];
  readonly miou: number;
  /** Rows are true classes, columns predicted classes; a last column counts predictions of no known class. */
  readonly confusion: number[][];
  readonly pixels: number;
}

/** Counts true against predicted classes, image after image. */
export class ConfusionMatrix {
  /** numClasses rows of numClasses + 1 columns: the last one counts predicted indices past the classes. */
  private readonly counts: Float64Array;

  constructor(readonly numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`numClasses must be a positive whole number, not ${numClasses}`);
    this.counts = new Float64Array(numClasses * (numClasses + 1));
  }

  add(truth: Uint8Array, predicted: Uint8Array): void {
    if (truth.length !== predicted.length) throw new Error(`the mask has ${truth.length} pixels and the prediction ${predicted.length}`);
    const n = this.numClasses;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i];
      if (t === IGNORE_LABEL) continue;
      if (t >= n) throw new Error(`the mask holds class ${t}, past the ${n} classes (0-${n - 1}, and ${IGNORE_LABEL} to ignore)`);
      const p = predicted[i];
      this.counts[t * (n + 1) + Math.min(p, n)]++;
    }
  }

  metrics(): SegmentationMetrics {
    const n = this.numClasses;
    const confusion = Array.from({ length: n }, (_, t) => Array.from(this.counts.subarray(t * (n + 1), (t + 1) * (n + 1))));
    let correct = 0;
    let pixels = 0;
    const classIou = confusion.map((row, c) => {
      const truePositives = row[c];
      const trueTotal = row.reduce((a, b) => a + b, 0);
      const predictedTotal = confusion.reduce((sum, r) => sum + r[c], 0);
      correct += truePositives;
      pixels += trueTotal;
      const union = trueTotal + predictedTotal - truePositives;
      return union === 0 ? null : truePositives / union;
    });
    const present = classIou.filter((v): v is number => v !== null);
    return {
      pixelAccuracy: pixels === 0 ? 0 : correct / pixels,
      classIou,
      miou: present.length === 0 ? 0 : present.reduce((a, b) => a + b, 0) / present.length,
      confusion,
      pixels,
    };
  }
}

/** The mean IoU of one image's prediction. */
export function imageMiou(truth: Uint8Array, predicted: Uint8Array, numClasses: number): number {
  const matrix = new ConfusionMatrix(numClasses);
  matrix.add(truth, predicted);
  return matrix.metrics().miou;
}

/** The nearest-rank percentile (0 < p ≤ 100) of some values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}
