import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STATIC_IGNORED_REASON } from '../../../tools/mutation/scores';

const SCRIPT = join(__dirname, '..', '..', '..', 'tools', 'mutation', 'mutate.ts');
const TSX = require.resolve('tsx/cli');

/** A repository of its own with a configuration, one mutated file and its results, and an `npx` on PATH that records its arguments in place of Stryker. */
function project(statuses: string[] = ['Killed', 'Survived'], { ignoreStatic = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mutate-'));
  spawnSync('git', ['init', '-q', dir]);
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'docs'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(dir, 'docs', 'a.md'), '# a\n');
  writeFileSync(join(dir, '.gitignore'), 'bin/\nstryker.log\n');
  writeFileSync(
    join(dir, 'stryker.config.mjs'),
    `export default { incrementalFile: 'results.json', ignorePatterns: ['/docs/', '/bin/'], ignoreStatic: ${ignoreStatic} };\n`,
  );
  const mutants = statuses.map((status, id) => ({
    id: String(id),
    status,
    ...(status === 'Ignored' ? { statusReason: STATIC_IGNORED_REASON } : {}),
    location: { start: { line: 1, column: 0 }, end: { line: 1, column: 1 } },
  }));
  writeFileSync(join(dir, 'results.json'), JSON.stringify({ schemaVersion: '1.0', files: { 'src/lib/a.ts': { mutants } }, testFiles: {} }));
  const npx = join(dir, 'bin', 'npx');
  writeFileSync(npx, '#!/bin/sh\necho "$*" >> stryker.log\nexit "$FAKE_STRYKER_STATUS"\n');
  chmodSync(npx, 0o755);
  const run = (args: string[] = [], status = 0) => {
    rmSync(join(dir, 'stryker.log'), { force: true });
    const result = spawnSync(process.execPath, [TSX, SCRIPT, 'stryker.config.mjs', ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, FAKE_STRYKER_STATUS: String(status) },
    });
    let stryker: string | undefined;
    try {
      stryker = readFileSync(join(dir, 'stryker.log'), 'utf8').trim();
    } catch {
      stryker = undefined;
    }
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, stryker };
  };
  const inputs = () => readFileSync(join(dir, 'results.inputs.json'), 'utf8');
  return { dir, run, inputs };
}

test('a first run runs Stryker and records its inputs; the next with nothing changed reports the results without it', () => {
  const { dir, run, inputs } = project();
  const first = run();
  expect(first.stryker).toBe('stryker run stryker.config.mjs');
  expect(first.stdout).toContain('results.inputs.json records no complete run: running Stryker');
  expect(first.status).toBe(0);
  expect(JSON.parse(inputs())).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), files: 3 });

  const second = run();
  expect(second.stryker).toBeUndefined();
  expect(second.status).toBe(0);
  expect(second.stdout).toContain("every mutant's result stands, so none is re-tested");
  expect(second.stdout).toContain('| `src/lib/` | 2 | 50.0 % |');
  expect(second.stdout).toContain('| `src/lib/a.ts` | 2 | 50.0 % |');

  // A change to what the run ignores is none.
  writeFileSync(join(dir, 'docs', 'a.md'), '# b\n');
  expect(run().stryker).toBeUndefined();
});

test('a changed file, a new one or a deleted one runs Stryker again', () => {
  const { dir, run, inputs } = project();
  run();
  const recorded = inputs();
  writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 2;\n');
  const changed = run();
  expect(changed.stryker).toBe('stryker run stryker.config.mjs');
  expect(changed.stdout).toContain('Changed since results.json was written whole');
  expect(inputs()).not.toBe(recorded);
  expect(run().stryker).toBeUndefined();

  writeFileSync(join(dir, 'src', 'b.ts'), '');
  expect(run().stryker).toBe('stryker run stryker.config.mjs');
  rmSync(join(dir, 'src', 'b.ts'));
  expect(run().stryker).toBe('stryker run stryker.config.mjs');
  expect(run().stryker).toBeUndefined();
});

test('any option runs Stryker as given; a narrowed run leaves the recorded inputs as they were', () => {
  const { dir, run, inputs } = project();
  run();
  const recorded = inputs();
  expect(run(['--force']).stryker).toBe('stryker run stryker.config.mjs --force');
  writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 3;\n');
  expect(run(['--mutate', 'src/a.ts']).stryker).toBe('stryker run stryker.config.mjs --mutate src/a.ts');
  expect(inputs()).toBe(recorded);
  expect(run(['--incrementalFile=other.json']).stryker).toBe('stryker run stryker.config.mjs --incrementalFile=other.json');
  expect(inputs()).toBe(recorded);
});

test('a failed run records nothing and exits with its status', () => {
  const { run, dir } = project();
  const failed = run([], 3);
  expect(failed.status).toBe(3);
  expect(() => readFileSync(join(dir, 'results.inputs.json'))).toThrow();
});

test('results holding ignored mutants are not complete: Stryker tests them again, so it runs', () => {
  const { run } = project(['Killed', 'Ignored']);
  run();
  expect(run().stryker).toBe('stryker run stryker.config.mjs');
});

test('static mutants the configuration ignores (ignoreStatic) are a final result: the next run reports without Stryker', () => {
  const { run } = project(['Killed', 'Ignored'], { ignoreStatic: true });
  expect(run().stryker).toBe('stryker run stryker.config.mjs');
  expect(run().stryker).toBeUndefined();
});

test('a configuration that is missing, or names no results file, is refused in one line before anything runs', () => {
  const { dir, run } = project();
  writeFileSync(join(dir, 'stryker.config.mjs'), 'export default { ignorePatterns: [] };\n');
  const none = run();
  expect(none.status).toBe(2);
  expect(none.stderr.trim()).toBe(
    'stryker.config.mjs names no incrementalFile (a .json file): without one there are no results to reuse or report',
  );
  expect(none.stryker).toBeUndefined();
  rmSync(join(dir, 'stryker.config.mjs'));
  const missing = run();
  expect(missing.status).toBe(2);
  expect(missing.stderr.trim()).toBe('no Stryker configuration at stryker.config.mjs');
});
