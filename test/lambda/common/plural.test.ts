import { plural } from '../../../lambda/common/plural';

test('a count and its noun, in the number it takes', () => {
  expect(plural(1, 'image')).toBe('1 image');
  expect(plural(0, 'image')).toBe('0 images');
  expect(plural(2, 'image')).toBe('2 images');
  expect(plural(3, 'class')).toBe('3 classes');
  expect(plural(2, 'box')).toBe('2 boxes');
  expect(plural(2, 'batch')).toBe('2 batches');
  expect(plural(2, 'brush')).toBe('2 brushes');
  expect(plural(1, 'class')).toBe('1 class');
  // Only the word's end decides: "shape" holds "sh" without ending in it.
  expect(plural(2, 'shape')).toBe('2 shapes');
});
