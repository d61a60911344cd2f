import type { ColourMapEntry } from './manifest';

/** The algorithm's "ignore" label: pixels of a colour no class has. */
export const IGNORE_INDEX = 255;
/** The algorithm takes at most 254 classes, so 255 stays free for "ignore". */
export const MAX_CLASSES = 254;
const DEFAULT_BACKGROUND_NAME = 'BACKGROUND';

/**
 * Class indices by class name, the identity that survives merged labeling jobs (their colours and
 * colour-map keys differ). Index 0 is the background (colour-map key "0", `BACKGROUND`); the other
 * classes follow the configured order, then first-seen order.
 */
export class ClassIndex {
  private readonly names: string[];
  private backgroundNamed: boolean;

  constructor(configuredClasses: readonly string[] = []) {
    const others = configuredClasses.filter((name) => !isBackgroundName(name));
    this.names = [DEFAULT_BACKGROUND_NAME, ...others];
    this.backgroundNamed = false;
  }

  /** Class names in index order. */
  get classes(): readonly string[] {
    return this.names;
  }

  /**
   * The class index of each colour of a line's colour map, as `{ rgb, index }`, registering classes
   * not seen before. Returns a reason instead when the classes would exceed what the algorithm takes.
   */
  indicesOf(colourMap: readonly ColourMapEntry[]): { rgb: number; index: number }[] | string {
    const result: { rgb: number; index: number }[] = [];
    for (const entry of colourMap) {
      if (entry.key === '0' || isBackgroundName(entry.className)) {
        if (!this.backgroundNamed) {
          // Report the background as the manifest spells it.
          this.names[0] = entry.className;
          this.backgroundNamed = true;
        }
        result.push({ rgb: entry.rgb, index: 0 });
        continue;
      }
      let index = this.names.indexOf(entry.className);
      if (index < 0) {
        if (this.names.length >= MAX_CLASSES) {
          return `class "${entry.className}" would be class number ${this.names.length + 1}; the algorithm takes at most ${MAX_CLASSES}`;
        }
        index = this.names.push(entry.className) - 1;
      }
      result.push({ rgb: entry.rgb, index });
    }
    return result;
  }
}

function isBackgroundName(name: string): boolean {
  return name.toUpperCase() === DEFAULT_BACKGROUND_NAME;
}
