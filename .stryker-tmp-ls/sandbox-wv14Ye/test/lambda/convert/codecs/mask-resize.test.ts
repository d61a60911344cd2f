import sharp from 'sharp';
import { type ClassIndexMask, resizeClassIndexMask, useSharpForConcurrentItems } from '../../../../lambda/convert/codecs/mask';

function maskOf(values: number[], width: number, height: number): ClassIndexMask {
  const pixelsPerIndex = new Uint32Array(256);
  for (const v of values) pixelsPerIndex[v]++;
  return { indices: Buffer.from(values), width, height, pixelsPerIndex };
}

describe('resizing a class-index mask (nearest neighbour: no value is invented)', () => {
  test('a mask of the right size is returned as it is', () => {
    const mask = maskOf([1, 2, 3, 4], 2, 2);
    expect(resizeClassIndexMask(mask, 2, 2)).toBe(mask);
  });

  test('enlarged, each pixel becomes a block, and the counts follow', () => {
    const resized = resizeClassIndexMask(maskOf([1, 2, 3, 4], 2, 2), 4, 4);
    expect([...resized.indices]).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect({ width: resized.width, height: resized.height }).toEqual({ width: 4, height: 4 });
    expect([...resized.pixelsPerIndex.subarray(0, 6)]).toEqual([0, 4, 4, 4, 4, 0]);
  });

  test('shrunk, each pixel takes the source pixel under its centre', () => {
    const resized = resizeClassIndexMask(maskOf([1, 2, 3, 4, 5, 6, 7, 8], 4, 2), 2, 1);
    expect([...resized.indices]).toEqual([6, 8]);
    expect(resized.pixelsPerIndex[6] + resized.pixelsPerIndex[8]).toBe(2);
    expect(resized.pixelsPerIndex[1]).toBe(0);
  });

  test('a mask of the right width but another height is resized, and the other way round', () => {
    expect([...resizeClassIndexMask(maskOf([1, 2, 3, 4], 2, 2), 2, 4).indices]).toEqual([1, 2, 1, 2, 3, 4, 3, 4]);
    expect([...resizeClassIndexMask(maskOf([1, 2, 3, 4], 2, 2), 4, 2).indices]).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });

  test("width and height scale independently (a rotated photo's mask)", () => {
    const resized = resizeClassIndexMask(maskOf([1, 2, 3, 4, 5, 6], 3, 2), 2, 3);
    expect([...resized.indices]).toEqual([1, 3, 4, 6, 4, 6]);
  });
});

test('libvips runs one thread per operation once the converter says so (items are already concurrent)', () => {
  const before = sharp.concurrency();
  try {
    sharp.concurrency(4);
    useSharpForConcurrentItems();
    expect(sharp.concurrency()).toBe(1);
  } finally {
    sharp.concurrency(before);
  }
});
