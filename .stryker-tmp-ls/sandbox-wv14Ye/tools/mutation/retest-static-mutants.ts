/**
 * Re-tests the static mutants the committed results (tools/mutation/stryker-incremental.json) count
 * as not killed (`npm run mutate:static`), which incremental mode never re-tests by itself: see
 * static-mutants.ts. The run, narrowed to their places, rewrites the file with every other result kept.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMutationReport } from './merge-results';
import { staticSurvivorPlaces } from './static-mutants';

const resultsFile = join(__dirname, 'stryker-incremental.json');
if (!existsSync(resultsFile)) {
  console.error(`no ${resultsFile}: run npm run mutate first`);
  process.exit(1);
}
let places: string[];
try {
  places = staticSurvivorPlaces(parseMutationReport(readFileSync(resultsFile, 'utf8'), resultsFile));
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
if (places.length === 0) {
  console.log('tools/mutation/stryker-incremental.json counts no static mutant as surviving: nothing to re-test');
  process.exit(0);
}
console.log(`re-testing ${places.length} static mutant place(s): ${places.join(', ')}`);
const run = spawnSync(
  'npx',
  ['stryker', 'run', join(__dirname, 'stryker.config.mjs'), '--force', '--mutate', places.join(','), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);
