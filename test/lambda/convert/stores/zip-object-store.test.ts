import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { ObjectNotFoundError, type ObjectStore } from '../../../../lambda/convert/stores/object-store';
import { ZipObjectStore } from '../../../../lambda/convert/stores/zip-object-store';
import { zipFolder } from '../../../helpers/format-fixtures';

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('a zip read in place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'segpipe-zip-store-'));
  // Random bytes do not deflate: the big entry's compressed bytes span several 1 MiB blocks and are streamed.
  const big = randomBytes(3 * 1024 * 1024 + 17);
  const folder = join(dir, 'export');
  mkdirSync(join(folder, 'images'), { recursive: true });
  writeFileSync(join(folder, 'images', 'big.bin'), big);
  writeFileSync(join(folder, 'labels.txt'), 'background\nturtle\n');
  const zipPath = join(dir, 'export.zip');
  zipFolder(folder, zipPath, 'wrapper');
  const files = new FolderObjectStore();
  let zip: ZipObjectStore;

  beforeAll(async () => {
    zip = await ZipObjectStore.open(files, zipPath, statSync(zipPath).size);
  });
  afterAll(() => zip.close());

  test('a zip listing more entries than allowed is refused before its directory is read', async () => {
    await expect(ZipObjectStore.open(files, zipPath, statSync(zipPath).size, { maxEntries: 2 })).rejects.toThrow(
      `${zipPath} lists 4 entries, more than the 2 a zip export may hold`,
    );
  });

  test('an entry whose declared size passes the bound is refused when read whole; its start is still read, inflating only that', async () => {
    const bounded = await ZipObjectStore.open(files, zipPath, statSync(zipPath).size, { maxEntryBytes: 1024 * 1024 });
    try {
      await expect(bounded.read('wrapper/images/big.bin')).rejects.toThrow(
        `wrapper/images/big.bin is ${big.length} bytes uncompressed, more than the 1048576 read whole`,
      );
      await expect(bounded.readRange('wrapper/images/big.bin', 0, 3)).rejects.toThrow(/more than the 1048576 read whole/);
      const start = await bounded.readStart('wrapper/images/big.bin', 100);
      expect(start?.size).toBe(big.length);
      expect(start?.data.equals(big.subarray(0, 100))).toBe(true);
      expect((await bounded.read('wrapper/labels.txt')).toString()).toBe('background\nturtle\n');
    } finally {
      bounded.close();
    }
  });

  test('an entry larger than a block streams whole; reads, ranges and starts agree with it', async () => {
    expect((await bytesOf(await zip.readStream('wrapper/images/big.bin'))).equals(big)).toBe(true);
    expect((await zip.read('wrapper/images/big.bin')).equals(big)).toBe(true);
    expect((await zip.readRange('wrapper/images/big.bin', 5, 9)).equals(big.subarray(5, 10))).toBe(true);
    expect(
      (await bytesOf(await zip.readRangeStream('wrapper/images/big.bin', 1024 * 1024 - 2, 1024 * 1024 + 2))).equals(
        big.subarray(1024 * 1024 - 2, 1024 * 1024 + 3),
      ),
    ).toBe(true);
    expect(await zip.readStart('wrapper/labels.txt', 4)).toEqual({ data: Buffer.from('back'), size: 18 });
  });

  test('the bounds are inclusive: a zip of exactly the entries allowed opens, an entry of exactly the bytes allowed is read', async () => {
    const bounded = await ZipObjectStore.open(files, zipPath, statSync(zipPath).size, { maxEntries: 4, maxEntryBytes: big.length });
    try {
      expect((await bounded.read('wrapper/images/big.bin')).equals(big)).toBe(true);
    } finally {
      bounded.close();
    }
    await expect(ZipObjectStore.open(files, zipPath, statSync(zipPath).size, { maxEntries: 3 })).rejects.toMatchObject({
      name: 'ZipRefusedError',
    });
  });

  test('runs of slashes in a location are one', async () => {
    expect(await zip.listUnder('wrapper//')).toEqual(['wrapper/images/big.bin', 'wrapper/labels.txt']);
    expect(await zip.listUnder('//wrapper/images')).toEqual(['wrapper/images/big.bin']);
    expect((await zip.read('//wrapper/labels.txt')).toString()).toBe('background\nturtle\n');
    expect(zip.join('wrapper//', 'images', 'big.bin')).toBe('wrapper/images/big.bin');
    expect(zip.join('wrapper/images/', 'big.bin')).toBe('wrapper/images/big.bin');
  });

  test('entries are listed under a folder, sorted; a missing one is no object', async () => {
    expect(await zip.listUnder('wrapper/')).toEqual(['wrapper/images/big.bin', 'wrapper/labels.txt']);
    expect(await zip.listUnder('wrapper/images')).toEqual(['wrapper/images/big.bin']);
    expect(await zip.listUnder('')).toEqual(['wrapper/images/big.bin', 'wrapper/labels.txt']);
    expect(await zip.readStart('wrapper/none.txt', 4)).toBeUndefined();
    await expect(zip.read('wrapper/none.txt')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(zip.readStream('wrapper/none.txt')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(zip.join('wrapper/', 'images', 'big.bin')).toBe('wrapper/images/big.bin');
  });

  test('it is read only: writes, copies and removes are refused naming the zip', async () => {
    await expect(zip.write()).rejects.toThrow(`${zipPath} is a zip export, read only`);
    await expect(zip.copyFrom()).rejects.toThrow(`${zipPath} is a zip export, read only`);
    await expect(zip.remove()).rejects.toThrow(`${zipPath} is a zip export, read only`);
  });
});

describe('a zip read in place: what it asks of the store holding it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'segpipe-zip-reads-'));
  const folder = join(dir, 'export');
  mkdirSync(join(folder, 'images'), { recursive: true });
  mkdirSync(join(folder, 'images-old'), { recursive: true });
  writeFileSync(join(folder, 'images', 'big.bin'), randomBytes(2 * 1024 * 1024));
  for (let i = 0; i < 40; i++) writeFileSync(join(folder, 'images', `small-${i}.txt`), `entry ${i}`);
  writeFileSync(join(folder, 'images-old', 'x.txt'), 'old');
  const zipPath = join(dir, 'export.zip');
  zipFolder(folder, zipPath);
  const size = statSync(zipPath).size;

  /** The folder store, counting the reads a zip makes of it. */
  function countingStore(failStreams = false) {
    const files = new FolderObjectStore();
    const reads = { ranges: 0, streams: 0 };
    const store: ObjectStore = Object.assign(Object.create(files), {
      readRange: (location: string, start: number, end: number) => {
        reads.ranges += 1;
        return files.readRange(location, start, end);
      },
      readRangeStream: (location: string, start: number, end: number) => {
        reads.streams += 1;
        return failStreams ? Promise.reject(new Error('connection reset')) : files.readRangeStream(location, start, end);
      },
    });
    return { store, reads };
  }

  test('the central directory and small entries are read from a few 1 MiB blocks, each once; an entry read again is not re-read', async () => {
    const { store, reads } = countingStore();
    const zip = await ZipObjectStore.open(store, zipPath, size);
    try {
      expect((await zip.listUnder('images')).length).toBe(41);
      for (let i = 0; i < 40; i++) expect((await zip.read(`images/small-${i}.txt`)).toString()).toBe(`entry ${i}`);
      const afterSmall = reads.ranges;
      expect(afterSmall).toBeLessThanOrEqual(2);
      expect((await zip.readStart('images/small-39.txt', 3))?.data.toString()).toBe('ent');
      expect(reads.ranges).toBe(afterSmall);
      expect((await zip.read('images/big.bin')).length).toBe(2 * 1024 * 1024);
      expect(reads.streams).toBe(1);
    } finally {
      zip.close();
    }
  });

  test("a leading slash is the same entry; a folder's listing leaves out the folders that only start like it", async () => {
    const zip = await ZipObjectStore.open(new FolderObjectStore(), zipPath, size);
    try {
      expect((await zip.read('/images-old/x.txt')).toString()).toBe('old');
      expect(await zip.listUnder('/images-old/')).toEqual(['images-old/x.txt']);
      expect(await zip.listUnder('images')).not.toContain('images-old/x.txt');
      expect(zip.join('', 'images', 'a.txt')).toBe('images/a.txt');
    } finally {
      zip.close();
    }
  });

  test('a failed read of a large entry fails its stream; a file that is no zip is refused', async () => {
    const { store } = countingStore(true);
    const zip = await ZipObjectStore.open(store, zipPath, size);
    try {
      await expect(zip.read('images/big.bin')).rejects.toThrow('connection reset');
    } finally {
      zip.close();
    }
    const notZip = join(dir, 'not.zip');
    writeFileSync(notZip, Buffer.alloc(200, 7));
    await expect(ZipObjectStore.open(new FolderObjectStore(), notZip, 200)).rejects.toThrow(
      /end of central directory record signature not found/i,
    );
  });
});
