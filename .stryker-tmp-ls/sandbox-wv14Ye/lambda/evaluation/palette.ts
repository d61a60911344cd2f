/** Colours of class indices in the report's masks: the background dark, the others distinct; 255 (ignored) white. */
// @ts-nocheck

const CLASS_COLOURS: readonly (readonly [number, number, number])[] = [
  [40, 40, 40],
  [230, 25, 75],
  [255, 225, 25],
  [0, 130, 200],
  [60, 180, 75],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
];
export const IGNORED_COLOUR = [255, 255, 255] as const;

export function maskColour(index: number): readonly [number, number, number] {
  if (index === 255) return IGNORED_COLOUR;
  return index === 0 ? CLASS_COLOURS[0] : CLASS_COLOURS[1 + ((index - 1) % (CLASS_COLOURS.length - 1))];
}

export function hexColour(index: number): string {
  return `#${maskColour(index)
    .map((c) => c.toString(16).padStart(2, '0'))
    .join('')}`;
}
