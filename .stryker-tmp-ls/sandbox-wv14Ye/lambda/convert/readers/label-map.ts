// @ts-nocheck
import { type ExportClass, isBackgroundName } from '../export-item';

/** CVAT's label map: the file beside `SegmentationClass/` that gives each label its mask colour. */
export const LABEL_MAP_FILE = 'labelmap.txt';

/** A class of CVAT's `labelmap.txt` with its mask colour. */
export interface LabelMapEntry extends ExportClass {
  readonly rgb: number;
}

/**
 * Parses CVAT's `labelmap.txt` (`name:r,g,b:parts:actions` lines, `#` comments, blank lines). The
 * label named `background` (any case) is the background, whatever its colour and place.
 */
export function parseLabelMap(text: string): LabelMapEntry[] {
  const entries: LabelMapEntry[] = [];
  const problems: string[] = [];
  const byColour = new Map<number, string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [name, colour] = line.split(':');
    const rgb = /^\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*$/.exec(colour ?? '');
    if (!name || !rgb || rgb.slice(1).some((c) => Number(c) > 255)) {
      problems.push(`line ${i + 1} ${JSON.stringify(line.slice(0, 80))} is not name:r,g,b:parts:actions`);
      return;
    }
    const value = (Number(rgb[1]) << 16) | (Number(rgb[2]) << 8) | Number(rgb[3]);
    const other = byColour.get(value);
    if (other !== undefined) problems.push(`line ${i + 1} gives ${name} the colour of ${other} (${rgb[1]},${rgb[2]},${rgb[3]})`);
    byColour.set(value, name);
    entries.push({ name, rgb: value, background: isBackgroundName(name) });
  });
  if (problems.length > 0) throw new Error(`${LABEL_MAP_FILE}: ${problems.join('; ')}`);
  return entries;
}
