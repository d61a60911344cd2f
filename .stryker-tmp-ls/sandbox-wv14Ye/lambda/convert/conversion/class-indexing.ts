// @ts-nocheck
import { ClassIndex, IGNORE_INDEX, MAX_CLASSES } from '../classes';
import type { ColourIndex } from '../codecs/mask';
import type { IndexedShape } from '../codecs/shapes';
import { type ExportReader, isBackgroundName, type MaskSpec, type ObjectRef, type Shape } from '../export-item';
import type { Dimensions } from './source-files';

/**
 * While a mask is mapped, pixels ignored on purpose (a class `--classes` leaves out, VOC's object
 * borders) hold this index, which no class has (classes stop at 253), so that they are told apart
 * from pixels of a colour no class has; both are written as 255.
 */
export const IGNORED_ON_PURPOSE = MAX_CLASSES;
const onPurpose = (index: number) => (index === IGNORE_INDEX ? IGNORED_ON_PURPOSE : index);

/** An item's mask with its classes resolved to indices. */
export type IndexedMask =
  | {
      readonly kind: 'colour-png';
      readonly file: ObjectRef | (() => Promise<ObjectRef>);
      readonly colours: readonly ColourIndex[];
      readonly transparentIsBackground: boolean;
    }
  | { readonly kind: 'index-png'; readonly file: ObjectRef; readonly table: Uint8Array; readonly colours: readonly ColourIndex[] }
  | {
      readonly kind: 'shapes';
      readonly size?: Dimensions;
      readonly shapes: readonly ((IndexedShape & { readonly percent?: boolean }) | ImageSizedShape)[];
    };

/** A shape whose bitmap is made at the image's size, once the image is read. */
export type ImageSizedShape = Omit<Extract<Shape, { kind: 'image-sized-bitmap' }>, 'className'> & { readonly index: number };

/**
 * The class order: the background, the configured classes, then the export's declared ones. A
 * declared list longer than the algorithm takes is an error unless `--classes` chooses among it.
 */
export async function classIndexFor(reader: ExportReader, configured: readonly string[]): Promise<ClassIndex> {
  const declared = await reader.declaredClasses();
  const names = new Set([...configured, ...declared.filter((c) => !c.background && !isBackgroundName(c.name)).map((c) => c.name)]);
  const tooMany = names.size > MAX_CLASSES - 1;
  if (tooMany && configured.length === 0) {
    throw new Error(
      `the export declares ${names.size} classes besides the background; the algorithm takes at most ${MAX_CLASSES - 1}: choose the ones to train with --classes a,b,... (the others are ignored)`,
    );
  }
  const classIndex = new ClassIndex(configured, tooMany);
  for (const cls of declared) {
    const index = classIndex.indexOf(cls);
    if (typeof index === 'string') throw new Error(index);
  }
  return classIndex;
}

export function indexMask(mask: MaskSpec, classIndex: ClassIndex): IndexedMask | string {
  switch (mask.kind) {
    case 'colour-png': {
      const colours: ColourIndex[] = [];
      for (const colour of mask.colours) {
        const index = classIndex.indexOf(colour);
        if (typeof index === 'string') return index;
        colours.push({ rgb: colour.rgb, index: onPurpose(index) });
      }
      for (const rgb of mask.ignoredColours ?? []) colours.push({ rgb, index: IGNORED_ON_PURPOSE });
      return { kind: 'colour-png', file: mask.file, colours, transparentIsBackground: mask.transparentIsBackground };
    }
    case 'index-png': {
      const table = new Uint8Array(256).fill(IGNORE_INDEX);
      for (let value = 0; value < mask.classOfValue.length; value++) {
        const cls = mask.classOfValue[value];
        if (!cls) continue;
        const index = classIndex.indexOf(cls);
        if (typeof index === 'string') return index;
        table[value] = onPurpose(index);
      }
      // The format's own "ignore" value (VOC's object borders).
      if (!mask.classOfValue[IGNORE_INDEX]) table[IGNORE_INDEX] = IGNORED_ON_PURPOSE;
      const colours = mask.colourOfValue.map((rgb, value) => ({ rgb, index: table[value] })).filter((c) => c.index !== IGNORE_INDEX);
      return { kind: 'index-png', file: mask.file, table, colours };
    }
    case 'shapes': {
      const shapes: ((IndexedShape & { percent?: boolean }) | ImageSizedShape)[] = [];
      for (const shape of mask.shapes) {
        const index = classIndex.indexOf({ name: shape.className, background: false });
        if (typeof index === 'string') return index;
        shapes.push(
          shape.kind === 'polygon' ? { kind: 'polygon', index, rings: shape.rings, percent: shape.percent } : { ...shape, index },
        );
      }
      return { kind: 'shapes', size: mask.size, shapes };
    }
  }
}
