import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { CHANNELS } from '../../lambda/convert/channels';
import { type ConversionReport, REPORT_FILE, writeConversionReport } from '../../lambda/convert/conversion/report';
import { checkOutputLocation, INCOMPLETE_MARKER, removeStaleOutput } from '../../lambda/convert/output-folder';
import type { FolderObjectStore } from '../../lambda/convert/stores/folder-object-store';
import { isS3Uri, type ObjectStore } from '../../lambda/convert/stores/object-store';

/**
 * Where a conversion writes, and how what it wrote becomes `--out`. An interrupted or failed
 * conversion leaves `--out` either as it was or (on S3) marked incomplete, never a mix of two runs.
 */
export interface OutputTarget {
  /** Where the conversion writes its channels. */
  readonly location: string;
  /** Writes the report and makes the conversion `--out`: returns how many files of the previous output it no longer holds. */
  commit(report: ConversionReport): Promise<number>;
  /** What an interruption left, in one line; discards what can be discarded at once. */
  interrupted(): string;
}

/**
 * A folder `--out` is written whole in a staging folder beside it (`.<name>.segpipe-staging`), which
 * replaces it by two renames once the conversion is complete; an S3 `--out`, where nothing renames, is
 * written in place with `report.json` as the completion mark: removed before anything changes,
 * written last, so that an output holding `report.json` is whole and the report says what it holds.
 * Leftovers of an interrupted run (a staging folder, a previous output set aside, the S3 marker) are
 * recognised and cleared, so the same command runs again.
 */
export async function prepareOutput(store: ObjectStore, out: string): Promise<OutputTarget> {
  return isS3Uri(out) ? prepareS3Output(store, out) : prepareFolderOutput(store as FolderObjectStore, out);
}

/** Names of the places beside a folder `--out`. */
export function besideOutput(out: string): { staging: string; previous: string } {
  const path = resolve(out);
  return {
    staging: join(dirname(path), `.${basename(path)}.segpipe-staging`),
    previous: join(dirname(path), `.${basename(path)}.segpipe-previous`),
  };
}

async function prepareFolderOutput(store: FolderObjectStore, out: string): Promise<OutputTarget> {
  const path = resolve(out);
  const kind = statOrUndefined(path);
  if (kind && !kind.isDirectory()) throw new Error(`--out ${out} is a file: give a folder (new, empty, or a previous segpipe output)`);
  const fromCwd = relative(path, process.cwd());
  if (fromCwd === '' || (!fromCwd.startsWith('..') && !isAbsolute(fromCwd))) {
    throw new Error(
      `--out ${out} is the current folder or holds it; it is replaced as a whole once the conversion is complete: give a folder of its own (e.g. --out ./channels)`,
    );
  }
  const { staging, previous } = besideOutput(out);
  // A replacement stopped between its two renames: the previous output is set aside and --out gone.
  if (!kind && existsSync(previous)) renameSync(previous, path);
  else if (existsSync(previous)) await removeOwnLeftover(store, previous, out);
  if (existsSync(staging)) await removeOwnLeftover(store, staging, out);
  const earlier = await checkOutputLocation(store, path);
  mkdirSync(staging, { recursive: true });
  let committed = false;
  return {
    location: staging,
    async commit(report) {
      await writeConversionReport(store, join(staging, REPORT_FILE), report);
      const written = new Set(writtenFiles(report).map((f) => join(path, f)));
      // Both renames at once, with no await between them: no signal handler can run in between.
      if (existsSync(path)) {
        renameSync(path, previous);
        renameSync(staging, path);
      } else {
        mkdirSync(dirname(path), { recursive: true });
        renameSync(staging, path);
      }
      committed = true;
      rmSync(previous, { recursive: true, force: true });
      return earlier.filter((f) => !written.has(f)).length;
    },
    interrupted() {
      if (committed) return `interrupted after the new output replaced ${out}: it is whole`;
      rmSync(staging, { recursive: true, force: true });
      return earlier.length > 0
        ? `interrupted: ${out} is as it was, the partial conversion was discarded`
        : `interrupted: nothing was written to ${out}`;
    },
  };
}

/** Removes a staging folder or set-aside output of an earlier run, after checking it holds only what segpipe writes. */
async function removeOwnLeftover(store: ObjectStore, leftover: string, out: string): Promise<void> {
  try {
    await checkOutputLocation(store, leftover, { incompleteAllowed: true });
  } catch {
    throw new Error(`${leftover}, beside --out ${out}, holds files segpipe did not write: move it away, then run again`);
  }
  rmSync(leftover, { recursive: true, force: true });
}

async function prepareS3Output(store: ObjectStore, out: string): Promise<OutputTarget> {
  const earlier = await checkOutputLocation(store, out);
  const marker = store.join(out, INCOMPLETE_MARKER);
  const report = store.join(out, REPORT_FILE);
  // The marker first (so that the next run knows an output it stopped as its own), then the report
  // gone: from now until the commit, --out holds no report.json.
  await store.write(
    marker,
    Buffer.from(`A segpipe convert is writing this output, or was stopped while it did: it is whole only when ${REPORT_FILE} is here.\n`),
    'text/plain',
  );
  await store.remove([report]);
  let committed = false;
  return {
    location: out,
    async commit(converted) {
      const removed = await removeStaleOutput(
        store,
        out,
        earlier.filter((f) => f !== marker),
        converted,
      );
      await writeConversionReport(store, report, converted);
      committed = true;
      await store.remove([marker]);
      return removed;
    },
    interrupted() {
      if (committed) return `interrupted after ${out} was complete: its ${REPORT_FILE} says what it holds`;
      return `interrupted: ${out} is incomplete (it holds no ${REPORT_FILE}); run the same command again to finish it`;
    },
  };
}

function writtenFiles(report: ConversionReport): string[] {
  return [
    REPORT_FILE,
    ...report.items.flatMap((item) => [
      join(CHANNELS[item.split].images, `${item.name}.jpg`),
      join(CHANNELS[item.split].masks, `${item.name}.png`),
    ]),
  ];
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
