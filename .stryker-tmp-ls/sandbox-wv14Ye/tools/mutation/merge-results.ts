/**
 * Merging Stryker mutation reports (mutation-testing-report-schema 1.x, the format of
 * stryker-incremental.json).
 *
 * On two cores a run over lambda/ from nothing takes hours, so it is done in parts, in separate
 * worktrees at once, each narrowed with `--mutate` and writing its own copy of the results file
 * (`npm run mutate:merge -- <file>...` puts them together). Each copy holds every file: the ones its
 * run re-tested and the others as they were. So a copy wins for a file only where it differs from
 * the first report given (the results the parts started from), and a part's untouched files never
 * replace another part's new results.
 */

export interface MutationTest {
  readonly id: string;
  readonly name: string;
  readonly [key: string]: unknown;
}

export interface MutantResult {
  readonly id: string;
  readonly coveredBy?: readonly string[];
  readonly killedBy?: readonly string[];
  readonly [key: string]: unknown;
}

export interface MutationReport {
  readonly files: Readonly<Record<string, { readonly mutants: readonly MutantResult[]; readonly [key: string]: unknown }>>;
  readonly testFiles?: Readonly<Record<string, { readonly tests: readonly MutationTest[]; readonly source?: string }>>;
  readonly [key: string]: unknown;
}

/** A report read from `text`; `name` (its path) heads the error when it is no JSON or no mutation report. */
export function parseMutationReport(text: string, name: string): MutationReport {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (error) {
    throw new Error(`${name}: not JSON (${(error as Error).message})`);
  }
  const isObject = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(report) || !isObject((report as { files?: unknown }).files)) {
    throw new Error(`${name}: not a Stryker mutation report (no "files" object); give the file a run wrote with --incrementalFile`);
  }
  // The merge reads each file's mutants and each test file's tests: name the entry that lacks them.
  const { files, testFiles } = report as { files: Record<string, { mutants?: unknown }>; testFiles?: Record<string, { tests?: unknown }> };
  const broken = [
    ...Object.entries(files)
      .filter(([, file]) => !Array.isArray(file?.mutants))
      .map(([path]) => `files["${path}"] has no "mutants" list`),
    ...Object.entries(testFiles ?? {})
      .filter(([, file]) => !Array.isArray(file?.tests))
      .map(([path]) => `testFiles["${path}"] has no "tests" list`),
  ];
  if (broken.length > 0) throw new Error(`${name}: not a Stryker mutation report (${broken.join('; ')})`);
  return report as MutationReport;
}

/** A file's results as they compare across reports: its source and each mutant's place and status (test ids are per report). */
function resultsOf(file: { readonly mutants: readonly MutantResult[]; readonly [key: string]: unknown }): string {
  return JSON.stringify([file.source, file.mutants.map((m) => [m.mutatorName, m.replacement, m.location, m.status])]);
}

/**
 * One report holding every file of `reports`, a later report winning for the files it holds that
 * differ from the first report's (a file the first report lacks is taken from any report). With
 * `only` (path prefixes), a later report wins only for the files under them: a narrowed run's copy
 * does not always hold the other files as they were (when their sources changed since the results
 * were written, Stryker 9.6 wrote back fewer of their mutants), and those must not replace the first report's. Test
 * ids are numbers local to each report, so tests are renumbered by (test file, test name), which is
 * how Stryker's incremental run matches them, and every mutant's `coveredBy` and `killedBy` follow.
 * Mutant ids are renumbered too, so they stay unique. The other fields are the last report's.
 */
export function mergeMutationReports(reports: readonly MutationReport[], only?: readonly string[]): MutationReport {
  if (reports.length === 0) throw new Error('no mutation report to merge');
  const tests = new Map<string, { id: string; file: string; test: MutationTest }>();
  const testFileSources = new Map<string, string>();
  const files: Record<string, { mutants: MutantResult[]; [key: string]: unknown }> = {};
  for (const report of reports) {
    const newIdOf = new Map<string, string>();
    for (const [file, testFile] of Object.entries(report.testFiles ?? {})) {
      if (testFile.source !== undefined) testFileSources.set(file, testFile.source);
      for (const test of testFile.tests) {
        const key = `${file}\0${test.name}`;
        // The test as the latest report saw it (its location moves when its file changes), under its first id.
        const id = tests.get(key)?.id ?? String(tests.size);
        tests.set(key, { id, file, test });
        newIdOf.set(test.id, id);
      }
    }
    const renumber = (ids: readonly string[] | undefined) =>
      ids?.map((id) => {
        const newId = newIdOf.get(id);
        if (newId === undefined) throw new Error(`a mutant names test ${id}, which its report does not list`);
        return newId;
      });
    for (const [file, result] of Object.entries(report.files)) {
      const base = reports[0].files[file];
      if (report !== reports[0] && base !== undefined && resultsOf(result) === resultsOf(base)) continue;
      if (report !== reports[0] && only !== undefined && !only.some((prefix) => file.startsWith(prefix))) continue;
      files[file] = {
        ...result,
        mutants: result.mutants.map((mutant) => ({
          ...mutant,
          coveredBy: renumber(mutant.coveredBy),
          killedBy: renumber(mutant.killedBy),
        })),
      };
    }
  }
  let mutantId = 0;
  for (const result of Object.values(files)) result.mutants = result.mutants.map((mutant) => ({ ...mutant, id: String(mutantId++) }));
  const testFiles: Record<string, { tests: MutationTest[]; source?: string }> = {};
  for (const { id, file, test } of tests.values()) {
    testFiles[file] ??= testFileSources.has(file) ? { tests: [], source: testFileSources.get(file) } : { tests: [] };
    testFiles[file].tests.push({ ...test, id });
  }
  return { ...reports[reports.length - 1], files, testFiles };
}
