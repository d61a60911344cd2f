import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { estimateCommand } from '../../../bin/commands/estimate';
import { runCommand } from '../../helpers/cli';

const ROOT = join(__dirname, '..', '..', '..');
/** The command as users run it: the bundle, in a process of its own. */
const bundled = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin', 'segpipe.js'), ...args], { encoding: 'utf8', cwd: ROOT });

/**
 * `segpipe estimate <args>` parsed and run in this process, told as the CLI tells it: an error it
 * ends with is printed after `segpipe: ` with status 1 (bin/segpipe.ts; commander prints its own
 * refusals), help and success are status 0.
 */
async function segpipe(_command: 'estimate', ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const run = await runCommand(estimateCommand(), args);
  if (!run.error) return { status: 0, stdout: run.stdout, stderr: run.stderr };
  if (run.error instanceof CommanderError) return { status: run.error.exitCode, stdout: run.stdout, stderr: run.stderr };
  return { status: 1, stdout: run.stdout, stderr: `${run.stderr}segpipe: ${run.error.message}\n` };
}

describe('segpipe estimate', () => {
  test('prints each part and ends with the total, as the table of docs/deploying.md for the default config says', () => {
    const run = bundled('estimate', '--images', '300');
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('Total: $4.53');
    const printed = Object.fromEntries(
      lines
        .map((l) => l.match(/^ {2}(Labeling|Pre-labels|Training|Hosting|Evaluation) +(\$[0-9.]+)/))
        .filter(Boolean)
        .map((m) => [m![1], m![2]]),
    );

    const readme = readFileSync(join(ROOT, 'docs', 'deploying.md'), 'utf8');
    const block = readme.slice(readme.indexOf('<!-- cost-estimate:start'), readme.indexOf('<!-- cost-estimate:end'));
    const table = Object.fromEntries(
      [...block.matchAll(/^\| (Labeling|Pre-labels|Training|Hosting|Evaluation) \| (\$[0-9.]+) \|/gm)].map((m) => [m[1], m[2]]),
    );
    expect(table).toEqual(printed);
    expect(block).toContain(`| **Total** | **${lines.at(-1)!.slice('Total: '.length)}** |`);
  });

  test('reads --config over cdk.json, and names a budget the estimate is over', async () => {
    const run = await segpipe(
      'estimate',
      '--images',
      '300',
      '--config',
      JSON.stringify({
        labelClasses: ['turtle'],
        workforce: { type: 'public', publicTaskPriceUsd: 0.84, attestNoPersonalData: true },
        budgetUsd: 500,
      }),
    );
    expect(run.stdout).toContain('Mechanical Turk $0.84 × 3 workers × 300 images = $756.00');
    expect(run.stdout.trimEnd().split('\n').slice(-2)).toEqual(['Budget: $500.00 per run; this estimate is OVER it.', 'Total: $784.52']);
  });

  test('an edited price table that is not one is refused with its file name', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'segpipe-prices-')), 'prices.json');
    writeFileSync(file, JSON.stringify({ date: '2026-12-01', region: 'eu-west-1' }));
    const run = await segpipe('estimate', '--images', '3', '--price-table', file);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `price table ${file} lacks source, groundTruth, spot, evaluation, labelStudio, trainingUsdPerHour, hostingUsdPerHour`,
    );
  });

  test('a bad configuration is refused with its problems', async () => {
    const run = await segpipe('estimate', '--images', '3', '--config', '{"hosting":{"idleMinutes":1}}');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('hosting.idleMinutes: received 1; allowed: an integer from 10 to 43200');
  });

  test('a batch of any size is one run, priced as one', async () => {
    const run = await segpipe('estimate', '--images', '100000');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Estimated cost of one run of 100000 images/);
  });

  test('--help shows examples', async () => {
    expect((await segpipe('estimate', '--help')).stdout).toMatch(/Examples:\n.*\n +npx segpipe estimate --images 300\n/);
  });
});
