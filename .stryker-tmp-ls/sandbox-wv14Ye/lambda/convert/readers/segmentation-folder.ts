// @ts-nocheck
import { type ExportItem, type ExportSkip, ItemSkipped, type MaskSpec, type ObjectRef } from '../export-item';
import { ImageFinder } from '../image-finder';
import { folderPrefix, type ObjectStore } from '../stores/object-store';

const IMAGE_EXTENSION = /\.(jpe?g|png)$/i;

/** Where a folder of VOC's layout (`JPEGImages/`, `SegmentationClass/`, `ImageSets/Segmentation/`) is, and where its images are found. */
export interface SegmentationFolderOptions {
  readonly store: ObjectStore;
  /** The export's root: the folder holding `SegmentationClass/` (and `labelmap.txt` for CVAT). */
  readonly root: string;
  /** Where image names resolve. @default - the export's `JPEGImages/` */
  readonly images?: { readonly store: ObjectStore; readonly root: string };
  /** Where an image the export does not hold is looked for (the workflow: the batch's `images/<batch>/`). */
  readonly fallbackImages?: { readonly store: ObjectStore; readonly root: string };
  /** The location reported as the input. */
  readonly input: string;
}

/**
 * The items of a folder of Pascal VOC's layout, which CVAT's "Segmentation mask 1.1" export shares:
 * the images the `ImageSets/Segmentation/*.txt` lists name, then masks no list names; an item
 * without its image or mask is reported. `masksOf` gives each mask file its classes (the format's).
 */
export async function* segmentationFolderItems(
  options: SegmentationFolderOptions,
  masksOf: () => Promise<(file: ObjectRef) => MaskSpec>,
): AsyncGenerator<ExportItem | ExportSkip> {
  const { store, root } = options;
  // Paths relative to the root ('' for a zip that does not wrap its export in a folder).
  const prefixLength = folderPrefix(store, root).length;
  const relative = (location: string) => location.slice(prefixLength);
  const files = (await store.listUnder(root)).map(relative);
  const masks = new Set(
    files
      .filter((f) => f.startsWith('SegmentationClass/') && f.toLowerCase().endsWith('.png'))
      .map((f) => f.slice('SegmentationClass/'.length, -4)),
  );
  const imageOfStem = new Map<string, string>();
  for (const f of files) {
    if (f.startsWith('JPEGImages/') && IMAGE_EXTENSION.test(f))
      imageOfStem.set(f.slice('JPEGImages/'.length).replace(IMAGE_EXTENSION, ''), f);
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
  const maskOf = await masksOf();
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
      mask: maskOf(file),
    };
  }
}
