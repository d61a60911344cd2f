import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeSupportNotice } from '../../bin/node-support';

const ROOT = join(__dirname, '..', '..');

test('Node.js 20 gets one line saying what to do; 22 and 24 get none', () => {
  expect(nodeSupportNotice('v20.20.2')).toBe(
    'segpipe: Node.js v20.20.2 is past its end of life and not supported (the AWS SDK drops it in January 2027): install Node.js 22 or 24.',
  );
  expect(nodeSupportNotice('v22.12.0')).toBeUndefined();
  expect(nodeSupportNotice('v24.3.0')).toBeUndefined();
});

test("at a terminal, a command says it once, and the AWS SDK's 8-line notice never appears", () => {
  // `script` gives the command a terminal, as a person running it has.
  const out = mkdtempSync(join(tmpdir(), 'segpipe-node-notice-'));
  const command = `${process.execPath} ${join(ROOT, 'bin', 'segpipe.js')} predict --endpoint x --endpoint-url http://127.0.0.1:9 --out ${out} /dev/null /dev/null`;
  // The SDK's notice is silenced in the tests' own processes (jest-setup.ts): not in this command's.
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  const run = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: ROOT, env });
  rmSync(out, { recursive: true, force: true });
  const expected = nodeSupportNotice(process.version);
  expect(run.stdout.split(/\r?\n/).filter((line) => line.includes('Node.js'))).toEqual(expected ? [expected] : []);
  expect(run.stdout).not.toContain('NodeVersionSupportWarning');
});
