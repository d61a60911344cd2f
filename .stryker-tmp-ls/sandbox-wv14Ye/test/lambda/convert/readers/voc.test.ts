import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportItem, ExportSkip } from '../../../../lambda/convert/export-item';
import { type CvatReaderOptions, cvatReader } from '../../../../lambda/convert/readers/cvat';
import { VOC_PALETTE, vocReader } from '../../../../lambda/convert/readers/voc';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { writeTree } from '../../../helpers/files';

const work = mkdtempSync(join(tmpdir(), 'segpipe-voc-reader-'));
const store = new FolderObjectStore();

/** The reader of the format: CVAT and VOC share the folder layout. */
const readerOf = ({ format, ...options }: CvatReaderOptions & { format: 'cvat' | 'voc' }) =>
  format === 'cvat' ? cvatReader(options) : vocReader(options);

async function itemsOf(options: Parameters<typeof readerOf>[0]): Promise<(ExportItem | ExportSkip)[]> {
  const items: (ExportItem | ExportSkip)[] = [];
  for await (const item of readerOf(options).items()) items.push(item);
  return items;
}

describe('VOC reader: what is an item', () => {
  test('Pascal VOC declares its 21 classes, the first the background; its masks map values to them', async () => {
    const root = writeTree(join(work, 'declared'), { 'SegmentationClass/a.png': 'm', 'JPEGImages/a.jpg': 'i' });
    const reader = vocReader({ store, root, input: root });
    const classes = await reader.declaredClasses();
    expect(classes).toHaveLength(21);
    expect(classes.slice(0, 2)).toEqual([
      { name: 'background', background: true },
      { name: 'aeroplane', background: false },
    ]);
    expect(classes.filter((c) => c.background)).toHaveLength(1);
    const [item] = (await itemsOf({ store, root, format: 'voc', input: root })) as ExportItem[];
    expect(item.mask).toMatchObject({ kind: 'index-png', classOfValue: classes });
  });

  test('a CVAT export declares the classes of its label map', async () => {
    const root = writeTree(join(work, 'declared-cvat'), { 'labelmap.txt': 'background:0,0,0::\nturtle:250,50,83::\n' });
    expect(await cvatReader({ store, root, input: root }).declaredClasses()).toEqual([
      { name: 'background', rgb: 0, background: true },
      { name: 'turtle', rgb: 0xfa3253, background: false },
    ]);
  });

  test("only SegmentationClass/ holds masks and only ImageSets/Segmentation/*.txt lists; a listed name is its line's first word", async () => {
    const root = writeTree(join(work, 'strict'), {
      'SegmentationClass/a.png': 'm',
      'SegmentationClass/b.png': 'm',
      'SegmentationClass/c.png': 'm',
      'SegmentationObject/d.png': 'm',
      'JPEGImages/e.png': 'i',
      'ImageSets/Segmentation/train.txt': 'b\n   c  1\n',
      'ImageSets/Segmentation/train.txt.orig': 'x\n',
      'old/ImageSets/Segmentation/val.txt': 'y\n',
    });
    const items = await itemsOf({ store, root, format: 'voc', input: root });
    expect(items.map((i) => i.source)).toEqual(['JPEGImages/b', 'JPEGImages/c', 'JPEGImages/a']);
  });

  test('an image the export lacks is found in the fallback under each extension, lower or upper case', async () => {
    const stems = ['a', 'b', 'c', 'd', 'e', 'f'];
    const root = writeTree(join(work, 'extensions'), Object.fromEntries(stems.map((s) => [`SegmentationClass/${s}.png`, 'm'])));
    const batch = writeTree(join(work, 'extensions-batch'), {
      'a.jpg': 'i',
      'b.jpeg': 'i',
      'c.png': 'i',
      'd.JPG': 'i',
      'e.JPEG': 'i',
      'f.PNG': 'i',
    });
    const items = (await itemsOf({ store, root, format: 'voc', input: root, fallbackImages: { store, root: batch } })) as ExportItem[];
    const found = await Promise.all(items.map(async (i) => (await i.findImage()).locations));
    expect(found).toEqual(['a.jpg', 'b.jpeg', 'c.png', 'd.JPG', 'e.JPEG', 'f.PNG'].map((f) => [join(batch, f)]));
  });
});

describe('VOC reader', () => {
  test("the palette is VOC's: background black, aeroplane dark red, 255 the border", () => {
    expect([VOC_PALETTE[0], VOC_PALETTE[1], VOC_PALETTE[2], VOC_PALETTE[15], VOC_PALETTE[255]]).toEqual([
      0x000000, 0x800000, 0x008000, 0xc08080, 0xe0e0c0,
    ]);
  });

  test('images the export lacks are looked for in the fallback under every extension; the rest are reported where they were looked for', async () => {
    const root = writeTree(join(work, 'no-images'), {
      'SegmentationClass/a.png': 'm',
      'SegmentationClass/b.png': 'm',
      'SegmentationClass/c.png': 'm',
    });
    const batch = writeTree(join(work, 'batch'), { 'a.JPEG': 'i', 'b.png': 'i' });
    const items = await itemsOf({ store, root, format: 'voc', input: root, fallbackImages: { store, root: batch } });
    expect(items.map((i) => i.source)).toEqual(['JPEGImages/a', 'JPEGImages/b', 'JPEGImages/c']);
    const [a, b, c] = items as ExportItem[];
    expect((await a.findImage()).locations).toEqual([join(batch, 'a.JPEG')]);
    expect((await b.findImage()).locations).toEqual([join(batch, 'b.png')]);
    await expect(c.findImage()).rejects.toThrow(`image not found: c.jpg (or .jpeg, .png) in JPEGImages/ nor ${batch}`);
  });

  test('without a fallback, an image missing from JPEGImages/ is reported at once; with --images, looked for there', async () => {
    const root = writeTree(join(work, 'partial'), {
      'SegmentationClass/a.png': 'm',
      'SegmentationClass/b.png': 'm',
      'JPEGImages/a.jpg': 'i',
      'ImageSets/Segmentation/train.txt': 'b\n\n  a  extra\n',
    });
    const items = await itemsOf({ store, root, format: 'voc', input: root });
    expect(items.map((i) => i.line)).toEqual([1, 2]);
    expect(items[0]).toEqual({ line: 1, source: 'JPEGImages/b', reason: 'image not found: JPEGImages/b.jpg (or .jpeg, .png)' });
    expect((await (items[1] as ExportItem).findImage()).locations).toEqual([join(root, 'JPEGImages/a.jpg')]);
    const elsewhere = writeTree(join(work, 'elsewhere'), { 'b.jpeg': 'i' });
    const [b, a] = (await itemsOf({ store, root, format: 'voc', input: root, images: { store, root: elsewhere } })) as ExportItem[];
    expect((await b.findImage()).locations).toEqual([join(elsewhere, 'b.jpeg')]);
    await expect(a.findImage()).rejects.toThrow(`image not found: a.jpg (or .jpeg, .png) in ${elsewhere}`);
  });

  test('a listed image without its mask is reported', async () => {
    const root = writeTree(join(work, 'no-mask'), { 'JPEGImages/a.jpg': 'i', 'ImageSets/Segmentation/val.txt': 'a\n' });
    expect(await itemsOf({ store, root, format: 'voc', input: root })).toEqual([
      { line: 1, source: 'JPEGImages/a.jpg', reason: 'no mask SegmentationClass/a.png' },
    ]);
  });
});

describe('VOC reader: order, errors and alpha', () => {
  test("masks no list names come in name order, however the store lists them (a zip keeps its writer's order)", async () => {
    const root = writeTree(join(work, 'unsorted'), {
      'SegmentationClass/b.png': 'm',
      'SegmentationClass/a.png': 'm',
      'JPEGImages/a.jpg': 'i',
      'JPEGImages/b.jpg': 'i',
    });
    const reversed = Object.assign(Object.create(store), {
      listUnder: async (location: string) => (await store.listUnder(location)).reverse(),
    });
    expect((await itemsOf({ store: reversed, root, format: 'voc', input: root })).map((i) => i.source)).toEqual([
      'JPEGImages/a.jpg',
      'JPEGImages/b.jpg',
    ]);
  });

  test('an error listing the images is not taken for a missing image', async () => {
    const root = writeTree(join(work, 'refused'), { 'SegmentationClass/a.png': 'm' });
    const refusing = Object.assign(Object.create(store), {
      listUnder: async () => {
        throw new Error('AccessDenied');
      },
      readStart: async () => undefined,
    });
    const [item] = (await itemsOf({
      store,
      root,
      format: 'voc',
      input: root,
      images: { store: refusing, root: '/images' },
    })) as ExportItem[];
    await expect(item.findImage()).rejects.toThrow('AccessDenied');
  });

  test("CVAT never writes alpha: a CVAT mask's colours count as they are, transparent or not", async () => {
    const root = writeTree(join(work, 'cvat-alpha'), {
      'labelmap.txt': 'background:0,0,0::\nturtle:250,50,83::\n',
      'SegmentationClass/a.png': 'm',
      'JPEGImages/a.jpg': 'i',
    });
    const [item] = (await itemsOf({ store, root, format: 'cvat', input: root })) as ExportItem[];
    expect(item.mask).toMatchObject({ kind: 'colour-png', transparentIsBackground: false });
  });
});

describe("VOC reader: files beside the export's own", () => {
  test('only .png files in SegmentationClass/ are masks, and only JPEGImages/ holds the images', async () => {
    const root = writeTree(join(work, 'beside'), {
      'SegmentationClass/a.png': 'm',
      'SegmentationClass/notes.txt': 'n',
      'JPEGImages/a.jpg': 'i',
      'Thumbnails/a.jpg': 't',
    });
    const items = await itemsOf({ store, root, format: 'voc', input: root });
    expect(items.map((i) => i.source)).toEqual(['JPEGImages/a.jpg']);
    expect((await (items[0] as ExportItem).findImage()).locations).toEqual([join(root, 'JPEGImages', 'a.jpg')]);
  });
});
