import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FolderObjectStore } from '../../../lambda/convert/folder-object-store';
import { ObjectNotFoundError, ObjectStore } from '../../../lambda/convert/object-store';

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

  test('a missing object, or a folder, is no object: undefined from readStart, ObjectNotFoundError naming it from the rest', async () => {
    const missing = join(dir, 'missing.txt');
    expect(await store.readStart(missing, 4)).toBeUndefined();
    expect(await store.readStart(join(dir, 'folder'), 4)).toBeUndefined();
    await expect(store.read(missing)).rejects.toEqual(new ObjectNotFoundError(missing));
    await expect(store.readRange(missing, 0, 1)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.readStream(join(dir, 'folder'))).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.readRangeStream(missing, 0, 1)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.listUnder(join(dir, 'nothing-here'))).toEqual([]);
  });

  test('any other failure is an error as the file system gave it, not a missing object', async () => {
    for (const call of [
      () => store.readStart(loop, 4), () => store.read(loop), () => store.readRange(loop, 0, 1), () => store.readStream(loop), () => store.listUnder(loop),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'ELOOP' });
    }
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
    await expect(store.copyFrom(store, join(dir, 'missing.txt'), join(dir, 'copies', 'x.txt'), 'text/plain')).rejects.toEqual(new ObjectNotFoundError(join(dir, 'missing.txt')));
  });
});
