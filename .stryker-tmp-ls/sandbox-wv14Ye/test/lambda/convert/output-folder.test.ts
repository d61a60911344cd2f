import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConversionReport } from '../../../lambda/convert/conversion/report';
import { checkOutputLocation, removeStaleOutput } from '../../../lambda/convert/output-folder';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import { writeTree } from '../../helpers/files';

const work = mkdtempSync(join(tmpdir(), 'segpipe-output-folder-'));
const store = new FolderObjectStore();

const folder = (name: string, paths: string[]) => writeTree(join(work, name), Object.fromEntries(paths.map((path) => [path, 'x'])));

describe('--out: an empty folder or an earlier segpipe output, nothing else', () => {
  test('a new or empty folder has nothing to replace', async () => {
    expect(await checkOutputLocation(store, join(work, 'new'))).toEqual([]);
  });

  test('an earlier output (its report and channel folders only) is returned whole', async () => {
    const out = folder('earlier', [
      'report.json',
      'train/a.jpg',
      'train_annotation/a.png',
      'validation/b.jpg',
      'validation_annotation/b.png',
    ]);
    expect(await checkOutputLocation(store, out)).toEqual(
      ['report.json', 'train/a.jpg', 'train_annotation/a.png', 'validation/b.jpg', 'validation_annotation/b.png'].map((f) => join(out, f)),
    );
  });

  test('channel folders without a report are not an output of ours; all files are named, the first three', async () => {
    const out = folder('no-report', ['train/a.jpg', 'train/b.jpg', 'train/c.jpg', 'train/d.jpg']);
    await expect(checkOutputLocation(store, out)).rejects.toThrow(
      `--out ${out} is not empty and not a segpipe output (it holds ${['a', 'b', 'c'].map((n) => join(out, 'train', `${n}.jpg`)).join(', ')}, ...): give an empty or new folder`,
    );
  });

  test("a report beside other files names only the other files; a folder whose name starts like a channel's is not one", async () => {
    const out = folder('foreign', ['report.json', 'train/a.jpg', 'notes.txt', 'trainx/a.jpg']);
    await expect(checkOutputLocation(store, out)).rejects.toThrow(`(it holds ${join(out, 'notes.txt')}, ${join(out, 'trainx/a.jpg')}):`);
  });

  test('after a conversion, the earlier files it did not write again are removed, and counted', async () => {
    const out = folder('rerun', [
      'report.json',
      'train/a.jpg',
      'train_annotation/a.png',
      'validation/b.jpg',
      'validation_annotation/b.png',
    ]);
    const previous = await checkOutputLocation(store, out);
    const report = { items: [{ name: 'b', split: 'train' }] } as unknown as ConversionReport;
    expect(await removeStaleOutput(store, out, previous, report)).toBe(4);
    expect(
      ['report.json', 'train/a.jpg', 'train_annotation/a.png', 'validation/b.jpg', 'validation_annotation/b.png'].map((f) =>
        existsSync(join(out, f)),
      ),
    ).toEqual([true, false, false, false, false]);
  });

  test('the files a conversion wrote again, image and mask, are kept', async () => {
    const out = folder('kept', ['report.json', 'train/a.jpg', 'train_annotation/a.png', 'train/old.jpg']);
    const previous = await checkOutputLocation(store, out);
    const report = { items: [{ name: 'a', split: 'train' }] } as unknown as ConversionReport;
    expect(await removeStaleOutput(store, out, previous, report)).toBe(1);
    expect(['report.json', 'train/a.jpg', 'train_annotation/a.png', 'train/old.jpg'].map((f) => existsSync(join(out, f)))).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});
