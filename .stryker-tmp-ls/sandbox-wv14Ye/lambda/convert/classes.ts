// @ts-nocheck
import { type ExportClass, isBackgroundName } from './export-item';
import type { ColourMapEntry } from './readers/ground-truth-manifest';

/** The algorithm's "ignore" label: pixels of a colour no class has. */
export const IGNORE_INDEX = 255;
/** The algorithm takes at most 254 classes, so 255 stays free for "ignore". */
export const MAX_CLASSES = 254;
const DEFAULT_BACKGROUND_NAME = 'BACKGROUND';

/**
 * Class indices by class name, the identity that survives merged labeling jobs and other tools
 * (their colours and keys differ). Index 0 is the background; the other classes follow the
 * configured order, then first-seen order. With `onlyConfigured`, a class not configured is ignored
 * (255): how a label map of more classes than the algorithm takes is narrowed to the ones to train.
 */
export class ClassIndex {
  private readonly names: string[];
  private backgroundNamed: boolean;

  constructor(
    configuredClasses: readonly string[] = [],
    private readonly onlyConfigured = false,
  ) {
    const others = configuredClasses.filter((name) => !isBackgroundName(name));
    this.names = [DEFAULT_BACKGROUND_NAME, ...others];
    this.backgroundNamed = false;
  }

  /** Class names in index order. */
  get classes(): readonly string[] {
    return this.names;
  }

  /**
   * The index of a class, registering it when new; a reason instead when it would exceed what the
   * algorithm takes.
   */
  indexOf(cls: ExportClass): number | string {
    if (cls.background || isBackgroundName(cls.name)) {
      if (!this.backgroundNamed) {
        // Report the background as the export spells it.
        this.names[0] = cls.name;
        this.backgroundNamed = true;
      }
      return 0;
    }
    const index = this.names.indexOf(cls.name);
    if (index >= 0) return index;
    if (this.onlyConfigured) return IGNORE_INDEX;
    if (this.names.length >= MAX_CLASSES) {
      return `class "${cls.name}" would be class number ${this.names.length + 1}; the algorithm takes at most ${MAX_CLASSES}`;
    }
    return this.names.push(cls.name) - 1;
  }

  /**
   * The class index of each colour of a Ground Truth line's colour map (key "0" is the background),
   * as `{ rgb, index }`; a reason instead when the classes would exceed what the algorithm takes.
   */
  indicesOf(colourMap: readonly ColourMapEntry[]): { rgb: number; index: number }[] | string {
    const result: { rgb: number; index: number }[] = [];
    for (const entry of colourMap) {
      const index = this.indexOf({ name: entry.className, background: entry.background });
      if (typeof index === 'string') return index;
      result.push({ rgb: entry.rgb, index });
    }
    return result;
  }
}
