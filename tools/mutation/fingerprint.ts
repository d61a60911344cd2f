/**
 * What a mutation run's results depend on, as one hash: every file Stryker copies into its sandbox
 * (the code, the tests and their helpers, the configuration, the lock file), path and content.
 *
 * Stryker's incremental mode compares only the mutated files and the test files, and even with
 * nothing changed it first runs every test to learn their coverage (about three minutes of
 * test/lambda/ on two cores). When this hash equals the one a complete run recorded, no mutant can
 * have another result, so `npm run mutate` reports the committed results instead of running. It is
 * stricter than Stryker: a change to a test helper, which Stryker misses, counts as a change too.
 */
import { createHash } from 'node:crypto';

/**
 * The files among `files` (paths relative to the repository's root, `/`-separated) that a run copies:
 * all but those an ignore pattern names. Only patterns naming a path from the root (`/docs/`, a
 * folder; `/tools/x.json`, a file or folder) are applied; any other pattern is left out, which can
 * only make the set larger, never hide a change.
 */
export function sandboxInputs(files: readonly string[], ignorePatterns: readonly string[]): string[] {
  const rooted = ignorePatterns.filter((pattern) => pattern.startsWith('/') && !/[*?[\]{}!]/.test(pattern));
  const folders = rooted.map((pattern) => (pattern.endsWith('/') ? pattern.slice(1) : `${pattern.slice(1)}/`));
  const exact = new Set(rooted.filter((pattern) => !pattern.endsWith('/')).map((pattern) => pattern.slice(1)));
  return files.filter((file) => !exact.has(file) && !folders.some((folder) => file.startsWith(folder))).sort();
}

/** SHA-256 over each file's path, length and content, in path order. */
export function fingerprint(files: readonly string[], read: (file: string) => Buffer): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    const content = read(file);
    hash.update(`${file}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex');
}
