import { randomGenerator } from './synthetic-scenes';

/**
 * The local run's stand-in for the built-in Semantic Segmentation network: a small per-pixel
 * classifier in plain TypeScript, trained on the CPU. Each pixel is described by its colour, the mean
 * colour and the texture around it and how it stands out from its wider surroundings; a one-hidden-layer
 * network maps that to a class. It is no FCN, but it learns from the channels segpipe writes and
 * predicts masks in the same form, so every step after training runs for real.
 */

/** The algorithm's ignore label: such pixels count neither in training nor in the metrics. */
export const IGNORE_LABEL = 255;
const FEATURES = 13;

export interface PixelModel {
  readonly kind: 'segpipe-local-pixel-mlp';
  readonly numClasses: number;
  readonly hidden: number;
  readonly featureMean: number[];
  readonly featureStd: number[];
  /** hidden × FEATURES, then hidden biases, then numClasses × hidden, then class biases. */
  readonly weights: number[];
}

/** Per-pixel features (row-major, FEATURES per pixel) of an RGB image. */
export function pixelFeatures(rgb: Uint8Array, width: number, height: number): Float32Array {
  const n = width * height;
  // Integral images of R, G, B and luminance squared: any box mean in constant time.
  const stride = width + 1;
  const integral = Array.from({ length: 5 }, () => new Float64Array(stride * (height + 1)));
  for (let y = 0; y < height; y++) {
    const rowSums = new Float64Array(5);
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const lum = (rgb[p] + rgb[p + 1] + rgb[p + 2]) / 3;
      const values = [rgb[p], rgb[p + 1], rgb[p + 2], lum, lum * lum];
      for (let k = 0; k < 5; k++) {
        rowSums[k] += values[k];
        integral[k][(y + 1) * stride + x + 1] = integral[k][y * stride + x + 1] + rowSums[k];
      }
    }
  }
  const box = (k: number, x: number, y: number, r: number) => {
    const x0 = Math.max(0, x - r);
    const y0 = Math.max(0, y - r);
    const x1 = Math.min(width, x + r + 1);
    const y1 = Math.min(height, y + r + 1);
    const t = integral[k];
    return (t[y1 * stride + x1] - t[y0 * stride + x1] - t[y1 * stride + x0] + t[y0 * stride + x0]) / ((x1 - x0) * (y1 - y0));
  };
  const wide = Math.max(4, Math.round(Math.min(width, height) / 8));
  const out = new Float32Array(n * FEATURES);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const o = i * FEATURES;
      // Per colour channel: the pixel, the mean near it, the mean of its wider surroundings, and how
      // much the near mean stands out from the wider one. No arrays here: this runs once per pixel.
      for (let c = 0; c < 3; c++) {
        const near = box(c, x, y, 2);
        const far = box(c, x, y, wide);
        out[o + c] = rgb[i * 3 + c];
        out[o + 3 + c] = near;
        out[o + 6 + c] = far;
        out[o + 10 + c] = near - far;
      }
      const lum = box(3, x, y, 2);
      out[o + 9] = Math.sqrt(Math.max(0, box(4, x, y, 2) - lum * lum));
    }
  }
  return out;
}

export interface TrainingImage {
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Class index per pixel; {@link IGNORE_LABEL} for pixels to ignore. */
  readonly labels: Uint8Array;
}

export interface TrainOptions {
  readonly numClasses: number;
  readonly epochs: number;
  readonly seed?: number;
  readonly hidden?: number;
  /** Pixels drawn per epoch, balanced across classes. */
  readonly samplesPerEpoch?: number;
  readonly onEpoch?: (epoch: number, loss: number) => void;
}

/** Trains the per-pixel network with Adam on class-balanced samples of the images' pixels. */
export function trainPixelModel(images: readonly TrainingImage[], options: TrainOptions): PixelModel {
  const { numClasses } = options;
  const hidden = options.hidden ?? 24;
  const random = randomGenerator(options.seed ?? 1);
  const features = images.map((image) => pixelFeatures(image.rgb, image.width, image.height));
  // Where each class's pixels are: image and pixel indices in typed arrays (an array of pairs would
  // take some 50 bytes a pixel), counted first, then filled.
  const counts = new Array<number>(numClasses).fill(0);
  for (const image of images) for (const label of image.labels) if (label < numClasses) counts[label] += 1;
  const byClass = counts.map((n) => ({ image: new Uint32Array(n), pixel: new Uint32Array(n), length: 0 }));
  images.forEach((image, m) => {
    image.labels.forEach((label, p) => {
      if (label >= numClasses) return;
      const list = byClass[label];
      list.image[list.length] = m;
      list.pixel[list.length] = p;
      list.length += 1;
    });
  });
  const present = byClass.map((list, c) => (list.length > 0 ? c : -1)).filter((c) => c >= 0);
  if (present.length === 0) throw new Error('the train channel has no labeled pixels');

  // Feature scaling from a sample.
  const mean = new Array(FEATURES).fill(0);
  const sq = new Array(FEATURES).fill(0);
  let count = 0;
  for (const f of features) {
    for (let o = 0; o < f.length; o += FEATURES * 7) {
      for (let k = 0; k < FEATURES; k++) {
        mean[k] += f[o + k];
        sq[k] += f[o + k] * f[o + k];
      }
      count++;
    }
  }
  const featureMean = mean.map((s) => s / count);
  const featureStd = sq.map((s, k) => Math.sqrt(Math.max(1e-6, s / count - featureMean[k] ** 2)));

  const sizes = [hidden * FEATURES, hidden, numClasses * hidden, numClasses];
  const weights = new Float64Array(sizes.reduce((a, b) => a + b, 0));
  for (let i = 0; i < hidden * FEATURES; i++) weights[i] = (random() - 0.5) * 2 * Math.sqrt(6 / (FEATURES + hidden));
  const w2 = hidden * FEATURES + hidden;
  for (let i = 0; i < numClasses * hidden; i++) weights[w2 + i] = (random() - 0.5) * 2 * Math.sqrt(6 / (hidden + numClasses));
  const b1 = hidden * FEATURES;
  const b2 = w2 + numClasses * hidden;

  const m1 = new Float64Array(weights.length);
  const v1 = new Float64Array(weights.length);
  const grad = new Float64Array(weights.length);
  const x = new Float64Array(FEATURES);
  const h = new Float64Array(hidden);
  const z = new Float64Array(numClasses);
  const dh = new Float64Array(hidden);
  const batch = 128;
  const samples = options.samplesPerEpoch ?? 12_000;
  let step = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    let lossSum = 0;
    for (let start = 0; start < samples; start += batch) {
      grad.fill(0);
      for (let s = 0; s < batch; s++) {
        const c = present[Math.floor(random() * present.length)];
        const drawn = Math.floor(random() * byClass[c].length);
        const m = byClass[c].image[drawn];
        const p = byClass[c].pixel[drawn];
        const f = features[m];
        for (let k = 0; k < FEATURES; k++) x[k] = (f[p * FEATURES + k] - featureMean[k]) / featureStd[k];
        forward(weights, x, h, z, hidden, numClasses);
        lossSum -= Math.log(Math.max(z[c], 1e-12));
        // Softmax cross-entropy: dz = p - onehot.
        dh.fill(0);
        for (let j = 0; j < numClasses; j++) {
          const dz = z[j] - (j === c ? 1 : 0);
          grad[b2 + j] += dz;
          for (let u = 0; u < hidden; u++) {
            grad[w2 + j * hidden + u] += dz * h[u];
            dh[u] += dz * weights[w2 + j * hidden + u];
          }
        }
        for (let u = 0; u < hidden; u++) {
          if (h[u] <= 0) continue;
          grad[b1 + u] += dh[u];
          for (let k = 0; k < FEATURES; k++) grad[u * FEATURES + k] += dh[u] * x[k];
        }
      }
      step++;
      const rate = 0.01;
      for (let i = 0; i < weights.length; i++) {
        const g = grad[i] / batch;
        m1[i] = 0.9 * m1[i] + 0.1 * g;
        v1[i] = 0.999 * v1[i] + 0.001 * g * g;
        weights[i] -= (rate * (m1[i] / (1 - 0.9 ** step))) / (Math.sqrt(v1[i] / (1 - 0.999 ** step)) + 1e-8);
      }
    }
    options.onEpoch?.(epoch, lossSum / samples);
  }
  return { kind: 'segpipe-local-pixel-mlp', numClasses, hidden, featureMean, featureStd, weights: Array.from(weights) };
}

function forward(
  weights: ArrayLike<number>,
  x: ArrayLike<number>,
  h: Float64Array,
  z: Float64Array,
  hidden: number,
  numClasses: number,
): void {
  const b1 = hidden * FEATURES;
  const w2 = b1 + hidden;
  const b2 = w2 + numClasses * hidden;
  for (let u = 0; u < hidden; u++) {
    let sum = weights[b1 + u];
    for (let k = 0; k < FEATURES; k++) sum += weights[u * FEATURES + k] * x[k];
    h[u] = Math.max(sum, 0);
  }
  let max = -Infinity;
  for (let j = 0; j < numClasses; j++) {
    let sum = weights[b2 + j];
    for (let u = 0; u < hidden; u++) sum += weights[w2 + j * hidden + u] * h[u];
    z[j] = sum;
    if (sum > max) max = sum;
  }
  let total = 0;
  for (let j = 0; j < numClasses; j++) {
    z[j] = Math.exp(z[j] - max);
    total += z[j];
  }
  for (let j = 0; j < numClasses; j++) z[j] /= total;
}

/** The most likely class of every pixel. */
export function predictClassIndices(model: PixelModel, rgb: Uint8Array, width: number, height: number): Uint8Array {
  const features = pixelFeatures(rgb, width, height);
  const out = new Uint8Array(width * height);
  const x = new Float64Array(FEATURES);
  const h = new Float64Array(model.hidden);
  const z = new Float64Array(model.numClasses);
  for (let p = 0; p < out.length; p++) {
    for (let k = 0; k < FEATURES; k++) x[k] = (features[p * FEATURES + k] - model.featureMean[k]) / model.featureStd[k];
    forward(model.weights, x, h, z, model.hidden, model.numClasses);
    let best = 0;
    for (let j = 1; j < model.numClasses; j++) if (z[j] > z[best]) best = j;
    out[p] = best;
  }
  return out;
}

/** Accumulates a confusion matrix over images: the algorithm's `pixel_accuracy` and `mIOU`. */
export class SegmentationScore {
  private readonly confusion: Float64Array;

  constructor(private readonly numClasses: number) {
    this.confusion = new Float64Array(numClasses * numClasses);
  }

  add(truth: Uint8Array, predicted: Uint8Array): void {
    for (let p = 0; p < truth.length; p++) {
      if (truth[p] >= this.numClasses) continue;
      this.confusion[truth[p] * this.numClasses + Math.min(predicted[p], this.numClasses - 1)] += 1;
    }
  }

  /** Mean IoU over the classes that occur in the truth or the prediction. */
  get miou(): number {
    const ious: number[] = [];
    for (let c = 0; c < this.numClasses; c++) {
      let row = 0;
      let column = 0;
      for (let k = 0; k < this.numClasses; k++) {
        row += this.confusion[c * this.numClasses + k];
        column += this.confusion[k * this.numClasses + c];
      }
      const hit = this.confusion[c * this.numClasses + c];
      const union = row + column - hit;
      if (union > 0) ious.push(hit / union);
    }
    return ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : 0;
  }

  get pixelAccuracy(): number {
    let hit = 0;
    let total = 0;
    for (let c = 0; c < this.numClasses; c++) {
      hit += this.confusion[c * this.numClasses + c];
      for (let k = 0; k < this.numClasses; k++) total += this.confusion[c * this.numClasses + k];
    }
    return total ? hit / total : 0;
  }
}
