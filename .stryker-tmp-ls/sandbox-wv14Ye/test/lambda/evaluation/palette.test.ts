import { hexColour, IGNORED_COLOUR, maskColour } from '../../../lambda/evaluation/palette';

describe("the report's mask colours", () => {
  test('the background dark, 255 (ignored) white, the classes distinct and repeating past the table', () => {
    expect(maskColour(0)).toEqual([40, 40, 40]);
    expect(maskColour(255)).toBe(IGNORED_COLOUR);
    expect(IGNORED_COLOUR).toEqual([255, 255, 255]);
    // Every colour is three channels, each a byte.
    for (let i = 0; i <= 10; i++) {
      expect(maskColour(i)).toHaveLength(3);
      expect(maskColour(i).every((c) => Number.isInteger(c) && c >= 0 && c <= 255)).toBe(true);
    }
    const classes = Array.from({ length: 10 }, (_, i) => maskColour(i + 1).join());
    expect(new Set(classes).size).toBe(10);
    expect(classes).not.toContain(maskColour(0).join());
    // Class 11 takes class 1's colour again, never the background's.
    expect(maskColour(11)).toEqual(maskColour(1));
    expect(maskColour(20)).toEqual(maskColour(10));
    expect(maskColour(254)).not.toEqual(maskColour(0));
  });

  test('as CSS hex, two digits a channel', () => {
    expect(hexColour(0)).toBe('#282828');
    expect(hexColour(1)).toBe('#e6194b');
    // [0, 130, 200]: a channel under 16 keeps its leading 0.
    expect(hexColour(3)).toBe('#0082c8');
    expect(hexColour(255)).toBe('#ffffff');
  });
});
