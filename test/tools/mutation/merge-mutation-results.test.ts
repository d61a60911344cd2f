import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', '..', 'tools', 'mutation', 'merge-mutation-results.ts');
const COMMITTED = join(__dirname, '..', '..', '..', 'tools', 'mutation', 'stryker-incremental.json');

/** A results file of one mutated file with one killed mutant. */
const results = (file: string) => ({
  schemaVersion: '1.0',
  files: {
    [file]: {
      language: 'typescript',
      source: `// ${file}`,
      mutants: [
        {
          id: '0',
          mutatorName: 'BooleanLiteral',
          location: { start: { line: 1, column: 0 }, end: { line: 1, column: 1 } },
          status: 'Killed',
          coveredBy: ['0'],
          killedBy: ['0'],
        },
      ],
    },
  },
  testFiles: { 'test/a.test.ts': { tests: [{ id: '0', name: 'a', location: { start: { line: 1, column: 0 } } }] } },
});

test('--into merges into the results file it names, leaving the committed results alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'merge-into-'));
  const target = join(dir, 'workflow-results.json');
  const report = join(dir, 'narrowed.json');
  writeFileSync(target, JSON.stringify(results('lib/workflow/2-prepare.ts')));
  writeFileSync(report, JSON.stringify(results('lib/workflow/3-label.ts')));
  const committed = createHash('sha256').update(readFileSync(COMMITTED)).digest('hex');
  const run = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, '--into', target, report], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(Object.keys(JSON.parse(readFileSync(target, 'utf8')).files).sort()).toEqual([
    'lib/workflow/2-prepare.ts',
    'lib/workflow/3-label.ts',
  ]);
  expect(run.stdout).toMatch(/workflow-results\.json: 2 files, 2 mutants\n$/);
  expect(createHash('sha256').update(readFileSync(COMMITTED)).digest('hex')).toBe(committed);
});
