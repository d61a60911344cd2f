import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { ObjectNotFoundError, type ObjectStore } from '../../../../lambda/convert/stores/object-store';

async function bytesOf(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('a folder as object storage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'segpipe-folder-store-'));
  const store = new FolderObjectStore();
  const file = join(dir, 'file.txt');
  const loop = join(dir, 'loop');
  writeFileSync(file, '0123456789');
  mkdirSync(join(dir, 'folder'));
  // A link to itself: every file-system call on it fails with ELOOP, which is not "missing".
  symlinkSync(loop, loop);

  test('reads the start with the whole size, a range clamped to the end, and either as a stream', async () => {
    expect(await store.readStart(file, 4)).toEqual({ data: Buffer.from('0123'), size: 10 });
    expect((await store.readRange(file, 2, 4)).toString()).toBe('234');
    expect((await store.readRange(file, 8, 20)).toString()).toBe('89');
    expect(await bytesOf(await store.readRangeStream(file, 3, 5))).toBe('345');
    expect(await bytesOf(await store.readStream(file))).toBe('0123456789');
  });

  test('reads a file whole with its start when it is no larger than asked, else its start and its tail', async () => {
    expect(await store.readStart(file, 4, { wholeUpTo: 10 })).toEqual({ data: Buffer.from('0123456789'), size: 10 });
    expect(await store.readStart(file, 4, { wholeUpTo: 9, tailBytes: 2 })).toEqual({
      data: Buffer.from('0123'),
      size: 10,
      tail: Buffer.from('89'),
    });
  });

  test('writes through a partial file renamed, unless its folder is staged (visible only once whole)', async () => {
    // A folder where the partial file would go: only a write through a partial file trips on it.
    for (const folder of ['plain', 'staged']) mkdirSync(join(dir, folder, `f.txt.${process.pid}.partial`), { recursive: true });
    await expect(store.write(join(dir, 'plain', 'f.txt'), Buffer.from('a'))).rejects.toThrow(/EISDIR/);
    await new FolderObjectStore(undefined, { staged: true }).write(join(dir, 'staged', 'f.txt'), Buffer.from('b'));
    expect(readFileSync(join(dir, 'staged', 'f.txt'), 'utf8')).toBe('b');
  });

  // Linux lists a process's open files in /proc/self/fd (Lambda and CI are Linux); elsewhere the test is skipped.
  const onLinux = existsSync('/proc/self/fd') ? test : test.skip;
  onLinux("a start read closes its file, a folder's too: a run reads the start of every image", async () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    for (let i = 0; i < 20; i++) {
      await store.readStart(file, 4);
      await store.readStart(join(dir, 'folder'), 4);
    }
    expect(openFiles()).toBe(before);
  });

  test('a missing object, a path through a file, or a folder, is no object: undefined from readStart, ObjectNotFoundError naming it from the rest', async () => {
    const missing = join(dir, 'missing.txt');
    expect(await store.readStart(missing, 4)).toBeUndefined();
    // ENOTDIR: a key whose "folder" is a file, as when an export names a.jpg/mask.png beside a.jpg.
    const throughFile = join(file, 'inside.txt');
    expect(await store.readStart(throughFile, 4)).toBeUndefined();
    await expect(store.read(throughFile)).rejects.toEqual(new ObjectNotFoundError(throughFile));
    await expect(store.copyFrom(store, throughFile, join(dir, 'copies', 'through.txt'), 'text/plain')).rejects.toEqual(
      new ObjectNotFoundError(throughFile),
    );
    await expect(store.copyFrom(store, join(dir, 'folder'), join(dir, 'copies', 'folder.txt'), 'text/plain')).rejects.toBeInstanceOf(
      ObjectNotFoundError,
    );
    expect(await store.readStart(join(dir, 'folder'), 4)).toBeUndefined();
    await expect(store.read(missing)).rejects.toEqual(new ObjectNotFoundError(missing));
    await expect(store.readRange(missing, 0, 1)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.readStream(join(dir, 'folder'))).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.readRangeStream(missing, 0, 1)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.listUnder(join(dir, 'nothing-here'))).toEqual([]);
  });

  test('any other failure is an error as the file system gave it, not a missing object', async () => {
    for (const call of [
      () => store.readStart(loop, 4),
      () => store.read(loop),
      () => store.readRange(loop, 0, 1),
      () => store.readStream(loop),
      () => store.listUnder(loop),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'ELOOP' });
    }
    await expect(store.copyFrom(store, loop, join(dir, 'copies', 'loop.txt'), 'text/plain')).rejects.toMatchObject({ code: 'ELOOP' });
    const confined = new FolderObjectStore(dir, { onlyUnderRoot: true });
    mkdirSync(join(dir, 'bucket'), { recursive: true });
    symlinkSync(join(dir, 'bucket', 'self'), join(dir, 'bucket', 'self'));
    await expect(confined.readStart('s3://bucket/self', 4)).rejects.toMatchObject({ code: 'ELOOP' });
  });

  test('writes make their folders, lists come back sorted, removes forget missing objects', async () => {
    const out = join(dir, 'out');
    await store.write(join(out, 'b', 'two.txt'), Buffer.from('2'));
    await store.write(join(out, 'a.txt'), Buffer.from('1'));
    expect(await store.listUnder(out)).toEqual([join(out, 'a.txt'), join(out, 'b', 'two.txt')]);
    await store.remove([join(out, 'a.txt'), join(out, 'never.txt')]);
    expect(existsSync(join(out, 'a.txt'))).toBe(false);
    expect(await store.listUnder(out)).toEqual([join(out, 'b', 'two.txt')]);
  });

  test('copies from another folder, or reads and writes from any other store; a missing source is named', async () => {
    await store.copyFrom(store, file, join(dir, 'copies', 'same.txt'), 'text/plain');
    expect(readFileSync(join(dir, 'copies', 'same.txt'), 'utf8')).toBe('0123456789');
    const other = { read: async () => Buffer.from('from elsewhere') } as unknown as ObjectStore;
    await store.copyFrom(other, 's3://b/k', join(dir, 'copies', 'other.txt'), 'text/plain');
    expect(readFileSync(join(dir, 'copies', 'other.txt'), 'utf8')).toBe('from elsewhere');
    await expect(store.copyFrom(store, join(dir, 'missing.txt'), join(dir, 'copies', 'x.txt'), 'text/plain')).rejects.toEqual(
      new ObjectNotFoundError(join(dir, 'missing.txt')),
    );
  });
});

describe('a folder holding S3 buckets (a local root)', () => {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-local-root-'));
  const root = join(work, 'buckets');
  mkdirSync(join(root, 'inbox', 'images'), { recursive: true });
  mkdirSync(join(root, 'inbox-old'), { recursive: true });
  writeFileSync(join(root, 'inbox', 'images', 'a.jpg'), 'a');
  writeFileSync(join(root, 'inbox-old', 'b.jpg'), 'b');
  writeFileSync(join(work, 'outside.jpg'), 'o');
  symlinkSync(join(work, 'outside.jpg'), join(root, 'inbox', 'images', 'link.jpg'));
  symlinkSync(join(root, 'inbox', 'images', 'a.jpg'), join(root, 'inbox', 'images', 'inner-link.jpg'));

  test('an s3:// address is a path under the root; plain paths are themselves', () => {
    const store = new FolderObjectStore(root);
    expect(store.pathOf('s3://inbox/images/a.jpg')).toBe(join(root, 'inbox', 'images', 'a.jpg'));
    expect(store.pathOf(join(work, 'outside.jpg'))).toBe(join(work, 'outside.jpg'));
    expect(store.join('s3://inbox/images//', 'x', 'y.jpg')).toBe('s3://inbox/images/x/y.jpg');
    expect(store.join(root, 'x', 'y.jpg')).toBe(join(root, 'x', 'y.jpg'));
  });

  test.each([
    ['s3://inbox/../inbox-old/b.jpg', 'escapes the local root'],
    ['s3://inbox/images/../../inbox-old/b.jpg', 'escapes the local root'],
    ['s3://inbox/..', 'escapes the local root'],
    ['s3://../outside.jpg', 'escapes the local root'],
    ['s3://inbox', 'not an s3://bucket/key URI: s3://inbox'],
  ])('%s is refused: %s', (location, reason) => {
    expect(() => new FolderObjectStore(root).pathOf(location)).toThrow(reason);
  });

  test('an s3:// address without a local root, and a confined store without one, are refused', () => {
    expect(() => new FolderObjectStore().pathOf('s3://inbox/a.jpg')).toThrow(
      's3://inbox/a.jpg is an S3 URI; give a local root to read it from a folder',
    );
    expect(() => new FolderObjectStore(undefined, { onlyUnderRoot: true })).toThrow(
      'a store confined to its local root needs a local root',
    );
  });

  test('confined to the root: links inside are followed, links outside and plain paths refused, a missing key is no object', async () => {
    const confined = new FolderObjectStore(root, { onlyUnderRoot: true });
    expect((await confined.read('s3://inbox/images/inner-link.jpg')).toString()).toBe('a');
    await expect(confined.read('s3://inbox/images/link.jpg')).rejects.toThrow(
      `s3://inbox/images/link.jpg is a link that leads outside the local root ${root}`,
    );
    await expect(confined.readStart(join(root, 'inbox', 'images', 'a.jpg'), 1)).rejects.toThrow(
      'is not an s3:// address; with a local root only s3://BUCKET/KEY is read',
    );
    expect(await confined.readStart('s3://inbox/images/none.jpg', 1)).toBeUndefined();
    const open = new FolderObjectStore(root);
    expect((await open.read('s3://inbox/images/link.jpg')).toString()).toBe('o');
  });
});
