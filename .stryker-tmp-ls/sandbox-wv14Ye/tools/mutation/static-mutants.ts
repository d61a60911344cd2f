import type { MutationReport } from './merge-results';

interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * The places of the static mutants a report counts as not killed, as `--mutate` takes them
 * (`file:line:column-line:column`, lines from 1 and columns from 0; the report's columns count from 1).
 *
 * A static mutant (code run when its module loads) is run against every test and recorded with no
 * covering test, so Stryker's incremental mode reuses its result until its own code changes: a test
 * written since that kills it goes unseen until it is re-tested by place with `--force`.
 */
export function staticSurvivorPlaces(report: MutationReport): string[] {
  const places = new Set<string>();
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const mutant of mutants) {
      if (mutant.static !== true || (mutant.status !== 'Survived' && mutant.status !== 'NoCoverage')) continue;
      const { start, end } = mutant.location as { start: Position; end: Position };
      places.add(`${file}:${start.line}:${start.column - 1}-${end.line}:${end.column - 1}`);
    }
  }
  return [...places];
}
