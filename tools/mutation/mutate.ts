/**
 * `npm run mutate` and `npm run mutate:workflow`: `stryker run <configuration> [options]`, unless no
 * option is given and nothing the run reads has changed since a complete run wrote its results.
 * Then it reports those results as they stand, in seconds, where Stryker would first spend minutes
 * running every test to re-learn their coverage (fingerprint.ts says what "nothing" covers).
 *
 * After a run that exits 0 and covers every mutant (not narrowed by --mutate, not writing another
 * results file), it records the inputs' hash beside the results (`<results>.inputs.json`), to be
 * committed with them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fingerprint, sandboxInputs } from './fingerprint';
import { parseMutationReport } from './merge-results';
import { scoreRows, scoreTable, unfinishedMutants } from './scores';

interface Inputs {
  readonly sha256: string;
  readonly files: number;
}

/** Options after which the results do not cover every mutant of the configuration. */
const PARTIAL = new Set(['--mutate', '-m', '--incrementalFile', '--dryRunOnly']);

function currentInputs(ignorePatterns: readonly string[], ownFiles: readonly string[]): Inputs | undefined {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  if (listed.status !== 0) return undefined;
  const files = sandboxInputs(listed.stdout.split('\0').filter(Boolean), ignorePatterns).filter((file) => !ownFiles.includes(file));
  try {
    return { sha256: fingerprint(files, (file) => readFileSync(file)), files: files.length };
  } catch {
    // A tracked file deleted: a change.
    return undefined;
  }
}

function readInputs(file: string): Inputs | undefined {
  try {
    const { sha256, files } = JSON.parse(readFileSync(file, 'utf8')) as Inputs;
    return typeof sha256 === 'string' && typeof files === 'number' ? { sha256, files } : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const [configFile, ...options] = process.argv.slice(2);
  if (configFile === undefined) {
    console.error('usage: tsx tools/mutation/mutate.ts <stryker configuration> [stryker options]');
    return 2;
  }
  if (!existsSync(configFile)) {
    console.error(`no Stryker configuration at ${configFile}`);
    return 2;
  }
  const config = (await import(pathToFileURL(resolve(configFile)).href)).default as {
    readonly incrementalFile?: unknown;
    readonly ignorePatterns?: readonly string[];
    readonly ignoreStatic?: boolean;
  };
  if (typeof config?.incrementalFile !== 'string' || !config.incrementalFile.endsWith('.json')) {
    console.error(`${configFile} names no incrementalFile (a .json file): without one there are no results to reuse or report`);
    return 2;
  }
  const resultsFile = config.incrementalFile;
  const inputsFile = resultsFile.replace(/\.json$/, '.inputs.json');
  const ownFiles = [resultsFile, inputsFile].map((file) => relative(process.cwd(), resolve(file)));
  const before = currentInputs(config.ignorePatterns ?? [], ownFiles);

  if (options.length === 0 && before !== undefined && existsSync(resultsFile)) {
    const recorded = readInputs(inputsFile);
    const report = parseMutationReport(readFileSync(resultsFile, 'utf8'), resultsFile);
    if (recorded?.sha256 === before.sha256 && unfinishedMutants(report, { ignoreStatic: config.ignoreStatic === true }) === 0) {
      const { folders, files } = scoreRows(report);
      console.log(
        [
          `Nothing this run reads has changed since a complete run wrote ${resultsFile} (${before.files} files, sha256 ${before.sha256.slice(0, 12)}): every mutant's result stands, so none is re-tested.`,
          '`-- --force` re-tests them all; any other option runs Stryker as given. The HTML report (reports/) is written by a run.',
          '',
          scoreTable('Folder', folders),
          '',
          scoreTable('File', files),
        ].join('\n'),
      );
      return 0;
    }
    console.log(
      recorded === undefined
        ? `${inputsFile} records no complete run: running Stryker, incremental from ${resultsFile}`
        : `Changed since ${resultsFile} was written whole: running Stryker, which re-tests only the mutants whose code or covering tests changed`,
    );
  }

  const run = spawnSync('npx', ['stryker', 'run', configFile, ...options], { stdio: 'inherit' });
  if (run.status !== 0) return run.status ?? 1;
  if (options.some((option) => PARTIAL.has(option.split('=')[0]))) return 0;
  const after = currentInputs(config.ignorePatterns ?? [], ownFiles);
  if (before === undefined || after?.sha256 !== before.sha256) {
    console.log(`Files changed while Stryker ran: ${inputsFile} not written, so the next run runs Stryker again`);
    return 0;
  }
  writeFileSync(inputsFile, `${JSON.stringify(after, null, 2)}\n`);
  console.log(`${inputsFile}: the inputs of these results, for the next run to compare (commit it with them)`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  },
);
