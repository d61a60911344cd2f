/**
 * Merges the reports of narrowed mutation runs into the committed results, tools/mutation/stryker-incremental.json
 * (`npm run mutate:merge -- <report.json>...`), or with `--into <file>` into another results file (the
 * definition's, tools/mutation/stryker-workflow-incremental.json): see merge-results.ts.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { mergeMutationReports, parseMutationReport } from './merge-results';

// `--only <prefix>` (repeatable): take only the files under it from the reports given. `--into <file>`: the results merged into.
const args = process.argv.slice(2);
const only: string[] = [];
const inputs: string[] = [];
let target = join(__dirname, 'stryker-incremental.json');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--only' && args[i + 1] !== undefined) only.push(args[++i]);
  else if (args[i] === '--into' && args[i + 1] !== undefined) target = args[++i];
  else inputs.push(args[i]);
}
const targetName = relative(process.cwd(), target);
if (inputs.length === 0) {
  console.error(
    'usage: npm run mutate:merge -- [--into <results.json>] [--only <path prefix>]... <report.json>... (merged into tools/mutation/stryker-incremental.json unless --into names another; a report wins for the files whose results it changed, under the prefixes when given)',
  );
  process.exit(2);
}
const missing = inputs.filter((path) => !existsSync(path));
if (missing.length > 0) {
  console.error(`no such file: ${missing.join(', ')}; ${targetName} is unchanged`);
  process.exit(1);
}
const read = (path: string) => parseMutationReport(readFileSync(path, 'utf8'), path);
let merged;
try {
  merged = mergeMutationReports([...(existsSync(target) ? [read(target)] : []), ...inputs.map(read)], only.length > 0 ? only : undefined);
} catch (error) {
  console.error(`${(error as Error).message}; ${targetName} is unchanged`);
  process.exit(1);
}
writeFileSync(target, `${JSON.stringify(merged, null, 2)}\n`);
const mutants = Object.values(merged.files).reduce((n, file) => n + file.mutants.length, 0);
console.log(`${targetName}: ${Object.keys(merged.files).length} files, ${mutants} mutants`);
