import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import { type ConversionReport, mergeConversionReports } from '../../../../lambda/convert/conversion/report';
import { openExport } from '../../../../lambda/convert/export-input';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { cvatFixture } from '../../../helpers/format-fixtures';
import { buildGroundTruthFixture, GT_BUCKET } from '../../../helpers/ground-truth-fixture';

const work = mkdtempSync(join(tmpdir(), 'segpipe-shards-'));

async function convert(
  input: string,
  out: string,
  localRoot: string | undefined,
  shard?: { index: number; count: number },
): Promise<ConversionReport> {
  const local = new FolderObjectStore(localRoot);
  const opened = await openExport({ input, local, sources: localRoot ? new FolderObjectStore(localRoot, { onlyUnderRoot: true }) : local });
  try {
    return await convertExport({
      reader: opened.reader,
      out,
      output: new FolderObjectStore(),
      validationFraction: 0.3,
      shard,
      writeReport: shard === undefined,
    });
  } finally {
    opened.close();
  }
}

/** Every file under a folder with its bytes, for comparing outputs. */
function tree(folder: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== 'report.json')
      .map((e) => [join(e.parentPath, e.name).slice(folder.length), readFileSync(join(e.parentPath, e.name)).toString('base64')]),
  );
}

describe.each([
  [
    'a Ground Truth manifest with bad lines and duplicates',
    async (dir: string) => {
      const fixture = await buildGroundTruthFixture(dir);
      return { input: join(fixture.root, GT_BUCKET, 'turtles/manifests/output/output.manifest'), localRoot: fixture.root };
    },
  ],
  ['a CVAT export', async (dir: string) => ({ input: (await cvatFixture(dir)).input, localRoot: undefined })],
])('%s converted in shards', (_name, build) => {
  let whole: ConversionReport;
  let input: string;
  let localRoot: string | undefined;
  const dir = join(work, _name.replace(/\W+/g, '-'));

  beforeAll(async () => {
    ({ input, localRoot } = await build(join(dir, 'export')));
    whole = await convert(input, join(dir, 'whole'), localRoot);
  });

  test.each([2, 3])('%i shards give the report and the files of one conversion', async (count) => {
    const out = join(dir, `shards-${count}`);
    const reports = await Promise.all(Array.from({ length: count }, (_, index) => convert(input, out, localRoot, { index, count })));
    expect(reports.every((r) => r.items.length < whole.items.length)).toBe(true);
    expect(mergeConversionReports(reports)).toEqual(whole);
    expect(tree(out)).toEqual(tree(join(dir, 'whole')));
  });
});
