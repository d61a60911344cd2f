import type { ClassIndex } from '../classes';
import type { ExportItem, ExportReader } from '../export-item';
import { NameScope, Split, outputNameFor, splitFor } from '../naming';
import { IndexedMask, indexMask } from './class-indexing';

/** Which of an export's entries one conversion converts (a shard, a chunk's range), and how they are named and split. */
export interface EntrySelection {
  readonly seed: string;
  readonly validationFraction: number;
  /** Entries whose position is `index` modulo `count`; absent: all. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Entries at these positions (1-based, inclusive); reading stops after `last`. Absent: all. */
  readonly range?: { readonly first: number; readonly last: number };
  readonly names?: NameScope;
}

/** An entry this conversion converts, with its classes resolved, its output name and its split. */
export interface EntryToConvert {
  readonly item: ExportItem;
  readonly mask: IndexedMask;
  readonly name: string;
  readonly split: Split;
}

/** An entry this conversion reports as skipped, and why. */
export interface EntrySkipped {
  readonly line: number;
  readonly source: string | null;
  readonly reason: string;
}

/**
 * The selected entries of an export, in order (so that first-seen class order is the export's):
 * each one to convert or skipped with its reason (the reader's, a duplicate source, a taken output
 * name, a class the index refuses). Entries outside the selection are still read, so that every
 * shard resolves every entry's classes and reports a duplicate of an earlier entry as one.
 */
export async function* selectEntries(reader: ExportReader, classIndex: ClassIndex, selection: EntrySelection): AsyncGenerator<EntryToConvert | EntrySkipped> {
  const { shard, range } = selection;
  const firstLineOfSource = new Map<string, number>();
  const sourceOfName = new Map<string, string>();
  let position = 0;
  for await (const entry of reader.items()) {
    if (range && entry.line > range.last) break;
    const mine = (!shard || position++ % shard.count === shard.index) && (!range || entry.line >= range.first);
    const skip = (reason: string): EntrySkipped[] => (mine ? [{ line: entry.line, source: entry.source, reason }] : []);
    if (!('mask' in entry)) {
      yield* skip(entry.reason);
      continue;
    }
    const earlier = firstLineOfSource.get(entry.source);
    if (earlier !== undefined) {
      yield* skip(`duplicate of line ${earlier}`);
      continue;
    }
    firstLineOfSource.set(entry.source, entry.line);
    const name = outputNameFor(entry.source, selection.names);
    const other = sourceOfName.get(name);
    if (other !== undefined) {
      yield* skip(`output name ${name} is already taken by ${other}`);
      continue;
    }
    sourceOfName.set(name, entry.source);
    const mask = indexMask(entry.mask, classIndex);
    if (typeof mask === 'string') {
      yield* skip(mask);
      continue;
    }
    if (mine) yield { item: entry, mask, name, split: splitFor(entry.source, selection.seed, selection.validationFraction) };
  }
}
