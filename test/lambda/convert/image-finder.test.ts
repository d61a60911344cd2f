import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderObjectStore } from '../../../lambda/convert/folder-object-store';
import { ImageFinder } from '../../../lambda/convert/image-finder';
import type { ObjectStore } from '../../../lambda/convert/object-store';
import { writeTree } from '../../helpers/files';

const work = mkdtempSync(join(tmpdir(), 'segpipe-image-finder-'));
const store = new FolderObjectStore();

const files = (root: string, paths: string[]) => writeTree(root, Object.fromEntries(paths.map((path) => [path, 'i'])));

describe('finding an export\'s image', () => {
  const root = files(join(work, 'images'), ['photos/a.jpg', 'b.jpg', 'one/c.jpg', 'two/c.jpg', 'turtle.jpg']);
  const finder = new ImageFinder(store, root);

  test('by its path under the root, ignoring . and .. segments, then by its file name', async () => {
    expect((await finder.find('photos/a.jpg')).locations).toEqual([join(root, 'photos/a.jpg')]);
    expect((await finder.find('./photos/../photos/a.jpg')).locations).toEqual([join(root, 'photos/a.jpg')]);
    expect((await finder.find('/data/local-files/elsewhere/b.jpg')).locations).toEqual([join(root, 'b.jpg')]);
  });

  test('by the name after Label Studio\'s upload hash', async () => {
    expect((await finder.find('/data/upload/3/8f2a1c4e-turtle.jpg')).locations).toEqual([join(root, 'turtle.jpg')]);
  });

  test('a name that two images share is not guessed', async () => {
    await expect(finder.find('c.jpg')).rejects.toThrow(`image c.jpg: 2 images under ${root} are named c.jpg`);
  });

  test('a miss says where it looked, the fallback too', async () => {
    await expect(finder.find('d.jpg')).rejects.toThrow(`image not found: d.jpg (looked under ${root} by path and by file name)`);
    const batch = files(join(work, 'batch'), ['e.jpg']);
    const withFallback = ImageFinder.of({ store, root, fallback: { store, root: batch } });
    expect((await withFallback.find('e.jpg')).locations).toEqual([join(batch, 'e.jpg')]);
    await expect(withFallback.find('d.jpg')).rejects.toThrow(`image not found: d.jpg (looked under ${root} and ${batch} by path and by file name)`);
  });

  test('an image the store cannot read is that item\'s skip, with the store\'s reason', async () => {
    const failing = { ...store, join: store.join.bind(store), readStart: async () => { throw new Error('Slow Down'); } } as unknown as ObjectStore;
    await expect(new ImageFinder(failing, root).find('b.jpg')).rejects.toThrow(`image ${join(root, 'b.jpg')} cannot be read: Slow Down`);
  });
});
