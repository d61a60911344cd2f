import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * `npm test`'s first step: the tests read masks back with Debian's Python PIL and numpy and open the
 * evaluation report in Debian's chromium. Missing ones are installed when this process can (root,
 * apt-get); otherwise it stops in one line giving the command to run.
 */
export interface Prerequisite {
  /** The Debian package. */
  readonly debian: string;
  /** Whether it is there. */
  readonly present: () => boolean;
}

const PYTHON = '/usr/bin/python3';
const pythonImports = (module: string) => () =>
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;

export const TEST_PREREQUISITES: readonly Prerequisite[] = [
  { debian: 'python3-pil', present: pythonImports('PIL') },
  { debian: 'python3-numpy', present: pythonImports('numpy') },
  { debian: 'chromium', present: () => existsSync('/usr/bin/chromium') },
];

export type PrerequisitePlan =
  | { readonly action: 'none' }
  | { readonly action: 'install'; readonly packages: readonly string[] }
  | { readonly action: 'stop'; readonly message: string };

/** What to do about the missing packages, from who runs the tests and whether apt-get is there. */
export function planPrerequisites(
  missing: readonly string[],
  machine: { readonly root: boolean; readonly aptGet: boolean },
): PrerequisitePlan {
  if (missing.length === 0) return { action: 'none' };
  const install = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (machine.aptGet && machine.root) return { action: 'install', packages: missing };
  if (machine.aptGet)
    return { action: 'stop', message: `npm test needs Debian's ${missing.join(', ')}: run sudo sh -c '${install}', then npm test again` };
  return {
    action: 'stop',
    message: `npm test needs ${missing.join(', ')} (Debian's names; the tests run ${PYTHON} with PIL and numpy, and /usr/bin/chromium): install them with your system's package manager, then npm test again`,
  };
}

function main(): void {
  const missing = TEST_PREREQUISITES.filter((p) => !p.present()).map((p) => p.debian);
  const plan = planPrerequisites(missing, { root: process.getuid?.() === 0, aptGet: existsSync('/usr/bin/apt-get') });
  if (plan.action === 'none') return;
  if (plan.action === 'stop') {
    process.stderr.write(`${plan.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`npm test: installing Debian's ${plan.packages.join(', ')}, which the tests need (apt-get, as root)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const ok =
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env }).status === 0 &&
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...plan.packages], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    }).status === 0;
  const still = TEST_PREREQUISITES.filter((p) => !p.present()).map((p) => p.debian);
  if (!ok || still.length > 0) {
    process.stderr.write(
      `npm test: apt-get could not install ${still.join(', ') || plan.packages.join(', ')}: run apt-get update && apt-get install -y --no-install-recommends ${still.join(' ') || plan.packages.join(' ')}, then npm test again\n`,
    );
    process.exit(1);
  }
}

if (require.main === module) main();
