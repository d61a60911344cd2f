import sharp from 'sharp';
import { ExportClass, ExportItem, ExportReader, ExportSkip, ItemSkipped, ObjectRef, isBackgroundName } from '../export-item';
import { ImageFinder } from '../image-finder';
import { decodeIndexMask } from '../codecs/mask';
import { ObjectStore, folderPrefix } from '../stores/object-store';

/** The Pascal VOC classes, by palette index; 255 is the objects' border, which the algorithm ignores. */
export const VOC_CLASSES = [
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
] as const;

/** VOC's colour map (the palette of its masks): value v's colour from v's bits, three at a time. */
export const VOC_PALETTE: readonly number[] = Array.from({ length: 256 }, (_, value) => {
  let r = 0;
  let g = 0;
  let b = 0;
  for (let bit = 0, c = value; bit < 8; bit++, c >>= 3) {
    r |= (c & 1) << (7 - bit);
    g |= ((c >> 1) & 1) << (7 - bit);
    b |= ((c >> 2) & 1) << (7 - bit);
  }
  return (r << 16) | (g << 8) | b;
});

export const LABEL_MAP_FILE = 'labelmap.txt';
/** How many masks, spread over the export, are checked to hold VOC's classes before a VOC export is read. */
const VOC_MASKS_CHECKED = 8;
const MAX_CHECKED_MASK_PIXELS = 64 * 1024 * 1024;
const IMAGE_EXTENSION = /\.(jpe?g|png)$/i;

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

export interface VocReaderOptions {
  readonly store: ObjectStore;
  /** The export's root: the folder holding `SegmentationClass/` (and `labelmap.txt` for CVAT). */
  readonly root: string;
  readonly format: 'cvat' | 'voc';
  /** Where image names resolve. @default - the export's `JPEGImages/` */
  readonly images?: { readonly store: ObjectStore; readonly root: string };
  /** Where an image the export does not hold is looked for (the workflow: the batch's `images/<batch>/`). */
  readonly fallbackImages?: { readonly store: ObjectStore; readonly root: string };
  /** The location reported as the input. */
  readonly input: string;
  /**
   * CVAT's label map when the export lacks it (`--labelmap`).
   * @default - the export's own `labelmap.txt`
   */
  readonly labelMap?: { readonly store: ObjectStore; readonly location: string };
}

/**
 * CVAT's "Segmentation mask 1.1" export (RGB colour masks, classes by colour from `labelmap.txt`) and
 * Pascal VOC itself (palette masks whose indices are the 21 VOC classes). Items are the images the
 * `ImageSets/Segmentation/*.txt` lists name, then masks no list names; an item without its image
 * or mask is reported.
 */
export function vocReader(options: VocReaderOptions): ExportReader {
  const { store, root } = options;
  let labelMap: Promise<LabelMapEntry[]> | undefined;
  const labelMapFile = options.labelMap ?? { store, location: store.join(root, LABEL_MAP_FILE) };
  const readLabelMap = () => (labelMap ??= labelMapFile.store.read(labelMapFile.location).then((data) => parseLabelMap(data.toString('utf8'))));
  let vocMasks: Promise<void> | undefined;
  return {
    format: options.format,
    input: options.input,
    declaredClasses: async () => {
      if (options.format === 'cvat') return readLabelMap();
      await (vocMasks ??= checkVocMasks(options));
      return VOC_CLASSES.map((name, i) => ({ name, background: i === 0 }));
    },
    items: () => vocItems(options, readLabelMap),
  };
}

async function* vocItems(options: VocReaderOptions, readLabelMap: () => Promise<LabelMapEntry[]>): AsyncGenerator<ExportItem | ExportSkip> {
  const { store, root } = options;
  // Paths relative to the root ('' for a zip that does not wrap its export in a folder).
  const prefixLength = folderPrefix(store, root).length;
  const relative = (location: string) => location.slice(prefixLength);
  const files = (await store.listUnder(root)).map(relative);
  const masks = new Set(files.filter((f) => f.startsWith('SegmentationClass/') && f.toLowerCase().endsWith('.png')).map((f) => f.slice('SegmentationClass/'.length, -4)));
  const imageOfStem = new Map<string, string>();
  for (const f of files) {
    if (f.startsWith('JPEGImages/') && IMAGE_EXTENSION.test(f)) imageOfStem.set(f.slice('JPEGImages/'.length).replace(IMAGE_EXTENSION, ''), f);
  }
  const listed: string[] = [];
  for (const list of files.filter((f) => /^ImageSets\/Segmentation\/[^/]+\.txt$/.test(f)).sort()) {
    for (const line of (await store.read(store.join(root, list))).toString('utf8').split(/\r?\n/)) {
      const stem = line.trim().split(/\s+/)[0];
      if (stem) listed.push(stem);
    }
  }
  const stems = [...new Set([...listed, ...[...masks].sort()])];

  const finder = options.images ? new ImageFinder(options.images.store, options.images.root) : undefined;
  const fallback = options.fallbackImages ? new ImageFinder(options.fallbackImages.store, options.fallbackImages.root) : undefined;
  const colours = options.format === 'cvat' ? await readLabelMap() : undefined;
  const classOfValue = VOC_CLASSES.map((name, i) => ({ name, background: i === 0 }));
  let line = 0;
  for (const stem of stems) {
    line += 1;
    const image = imageOfStem.get(stem);
    const source = image ?? `JPEGImages/${stem}`;
    if (!masks.has(stem)) {
      yield { line, source, reason: `no mask SegmentationClass/${stem}.png` };
      continue;
    }
    const lookIn = finder ?? (image ? undefined : fallback);
    if (!lookIn && !image) {
      yield { line, source, reason: `image not found: JPEGImages/${stem}.jpg (or .jpeg, .png)` };
      continue;
    }
    const findImage = async (): Promise<ObjectRef> => {
      if (!lookIn) return { store, locations: [store.join(root, image!)] };
      for (const extension of ['.jpg', '.jpeg', '.png', '.JPG', '.JPEG', '.PNG']) {
        try {
          return await lookIn.find(`${stem}${extension}`);
        } catch (err) {
          if (!(err instanceof ItemSkipped)) throw err;
        }
      }
      const where = finder ? options.images!.root : `JPEGImages/ nor ${options.fallbackImages!.root}`;
      throw new ItemSkipped(`image not found: ${stem}.jpg (or .jpeg, .png) in ${where}`);
    };
    const file = { store, locations: [store.join(root, 'SegmentationClass', `${stem}.png`)] };
    yield {
      line,
      source,
      findImage,
      mask: colours
        ? { kind: 'colour-png', file, colours, transparentIsBackground: false }
        : { kind: 'index-png', file, classOfValue, colourOfValue: VOC_PALETTE },
    };
  }
}

/** The colours of VOC's classes and of its object borders, as a mask saved as RGB by another tool holds them. */
const VOC_COLOURS = new Set([...VOC_PALETTE.slice(0, VOC_CLASSES.length), VOC_PALETTE[255]]);

/**
 * Refuses a VOC export whose masks (a sample spread over the export) hold colours or values that are
 * none of VOC's classes, or only the background and 255: a CVAT export without its labelmap.txt, or
 * black-and-white masks, read as VOC would turn every labelled pixel into 255 (ignored) and report
 * success.
 */
async function checkVocMasks(options: VocReaderOptions): Promise<void> {
  const { store, root } = options;
  const prefixLength = folderPrefix(store, root).length;
  const masks = (await store.listUnder(root)).filter((f) => /^SegmentationClass\/[^/]+\.png$/i.test(f.slice(prefixLength))).sort();
  const step = Math.max(1, Math.ceil(masks.length / VOC_MASKS_CHECKED));
  const refuse = (mask: string, holds: string, looksLike: string) => new Error(
    `${options.input} has no ${LABEL_MAP_FILE}, and its mask ${mask.slice(prefixLength)} holds ${holds}: ${looksLike} (read as Pascal VOC, every labelled pixel would be ignored). ` +
      `Give the label map with --labelmap FILE (segpipe convert) or put ${LABEL_MAP_FILE} beside SegmentationClass/: one name:r,g,b:: line per label`,
  );
  let objects = false;
  let onlyBorders: string | undefined;
  for (let i = 0; i < masks.length; i += step) {
    // A mask that cannot be read or decoded is reported by its own item, not here.
    const found = await store.read(masks[i]).then(vocContent).catch(() => undefined);
    if (found?.stranger !== undefined) {
      throw refuse(masks[i], `${found.stranger}, which is none of Pascal VOC's classes`, `it looks like a CVAT "Segmentation mask 1.1" export without its ${LABEL_MAP_FILE}`);
    }
    objects ||= found?.objects ?? false;
    if (found?.borders && !found.objects) onlyBorders ??= masks[i];
  }
  // VOC's own masks each hold an object; 255 is only the thin border around one.
  if (!objects && onlyBorders !== undefined) {
    throw refuse(onlyBorders, 'only 0 and 255, as every mask checked does', 'they look like black-and-white masks whose 255 is the object, not Pascal VOC\'s ignored borders');
  }
}

/** What a mask holds: a pixel that is none of VOC's classes (described), VOC objects, VOC borders (255). */
async function vocContent(png: Buffer): Promise<{ stranger?: string; objects: boolean; borders: boolean }> {
  // An 8-bit palette or grey PNG holds class numbers (VOC's own masks); any other, colours.
  if (png[24] === 8 && (png[25] === 0 || png[25] === 3)) {
    // 0: background, 1: none of VOC's, 2: an object class, 3: the border.
    const table = new Uint8Array(256).fill(1);
    table.fill(2, 1, VOC_CLASSES.length);
    table[0] = 0;
    table[255] = 3;
    const { pixelsPerIndex } = await decodeIndexMask(png, table, { limitInputPixels: MAX_CHECKED_MASK_PIXELS });
    return {
      stranger: pixelsPerIndex[1] > 0 ? `${pixelsPerIndex[1]} pixels of values past VOC's ${VOC_CLASSES.length} classes` : undefined,
      objects: pixelsPerIndex[2] > 0,
      borders: pixelsPerIndex[3] > 0,
    };
  }
  const { data, info } = await sharp(png, { limitInputPixels: MAX_CHECKED_MASK_PIXELS }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  let objects = false;
  let borders = false;
  for (let p = 0; p < data.length; p += info.channels) {
    const rgb = (data[p] << 16) | (data[p + 1] << 8) | data[p + 2];
    if (!VOC_COLOURS.has(rgb)) return { stranger: `the colour ${data[p]},${data[p + 1]},${data[p + 2]}`, objects, borders };
    if (rgb === VOC_PALETTE[255]) borders = true;
    else if (rgb !== VOC_PALETTE[0]) objects = true;
  }
  return { objects, borders };
}
