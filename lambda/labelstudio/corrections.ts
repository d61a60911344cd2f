/**
 * Annotations saved after their run took its round's annotations: Label Studio rewrites the same
 * target-storage file on every Update, so a task edited (or first annotated) once its run converted
 * would otherwise reach no run. Such a file is kept for the batch's next *corrections run*, which
 * converts only the files kept for it; their items replace the older items of the same tasks (an
 * item's identity is its batch and image). Corrections of a batch are counted in generations, as
 * imports are (`import-turns.ts`): every event of a generation no run has taken asks for the same
 * execution, so re-saving a thousand annotations starts one waiting run, not a thousand.
 *
 * Order: a corrections run takes its turn only when no earlier one of its batch still runs and no
 * round of its batch is converting (closed, its run not ended). A round's run closes the round, then
 * lists its markers into the files it converts; an event writes its file's marker, then reads the
 * closed mark. So every file is read by its round's run, by a later corrections run, or both; and a corrections run
 * commits after the rounds it corrects, so the newer annotation's item is the later line of the index.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../convert/stores/object-store';
import { batchKeyPrefix } from '../workflow/batch';
import { finishTurn, type ImportTurn, type ImportTurns, NO_TURNS, takeTurn } from '../workflow/import-turns';
import { s3Uri } from '../workflow/layout';
import { nameSafe } from '../workflow/names';
import { type ListingStore, readJson, updateJson, type VersionedStore } from '../workflow/versioned-json';
import { writeLabelStudioFiles } from './run-files';
import { LABELSTUDIO_ANNOTATIONS_PREFIX } from './storage-layout';

/** A batch's corrections turns, and the rounds of the batch whose run is converting (closed, not ended). */
export interface CorrectionsTurns extends ImportTurns {
  readonly converting?: readonly string[];
}

/** Everything about a batch's corrections, under its `batches/<hash>/`, beside (not inside) its rounds' `labelstudio/<round>/`: a round is any one key segment. */
export const LABELSTUDIO_CORRECTIONS_FOLDER = 'labelstudio-corrections/';

function correctionsPrefix(batch: string): string {
  return `${batchKeyPrefix(batch)}${LABELSTUDIO_CORRECTIONS_FOLDER}`;
}

export function correctionsTurnsKey(batch: string): string {
  return `${correctionsPrefix(batch)}turns.json`;
}

/** One marker per target-storage file kept for a generation, named by the file: a file saved again writes the same marker. */
export function correctionMarkersPrefix(batch: string, generation: number): string {
  return `${correctionsPrefix(batch)}${String(generation).padStart(6, '0')}/`;
}

/** Written when a round's run goes on to convert: a later annotation of the round is a correction. */
export function roundClosedKey(batch: string, round: string): string {
  return `${batchKeyPrefix(batch)}labelstudio/${round}/closed`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** The execution name of a batch's corrections generation: at most 80 characters of `[a-z0-9-]`, never a batch's or an import's. */
export function correctionsExecutionName(batch: string, generation: number): string {
  return `${nameSafe(batch).slice(0, 50) || 'batch'}-${shortHash(batch)}-c${generation}`;
}

/** A round's run goes on to convert: from now on its annotations go to the batch's corrections. Idempotent. */
export async function closeRound(store: VersionedStore, bucket: string, batch: string, round: string): Promise<void> {
  // Converting first, closed second: a correction that saw the round closed finds it converting (or ended).
  await updateJson<CorrectionsTurns>(store, s3Uri(bucket, correctionsTurnsKey(batch)), NO_TURNS, (turns) =>
    turns.converting?.includes(round) ? turns : { ...turns, converting: [...(turns.converting ?? []), round] },
  );
  await store.write(
    s3Uri(bucket, roundClosedKey(batch, round)),
    Buffer.from(`${JSON.stringify({ closedAt: new Date().toISOString() })}\n`),
    'application/json',
  );
}

/** A round's run has ended, whatever its outcome: corrections of its batch may take their turn. A round never closed changes nothing. */
export async function roundEnded(store: VersionedStore, bucket: string, batch: string, round: string): Promise<void> {
  const location = s3Uri(bucket, correctionsTurnsKey(batch));
  if (!(await readJson<CorrectionsTurns>(store, location, NO_TURNS)).converting?.includes(round)) return;
  await updateJson<CorrectionsTurns>(store, location, NO_TURNS, (turns) => ({
    ...turns,
    converting: (turns.converting ?? []).filter((r) => r !== round),
  }));
}

/** Whether a round's run has gone on to convert (its annotations are then corrections). */
export async function isRoundClosed(store: Pick<ObjectStore, 'readStart'>, bucket: string, batch: string, round: string): Promise<boolean> {
  return (await store.readStart(s3Uri(bucket, roundClosedKey(batch, round)), 1)) !== undefined;
}

/** Passes over the turns before an event gives up (each pass means a corrections run took its turn meanwhile). */
const QUEUE_ATTEMPTS = 8;

/**
 * Keeps a target-storage file for the batch's next corrections run; returns the generation whose
 * execution the event asks for. Two reads and one write, whatever the batch's size (more only while
 * corrections runs take their turns meanwhile): the marker is written under the generation the next
 * run takes, then the turns are read again, and a run that took that generation meanwhile (and may
 * have listed before the marker) sends the marker to the next one.
 */
export async function queueCorrection(
  store: Pick<ObjectStore, 'readStart' | 'write'>,
  bucket: string,
  correction: { readonly batch: string; readonly round: string; readonly image: string; readonly annotationKey: string },
): Promise<number> {
  const location = s3Uri(bucket, correctionsTurnsKey(correction.batch));
  const name = correction.annotationKey.slice(LABELSTUDIO_ANNOTATIONS_PREFIX.length);
  const body = Buffer.from(
    `${JSON.stringify({ annotation: correction.annotationKey, round: correction.round, image: correction.image })}\n`,
  );
  let generation = (await readJson<CorrectionsTurns>(store, location, NO_TURNS)).taken;
  for (let attempt = 0; attempt < QUEUE_ATTEMPTS; attempt++) {
    await store.write(s3Uri(bucket, `${correctionMarkersPrefix(correction.batch, generation)}${name}`), body, 'application/json');
    const taken = (await readJson<CorrectionsTurns>(store, location, NO_TURNS)).taken;
    if (taken <= generation) return generation;
    generation = taken;
  }
  throw new Error(`the corrections of batch ${correction.batch} kept being taken over ${QUEUE_ATTEMPTS} attempts to queue ${name}`);
}

export interface CorrectionsTurn {
  readonly turn: ImportTurn;
  /** Target-storage files the run converts (0: nothing to correct, and the turn is over). */
  readonly files: number;
  /** The target storage's prefix: what the run converts, as a Label Studio export. */
  readonly export?: string;
  /** The list of the files, the run's own (`labelStudioFilesKey`). */
  readonly labelStudioFiles?: string;
}

/**
 * A corrections run asks for its turn; once it has it, the files kept for its generation are its list
 * (a listing of their markers). `wait` while an earlier corrections run of the batch, or a round's
 * conversion, goes on.
 */
export async function takeCorrectionsTurn(options: {
  readonly store: VersionedStore & ListingStore;
  readonly artifactsBucket: string;
  readonly inboxBucket: string;
  readonly batch: string;
  readonly generation: number;
  readonly runId: string;
}): Promise<CorrectionsTurn> {
  const { store, artifactsBucket, batch, generation } = options;
  const location = s3Uri(artifactsBucket, correctionsTurnsKey(batch));
  const turn = await takeTurn<CorrectionsTurns>(store, location, generation, (turns) => (turns.converting?.length ?? 0) > 0);
  if (turn !== 'taken') return { turn, files: 0 };
  const prefix = correctionMarkersPrefix(batch, generation);
  const files = (await store.list(artifactsBucket, prefix))
    .map((o) => o.key.slice(prefix.length))
    .filter((name) => name !== '' && !name.includes('/'))
    .sort()
    .map((name) => s3Uri(options.inboxBucket, `${LABELSTUDIO_ANNOTATIONS_PREFIX}${name}`));
  if (files.length === 0) {
    await finishTurn<CorrectionsTurns>(store, location, generation);
    return { turn, files: 0 };
  }
  const list = await writeLabelStudioFiles(store, artifactsBucket, options.runId, files);
  return { turn, files: files.length, export: s3Uri(options.inboxBucket, LABELSTUDIO_ANNOTATIONS_PREFIX), labelStudioFiles: list };
}

/** A corrections run has ended, whatever its outcome: the batch's next corrections run may take its turn. */
export async function finishCorrectionsTurn(store: VersionedStore, bucket: string, batch: string, generation: number): Promise<void> {
  await finishTurn<CorrectionsTurns>(store, s3Uri(bucket, correctionsTurnsKey(batch)), generation);
}
