// @ts-nocheck
import sharp from 'sharp';
import { decodeIndexMask } from '../codecs/mask';
import type { ExportReader } from '../export-item';
import { folderPrefix } from '../stores/object-store';
import { LABEL_MAP_FILE } from './label-map';
import { type SegmentationFolderOptions, segmentationFolderItems } from './segmentation-folder';

/** The Pascal VOC classes, by palette index; 255 is the objects' border, which the algorithm ignores. */
export const VOC_CLASSES = [
  'background',
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
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

/** How many masks, spread over the export, are checked to hold VOC's classes before a VOC export is read. */
const VOC_MASKS_CHECKED = 8;
const MAX_CHECKED_MASK_PIXELS = 64 * 1024 * 1024;

/**
 * Pascal VOC's segmentation export: palette masks whose indices are the 21 VOC classes, 255 the
 * objects' borders. A sample of the masks is checked to hold VOC's classes before any is read.
 */
export function vocReader(options: SegmentationFolderOptions): ExportReader {
  let vocMasks: Promise<void> | undefined;
  const classOfValue = VOC_CLASSES.map((name, i) => ({ name, background: i === 0 }));
  return {
    format: 'voc',
    input: options.input,
    declaredClasses: async () => {
      await (vocMasks ??= checkVocMasks(options));
      return VOC_CLASSES.map((name, i) => ({ name, background: i === 0 }));
    },
    items: () =>
      segmentationFolderItems(options, async () => (file) => ({ kind: 'index-png', file, classOfValue, colourOfValue: VOC_PALETTE })),
  };
}

/** The colours of VOC's classes and of its object borders, as a mask saved as RGB by another tool holds them. */
const VOC_COLOURS = new Set([...VOC_PALETTE.slice(0, VOC_CLASSES.length), VOC_PALETTE[255]]);

/**
 * Refuses a VOC export whose masks (a sample spread over the export) hold colours or values that are
 * none of VOC's classes, or only the background and 255: a CVAT export without its labelmap.txt, or
 * black-and-white masks, read as VOC would turn every labelled pixel into 255 (ignored) and report
 * success.
 */
async function checkVocMasks(options: SegmentationFolderOptions): Promise<void> {
  const { store, root } = options;
  const prefixLength = folderPrefix(store, root).length;
  const masks = (await store.listUnder(root)).filter((f) => /^SegmentationClass\/[^/]+\.png$/i.test(f.slice(prefixLength))).sort();
  const step = Math.max(1, Math.ceil(masks.length / VOC_MASKS_CHECKED));
  const refuse = (mask: string, holds: string, looksLike: string) =>
    new Error(
      `${options.input} has no ${LABEL_MAP_FILE}, and its mask ${mask.slice(prefixLength)} holds ${holds}: ${looksLike} (read as Pascal VOC, every labelled pixel would be ignored). ` +
        `Give the label map with --labelmap FILE (segpipe convert) or put ${LABEL_MAP_FILE} beside SegmentationClass/: one name:r,g,b:: line per label`,
    );
  let objects = false;
  let onlyBorders: string | undefined;
  for (let i = 0; i < masks.length; i += step) {
    // A mask that cannot be read or decoded is reported by its own item, not here.
    const found = await store
      .read(masks[i])
      .then(vocContent)
      .catch(() => undefined);
    if (found?.stranger !== undefined) {
      throw refuse(
        masks[i],
        `${found.stranger}, which is none of Pascal VOC's classes`,
        `it looks like a CVAT "Segmentation mask 1.1" export without its ${LABEL_MAP_FILE}`,
      );
    }
    objects ||= found?.objects ?? false;
    if (found?.borders && !found.objects) onlyBorders ??= masks[i];
  }
  // VOC's own masks each hold an object; 255 is only the thin border around one.
  if (!objects && onlyBorders !== undefined) {
    throw refuse(
      onlyBorders,
      'only 0 and 255, as every mask checked does',
      "they look like black-and-white masks whose 255 is the object, not Pascal VOC's ignored borders",
    );
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
  const { data, info } = await sharp(png, { limitInputPixels: MAX_CHECKED_MASK_PIXELS })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
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
