import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FolderObjectStore } from '../../../lambda/convert/folder-object-store';
import { ObjectNotFoundError } from '../../../lambda/convert/object-store';
import { ZipObjectStore } from '../../../lambda/convert/zip-object-store';
import { zipFolder } from '../../helpers/format-fixtures';

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

  test('an entry larger than a block streams whole; reads, ranges and starts agree with it', async () => {
    expect((await bytesOf(await zip.readStream('wrapper/images/big.bin'))).equals(big)).toBe(true);
    expect((await zip.read('wrapper/images/big.bin')).equals(big)).toBe(true);
    expect((await zip.readRange('wrapper/images/big.bin', 5, 9)).equals(big.subarray(5, 10))).toBe(true);
    expect((await bytesOf(await zip.readRangeStream('wrapper/images/big.bin', 1024 * 1024 - 2, 1024 * 1024 + 2))).equals(big.subarray(1024 * 1024 - 2, 1024 * 1024 + 3))).toBe(true);
    expect(await zip.readStart('wrapper/labels.txt', 4)).toEqual({ data: Buffer.from('back'), size: 18 });
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
