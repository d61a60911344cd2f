import sharp from 'sharp';
import { classFractions, classNamesFor, overlayPng } from '../../../bin/predict/predict';
import { renderSyntheticScene } from '../../../local/synthetic-scenes';

describe('predict', () => {
  const scene = renderSyntheticScene(5, 120, 90);

  test('fractions, names and the overlay with its legend', async () => {
    const mask = new Uint8Array([0, 0, 1, 2, 255, 3]);
    expect(classFractions(mask, 3)).toEqual([0.4, 0.2, 0.2, 0.2]);
    expect(classNamesFor(mask, ['turtle', 'rock'])).toEqual(['background', 'turtle', 'rock', 'class 3']);
    const overlay = await overlayPng(scene.rgb, 120, 90, scene.classIndices, ['background', 'turtle', 'rock']);
    const meta = await sharp(overlay).metadata();
    expect(meta.width).toBeGreaterThanOrEqual(120);
    expect(meta.height).toBeGreaterThan(90);
  });
});
