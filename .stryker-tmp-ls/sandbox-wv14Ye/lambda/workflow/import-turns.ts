// @ts-nocheck
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../convert/stores/object-store';
import { BATCHES_PREFIX, s3Uri } from './layout';
import { nameSafe } from './names';
import { readJson, updateJson, type VersionedStore } from './versioned-json';

/**
 * Imports run one at a time per export file, with at most one waiting: uploads of an export are
 * counted in generations, like a batch's images. Every upload event of a generation that no run has
 * taken asks for the same execution (its name and input derive from the batch, the export's key and
 * the generation), so re-uploading an export ten times while a run converts it starts one more run,
 * not ten. The waiting run takes its generation only when the one before has finished, and converts
 * the export as it is then.
 */
export interface ImportTurns {
  /** Generations taken by a run: the next upload event asks for generation `taken`. */
  readonly taken: number;
  /** Generations whose run has ended. */
  readonly done: number;
}

export const NO_TURNS: ImportTurns = { taken: 0, done: 0 };

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Where an export file's turns are kept (under the batch's progress). */
export function importTurnsKey(batch: string, exportKey: string): string {
  return `${BATCHES_PREFIX}${shortHash(batch)}/imports/${shortHash(exportKey)}.json`;
}

/** The execution name of an export's generation: at most 80 characters of `[a-z0-9-]`. */
export function importExecutionName(batch: string, exportKey: string, generation: number): string {
  return `${nameSafe(batch).slice(0, 50) || 'batch'}-${shortHash(batch)}-m${shortHash(exportKey)}-g${generation}`;
}

/** The generation the next upload event of an export asks for. */
export async function nextImportGeneration(
  store: Pick<ObjectStore, 'readStart'>,
  bucket: string,
  batch: string,
  exportKey: string,
): Promise<number> {
  return (await readJson<ImportTurns>(store, s3Uri(bucket, importTurnsKey(batch, exportKey)), NO_TURNS)).taken;
}

export type ImportTurn = 'taken' | 'wait' | 'stale';

/**
 * A run of generation `generation` asks for its turn: `taken` when every earlier generation's run has
 * ended (it is recorded as taken, so later uploads ask for the next one), `wait` while one still runs,
 * `stale` when the generation was taken already (a repeated event's execution; nothing to do).
 */
export async function takeImportTurn(
  store: VersionedStore,
  bucket: string,
  batch: string,
  exportKey: string,
  generation: number,
): Promise<ImportTurn> {
  return takeTurn(store, s3Uri(bucket, importTurnsKey(batch, exportKey)), generation);
}

/**
 * The turn-taking itself, on any turns object (an export's, a batch's Label Studio corrections):
 * other fields of the object are kept. `blocked` says what else makes the run wait.
 */
export async function takeTurn<T extends ImportTurns>(
  store: VersionedStore,
  location: string,
  generation: number,
  blocked: (turns: T) => boolean = () => false,
): Promise<ImportTurn> {
  let turn: ImportTurn = 'wait';
  await updateJson<T>(store, location, NO_TURNS as T, (turns) => {
    if (generation < turns.taken) turn = 'stale';
    else if (turns.done < turns.taken || blocked(turns)) turn = 'wait';
    else turn = 'taken';
    return turn === 'taken' ? { ...turns, taken: generation + 1 } : turns;
  });
  return turn;
}

/** A run of `generation` has ended, whatever its outcome: the next generation's run may take its turn. */
export async function finishImportTurn(
  store: VersionedStore,
  bucket: string,
  batch: string,
  exportKey: string,
  generation: number,
): Promise<void> {
  await finishTurn(store, s3Uri(bucket, importTurnsKey(batch, exportKey)), generation);
}

/** The end of a turn on any turns object, its other fields kept. */
export async function finishTurn<T extends ImportTurns>(store: VersionedStore, location: string, generation: number): Promise<void> {
  await updateJson<T>(store, location, NO_TURNS as T, (turns) =>
    turns.done > generation ? turns : { ...turns, taken: Math.max(turns.taken, generation + 1), done: generation + 1 },
  );
}
