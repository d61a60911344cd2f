/**
 * Merges the reports of narrowed mutation runs into stryker-incremental.json (`npm run mutate:merge -- <report.json>...`):
 * see bin/mutation/merge-results.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MutationReport, mergeMutationReports } from './mutation/merge-results';

const target = join(__dirname, '..', 'stryker-incremental.json');
const inputs = process.argv.slice(2);
if (inputs.length === 0) {
  console.error('usage: npm run mutate:merge -- <report.json>... (merged into stryker-incremental.json; a later report wins for its files)');
  process.exit(2);
}
const read = (path: string): MutationReport => JSON.parse(readFileSync(path, 'utf8'));
const merged = mergeMutationReports([...(existsSync(target) ? [read(target)] : []), ...inputs.map(read)]);
writeFileSync(target, `${JSON.stringify(merged, null, 2)}\n`);
const mutants = Object.values(merged.files).reduce((n, file) => n + file.mutants.length, 0);
console.log(`stryker-incremental.json: ${Object.keys(merged.files).length} files, ${mutants} mutants`);
