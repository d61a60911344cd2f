import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { besideOutput, prepareOutput } from '../../../bin/commands/convert-output';
import type { ConversionReport } from '../../../lambda/convert/conversion/report';
import { INCOMPLETE_MARKER } from '../../../lambda/convert/output-folder';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import { writeTree } from '../../helpers/files';

const work = mkdtempSync(join(tmpdir(), 'segpipe-convert-output-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const reportOf = (items: [string, 'train' | 'validation'][]) =>
  ({ items: items.map(([name, split]) => ({ name, split })) }) as unknown as ConversionReport;

/** What a conversion writes for one item. */
async function writeItem(store: FolderObjectStore, location: string, name: string, split: 'train' | 'validation') {
  await store.write(store.join(location, split, `${name}.jpg`), Buffer.from('jpeg'));
  await store.write(store.join(location, `${split}_annotation`, `${name}.png`), Buffer.from('png'));
}

/**
 * On S3, where nothing renames, `report.json` is the completion mark: gone from the moment a run
 * starts changing --out, written last. The protocol runs over a folder standing in for a bucket
 * (its requests against the embedded S3 server are in test/bin/convert-s3-cli.slow.test.ts).
 */
describe('an S3 --out: whole exactly when report.json is there', () => {
  const root = join(work, 'buckets');
  const store = new FolderObjectStore(root);
  const out = 's3://bucket/channels';
  const file = (path: string) => existsSync(join(root, 'bucket', 'channels', path));

  test('a run stopped part way leaves no report.json and its marker; the next run takes the output back and completes it', async () => {
    const first = await prepareOutput(store, out);
    await writeItem(store, first.location, 'a', 'train');
    await writeItem(store, first.location, 'b', 'validation');
    expect(
      await first.commit(
        reportOf([
          ['a', 'train'],
          ['b', 'validation'],
        ]),
      ),
    ).toBe(0);
    expect({ report: file('report.json'), marker: file(INCOMPLETE_MARKER) }).toEqual({ report: true, marker: false });

    // Stopped after writing b again, into the other split: the report is gone, so no reader takes it for whole.
    const stopped = await prepareOutput(store, out);
    await writeItem(store, stopped.location, 'b', 'train');
    expect(stopped.interrupted()).toBe(
      `interrupted: ${out} is incomplete (it holds no report.json); run the same command again to finish it`,
    );
    expect({ report: file('report.json'), marker: file(INCOMPLETE_MARKER) }).toEqual({ report: false, marker: true });

    const again = await prepareOutput(store, out);
    await writeItem(store, again.location, 'b', 'train');
    await writeItem(store, again.location, 'c', 'validation');
    expect(
      await again.commit(
        reportOf([
          ['b', 'train'],
          ['c', 'validation'],
        ]),
      ),
    ).toBe(4);
    expect(
      [
        'report.json',
        INCOMPLETE_MARKER,
        'train/a.jpg',
        'train/b.jpg',
        'validation/b.jpg',
        'validation_annotation/b.png',
        'validation/c.jpg',
      ].map(file),
    ).toEqual([true, false, false, true, false, false, true]);
  });

  test('a first run stopped part way is taken back too; a prefix holding other files is refused', async () => {
    const fresh = 's3://bucket/fresh';
    const stopped = await prepareOutput(store, fresh);
    await writeItem(store, stopped.location, 'a', 'train');
    const again = await prepareOutput(store, fresh);
    await again.commit(reportOf([['a', 'train']]));
    expect(existsSync(join(root, 'bucket', 'fresh', 'report.json'))).toBe(true);

    writeTree(join(root, 'bucket', 'theirs'), { 'train/a.jpg': 'x' });
    await expect(prepareOutput(store, 's3://bucket/theirs')).rejects.toThrow(/is not empty and not a segpipe output/);
  });
});

describe('a folder --out: replaced by renames once the conversion is complete', () => {
  const store = new FolderObjectStore();

  test('a file given as --out is named as one', async () => {
    writeFileSync(join(work, 'a-file'), 'x');
    await expect(prepareOutput(store, join(work, 'a-file'))).rejects.toThrow(
      `--out ${join(work, 'a-file')} is a file: give a folder (new, empty, or a previous segpipe output)`,
    );
  });

  test('the current folder, or one holding it, is refused: it would be renamed away under the shell', async () => {
    await expect(prepareOutput(store, process.cwd())).rejects.toThrow(/is the current folder or holds it/);
    await expect(prepareOutput(store, join(process.cwd(), '..'))).rejects.toThrow(/is the current folder or holds it/);
  });

  test('stopped between its two renames, the previous output is put back by the next run', async () => {
    const out = join(work, 'swap');
    const { previous } = besideOutput(out);
    writeTree(previous, { 'report.json': '{}', 'train/a.jpg': 'x' });
    const target = await prepareOutput(store, out);
    expect(existsSync(join(out, 'train', 'a.jpg'))).toBe(true);
    expect(existsSync(previous)).toBe(false);
    target.interrupted();
  });

  test('a staging folder holding files segpipe does not write is left alone, and said', async () => {
    const out = join(work, 'odd');
    mkdirSync(out);
    writeTree(besideOutput(out).staging, { 'notes.txt': 'mine' });
    await expect(prepareOutput(store, out)).rejects.toThrow(
      `${besideOutput(out).staging}, beside --out ${out}, holds files segpipe did not write: move it away, then run again`,
    );
    expect(existsSync(join(besideOutput(out).staging, 'notes.txt'))).toBe(true);
  });
});

describe("segpipe convert's progress bar estimate", () => {
  test('nothing until an item is done and the export read whole (never INF), then the seconds left at the pace so far', async () => {
    const { timeLeft } = await import('../../../bin/commands/convert');
    expect(timeLeft({ done: 0, seen: 40, readAll: true }, 3)).toBe('');
    expect(timeLeft({ done: 5, seen: 40, readAll: false }, 3)).toBe('');
    expect(timeLeft({ done: 10, seen: 40, readAll: true }, 2)).toBe(', 6 s left');
    expect(timeLeft({ done: 40, seen: 40, readAll: true }, 8)).toBe(', 0 s left');
  });
});
