import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { localCommand } from '../../bin/commands/local';
import { importUpload } from '../../local/local-import';
import * as localRun from '../../local/local-run';
import { runCommand } from '../helpers/cli';
import { zipFolder } from '../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-local-import-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The names a zip holds, read back with yauzl (the library the converter reads zips with). */
function zipEntries(body: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) =>
    yauzl.fromBuffer(body, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.readEntry();
    }),
  );
}

/** What `segpipe local --import` drops under labeled/<batch>/: one file that starts an import, as on AWS. */
describe('segpipe local --import: what is dropped into the inbox', () => {
  const folder = join(work, 'cvat-export');
  beforeAll(() => {
    for (const [path, body] of Object.entries({
      'labelmap.txt': 'background:0,0,0::\n',
      'JPEGImages/a.jpg': 'jpeg',
      'SegmentationClass/a.png': 'png',
      'ImageSets/Segmentation/default.txt': 'a\n',
    })) {
      mkdirSync(join(folder, path, '..'), { recursive: true });
      writeFileSync(join(folder, path), body);
    }
  });

  test('a folder is zipped whole, under its own name', async () => {
    const upload = await importUpload(folder);
    expect(upload.name).toBe('cvat-export.zip');
    expect((await zipEntries(upload.body)).sort()).toEqual([
      'ImageSets/Segmentation/default.txt',
      'JPEGImages/a.jpg',
      'SegmentationClass/a.png',
      'labelmap.txt',
    ]);
  });

  test('a zip goes as it is (named .zip, the extension that starts an import)', async () => {
    const zip = join(work, 'export.zip');
    zipFolder(folder, zip);
    expect(await importUpload(zip)).toMatchObject({ name: 'export.zip', body: readFileSync(zip) });
  });

  test('a JSON export goes with the images under its folder, zipped together', async () => {
    const dir = join(work, 'ls');
    mkdirSync(join(dir, 'media'), { recursive: true });
    writeFileSync(join(dir, 'project-1.json'), '[]');
    writeFileSync(join(dir, 'media', 'b.png'), 'png');
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    const upload = await importUpload(join(dir, 'project-1.json'));
    expect(upload.name).toBe('project-1.zip');
    expect((await zipEntries(upload.body)).sort()).toEqual(['media/b.png', 'project-1.json']);
  });

  test('a path that is not there, or an empty folder, is one line', async () => {
    await expect(importUpload(join(work, 'nope.zip'))).rejects.toThrow(`--import ${join(work, 'nope.zip')}: no such file or folder`);
    mkdirSync(join(work, 'empty'));
    await expect(importUpload(join(work, 'empty'))).rejects.toThrow(`--import ${join(work, 'empty')} is an empty folder`);
  });

  test('--images and --import together are refused; --import alone is passed on', async () => {
    const run = jest.spyOn(localRun, 'runLocally').mockResolvedValue({ status: 'SUCCEEDED' } as localRun.LocalRunResult);
    try {
      const both = await runCommand(localCommand(), ['--images', '10', '--import', folder]);
      expect(both.stderr.trim()).toBe('error: give --images (synthetic photos) or --import (your export), not both');
      expect(run).not.toHaveBeenCalled();
      await runCommand(localCommand(), ['--import', folder]);
      expect(run.mock.calls[0][0]).toMatchObject({ import: folder });
    } finally {
      run.mockRestore();
    }
  });
});
