import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { planPrerequisites, TEST_PREREQUISITES } from './test-prerequisites';

describe("npm test's prerequisites: installed when it can, else one line with the command", () => {
  const missing = ['python3-pil', 'chromium'];

  test('as root with apt-get: installs what is missing, and only that', () => {
    expect(planPrerequisites(missing, { root: true, aptGet: true })).toEqual({ action: 'install', packages: missing });
    expect(planPrerequisites([], { root: false, aptGet: false })).toEqual({ action: 'none' });
  });

  test('not root: stops with the exact command to run', () => {
    expect(planPrerequisites(missing, { root: false, aptGet: true })).toEqual({
      action: 'stop',
      message:
        "npm test needs Debian's python3-pil, chromium: run sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends python3-pil chromium', then npm test again",
    });
  });

  test('no apt-get: names what to install, in one line', () => {
    const plan = planPrerequisites(missing, { root: true, aptGet: false });
    expect(plan).toMatchObject({ action: 'stop', message: expect.stringContaining('npm test needs python3-pil, chromium') });
    expect((plan as { message: string }).message).not.toContain('\n');
  });

  test('the packages it checks are the ones the tests use, and on this machine they are there: the check passes silently', () => {
    expect(TEST_PREREQUISITES.map((p) => p.debian)).toEqual(['python3-pil', 'python3-numpy', 'chromium']);
    const run = spawnSync(process.execPath, [require.resolve('tsx/cli'), join(__dirname, 'test-prerequisites.ts')], { encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });
});
