// @ts-nocheck
import type { ExportReader } from '../export-item';
import type { NameScope } from '../naming';
import { classIndexFor, indexMask } from './class-indexing';
import { UniqueSources } from './entries';

export interface ExportSurvey {
  /** Class names in index order: background, configured, declared, then first-seen. */
  readonly classes: string[];
  /** Position of the export's last entry. */
  readonly lastEntry: number;
  /** Entries a conversion of the whole export skips as duplicates (of a source, of an output name), by position, with the reason. */
  readonly duplicates: ReadonlyMap<number, string>;
}

/**
 * Reads a whole export once, converting nothing: the class order a conversion of it would use, the
 * position of its last entry, and its duplicates under the output names `names` gives. The workflow
 * plans its chunks with it, so that every chunk agrees on the classes and, reading only its share,
 * still skips a duplicate of an entry of another chunk.
 */
export async function surveyExport(reader: ExportReader, configured: readonly string[], names?: NameScope): Promise<ExportSurvey> {
  const classIndex = await classIndexFor(reader, configured);
  const unique = new UniqueSources(names);
  const duplicates = new Map<number, string>();
  let lastEntry = 0;
  for await (const entry of reader.items()) {
    lastEntry = Math.max(lastEntry, entry.line);
    if (!('mask' in entry)) continue;
    const name = unique.nameOf(entry);
    if (typeof name !== 'string') duplicates.set(entry.line, name.reason);
    indexMask(entry.mask, classIndex);
  }
  return { classes: [...classIndex.classes], lastEntry, duplicates };
}
