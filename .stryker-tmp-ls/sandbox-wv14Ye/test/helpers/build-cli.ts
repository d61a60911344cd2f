import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeSupportNotice } from '../../bin/node-support';

/**
 * Jest's global set-up: the command-line tests run `bin/segpipe.js`, which runs the bundle
 * `dist/segpipe.js`. `npm test` builds it first; a bare `npx jest <file>` in a fresh clone, or after
 * a source changed, would test a missing or stale bundle. Rebuild it (esbuild, about a second) when
 * any source under bin/, lambda/, lib/ or local/ is newer than it.
 */
const ROOT = join(__dirname, '..', '..');
const BUNDLE = join(ROOT, 'dist', 'segpipe.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Every temporary folder the tests make (mkdtemp under os.tmpdir(), in Jest's workers and the
 * commands they start) goes under one folder of this run, which the global tear-down removes
 * (test/helpers/remove-test-tmpdir.ts): a test that forgets its own leaves nothing behind.
 */
function testTmpdir(): void {
  const dir = mkdtempSync(join(tmpdir(), 'segpipe-tests-'));
  process.env.TMPDIR = dir;
  process.env.SEGPIPE_TEST_TMPDIR = dir;
}

export default function buildCli(): void {
  testTmpdir();
  // The SDK's own notice is silenced in the tests (jest-setup.ts): said once here instead.
  const notice = nodeSupportNotice(process.version);
  if (notice) process.stderr.write(`\n${notice}\n`);
  const sources = Math.max(
    ...['bin', 'lambda', 'lib', 'local'].map((d) => newestSource(join(ROOT, d))),
    statSync(join(ROOT, 'package.json')).mtimeMs,
  );
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= sources) return;
  try {
    execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    // A source that does not bundle fails only the tests that run the command, with its own message.
    process.stderr.write(
      `\njest global set-up: npm run build failed; the command-line tests will fail:\n${(err as { stderr?: Buffer }).stderr?.toString() ?? err}\n`,
    );
  }
}
