// @ts-nocheck
import type { ClassIndex } from '../classes';
import type { ExportItem, ExportReader } from '../export-item';
import { type NameScope, outputNameFor, type Split, splitFor } from '../naming';
import { type IndexedMask, indexMask } from './class-indexing';

/** Which of an export's entries one conversion converts (a shard, a chunk's range), and how they are named and split. */
export interface EntrySelection {
  readonly seed: string;
  readonly validationFraction: number;
  /** Entries whose position is `index` modulo `count`; absent: all. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Entries at these positions (1-based, inclusive); reading stops after `last`. Absent: all. */
  readonly range?: { readonly first: number; readonly last: number };
  readonly names?: NameScope;
  /**
   * Entries skipped by decisions taken over the whole export (its duplicates, found once by the
   * workflow's plan), by position: a chunk that reads only its share still reports them.
   * @default - none
   */
  readonly knownSkips?: ReadonlyMap<number, string>;
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
export async function* selectEntries(
  reader: ExportReader,
  classIndex: ClassIndex,
  selection: EntrySelection,
): AsyncGenerator<EntryToConvert | EntrySkipped> {
  const { shard, range } = selection;
  const unique = new UniqueSources(selection.names);
  let position = 0;
  for await (const entry of reader.items()) {
    if (range && entry.line > range.last) break;
    const mine = (!shard || position++ % shard.count === shard.index) && (!range || entry.line >= range.first);
    const skip = (reason: string): EntrySkipped[] => (mine ? [{ line: entry.line, source: entry.source, reason }] : []);
    const known = selection.knownSkips?.get(entry.line);
    if (known !== undefined) {
      yield* skip(known);
      continue;
    }
    if (!('mask' in entry)) {
      yield* skip(entry.reason);
      continue;
    }
    const name = unique.nameOf(entry);
    if (typeof name !== 'string') {
      yield* skip(name.reason);
      continue;
    }
    const mask = indexMask(entry.mask, classIndex);
    if (typeof mask === 'string') {
      yield* skip(mask);
      continue;
    }
    if (mine) yield { item: entry, mask, name, split: splitFor(entry.source, selection.seed, selection.validationFraction) };
  }
}

/** Each source converted once, under an output name no other source has: the first entry keeps it. */
export class UniqueSources {
  private readonly firstLineOfSource = new Map<string, number>();
  private readonly sourceOfName = new Map<string, string>();

  constructor(private readonly names?: NameScope) {}

  /** The entry's output name, or why it is skipped: a duplicate of an earlier entry's source, or a name taken. */
  nameOf(entry: { readonly line: number; readonly source: string }): string | { readonly reason: string } {
    const earlier = this.firstLineOfSource.get(entry.source);
    if (earlier !== undefined) return { reason: `duplicate of line ${earlier}` };
    this.firstLineOfSource.set(entry.source, entry.line);
    const name = outputNameFor(entry.source, this.names);
    const other = this.sourceOfName.get(name);
    if (other !== undefined) return { reason: `output name ${name} is already taken by ${other}` };
    this.sourceOfName.set(name, entry.source);
    return name;
  }
}
