import { brushAlpha, brushRle, classesInMask } from '../../../lambda/labelstudio/brush-rle';
import { labelingConfig } from '../../../lambda/labelstudio/labeling-config';
import { labelStudioTask, maskPrediction } from '../../../lambda/labelstudio/tasks';
import { decodeBrushRleBySpec } from '../../helpers/brush-rle-spec';

/** A deterministic pseudo-random mask of indices 0..3 in runs (what a model predicts looks like runs). */
function runsMask(width: number, height: number, seed: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  let state = seed;
  let value = 0;
  for (let p = 0; p < mask.length; p++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    if (state % 7 === 0) value = state % 4;
    mask[p] = value;
  }
  return mask;
}

describe('brush RLE of a class-index mask', () => {
  test("the bytes follow Label Studio's layout: the RGBA word count, then 57, 27; decoded by the layout alone, R=G=B=A=255 exactly on the class", () => {
    const mask = runsMask(37, 23, 5);
    for (const index of [1, 2, 3]) {
      const rle = brushRle(mask, index);
      expect(rle.slice(0, 6)).toEqual([0, 0, (37 * 23 * 4) >> 8, (37 * 23 * 4) & 255, 57, 27]);
      const rgba = decodeBrushRleBySpec(rle);
      expect(rgba).toHaveLength(37 * 23 * 4);
      for (let p = 0; p < mask.length; p++) {
        const on = mask[p] === index ? 255 : 0;
        expect([rgba[p * 4], rgba[p * 4 + 1], rgba[p * 4 + 2], rgba[p * 4 + 3]]).toEqual([on, on, on, on]);
      }
    }
  });

  test('a run longer than the longest repeat (65,536 words) still decodes', () => {
    const mask = new Uint8Array(300 * 200).fill(1);
    const alpha = brushAlpha(brushRle(mask, 1), 300, 200);
    expect(alpha?.every((a) => a === 255)).toBe(true);
    expect(decodeBrushRleBySpec(brushRle(mask, 1)).every((v) => v === 255)).toBe(true);
  });

  test('brushAlpha refuses an RLE of another size; classesInMask leaves out the background and the ignore label', () => {
    expect(brushAlpha(brushRle(new Uint8Array(4), 1), 3, 1)).toBeUndefined();
    expect(classesInMask(Uint8Array.from([0, 3, 255, 1, 3]))).toEqual([1, 3]);
    expect(() => brushRle(new Uint8Array(4), 1, new Uint8Array(4))).toThrow('the RGBA buffer holds 4 bytes, not 16');
  });
});

describe('a prediction and its task', () => {
  test("one brush region per predicted class, named by the configured classes, whose pixels are the class's", () => {
    const mask = runsMask(16, 9, 11);
    mask[0] = 255;
    const { prediction, unnamedIndices } = maskPrediction({
      mask,
      width: 16,
      height: 9,
      classes: ['turtle', 'rock', 'sand'],
      modelVersion: 'segpipe-run-1',
      score: 0.8,
    });
    expect(unnamedIndices).toEqual([]);
    expect(prediction.model_version).toBe('segpipe-run-1');
    expect(prediction.score).toBe(0.8);
    expect(
      prediction.result.map((r) => [r.id, r.value.brushlabels[0], r.from_name, r.to_name, r.type, r.original_width, r.original_height]),
    ).toEqual(classesInMask(mask).map((i) => [`segpipe-${i}`, ['turtle', 'rock', 'sand'][i - 1], 'brush', 'image', 'brushlabels', 16, 9]));
    for (const r of prediction.result) {
      const index = Number(r.id.slice('segpipe-'.length));
      const alpha = brushAlpha(r.value.rle, 16, 9)!;
      expect(Array.from(alpha, (a) => a === 255)).toEqual(Array.from(mask, (m) => m === index));
    }
  });

  test('indices without a configured name are left out and reported; no score when none is known', () => {
    const { prediction, unnamedIndices } = maskPrediction({
      mask: Uint8Array.from([0, 1, 2, 7]),
      width: 2,
      height: 2,
      classes: ['turtle'],
      modelVersion: 'm',
    });
    expect(prediction.result.map((r) => r.value.brushlabels)).toEqual([['turtle']]);
    expect(unnamedIndices).toEqual([2, 7]);
    expect(prediction).not.toHaveProperty('score');
    expect(() => maskPrediction({ mask: new Uint8Array(3), width: 2, height: 2, classes: [], modelVersion: 'm' })).toThrow(
      'the mask holds 3 pixels, not 2×2',
    );
  });

  test('a task: data.image, meta when given, predictions when given', () => {
    const { prediction } = maskPrediction({ mask: Uint8Array.from([1]), width: 1, height: 1, classes: ['turtle'], modelVersion: 'm' });
    expect(labelStudioTask('s3://inbox/images/b/a.jpg', { batch: 'b', generation: '3', run: 'r' }, prediction)).toEqual({
      data: { image: 's3://inbox/images/b/a.jpg' },
      meta: { batch: 'b', generation: '3', run: 'r' },
      predictions: [prediction],
    });
    expect(labelStudioTask('s3://inbox/images/b/a.jpg', {})).toEqual({ data: { image: 's3://inbox/images/b/a.jpg' } });
  });
});

describe('the labeling configuration', () => {
  test('brush and polygon labels of every class in its report colour, names escaped', () => {
    const config = labelingConfig(['turtle', 'rock & "sand"']);
    expect(config).toBe(
      [
        '<View>',
        '  <Image name="image" value="$image" zoom="true" zoomControl="true"/>',
        '  <BrushLabels name="brush" toName="image">',
        '    <Label value="turtle" background="#e6194b"/>',
        '    <Label value="rock &#38; &#34;sand&#34;" background="#ffe119"/>',
        '  </BrushLabels>',
        '  <PolygonLabels name="poly" toName="image" strokeWidth="2">',
        '    <Label value="turtle" background="#e6194b"/>',
        '    <Label value="rock &#38; &#34;sand&#34;" background="#ffe119"/>',
        '  </PolygonLabels>',
        '</View>',
        '',
      ].join('\n'),
    );
    expect(() => labelingConfig([])).toThrow('no label classes are configured');
  });
});
