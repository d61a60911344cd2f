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
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
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
export const LABELSTUDIO_CORRECTIONS_FOLDER = stryMutAct_9fa48("47") ? "" : (stryCov_9fa48("47"), 'labelstudio-corrections/');
function correctionsPrefix(batch: string): string {
  if (stryMutAct_9fa48("48")) {
    {}
  } else {
    stryCov_9fa48("48");
    return stryMutAct_9fa48("49") ? `` : (stryCov_9fa48("49"), `${batchKeyPrefix(batch)}${LABELSTUDIO_CORRECTIONS_FOLDER}`);
  }
}
export function correctionsTurnsKey(batch: string): string {
  if (stryMutAct_9fa48("50")) {
    {}
  } else {
    stryCov_9fa48("50");
    return stryMutAct_9fa48("51") ? `` : (stryCov_9fa48("51"), `${correctionsPrefix(batch)}turns.json`);
  }
}

/** One marker per target-storage file kept for a generation, named by the file: a file saved again writes the same marker. */
export function correctionMarkersPrefix(batch: string, generation: number): string {
  if (stryMutAct_9fa48("52")) {
    {}
  } else {
    stryCov_9fa48("52");
    return stryMutAct_9fa48("53") ? `` : (stryCov_9fa48("53"), `${correctionsPrefix(batch)}${String(generation).padStart(6, stryMutAct_9fa48("54") ? "" : (stryCov_9fa48("54"), '0'))}/`);
  }
}

/** Written when a round's run goes on to convert: a later annotation of the round is a correction. */
export function roundClosedKey(batch: string, round: string): string {
  if (stryMutAct_9fa48("55")) {
    {}
  } else {
    stryCov_9fa48("55");
    return stryMutAct_9fa48("56") ? `` : (stryCov_9fa48("56"), `${batchKeyPrefix(batch)}labelstudio/${round}/closed`);
  }
}
function shortHash(text: string): string {
  if (stryMutAct_9fa48("57")) {
    {}
  } else {
    stryCov_9fa48("57");
    return stryMutAct_9fa48("58") ? createHash('sha256').update(text).digest('hex') : (stryCov_9fa48("58"), createHash(stryMutAct_9fa48("59") ? "" : (stryCov_9fa48("59"), 'sha256')).update(text).digest(stryMutAct_9fa48("60") ? "" : (stryCov_9fa48("60"), 'hex')).slice(0, 8));
  }
}

/** The execution name of a batch's corrections generation: at most 80 characters of `[a-z0-9-]`, never a batch's or an import's. */
export function correctionsExecutionName(batch: string, generation: number): string {
  if (stryMutAct_9fa48("61")) {
    {}
  } else {
    stryCov_9fa48("61");
    return stryMutAct_9fa48("62") ? `` : (stryCov_9fa48("62"), `${stryMutAct_9fa48("65") ? nameSafe(batch).slice(0, 50) && 'batch' : stryMutAct_9fa48("64") ? false : stryMutAct_9fa48("63") ? true : (stryCov_9fa48("63", "64", "65"), (stryMutAct_9fa48("66") ? nameSafe(batch) : (stryCov_9fa48("66"), nameSafe(batch).slice(0, 50))) || (stryMutAct_9fa48("67") ? "" : (stryCov_9fa48("67"), 'batch')))}-${shortHash(batch)}-c${generation}`);
  }
}

/** A round's run goes on to convert: from now on its annotations go to the batch's corrections. Idempotent. */
export async function closeRound(store: VersionedStore, bucket: string, batch: string, round: string): Promise<void> {
  if (stryMutAct_9fa48("68")) {
    {}
  } else {
    stryCov_9fa48("68");
    // Converting first, closed second: a correction that saw the round closed finds it converting (or ended).
    await updateJson<CorrectionsTurns>(store, s3Uri(bucket, correctionsTurnsKey(batch)), NO_TURNS, stryMutAct_9fa48("69") ? () => undefined : (stryCov_9fa48("69"), turns => (stryMutAct_9fa48("70") ? turns.converting.includes(round) : (stryCov_9fa48("70"), turns.converting?.includes(round))) ? turns : stryMutAct_9fa48("71") ? {} : (stryCov_9fa48("71"), {
      ...turns,
      converting: stryMutAct_9fa48("72") ? [] : (stryCov_9fa48("72"), [...(stryMutAct_9fa48("73") ? turns.converting && [] : (stryCov_9fa48("73"), turns.converting ?? (stryMutAct_9fa48("74") ? ["Stryker was here"] : (stryCov_9fa48("74"), [])))), round])
    })));
    await store.write(s3Uri(bucket, roundClosedKey(batch, round)), Buffer.from(stryMutAct_9fa48("75") ? `` : (stryCov_9fa48("75"), `${JSON.stringify(stryMutAct_9fa48("76") ? {} : (stryCov_9fa48("76"), {
      closedAt: new Date().toISOString()
    }))}\n`)), stryMutAct_9fa48("77") ? "" : (stryCov_9fa48("77"), 'application/json'));
  }
}

/** A round's run has ended, whatever its outcome: corrections of its batch may take their turn. A round never closed changes nothing. */
export async function roundEnded(store: VersionedStore, bucket: string, batch: string, round: string): Promise<void> {
  if (stryMutAct_9fa48("78")) {
    {}
  } else {
    stryCov_9fa48("78");
    const location = s3Uri(bucket, correctionsTurnsKey(batch));
    if (stryMutAct_9fa48("81") ? false : stryMutAct_9fa48("80") ? true : stryMutAct_9fa48("79") ? (await readJson<CorrectionsTurns>(store, location, NO_TURNS)).converting?.includes(round) : (stryCov_9fa48("79", "80", "81"), !(stryMutAct_9fa48("82") ? (await readJson<CorrectionsTurns>(store, location, NO_TURNS)).converting.includes(round) : (stryCov_9fa48("82"), (await readJson<CorrectionsTurns>(store, location, NO_TURNS)).converting?.includes(round))))) return;
    await updateJson<CorrectionsTurns>(store, location, NO_TURNS, stryMutAct_9fa48("83") ? () => undefined : (stryCov_9fa48("83"), turns => stryMutAct_9fa48("84") ? {} : (stryCov_9fa48("84"), {
      ...turns,
      converting: stryMutAct_9fa48("85") ? turns.converting ?? [] : (stryCov_9fa48("85"), (stryMutAct_9fa48("86") ? turns.converting && [] : (stryCov_9fa48("86"), turns.converting ?? (stryMutAct_9fa48("87") ? ["Stryker was here"] : (stryCov_9fa48("87"), [])))).filter(stryMutAct_9fa48("88") ? () => undefined : (stryCov_9fa48("88"), r => stryMutAct_9fa48("91") ? r === round : stryMutAct_9fa48("90") ? false : stryMutAct_9fa48("89") ? true : (stryCov_9fa48("89", "90", "91"), r !== round))))
    })));
  }
}

/** Whether a round's run has gone on to convert (its annotations are then corrections). */
export async function isRoundClosed(store: Pick<ObjectStore, 'readStart'>, bucket: string, batch: string, round: string): Promise<boolean> {
  if (stryMutAct_9fa48("92")) {
    {}
  } else {
    stryCov_9fa48("92");
    return stryMutAct_9fa48("95") ? (await store.readStart(s3Uri(bucket, roundClosedKey(batch, round)), 1)) === undefined : stryMutAct_9fa48("94") ? false : stryMutAct_9fa48("93") ? true : (stryCov_9fa48("93", "94", "95"), (await store.readStart(s3Uri(bucket, roundClosedKey(batch, round)), 1)) !== undefined);
  }
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
export async function queueCorrection(store: Pick<ObjectStore, 'readStart' | 'write'>, bucket: string, correction: {
  readonly batch: string;
  readonly round: string;
  readonly image: string;
  readonly annotationKey: string;
}): Promise<number> {
  if (stryMutAct_9fa48("96")) {
    {}
  } else {
    stryCov_9fa48("96");
    const location = s3Uri(bucket, correctionsTurnsKey(correction.batch));
    const name = stryMutAct_9fa48("97") ? correction.annotationKey : (stryCov_9fa48("97"), correction.annotationKey.slice(LABELSTUDIO_ANNOTATIONS_PREFIX.length));
    const body = Buffer.from(stryMutAct_9fa48("98") ? `` : (stryCov_9fa48("98"), `${JSON.stringify(stryMutAct_9fa48("99") ? {} : (stryCov_9fa48("99"), {
      annotation: correction.annotationKey,
      round: correction.round,
      image: correction.image
    }))}\n`));
    let generation = (await readJson<CorrectionsTurns>(store, location, NO_TURNS)).taken;
    for (let attempt = 0; stryMutAct_9fa48("102") ? attempt >= QUEUE_ATTEMPTS : stryMutAct_9fa48("101") ? attempt <= QUEUE_ATTEMPTS : stryMutAct_9fa48("100") ? false : (stryCov_9fa48("100", "101", "102"), attempt < QUEUE_ATTEMPTS); stryMutAct_9fa48("103") ? attempt-- : (stryCov_9fa48("103"), attempt++)) {
      if (stryMutAct_9fa48("104")) {
        {}
      } else {
        stryCov_9fa48("104");
        await store.write(s3Uri(bucket, stryMutAct_9fa48("105") ? `` : (stryCov_9fa48("105"), `${correctionMarkersPrefix(correction.batch, generation)}${name}`)), body, stryMutAct_9fa48("106") ? "" : (stryCov_9fa48("106"), 'application/json'));
        const taken = (await readJson<CorrectionsTurns>(store, location, NO_TURNS)).taken;
        if (stryMutAct_9fa48("110") ? taken > generation : stryMutAct_9fa48("109") ? taken < generation : stryMutAct_9fa48("108") ? false : stryMutAct_9fa48("107") ? true : (stryCov_9fa48("107", "108", "109", "110"), taken <= generation)) return generation;
        generation = taken;
      }
    }
    throw new Error(stryMutAct_9fa48("111") ? `` : (stryCov_9fa48("111"), `the corrections of batch ${correction.batch} kept being taken over ${QUEUE_ATTEMPTS} attempts to queue ${name}`));
  }
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
  if (stryMutAct_9fa48("112")) {
    {}
  } else {
    stryCov_9fa48("112");
    const {
      store,
      artifactsBucket,
      batch,
      generation
    } = options;
    const location = s3Uri(artifactsBucket, correctionsTurnsKey(batch));
    const turn = await takeTurn<CorrectionsTurns>(store, location, generation, stryMutAct_9fa48("113") ? () => undefined : (stryCov_9fa48("113"), turns => stryMutAct_9fa48("117") ? (turns.converting?.length ?? 0) <= 0 : stryMutAct_9fa48("116") ? (turns.converting?.length ?? 0) >= 0 : stryMutAct_9fa48("115") ? false : stryMutAct_9fa48("114") ? true : (stryCov_9fa48("114", "115", "116", "117"), (stryMutAct_9fa48("118") ? turns.converting?.length && 0 : (stryCov_9fa48("118"), (stryMutAct_9fa48("119") ? turns.converting.length : (stryCov_9fa48("119"), turns.converting?.length)) ?? 0)) > 0)));
    if (stryMutAct_9fa48("122") ? turn === 'taken' : stryMutAct_9fa48("121") ? false : stryMutAct_9fa48("120") ? true : (stryCov_9fa48("120", "121", "122"), turn !== (stryMutAct_9fa48("123") ? "" : (stryCov_9fa48("123"), 'taken')))) return stryMutAct_9fa48("124") ? {} : (stryCov_9fa48("124"), {
      turn,
      files: 0
    });
    const prefix = correctionMarkersPrefix(batch, generation);
    const files = stryMutAct_9fa48("126") ? (await store.list(artifactsBucket, prefix)).map(o => o.key.slice(prefix.length)).sort().map(name => s3Uri(options.inboxBucket, `${LABELSTUDIO_ANNOTATIONS_PREFIX}${name}`)) : stryMutAct_9fa48("125") ? (await store.list(artifactsBucket, prefix)).map(o => o.key.slice(prefix.length)).filter(name => name !== '' && !name.includes('/')).map(name => s3Uri(options.inboxBucket, `${LABELSTUDIO_ANNOTATIONS_PREFIX}${name}`)) : (stryCov_9fa48("125", "126"), (await store.list(artifactsBucket, prefix)).map(stryMutAct_9fa48("127") ? () => undefined : (stryCov_9fa48("127"), o => stryMutAct_9fa48("128") ? o.key : (stryCov_9fa48("128"), o.key.slice(prefix.length)))).filter(stryMutAct_9fa48("129") ? () => undefined : (stryCov_9fa48("129"), name => stryMutAct_9fa48("132") ? name !== '' || !name.includes('/') : stryMutAct_9fa48("131") ? false : stryMutAct_9fa48("130") ? true : (stryCov_9fa48("130", "131", "132"), (stryMutAct_9fa48("134") ? name === '' : stryMutAct_9fa48("133") ? true : (stryCov_9fa48("133", "134"), name !== (stryMutAct_9fa48("135") ? "Stryker was here!" : (stryCov_9fa48("135"), '')))) && (stryMutAct_9fa48("136") ? name.includes('/') : (stryCov_9fa48("136"), !name.includes(stryMutAct_9fa48("137") ? "" : (stryCov_9fa48("137"), '/'))))))).sort().map(stryMutAct_9fa48("138") ? () => undefined : (stryCov_9fa48("138"), name => s3Uri(options.inboxBucket, stryMutAct_9fa48("139") ? `` : (stryCov_9fa48("139"), `${LABELSTUDIO_ANNOTATIONS_PREFIX}${name}`)))));
    if (stryMutAct_9fa48("142") ? files.length !== 0 : stryMutAct_9fa48("141") ? false : stryMutAct_9fa48("140") ? true : (stryCov_9fa48("140", "141", "142"), files.length === 0)) {
      if (stryMutAct_9fa48("143")) {
        {}
      } else {
        stryCov_9fa48("143");
        await finishTurn<CorrectionsTurns>(store, location, generation);
        return stryMutAct_9fa48("144") ? {} : (stryCov_9fa48("144"), {
          turn,
          files: 0
        });
      }
    }
    const list = await writeLabelStudioFiles(store, artifactsBucket, options.runId, files);
    return stryMutAct_9fa48("145") ? {} : (stryCov_9fa48("145"), {
      turn,
      files: files.length,
      export: s3Uri(options.inboxBucket, LABELSTUDIO_ANNOTATIONS_PREFIX),
      labelStudioFiles: list
    });
  }
}

/** A corrections run has ended, whatever its outcome: the batch's next corrections run may take its turn. */
export async function finishCorrectionsTurn(store: VersionedStore, bucket: string, batch: string, generation: number): Promise<void> {
  if (stryMutAct_9fa48("146")) {
    {}
  } else {
    stryCov_9fa48("146");
    await finishTurn<CorrectionsTurns>(store, s3Uri(bucket, correctionsTurnsKey(batch)), generation);
  }
}