import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import { openExport } from '../../../../lambda/convert/export-input';
import { splitFor } from '../../../../lambda/convert/naming';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { cvatLabels, writeCvatExport } from '../../../../local/export-fixtures';
import { sha256 } from '../../../helpers/files';

const work = mkdtempSync(join(tmpdir(), 'segpipe-duplicates-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * The same photo under several names (a re-upload, a copy in another folder): its copies can land in
 * both splits, and a validation score then counts as unseen what training saw. Each image's bytes are
 * hashed, and copies across the splits reported.
 */
describe('images of the same bytes in both splits', () => {
  const input = join(work, 'cvat');
  const seed = 'segpipe';
  let photo: Buffer;
  let other: Buffer;
  // Names chosen so that the copies fall on both sides of the split, and the other photo's on one.
  const stems = Array.from({ length: 40 }, (_, i) => `copy-${i}`);
  const source = (stem: string) => `JPEGImages/${stem}.jpg`;
  const train = stems.filter((s) => splitFor(source(s), seed, 0.5) === 'train').slice(0, 2);
  const validation = stems.filter((s) => splitFor(source(s), seed, 0.5) === 'validation').slice(0, 1);

  beforeAll(async () => {
    const raw = (fill: number) => sharp(Buffer.alloc(8 * 6 * 3, fill), { raw: { width: 8, height: 6, channels: 3 } });
    photo = await raw(100).jpeg().toBuffer();
    other = await raw(200).jpeg().toBuffer();
    const mask = await raw(0).png().toBuffer();
    writeCvatExport(
      input,
      [...train, ...validation].map((stem) => ({ stem, image: photo, mask })).concat([{ stem: 'other', image: other, mask }]),
      cvatLabels(['turtle']),
    );
  });

  test("each item carries its image's SHA-256, and the copies across the splits are listed once", async () => {
    const local = new FolderObjectStore();
    const opened = await openExport({ input, local, sources: local });
    const report = await convertExport({ reader: opened.reader, out: join(work, 'out'), output: local, seed, validationFraction: 0.5 });
    opened.close();
    expect(report.items.find((i) => i.source === source('other'))!.imageSha256).toBe(sha256(other));
    expect(report.counts.duplicatesAcrossSplits).toBe(1);
    expect(report.duplicatesAcrossSplits).toEqual([
      { imageSha256: sha256(photo), train: train.map(source), validation: validation.map(source) },
    ]);
  });

  test('segpipe convert warns in one line, naming a pair and where the list is', () => {
    const out = join(work, 'cli-out');
    const run = spawnSync(
      process.execPath,
      [
        join(__dirname, '..', '..', '..', '..', 'bin', 'segpipe.js'),
        'convert',
        '--input',
        input,
        '--out',
        out,
        '--seed',
        seed,
        '--validation-fraction',
        '0.5',
      ],
      { encoding: 'utf8' },
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(
      `segpipe convert: warning: 1 image in validation is byte for byte in train too (e.g. ${source(validation[0])} and ${source(train[0])}): validation scores count them as unseen; the list is duplicatesAcrossSplits in ${join(out, 'report.json')}\n`,
    );
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).counts.duplicatesAcrossSplits).toBe(1);
  });
});
