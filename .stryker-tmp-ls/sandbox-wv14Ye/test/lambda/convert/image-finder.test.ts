import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ItemSkipped } from '../../../lambda/convert/export-item';
import { ImageFinder, pathOf } from '../../../lambda/convert/image-finder';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import { type ObjectStore, ReadRefusedError } from '../../../lambda/convert/stores/object-store';
import { writeTree } from '../../helpers/files';

const work = mkdtempSync(join(tmpdir(), 'segpipe-image-finder-'));
const store = new FolderObjectStore();

const files = (root: string, paths: string[]) => writeTree(root, Object.fromEntries(paths.map((path) => [path, 'i'])));

describe("finding an export's image", () => {
  const root = files(join(work, 'images'), ['photos/a.jpg', 'b.jpg', 'one/c.jpg', 'two/c.jpg', 'turtle.jpg']);
  const finder = new ImageFinder(store, root);

  test('by its path under the root, ignoring . and .. segments, then by its file name', async () => {
    expect((await finder.find('photos/a.jpg')).locations).toEqual([join(root, 'photos/a.jpg')]);
    expect((await finder.find('./photos/../photos/a.jpg')).locations).toEqual([join(root, 'photos/a.jpg')]);
    expect((await finder.find('/data/local-files/elsewhere/b.jpg')).locations).toEqual([join(root, 'b.jpg')]);
  });

  test("by the name after Label Studio's upload hash", async () => {
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
    await expect(withFallback.find('d.jpg')).rejects.toThrow(
      `image not found: d.jpg (looked under ${root} and ${batch} by path and by file name)`,
    );
  });

  test("an image the store cannot read is that item's skip, with the store's reason", async () => {
    const failing = {
      ...store,
      join: store.join.bind(store),
      readStart: async () => {
        throw new Error('Slow Down');
      },
    } as unknown as ObjectStore;
    await expect(new ImageFinder(failing, root).find('b.jpg')).rejects.toThrow(`image ${join(root, 'b.jpg')} cannot be read: Slow Down`);
  });
});

describe('the path of an image reference', () => {
  test.each([
    // An S3 key is verbatim: a manifest holds raw keys, and `%20` may be part of one.
    ['s3://bucket/images/x%20y.jpg', 'images/x%20y.jpg'],
    ['s3://bucket/a\nb.jpg', 'a\nb.jpg'],
    ['s3://bucket', ''],
    ['https://host:8080/data/x%20y.jpg?token=1#frag', 'data/x y.jpg'],
    ['HTTPS://Host/a.jpg', 'a.jpg'],
    ['git+ssh://host/a.jpg', 'a.jpg'],
    ['https://host', ''],
    // A `?d=` after the fragment is not the query.
    ['https://host/a.jpg#x?d=b.jpg', 'a.jpg'],
    ['http://localhost:8080/data/local-files/?d=dir/a%20b.jpg', 'dir/a b.jpg'],
    ['/data/local-files/?d=images/a.jpg', 'images/a.jpg'],
    ['/data/local-files/?d=', 'data/local-files/'],
    ['/data/upload/3/abc.jpg', 'data/upload/3/abc.jpg'],
    ['images/a.jpg?x=1', 'images/a.jpg'],
    ['a/b%2Fc.jpg', 'a/b/c.jpg'],
    ['100%.jpg', '100%.jpg'],
    ['///a.jpg', 'a.jpg'],
  ])('%j is %j', (reference, path) => {
    expect(pathOf(reference)).toBe(path);
  });
});

describe('finding an image beyond the root', () => {
  const root = files(join(work, 'beyond'), [
    'photos/a.jpg',
    'notes.txt',
    'shots/b.JPG',
    'shots/c.jpeg',
    'shots/d.png',
    'e.jpg.txt',
    'twins/1/f.jpg',
    'twins/2/f.jpg',
  ]);
  const finder = new ImageFinder(store, root);
  /** An S3 store whose reads answer from a table, or fail with the given error. */
  const s3Store = (objects: Record<string, string>, failure?: Error): ObjectStore =>
    ({
      readStart: async (location: string) => {
        if (failure) throw failure;
        return location in objects ? { data: Buffer.from(objects[location]), size: objects[location].length } : undefined;
      },
    }) as unknown as ObjectStore;

  test('only .jpg, .jpeg and .png files are indexed by name, whatever their case', async () => {
    expect((await finder.find('x/b.JPG')).locations).toEqual([join(root, 'shots/b.JPG')]);
    expect((await finder.find('x/c.jpeg')).locations).toEqual([join(root, 'shots/c.jpeg')]);
    expect((await finder.find('x/d.png')).locations).toEqual([join(root, 'shots/d.png')]);
    await expect(finder.find('x/notes.txt')).rejects.toThrow('image not found: x/notes.txt');
    await expect(finder.find('x/e.jpg.txt')).rejects.toThrow('image not found: x/e.jpg.txt');
  });

  test('empty path segments are dropped', async () => {
    expect((await finder.find('photos//a.jpg')).locations).toEqual([join(root, 'photos/a.jpg')]);
  });

  test("a reference's .. segments never lead out of the root", async () => {
    files(work, ['beside-root.jpg']);
    await expect(finder.find('../beside-root.jpg')).rejects.toThrow('image not found: ../beside-root.jpg');
  });

  test('empty and . segments are dropped for a store whose join keeps them (S3)', async () => {
    const keys = {
      ...store,
      join: (...parts: string[]) => parts.join('/'),
      readStart: async (location: string) => (location === 'r/dir/a.jpg' ? { data: Buffer.from('a'), size: 1 } : undefined),
      listUnder: async () => [],
    } as unknown as ObjectStore;
    expect((await new ImageFinder(keys, 'r').find('./dir//./a.jpg')).locations).toEqual(['r/dir/a.jpg']);
  });

  test('only a leading 8-hex-digit upload prefix is dropped, in either case, and two matches are not guessed', async () => {
    expect((await finder.find('/data/upload/1/ABCDEF12-a.jpg')).locations).toEqual([join(root, 'photos/a.jpg')]);
    await expect(finder.find('abcdef1-a.jpg')).rejects.toThrow('image not found: abcdef1-a.jpg');
    await expect(finder.find('xabcdef12-a.jpg')).rejects.toThrow('image not found: xabcdef12-a.jpg');
    await expect(finder.find('9a8b7c6d-g.jpg')).rejects.toThrow('image not found');
    await expect(finder.find('00000000-f.jpg')).rejects.toThrow(`image 00000000-f.jpg: 2 images under ${root} are named f.jpg`);
  });

  test('an s3:// reference outside the root is read where it is', async () => {
    const s3 = s3Store({ 's3://photos/k/z.jpg': 'z' });
    expect(await new ImageFinder(store, root, s3).find('s3://photos/k/z.jpg')).toEqual({ store: s3, locations: ['s3://photos/k/z.jpg'] });
    await expect(new ImageFinder(store, root).find('s3://photos/k/z.jpg')).rejects.toThrow('image not found: s3://photos/k/z.jpg');
    await expect(new ImageFinder(store, root, s3).find('s3://photos/k/y.jpg')).rejects.toThrow(
      `image not found: s3://photos/k/y.jpg (looked under ${root} by path and by file name)`,
    );
  });

  test('an s3:// reference the store refuses is looked for by name, and a miss gives the refusal', async () => {
    const refusing = s3Store({}, new ReadRefusedError("outside the run's inputs"));
    expect(await new ImageFinder(store, root, refusing).find('s3://elsewhere/a.jpg')).toEqual({
      store,
      locations: [join(root, 'photos/a.jpg')],
    });
    await expect(new ImageFinder(store, root, refusing).find('s3://elsewhere/y.jpg')).rejects.toThrow(
      `image not found: s3://elsewhere/y.jpg (looked under ${root} by path and by file name; outside the run's inputs)`,
    );
    const batch = files(join(work, 'beyond-batch'), ['w.jpg']);
    const withFallback = new ImageFinder(store, root, refusing, new ImageFinder(store, batch, refusing));
    await expect(withFallback.find('s3://elsewhere/y.jpg')).rejects.toThrow(
      `image not found: s3://elsewhere/y.jpg (looked under ${root} and ${batch} by path and by file name; outside the run's inputs)`,
    );
  });

  test("an s3:// reference that fails to read is that item's skip; a refusal under the root is not caught", async () => {
    const failing = new ImageFinder(store, root, s3Store({}, new Error('Access Denied')));
    await expect(failing.find('s3://photos/k/z.jpg')).rejects.toThrow(
      new ItemSkipped('image s3://photos/k/z.jpg cannot be read: Access Denied'),
    );
    const refusingRoot = {
      ...store,
      join: store.join.bind(store),
      readStart: async () => {
        throw new ReadRefusedError('no');
      },
    } as unknown as ObjectStore;
    await expect(new ImageFinder(refusingRoot, root).find('a.jpg')).rejects.toThrow(ReadRefusedError);
  });

  test("a fallback's error other than a skip passes through as it is", async () => {
    const broken: ObjectStore = Object.assign(Object.create(store), {
      listUnder: async () => {
        throw new Error('disk gone');
      },
    });
    const withFallback = new ImageFinder(store, root, undefined, new ImageFinder(broken, root));
    await expect(withFallback.find('q.jpg')).rejects.toThrow(new Error('disk gone'));
  });

  test("a listing's backslash separators are folder separators for the name", async () => {
    const listing = {
      ...store,
      join: (...parts: string[]) => parts.join('/'),
      readStart: async () => undefined,
      listUnder: async () => ['r\\shots\\k.jpg'],
    } as unknown as ObjectStore;
    expect((await new ImageFinder(listing, 'r').find('k.jpg')).locations).toEqual(['r\\shots\\k.jpg']);
  });
});
