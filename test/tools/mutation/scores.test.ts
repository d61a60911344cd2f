import type { MutationReport } from '../../../tools/mutation/merge-results';
import { folderOf, formatScore, STATIC_IGNORED_REASON, scoreRows, scoreTable, unfinishedMutants } from '../../../tools/mutation/scores';

const mutants = (...statuses: string[]) => statuses.map((status, i) => ({ id: String(i), status }));
const report = (files: Record<string, string[]>): MutationReport => ({
  files: Object.fromEntries(Object.entries(files).map(([name, statuses]) => [name, { mutants: mutants(...statuses) }])),
});

test('a file is in the folder of its first two path segments', () => {
  expect(folderOf('lambda/convert/readers/coco.ts')).toBe('lambda/convert/');
  expect(folderOf('lib/workflow/3-label.ts')).toBe('lib/workflow/');
});

test('killed and timed out over the mutants that compile and run, per file and summed per folder', () => {
  const { folders, files } = scoreRows(
    report({
      'lambda/convert/readers/coco.ts': ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'RuntimeError'],
      'lambda/convert/codecs/png.ts': ['Killed', 'Survived'],
      'lambda/cost/estimate.ts': ['Killed'],
    }),
  );
  expect(files).toEqual([
    { name: 'lambda/convert/codecs/png.ts', mutants: 2, detected: 1, valid: 2 },
    { name: 'lambda/convert/readers/coco.ts', mutants: 6, detected: 2, valid: 4 },
    { name: 'lambda/cost/estimate.ts', mutants: 1, detected: 1, valid: 1 },
  ]);
  expect(folders).toEqual([
    { name: 'lambda/convert/', mutants: 8, detected: 3, valid: 6 },
    { name: 'lambda/cost/', mutants: 1, detected: 1, valid: 1 },
  ]);
  expect(folders.map(formatScore)).toEqual(['50.0 %', '100.0 %']);
});

test('a file whose every mutant fails to compile has no score', () => {
  expect(formatScore({ name: 'x', mutants: 2, detected: 0, valid: 0 })).toBe('n/a');
});

test('the table is the Markdown docs/mutation-scores.md has, counts with thousands separators', () => {
  expect(scoreTable('Folder', [{ name: 'lambda/convert/', mutants: 4016, detected: 2, valid: 3 }])).toBe(
    ['| Folder | Mutants | Score |', '| --- | --- | --- |', '| `lambda/convert/` | 4,016 | 66.7 % |'].join('\n'),
  );
});

test('ignored and pending mutants are unfinished: a plain run would test them again', () => {
  expect(unfinishedMutants(report({ 'a/b/c.ts': ['Killed', 'Survived', 'NoCoverage', 'Timeout', 'CompileError'] }))).toBe(0);
  expect(unfinishedMutants(report({ 'a/b/c.ts': ['Ignored', 'Killed'], 'a/b/d.ts': ['Pending'] }))).toBe(2);
});

test("a static mutant ignored under the configuration's ignoreStatic stays ignored; any other ignored one is tested again", () => {
  const staticIgnored = { id: '0', status: 'Ignored', statusReason: STATIC_IGNORED_REASON };
  const otherIgnored = { id: '1', status: 'Ignored', statusReason: 'Ignored by a disable comment' };
  const results: MutationReport = { files: { 'a/b/c.ts': { mutants: [staticIgnored, otherIgnored, { id: '2', status: 'Pending' }] } } };
  expect(unfinishedMutants(results, { ignoreStatic: true })).toBe(2);
  expect(unfinishedMutants(results, { ignoreStatic: false })).toBe(3);
  expect(unfinishedMutants(results)).toBe(3);
  expect(unfinishedMutants({ files: { 'a.ts': { mutants: [staticIgnored] } } }, { ignoreStatic: true })).toBe(0);
});
