/**
 * Mutation scores from a results file, folder by folder and file by file, as docs/mutation-scores.md
 * gives them: killed and timed out over all mutants that compile and run.
 */
import type { MutationReport } from './merge-results';

export interface ScoreRow {
  /** A folder (`lambda/convert/`) or a file. */
  readonly name: string;
  readonly mutants: number;
  /** Killed or timed out. */
  readonly detected: number;
  /** Mutants that compile and run: what the score is over. */
  readonly valid: number;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const INVALID = new Set(['CompileError', 'RuntimeError']);

/** A results file's folder: its first two path segments (`lambda/convert/`, `lib/workflow/`). */
export const folderOf = (file: string): string => `${file.split('/').slice(0, 2).join('/')}/`;

/** One row per folder, then one per file, each sorted by name. */
export function scoreRows(report: MutationReport): { readonly folders: ScoreRow[]; readonly files: ScoreRow[] } {
  const folders = new Map<string, { mutants: number; detected: number; valid: number }>();
  const files: ScoreRow[] = [];
  for (const [name, { mutants }] of Object.entries(report.files)) {
    const statuses = mutants.map((mutant) => String(mutant.status));
    const row = {
      name,
      mutants: statuses.length,
      detected: statuses.filter((status) => DETECTED.has(status)).length,
      valid: statuses.filter((status) => !INVALID.has(status)).length,
    };
    files.push(row);
    const folder = folders.get(folderOf(name)) ?? { mutants: 0, detected: 0, valid: 0 };
    folder.mutants += row.mutants;
    folder.detected += row.detected;
    folder.valid += row.valid;
    folders.set(folderOf(name), folder);
  }
  const byName = (a: ScoreRow, b: ScoreRow) => a.name.localeCompare(b.name);
  return { folders: [...folders].map(([name, counts]) => ({ name, ...counts })).sort(byName), files: files.sort(byName) };
}

/** A score as a percentage with one decimal, or `n/a` when no mutant compiles. */
export const formatScore = (row: ScoreRow): string => (row.valid === 0 ? 'n/a' : `${((100 * row.detected) / row.valid).toFixed(1)} %`);

/** A Markdown table of rows, as docs/mutation-scores.md has them. */
export function scoreTable(heading: string, rows: readonly ScoreRow[]): string {
  const lines = [`| ${heading} | Mutants | Score |`, '| --- | --- | --- |'];
  for (const row of rows) lines.push(`| \`${row.name}\` | ${row.mutants.toLocaleString('en-US')} | ${formatScore(row)} |`);
  return lines.join('\n');
}

/** The reason Stryker gives a static mutant it does not test because the configuration sets `ignoreStatic`. */
export const STATIC_IGNORED_REASON = 'Static mutant (and "ignoreStatic" was enabled)';

/**
 * Mutants a plain incremental run would test again however nothing changed: a pending one has no
 * result, and an ignored one is tested unless the configuration ignores it again: a static mutant
 * while the configuration sets `ignoreStatic` (not when only a run's `--ignoreStatic` option did).
 */
export const unfinishedMutants = (report: MutationReport, { ignoreStatic = false }: { readonly ignoreStatic?: boolean } = {}): number =>
  Object.values(report.files).reduce(
    (n, { mutants }) =>
      n +
      mutants.filter(
        (mutant) =>
          mutant.status === 'Pending' || (mutant.status === 'Ignored' && !(ignoreStatic && mutant.statusReason === STATIC_IGNORED_REASON)),
      ).length,
    0,
  );
