/**
 * Label Studio in the deployed workflow: a run's images become one task file each under the inbox's
 * tasks prefix, and each annotation file Label Studio's target storage writes back is recorded as one
 * small marker per task, so that the waiting run counts its annotated tasks with a listing, never by
 * reading the annotations. Work per image and per annotation event is constant.
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
import { ENDPOINT_CONCURRENCY } from '../common/defaults';
import type { ObjectStore } from '../convert/stores/object-store';
import { batchKeyPrefix } from '../workflow/batch';
import { inputManifest } from '../workflow/labeling';
import { RUNS_PREFIX, s3Uri } from '../workflow/layout';
import type { ListingStore, VersionedStore } from '../workflow/versioned-json';
import { closeRound } from './corrections';
import { writeLabelStudioFiles } from './run-files';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from './storage-layout';
import { type LabelStudioTask, labelStudioTask, maskPrediction, type TaskPrediction } from './tasks';

/** Tasks one map item writes; a plan of more chunks makes them larger, so that their list stays small in the execution state. */
export const TASKS_PER_CHUNK = 1000;
const MAX_CHUNKS = 500;

/**
 * The labeling round a run's tasks belong to: the batch generation its snapshot took, or the run's id
 * for a run started by hand with a list of images. It names the tasks' folder and their `meta.generation`.
 */
export function labelingRound(input: {
  readonly generation?: number;
}, runId: string): string {
  if (stryMutAct_9fa48("316")) {
    {}
  } else {
    stryCov_9fa48("316");
    return Number.isInteger(input.generation) ? String(input.generation) : runId;
  }
}

/** `labelstudio/tasks/<batch>/<round>/`: only `.json` task files go there (a tasks-method sync stops at any other key). */
export function tasksPrefix(batch: string, round: string): string {
  if (stryMutAct_9fa48("317")) {
    {}
  } else {
    stryCov_9fa48("317");
    return stryMutAct_9fa48("318") ? `` : (stryCov_9fa48("318"), `${LABELSTUDIO_TASKS_PREFIX}${batch}/${round}/`);
  }
}

/** A task's file: the image's name (readable in the bucket) and a hash of its whole address (unique). */
export function taskKey(batch: string, round: string, image: string): string {
  if (stryMutAct_9fa48("319")) {
    {}
  } else {
    stryCov_9fa48("319");
    const name = stryMutAct_9fa48("320") ? (image.split('/').pop() ?? 'image').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]+/g, '_') : (stryCov_9fa48("320"), (stryMutAct_9fa48("321") ? image.split('/').pop() && 'image' : (stryCov_9fa48("321"), image.split(stryMutAct_9fa48("322") ? "" : (stryCov_9fa48("322"), '/')).pop() ?? (stryMutAct_9fa48("323") ? "" : (stryCov_9fa48("323"), 'image')))).replace(stryMutAct_9fa48("326") ? /\.[.]*$/ : stryMutAct_9fa48("325") ? /\.[^.]$/ : stryMutAct_9fa48("324") ? /\.[^.]*/ : (stryCov_9fa48("324", "325", "326"), /\.[^.]*$/), stryMutAct_9fa48("327") ? "Stryker was here!" : (stryCov_9fa48("327"), '')).replace(stryMutAct_9fa48("329") ? /[A-Za-z0-9._-]+/g : stryMutAct_9fa48("328") ? /[^A-Za-z0-9._-]/g : (stryCov_9fa48("328", "329"), /[^A-Za-z0-9._-]+/g), stryMutAct_9fa48("330") ? "" : (stryCov_9fa48("330"), '_')).slice(0, 60));
    return stryMutAct_9fa48("331") ? `` : (stryCov_9fa48("331"), `${tasksPrefix(batch, round)}${name}-${imageHash(image)}.json`);
  }
}
function imageHash(image: string): string {
  if (stryMutAct_9fa48("332")) {
    {}
  } else {
    stryCov_9fa48("332");
    return stryMutAct_9fa48("333") ? createHash('sha256').update(image).digest('hex') : (stryCov_9fa48("333"), createHash(stryMutAct_9fa48("334") ? "" : (stryCov_9fa48("334"), 'sha256')).update(image).digest(stryMutAct_9fa48("335") ? "" : (stryCov_9fa48("335"), 'hex')).slice(0, 16));
  }
}

/** The chunk manifests a run's task writing reads, one map item each. */
export function taskChunkKey(runId: string, index: number): string {
  if (stryMutAct_9fa48("336")) {
    {}
  } else {
    stryCov_9fa48("336");
    return stryMutAct_9fa48("337") ? `` : (stryCov_9fa48("337"), `${RUNS_PREFIX}${runId}/labelstudio/chunk-${String(index).padStart(5, stryMutAct_9fa48("338") ? "" : (stryCov_9fa48("338"), '0'))}.manifest`);
  }
}
export interface TaskChunk {
  readonly index: number;
}
export interface TaskPlan {
  readonly round: string;
  /** `s3://<inbox>/labelstudio/tasks/<batch>/<round>/`: what the notification names. */
  readonly tasksPrefix: string;
  readonly tasks: number;
  readonly chunks: readonly TaskChunk[];
}

/** Where a run's labeling round keeps its tasks: the buckets, the run, its batch and round (the batch's generation). */
export interface TaskRound {
  readonly store: ObjectStore;
  readonly inboxBucket: string;
  readonly artifactsBucket: string;
  readonly runId: string;
  readonly batch: string;
  readonly round: string;
}

/**
 * Cuts the run's images (the snapshot's input manifest, or a list) into chunk manifests under the
 * run: one pass over the list, so that each map item then reads only its own chunk.
 */
export async function planTasks(options: TaskRound & {
  readonly images: readonly string[] | {
    readonly manifest: string;
  };
}): Promise<TaskPlan> {
  if (stryMutAct_9fa48("339")) {
    {}
  } else {
    stryCov_9fa48("339");
    const {
      store,
      artifactsBucket,
      runId
    } = options;
    const images = Array.isArray(options.images) ? options.images as readonly string[] : await readManifestImages(store, (options.images as {
      manifest: string;
    }).manifest);
    if (stryMutAct_9fa48("342") ? images.length !== 0 : stryMutAct_9fa48("341") ? false : stryMutAct_9fa48("340") ? true : (stryCov_9fa48("340", "341", "342"), images.length === 0)) throw new Error(stryMutAct_9fa48("343") ? "" : (stryCov_9fa48("343"), 'the batch has no images to label'));
    const perChunk = stryMutAct_9fa48("344") ? Math.min(TASKS_PER_CHUNK, Math.ceil(images.length / MAX_CHUNKS)) : (stryCov_9fa48("344"), Math.max(TASKS_PER_CHUNK, Math.ceil(stryMutAct_9fa48("345") ? images.length * MAX_CHUNKS : (stryCov_9fa48("345"), images.length / MAX_CHUNKS))));
    const chunks: TaskChunk[] = stryMutAct_9fa48("346") ? ["Stryker was here"] : (stryCov_9fa48("346"), []);
    for (let first = 0, index = 0; stryMutAct_9fa48("349") ? first >= images.length : stryMutAct_9fa48("348") ? first <= images.length : stryMutAct_9fa48("347") ? false : (stryCov_9fa48("347", "348", "349"), first < images.length); stryMutAct_9fa48("350") ? first -= perChunk : (stryCov_9fa48("350"), first += perChunk), stryMutAct_9fa48("351") ? index-- : (stryCov_9fa48("351"), index++)) {
      if (stryMutAct_9fa48("352")) {
        {}
      } else {
        stryCov_9fa48("352");
        await store.write(s3Uri(artifactsBucket, taskChunkKey(runId, index)), Buffer.from(inputManifest(stryMutAct_9fa48("353") ? images : (stryCov_9fa48("353"), images.slice(first, stryMutAct_9fa48("354") ? first - perChunk : (stryCov_9fa48("354"), first + perChunk))))), stryMutAct_9fa48("355") ? "" : (stryCov_9fa48("355"), 'application/x-ndjson'));
        chunks.push(stryMutAct_9fa48("356") ? {} : (stryCov_9fa48("356"), {
          index
        }));
      }
    }
    return stryMutAct_9fa48("357") ? {} : (stryCov_9fa48("357"), {
      round: options.round,
      tasksPrefix: s3Uri(options.inboxBucket, tasksPrefix(options.batch, options.round)),
      tasks: images.length,
      chunks
    });
  }
}
async function readManifestImages(store: ObjectStore, location: string): Promise<string[]> {
  if (stryMutAct_9fa48("358")) {
    {}
  } else {
    stryCov_9fa48("358");
    return stryMutAct_9fa48("359") ? (await store.read(location)).toString('utf8').split('\n').map(line => (JSON.parse(line) as {
      'source-ref': string;
    })['source-ref']) : (stryCov_9fa48("359"), (await store.read(location)).toString(stryMutAct_9fa48("360") ? "" : (stryCov_9fa48("360"), 'utf8')).split(stryMutAct_9fa48("361") ? "" : (stryCov_9fa48("361"), '\n')).filter(stryMutAct_9fa48("362") ? () => undefined : (stryCov_9fa48("362"), line => stryMutAct_9fa48("365") ? line.trim() === '' : stryMutAct_9fa48("364") ? false : stryMutAct_9fa48("363") ? true : (stryCov_9fa48("363", "364", "365"), (stryMutAct_9fa48("366") ? line : (stryCov_9fa48("366"), line.trim())) !== (stryMutAct_9fa48("367") ? "Stryker was here!" : (stryCov_9fa48("367"), ''))))).map(stryMutAct_9fa48("368") ? () => undefined : (stryCov_9fa48("368"), line => (JSON.parse(line) as {
      'source-ref': string;
    })[stryMutAct_9fa48("369") ? "" : (stryCov_9fa48("369"), 'source-ref')])));
  }
}

/**
 * An image's pre-labels, or why there are none: `reason` is one of a few texts (it is what the run's
 * notification quotes, once per distinct text), `detail` what only the log needs (an error's message).
 */
export type Prelabeler = (image: string) => Promise<{
  prediction?: TaskPrediction;
  reason?: string;
  detail?: string;
}>;

/** An endpoint's class-index mask of an image, at the image's size. */
export type MaskOf = (image: Buffer, signal: AbortSignal) => Promise<{
  mask: Uint8Array;
  width: number;
  height: number;
}>;

/** InvokeEndpoint's own limit on a model's answer (SageMaker Developer Guide): no image waits longer. */
export const PRELABEL_IMAGE_TIMEOUT_MS = 60_000;

/** Images in a row the endpoint fails (or does not answer in time) before the rest of the chunk goes without asking it. */
export const ENDPOINT_FAILURES_IN_A_ROW = 8;

/**
 * Pre-labels from the serving endpoint, bounded per image: each image waits at most `imageTimeoutMs`;
 * once the endpoint is found not to exist, or has failed {@link ENDPOINT_FAILURES_IN_A_ROW} images in
 * a row, no further image is sent (labeling never waits on a broken endpoint). Every image without
 * predictions says why. How long a chunk may take is its writer's concern (`writeTaskChunk`).
 */
export function endpointPrelabeler(options: {
  readonly maskOf: MaskOf;
  readonly read: (image: string) => Promise<Buffer>;
  /** Names of indices 1, 2, ... */
  readonly classes: readonly string[];
  readonly modelVersion: string;
  readonly imageTimeoutMs?: number;
}): Prelabeler {
  if (stryMutAct_9fa48("370")) {
    {}
  } else {
    stryCov_9fa48("370");
    let givenUp: string | undefined;
    let failuresInARow = 0;
    const failed = (reason: string, detail?: string) => {
      if (stryMutAct_9fa48("371")) {
        {}
      } else {
        stryCov_9fa48("371");
        stryMutAct_9fa48("372") ? failuresInARow-- : (stryCov_9fa48("372"), failuresInARow++);
        if (stryMutAct_9fa48("376") ? failuresInARow < ENDPOINT_FAILURES_IN_A_ROW : stryMutAct_9fa48("375") ? failuresInARow > ENDPOINT_FAILURES_IN_A_ROW : stryMutAct_9fa48("374") ? false : stryMutAct_9fa48("373") ? true : (stryCov_9fa48("373", "374", "375", "376"), failuresInARow >= ENDPOINT_FAILURES_IN_A_ROW)) givenUp = stryMutAct_9fa48("377") ? `` : (stryCov_9fa48("377"), `the endpoint failed ${ENDPOINT_FAILURES_IN_A_ROW} images in a row (the last: ${reason}); the chunk's other images were not sent`);
        return stryMutAct_9fa48("378") ? {} : (stryCov_9fa48("378"), {
          reason,
          ...(detail ? stryMutAct_9fa48("379") ? {} : (stryCov_9fa48("379"), {
            detail
          }) : {})
        });
      }
    };
    return async image => {
      if (stryMutAct_9fa48("380")) {
        {}
      } else {
        stryCov_9fa48("380");
        if (stryMutAct_9fa48("382") ? false : stryMutAct_9fa48("381") ? true : (stryCov_9fa48("381", "382"), givenUp)) return stryMutAct_9fa48("383") ? {} : (stryCov_9fa48("383"), {
          reason: givenUp
        });
        try {
          if (stryMutAct_9fa48("384")) {
            {}
          } else {
            stryCov_9fa48("384");
            const answer = await options.maskOf(await options.read(image), AbortSignal.timeout(stryMutAct_9fa48("385") ? options.imageTimeoutMs && PRELABEL_IMAGE_TIMEOUT_MS : (stryCov_9fa48("385"), options.imageTimeoutMs ?? PRELABEL_IMAGE_TIMEOUT_MS)));
            const {
              prediction
            } = maskPrediction(stryMutAct_9fa48("386") ? {} : (stryCov_9fa48("386"), {
              ...answer,
              classes: options.classes,
              modelVersion: options.modelVersion
            }));
            failuresInARow = 0;
            return stryMutAct_9fa48("387") ? {} : (stryCov_9fa48("387"), {
              prediction
            });
          }
        } catch (err) {
          if (stryMutAct_9fa48("388")) {
            {}
          } else {
            stryCov_9fa48("388");
            const error = err as Error;
            // InvokeEndpoint answers a missing endpoint with a ValidationError naming it.
            if (stryMutAct_9fa48("391") ? error.name === 'ValidationError' || /not found|could not find/i.test(error.message) : stryMutAct_9fa48("390") ? false : stryMutAct_9fa48("389") ? true : (stryCov_9fa48("389", "390", "391"), (stryMutAct_9fa48("393") ? error.name !== 'ValidationError' : stryMutAct_9fa48("392") ? true : (stryCov_9fa48("392", "393"), error.name === (stryMutAct_9fa48("394") ? "" : (stryCov_9fa48("394"), 'ValidationError')))) && /not found|could not find/i.test(error.message))) {
              if (stryMutAct_9fa48("395")) {
                {}
              } else {
                stryCov_9fa48("395");
                givenUp = stryMutAct_9fa48("396") ? `` : (stryCov_9fa48("396"), `no model serves yet (endpoint ${options.modelVersion} not found)`);
                return stryMutAct_9fa48("397") ? {} : (stryCov_9fa48("397"), {
                  reason: givenUp
                });
              }
            }
            if (stryMutAct_9fa48("400") ? error.name === 'TimeoutError' && error.name === 'AbortError' : stryMutAct_9fa48("399") ? false : stryMutAct_9fa48("398") ? true : (stryCov_9fa48("398", "399", "400"), (stryMutAct_9fa48("402") ? error.name !== 'TimeoutError' : stryMutAct_9fa48("401") ? false : (stryCov_9fa48("401", "402"), error.name === (stryMutAct_9fa48("403") ? "" : (stryCov_9fa48("403"), 'TimeoutError')))) || (stryMutAct_9fa48("405") ? error.name !== 'AbortError' : stryMutAct_9fa48("404") ? false : (stryCov_9fa48("404", "405"), error.name === (stryMutAct_9fa48("406") ? "" : (stryCov_9fa48("406"), 'AbortError')))))) return failed(stryMutAct_9fa48("407") ? "" : (stryCov_9fa48("407"), 'the endpoint gave no answer in time'));
            return failed(stryMutAct_9fa48("408") ? `` : (stryCov_9fa48("408"), `the endpoint failed (${stryMutAct_9fa48("409") ? error.name : (stryCov_9fa48("409"), error.name.slice(0, 60))})`), stryMutAct_9fa48("410") ? error.message : (stryCov_9fa48("410"), error.message.slice(0, 200)));
          }
        }
      }
    };
  }
}
export interface TaskChunkSummary {
  readonly index: number;
  readonly tasks: number;
  readonly predicted: number;
  /** Why some tasks have no predictions (the first reasons, with how many images each, and the detail for the log). */
  readonly noPrediction?: Readonly<Record<string, number>>;
  /**
   * The chunk's pre-labels in a few words for the notification: `pre-labeled` when every task has
   * them, else the most common reason some have none. Chunks' notes are few distinct texts.
   */
  readonly prelabels: string;
  /**
   * Where the chunk's next invocation goes on (the first image with no task yet) when this one ran out
   * of time; absent once every image of the chunk has its task.
   */
  readonly next?: number;
  /** Images without predictions by reason (without detail), carried to the next invocation for the note. */
  readonly reasons?: Readonly<Record<string, number>>;
}

/** The note of a chunk whose every task carries the serving model's pre-labels. */
export const PRE_LABELED = stryMutAct_9fa48("411") ? "" : (stryCov_9fa48("411"), 'pre-labeled by the serving model');

/** Distinct texts a chunk's counts keep: the reasons are a few fixed texts, the details vary. */
const MAX_REASONS = 10;
function countInto(counts: Record<string, number>, text: string): void {
  if (stryMutAct_9fa48("412")) {
    {}
  } else {
    stryCov_9fa48("412");
    if (stryMutAct_9fa48("415") ? text in counts && Object.keys(counts).length < MAX_REASONS : stryMutAct_9fa48("414") ? false : stryMutAct_9fa48("413") ? true : (stryCov_9fa48("413", "414", "415"), text in counts || (stryMutAct_9fa48("418") ? Object.keys(counts).length >= MAX_REASONS : stryMutAct_9fa48("417") ? Object.keys(counts).length <= MAX_REASONS : stryMutAct_9fa48("416") ? false : (stryCov_9fa48("416", "417", "418"), Object.keys(counts).length < MAX_REASONS)))) counts[text] = stryMutAct_9fa48("419") ? (counts[text] ?? 0) - 1 : (stryCov_9fa48("419"), (stryMutAct_9fa48("420") ? counts[text] && 0 : (stryCov_9fa48("420"), counts[text] ?? 0)) + 1);
  }
}

/**
 * Writes one task file per image of a chunk, from image `resume.next` on, with the pre-labels
 * `prelabel` gives. Past `deadline` it sends no further image and answers where the next invocation
 * goes on (`next`), with the counts so far; the images before it have their tasks, which are never
 * written again. At least one image is written per invocation, so each one makes progress.
 */
export async function writeTaskChunk(options: TaskRound & {
  readonly chunk: TaskChunk;
  readonly prelabel: Prelabeler;
  /** The previous invocation's summary, when it stopped before the chunk's end. @default - from the first image */
  readonly resume?: Partial<TaskChunkSummary>;
  /** Epoch milliseconds after which no further image is taken (the Lambda must end in time). @default - none */
  readonly deadline?: number;
  readonly now?: () => number;
  /** Images pre-labeled at once. @default 4 */
  readonly concurrency?: number;
}): Promise<TaskChunkSummary> {
  if (stryMutAct_9fa48("421")) {
    {}
  } else {
    stryCov_9fa48("421");
    const {
      store,
      inboxBucket,
      batch,
      round,
      runId,
      resume = {}
    } = options;
    const now = stryMutAct_9fa48("422") ? options.now && Date.now : (stryCov_9fa48("422"), options.now ?? Date.now);
    const images = await readManifestImages(store, s3Uri(options.artifactsBucket, taskChunkKey(runId, options.chunk.index)));
    const meta = stryMutAct_9fa48("423") ? {} : (stryCov_9fa48("423"), {
      batch,
      generation: round,
      run: runId
    });
    let predicted = stryMutAct_9fa48("424") ? resume.predicted && 0 : (stryCov_9fa48("424"), resume.predicted ?? 0);
    const noPrediction: Record<string, number> = stryMutAct_9fa48("425") ? {} : (stryCov_9fa48("425"), {
      ...resume.noPrediction
    });
    const reasons: Record<string, number> = stryMutAct_9fa48("426") ? {} : (stryCov_9fa48("426"), {
      ...resume.reasons
    });
    const first = stryMutAct_9fa48("427") ? resume.next && 0 : (stryCov_9fa48("427"), resume.next ?? 0);
    let next = first;
    const worker = async () => {
      if (stryMutAct_9fa48("428")) {
        {}
      } else {
        stryCov_9fa48("428");
        while (stryMutAct_9fa48("430") ? next < images.length || next === first || options.deadline === undefined || now() < options.deadline : stryMutAct_9fa48("429") ? false : (stryCov_9fa48("429", "430"), (stryMutAct_9fa48("433") ? next >= images.length : stryMutAct_9fa48("432") ? next <= images.length : stryMutAct_9fa48("431") ? true : (stryCov_9fa48("431", "432", "433"), next < images.length)) && (stryMutAct_9fa48("435") ? (next === first || options.deadline === undefined) && now() < options.deadline : stryMutAct_9fa48("434") ? true : (stryCov_9fa48("434", "435"), (stryMutAct_9fa48("437") ? next === first && options.deadline === undefined : stryMutAct_9fa48("436") ? false : (stryCov_9fa48("436", "437"), (stryMutAct_9fa48("439") ? next !== first : stryMutAct_9fa48("438") ? false : (stryCov_9fa48("438", "439"), next === first)) || (stryMutAct_9fa48("441") ? options.deadline !== undefined : stryMutAct_9fa48("440") ? false : (stryCov_9fa48("440", "441"), options.deadline === undefined)))) || (stryMutAct_9fa48("444") ? now() >= options.deadline : stryMutAct_9fa48("443") ? now() <= options.deadline : stryMutAct_9fa48("442") ? false : (stryCov_9fa48("442", "443", "444"), now() < options.deadline)))))) {
          if (stryMutAct_9fa48("445")) {
            {}
          } else {
            stryCov_9fa48("445");
            const image = images[stryMutAct_9fa48("446") ? next-- : (stryCov_9fa48("446"), next++)];
            const answer = await options.prelabel(image);
            const {
              prediction
            } = answer;
            if (stryMutAct_9fa48("448") ? false : stryMutAct_9fa48("447") ? true : (stryCov_9fa48("447", "448"), prediction)) stryMutAct_9fa48("449") ? predicted-- : (stryCov_9fa48("449"), predicted++);else {
              if (stryMutAct_9fa48("450")) {
                {}
              } else {
                stryCov_9fa48("450");
                const reason = stryMutAct_9fa48("451") ? answer.reason && 'the serving model gave none' : (stryCov_9fa48("451"), answer.reason ?? (stryMutAct_9fa48("452") ? "" : (stryCov_9fa48("452"), 'the serving model gave none')));
                countInto(reasons, reason);
                countInto(noPrediction, answer.detail ? stryMutAct_9fa48("453") ? `` : (stryCov_9fa48("453"), `${reason}: ${answer.detail}`) : reason);
              }
            }
            const task: LabelStudioTask = labelStudioTask(image, meta, prediction);
            await store.write(s3Uri(inboxBucket, taskKey(batch, round, image)), Buffer.from(stryMutAct_9fa48("454") ? `` : (stryCov_9fa48("454"), `${JSON.stringify(task)}\n`)), stryMutAct_9fa48("455") ? "" : (stryCov_9fa48("455"), 'application/json'));
          }
        }
      }
    };
    await Promise.all(Array.from(stryMutAct_9fa48("456") ? {} : (stryCov_9fa48("456"), {
      length: stryMutAct_9fa48("457") ? Math.min(1, options.concurrency ?? ENDPOINT_CONCURRENCY) : (stryCov_9fa48("457"), Math.max(1, stryMutAct_9fa48("458") ? options.concurrency && ENDPOINT_CONCURRENCY : (stryCov_9fa48("458"), options.concurrency ?? ENDPOINT_CONCURRENCY)))
    }), worker));
    const commonest = stryMutAct_9fa48("460") ? Object.entries(reasons)[0]?.[0] : stryMutAct_9fa48("459") ? Object.entries(reasons).sort((a, b) => b[1] - a[1])[0][0] : (stryCov_9fa48("459", "460"), Object.entries(reasons).sort(stryMutAct_9fa48("461") ? () => undefined : (stryCov_9fa48("461"), (a, b) => stryMutAct_9fa48("462") ? b[1] + a[1] : (stryCov_9fa48("462"), b[1] - a[1])))[0]?.[0]);
    return stryMutAct_9fa48("463") ? {} : (stryCov_9fa48("463"), {
      index: options.chunk.index,
      tasks: images.length,
      predicted,
      ...((stryMutAct_9fa48("467") ? Object.keys(noPrediction).length <= 0 : stryMutAct_9fa48("466") ? Object.keys(noPrediction).length >= 0 : stryMutAct_9fa48("465") ? false : stryMutAct_9fa48("464") ? true : (stryCov_9fa48("464", "465", "466", "467"), Object.keys(noPrediction).length > 0)) ? stryMutAct_9fa48("468") ? {} : (stryCov_9fa48("468"), {
        noPrediction
      }) : {}),
      prelabels: (stryMutAct_9fa48("471") ? predicted !== images.length : stryMutAct_9fa48("470") ? false : stryMutAct_9fa48("469") ? true : (stryCov_9fa48("469", "470", "471"), predicted === images.length)) ? PRE_LABELED : stryMutAct_9fa48("472") ? `` : (stryCov_9fa48("472"), `${(stryMutAct_9fa48("475") ? predicted !== 0 : stryMutAct_9fa48("474") ? false : stryMutAct_9fa48("473") ? true : (stryCov_9fa48("473", "474", "475"), predicted === 0)) ? stryMutAct_9fa48("476") ? "" : (stryCov_9fa48("476"), 'without') : stryMutAct_9fa48("477") ? "" : (stryCov_9fa48("477"), 'some without')} pre-labels: ${commonest}`),
      ...((stryMutAct_9fa48("481") ? next >= images.length : stryMutAct_9fa48("480") ? next <= images.length : stryMutAct_9fa48("479") ? false : stryMutAct_9fa48("478") ? true : (stryCov_9fa48("478", "479", "480", "481"), next < images.length)) ? stryMutAct_9fa48("482") ? {} : (stryCov_9fa48("482"), {
        next,
        reasons
      }) : {})
    });
  }
}

/** Where one marker per annotated task of a batch's round is kept (artifacts bucket). */
export function annotatedPrefix(batch: string, round: string): string {
  if (stryMutAct_9fa48("483")) {
    {}
  } else {
    stryCov_9fa48("483");
    return stryMutAct_9fa48("484") ? `` : (stryCov_9fa48("484"), `${batchKeyPrefix(batch)}labelstudio/${round}/annotated/`);
  }
}

/** The largest annotation file the start Lambda reads (a task file holds its brush RLEs; a 4032×3024 one is under 100 KiB a class). */
export const MAX_ANNOTATION_FILE_BYTES = stryMutAct_9fa48("485") ? 16 * 1024 / 1024 : (stryCov_9fa48("485"), (stryMutAct_9fa48("486") ? 16 / 1024 : (stryCov_9fa48("486"), 16 * 1024)) * 1024);
export type AnnotationEvent = {
  readonly kind: 'annotated';
  readonly batch: string;
  readonly round: string;
  readonly image: string;
  /** The task's folder of markers, one per file that annotates it (`<hash of the image>/`). */
  readonly marker: string;
} | {
  readonly kind: 'ignored';
  readonly reason: string;
};

/** Whether a key is one of Label Studio's target-storage files: `<annotation id>` or `<task id>.json`, directly under the prefix. */
export function isAnnotationKey(key: string): boolean {
  if (stryMutAct_9fa48("487")) {
    {}
  } else {
    stryCov_9fa48("487");
    return stryMutAct_9fa48("490") ? key.startsWith(LABELSTUDIO_ANNOTATIONS_PREFIX) || /^[^/]+$/.test(key.slice(LABELSTUDIO_ANNOTATIONS_PREFIX.length)) : stryMutAct_9fa48("489") ? false : stryMutAct_9fa48("488") ? true : (stryCov_9fa48("488", "489", "490"), (stryMutAct_9fa48("491") ? key.endsWith(LABELSTUDIO_ANNOTATIONS_PREFIX) : (stryCov_9fa48("491"), key.startsWith(LABELSTUDIO_ANNOTATIONS_PREFIX))) && (stryMutAct_9fa48("495") ? /^[/]+$/ : stryMutAct_9fa48("494") ? /^[^/]$/ : stryMutAct_9fa48("493") ? /^[^/]+/ : stryMutAct_9fa48("492") ? /[^/]+$/ : (stryCov_9fa48("492", "493", "494", "495"), /^[^/]+$/)).test(stryMutAct_9fa48("496") ? key : (stryCov_9fa48("496"), key.slice(LABELSTUDIO_ANNOTATIONS_PREFIX.length))));
  }
}

/**
 * What one target-storage file says: whose task (segpipe's `meta`: batch and round) of which image.
 * Both shapes: one annotation with its task nested (`task`), or a task with its `annotations`.
 */
export function readAnnotationEvent(body: Buffer, key: string): AnnotationEvent {
  if (stryMutAct_9fa48("497")) {
    {}
  } else {
    stryCov_9fa48("497");
    let json: unknown;
    try {
      if (stryMutAct_9fa48("498")) {
        {}
      } else {
        stryCov_9fa48("498");
        json = JSON.parse(body.toString(stryMutAct_9fa48("499") ? "" : (stryCov_9fa48("499"), 'utf8')));
      }
    } catch {
      if (stryMutAct_9fa48("500")) {
        {}
      } else {
        stryCov_9fa48("500");
        return stryMutAct_9fa48("501") ? {} : (stryCov_9fa48("501"), {
          kind: stryMutAct_9fa48("502") ? "" : (stryCov_9fa48("502"), 'ignored'),
          reason: stryMutAct_9fa48("503") ? `` : (stryCov_9fa48("503"), `${key} is not JSON`)
        });
      }
    }
    if (stryMutAct_9fa48("506") ? (typeof json !== 'object' || json === null) && Array.isArray(json) : stryMutAct_9fa48("505") ? false : stryMutAct_9fa48("504") ? true : (stryCov_9fa48("504", "505", "506"), (stryMutAct_9fa48("508") ? typeof json !== 'object' && json === null : stryMutAct_9fa48("507") ? false : (stryCov_9fa48("507", "508"), (stryMutAct_9fa48("510") ? typeof json === 'object' : stryMutAct_9fa48("509") ? false : (stryCov_9fa48("509", "510"), typeof json !== (stryMutAct_9fa48("511") ? "" : (stryCov_9fa48("511"), 'object')))) || (stryMutAct_9fa48("513") ? json !== null : stryMutAct_9fa48("512") ? false : (stryCov_9fa48("512", "513"), json === null)))) || Array.isArray(json))) return stryMutAct_9fa48("514") ? {} : (stryCov_9fa48("514"), {
      kind: stryMutAct_9fa48("515") ? "" : (stryCov_9fa48("515"), 'ignored'),
      reason: stryMutAct_9fa48("516") ? `` : (stryCov_9fa48("516"), `${key} is not a Label Studio annotation or task object`)
    });
    const object = json as Record<string, unknown>;
    const task = (typeof object.task === 'object' && object.task !== null ? object.task : object) as {
      data?: {
        image?: unknown;
      };
      meta?: {
        batch?: unknown;
        generation?: unknown;
      };
    };
    const image = stryMutAct_9fa48("517") ? task.data.image : (stryCov_9fa48("517"), task.data?.image);
    const batch = stryMutAct_9fa48("518") ? task.meta.batch : (stryCov_9fa48("518"), task.meta?.batch);
    const round = stryMutAct_9fa48("519") ? task.meta.generation : (stryCov_9fa48("519"), task.meta?.generation);
    if (stryMutAct_9fa48("522") ? (typeof image !== 'string' || typeof batch !== 'string') && typeof round !== 'string' : stryMutAct_9fa48("521") ? false : stryMutAct_9fa48("520") ? true : (stryCov_9fa48("520", "521", "522"), (stryMutAct_9fa48("524") ? typeof image !== 'string' && typeof batch !== 'string' : stryMutAct_9fa48("523") ? false : (stryCov_9fa48("523", "524"), (stryMutAct_9fa48("526") ? typeof image === 'string' : stryMutAct_9fa48("525") ? false : (stryCov_9fa48("525", "526"), typeof image !== (stryMutAct_9fa48("527") ? "" : (stryCov_9fa48("527"), 'string')))) || (stryMutAct_9fa48("529") ? typeof batch === 'string' : stryMutAct_9fa48("528") ? false : (stryCov_9fa48("528", "529"), typeof batch !== (stryMutAct_9fa48("530") ? "" : (stryCov_9fa48("530"), 'string')))))) || (stryMutAct_9fa48("532") ? typeof round === 'string' : stryMutAct_9fa48("531") ? false : (stryCov_9fa48("531", "532"), typeof round !== (stryMutAct_9fa48("533") ? "" : (stryCov_9fa48("533"), 'string')))))) {
      if (stryMutAct_9fa48("534")) {
        {}
      } else {
        stryCov_9fa48("534");
        return stryMutAct_9fa48("535") ? {} : (stryCov_9fa48("535"), {
          kind: stryMutAct_9fa48("536") ? "" : (stryCov_9fa48("536"), 'ignored'),
          reason: stryMutAct_9fa48("537") ? `` : (stryCov_9fa48("537"), `${key}: its task has no segpipe meta (batch, generation) and data.image; tasks segpipe wrote carry them`)
        });
      }
    }
    if (stryMutAct_9fa48("540") ? (batch === '' || batch.includes('/') || round === '' || round.includes('/') || batch === '.' || batch === '..' || round === '.') && round === '..' : stryMutAct_9fa48("539") ? false : stryMutAct_9fa48("538") ? true : (stryCov_9fa48("538", "539", "540"), (stryMutAct_9fa48("542") ? (batch === '' || batch.includes('/') || round === '' || round.includes('/') || batch === '.' || batch === '..') && round === '.' : stryMutAct_9fa48("541") ? false : (stryCov_9fa48("541", "542"), (stryMutAct_9fa48("544") ? (batch === '' || batch.includes('/') || round === '' || round.includes('/') || batch === '.') && batch === '..' : stryMutAct_9fa48("543") ? false : (stryCov_9fa48("543", "544"), (stryMutAct_9fa48("546") ? (batch === '' || batch.includes('/') || round === '' || round.includes('/')) && batch === '.' : stryMutAct_9fa48("545") ? false : (stryCov_9fa48("545", "546"), (stryMutAct_9fa48("548") ? (batch === '' || batch.includes('/') || round === '') && round.includes('/') : stryMutAct_9fa48("547") ? false : (stryCov_9fa48("547", "548"), (stryMutAct_9fa48("550") ? (batch === '' || batch.includes('/')) && round === '' : stryMutAct_9fa48("549") ? false : (stryCov_9fa48("549", "550"), (stryMutAct_9fa48("552") ? batch === '' && batch.includes('/') : stryMutAct_9fa48("551") ? false : (stryCov_9fa48("551", "552"), (stryMutAct_9fa48("554") ? batch !== '' : stryMutAct_9fa48("553") ? false : (stryCov_9fa48("553", "554"), batch === (stryMutAct_9fa48("555") ? "Stryker was here!" : (stryCov_9fa48("555"), '')))) || batch.includes(stryMutAct_9fa48("556") ? "" : (stryCov_9fa48("556"), '/')))) || (stryMutAct_9fa48("558") ? round !== '' : stryMutAct_9fa48("557") ? false : (stryCov_9fa48("557", "558"), round === (stryMutAct_9fa48("559") ? "Stryker was here!" : (stryCov_9fa48("559"), '')))))) || round.includes(stryMutAct_9fa48("560") ? "" : (stryCov_9fa48("560"), '/')))) || (stryMutAct_9fa48("562") ? batch !== '.' : stryMutAct_9fa48("561") ? false : (stryCov_9fa48("561", "562"), batch === (stryMutAct_9fa48("563") ? "" : (stryCov_9fa48("563"), '.')))))) || (stryMutAct_9fa48("565") ? batch !== '..' : stryMutAct_9fa48("564") ? false : (stryCov_9fa48("564", "565"), batch === (stryMutAct_9fa48("566") ? "" : (stryCov_9fa48("566"), '..')))))) || (stryMutAct_9fa48("568") ? round !== '.' : stryMutAct_9fa48("567") ? false : (stryCov_9fa48("567", "568"), round === (stryMutAct_9fa48("569") ? "" : (stryCov_9fa48("569"), '.')))))) || (stryMutAct_9fa48("571") ? round !== '..' : stryMutAct_9fa48("570") ? false : (stryCov_9fa48("570", "571"), round === (stryMutAct_9fa48("572") ? "" : (stryCov_9fa48("572"), '..')))))) {
      if (stryMutAct_9fa48("573")) {
        {}
      } else {
        stryCov_9fa48("573");
        return stryMutAct_9fa48("574") ? {} : (stryCov_9fa48("574"), {
          kind: stryMutAct_9fa48("575") ? "" : (stryCov_9fa48("575"), 'ignored'),
          reason: stryMutAct_9fa48("576") ? `` : (stryCov_9fa48("576"), `${key}: its task's meta.batch or meta.generation is not one key segment`)
        });
      }
    }
    return stryMutAct_9fa48("577") ? {} : (stryCov_9fa48("577"), {
      kind: stryMutAct_9fa48("578") ? "" : (stryCov_9fa48("578"), 'annotated'),
      batch,
      round,
      image,
      marker: stryMutAct_9fa48("579") ? `` : (stryCov_9fa48("579"), `${annotatedPrefix(batch, round)}${imageHash(image)}/`)
    });
  }
}

/**
 * Records an annotated task: one small object per task and file, named by both (a file saved again
 * writes the same one, and a task annotated in two files counts once). The round's run lists them
 * into its own list of files, which its conversion reads instead of the whole target storage.
 */
export async function recordAnnotation(store: ObjectStore, artifactsBucket: string, event: Extract<AnnotationEvent, {
  kind: 'annotated';
}>, key: string): Promise<void> {
  if (stryMutAct_9fa48("580")) {
    {}
  } else {
    stryCov_9fa48("580");
    await store.write(s3Uri(artifactsBucket, stryMutAct_9fa48("581") ? `` : (stryCov_9fa48("581"), `${event.marker}${stryMutAct_9fa48("582") ? key : (stryCov_9fa48("582"), key.slice(LABELSTUDIO_ANNOTATIONS_PREFIX.length))}`)), Buffer.from(stryMutAct_9fa48("583") ? `` : (stryCov_9fa48("583"), `${JSON.stringify(stryMutAct_9fa48("584") ? {} : (stryCov_9fa48("584"), {
      image: event.image,
      annotation: key
    }))}\n`)), stryMutAct_9fa48("585") ? "" : (stryCov_9fa48("585"), 'application/json'));
  }
}
export interface LabelingProgress {
  readonly annotated: number;
  readonly tasks: number;
  /** `complete`: every task annotated; `waiting`: before the deadline; `enough`/`short`: at the deadline, with at least / less than the share. */
  readonly state: 'complete' | 'waiting' | 'enough' | 'short';
  readonly reason: string;
  /**
   * When the run goes on: its own list of the round's target-storage files (`labelStudioFilesKey`), or
   * '' when a marker names no file (recorded before markers named them) and the conversion reads every file.
   */
  readonly labelStudioFiles?: string;
}

/** A round's markers: per annotated task, one per file annotating it (none for a marker recorded before they named files). */
async function annotatedMarkers(options: {
  readonly store: ListingStore;
  readonly artifactsBucket: string;
  readonly batch: string;
  readonly round: string;
}): Promise<{
  task: string;
  file?: string;
}[]> {
  if (stryMutAct_9fa48("586")) {
    {}
  } else {
    stryCov_9fa48("586");
    const prefix = annotatedPrefix(options.batch, options.round);
    return (await options.store.list(options.artifactsBucket, prefix)).map(o => {
      if (stryMutAct_9fa48("587")) {
        {}
      } else {
        stryCov_9fa48("587");
        const [task, file] = stryMutAct_9fa48("588") ? o.key.split('/') : (stryCov_9fa48("588"), o.key.slice(prefix.length).split(stryMutAct_9fa48("589") ? "" : (stryCov_9fa48("589"), '/')));
        return file ? stryMutAct_9fa48("590") ? {} : (stryCov_9fa48("590"), {
          task,
          file
        }) : stryMutAct_9fa48("591") ? {} : (stryCov_9fa48("591"), {
          task
        });
      }
    });
  }
}

/**
 * Counts a round's annotated tasks (a listing of its markers) and says whether the run goes on. When
 * it does, the round is closed (an annotation saved from then on goes to the batch's next corrections
 * run, `corrections.ts`) and its files listed into the run's own list: one more listing, no file read.
 */
export async function countAndCloseRound(options: {
  readonly store: ListingStore & VersionedStore;
  readonly artifactsBucket: string;
  readonly inboxBucket: string;
  readonly runId: string;
  readonly batch: string;
  readonly round: string;
  readonly tasks: number;
  /** When the run began waiting (ISO 8601). */
  readonly since: string;
  readonly deadlineHours: number;
  readonly minLabeledFraction: number;
  readonly now?: Date;
}): Promise<LabelingProgress> {
  if (stryMutAct_9fa48("592")) {
    {}
  } else {
    stryCov_9fa48("592");
    const markers = await annotatedMarkers(options);
    const progress = progressOf(new Set(markers.map(stryMutAct_9fa48("593") ? () => undefined : (stryCov_9fa48("593"), m => m.task))).size, options);
    if (stryMutAct_9fa48("596") ? progress.state !== 'complete' || progress.state !== 'enough' : stryMutAct_9fa48("595") ? false : stryMutAct_9fa48("594") ? true : (stryCov_9fa48("594", "595", "596"), (stryMutAct_9fa48("598") ? progress.state === 'complete' : stryMutAct_9fa48("597") ? true : (stryCov_9fa48("597", "598"), progress.state !== (stryMutAct_9fa48("599") ? "" : (stryCov_9fa48("599"), 'complete')))) && (stryMutAct_9fa48("601") ? progress.state === 'enough' : stryMutAct_9fa48("600") ? true : (stryCov_9fa48("600", "601"), progress.state !== (stryMutAct_9fa48("602") ? "" : (stryCov_9fa48("602"), 'enough')))))) return progress;
    await closeRound(options.store, options.artifactsBucket, options.batch, options.round);
    // Listed after the close: a file saved later is a correction, and one saved before has its marker here.
    const listed = (await annotatedMarkers(options)).map(stryMutAct_9fa48("603") ? () => undefined : (stryCov_9fa48("603"), m => m.file));
    if (stryMutAct_9fa48("606") ? listed.every(file => file === undefined) : stryMutAct_9fa48("605") ? false : stryMutAct_9fa48("604") ? true : (stryCov_9fa48("604", "605", "606"), listed.some(stryMutAct_9fa48("607") ? () => undefined : (stryCov_9fa48("607"), file => stryMutAct_9fa48("610") ? file !== undefined : stryMutAct_9fa48("609") ? false : stryMutAct_9fa48("608") ? true : (stryCov_9fa48("608", "609", "610"), file === undefined))))) return stryMutAct_9fa48("611") ? {} : (stryCov_9fa48("611"), {
      ...progress,
      labelStudioFiles: stryMutAct_9fa48("612") ? "Stryker was here!" : (stryCov_9fa48("612"), '')
    });
    const files = stryMutAct_9fa48("613") ? [...new Set(listed as string[])].map(file => s3Uri(options.inboxBucket, `${LABELSTUDIO_ANNOTATIONS_PREFIX}${file}`)) : (stryCov_9fa48("613"), (stryMutAct_9fa48("614") ? [] : (stryCov_9fa48("614"), [...new Set(listed as string[])])).sort().map(stryMutAct_9fa48("615") ? () => undefined : (stryCov_9fa48("615"), file => s3Uri(options.inboxBucket, stryMutAct_9fa48("616") ? `` : (stryCov_9fa48("616"), `${LABELSTUDIO_ANNOTATIONS_PREFIX}${file}`)))));
    return stryMutAct_9fa48("617") ? {} : (stryCov_9fa48("617"), {
      ...progress,
      labelStudioFiles: await writeLabelStudioFiles(options.store, options.artifactsBucket, options.runId, files)
    });
  }
}

/** The decision alone, from the count. */
export function progressOf(annotated: number, options: {
  readonly tasks: number;
  readonly since: string;
  readonly deadlineHours: number;
  readonly minLabeledFraction: number;
  readonly now?: Date;
}): LabelingProgress {
  if (stryMutAct_9fa48("618")) {
    {}
  } else {
    stryCov_9fa48("618");
    const {
      tasks
    } = options;
    const deadline = stryMutAct_9fa48("619") ? Date.parse(options.since) - options.deadlineHours * 3600_000 : (stryCov_9fa48("619"), Date.parse(options.since) + (stryMutAct_9fa48("620") ? options.deadlineHours / 3600_000 : (stryCov_9fa48("620"), options.deadlineHours * 3600_000)));
    const now = (stryMutAct_9fa48("621") ? options.now && new Date() : (stryCov_9fa48("621"), options.now ?? new Date())).getTime();
    const counted = stryMutAct_9fa48("622") ? `` : (stryCov_9fa48("622"), `${annotated} of ${tasks} tasks annotated`);
    if (stryMutAct_9fa48("626") ? annotated < tasks : stryMutAct_9fa48("625") ? annotated > tasks : stryMutAct_9fa48("624") ? false : stryMutAct_9fa48("623") ? true : (stryCov_9fa48("623", "624", "625", "626"), annotated >= tasks)) return stryMutAct_9fa48("627") ? {} : (stryCov_9fa48("627"), {
      annotated,
      tasks,
      state: stryMutAct_9fa48("628") ? "" : (stryCov_9fa48("628"), 'complete'),
      reason: counted
    });
    if (stryMutAct_9fa48("631") ? false : stryMutAct_9fa48("630") ? true : stryMutAct_9fa48("629") ? now >= deadline : (stryCov_9fa48("629", "630", "631"), !(stryMutAct_9fa48("635") ? now < deadline : stryMutAct_9fa48("634") ? now > deadline : stryMutAct_9fa48("633") ? false : stryMutAct_9fa48("632") ? true : (stryCov_9fa48("632", "633", "634", "635"), now >= deadline)))) return stryMutAct_9fa48("636") ? {} : (stryCov_9fa48("636"), {
      annotated,
      tasks,
      state: stryMutAct_9fa48("637") ? "" : (stryCov_9fa48("637"), 'waiting'),
      reason: stryMutAct_9fa48("638") ? `` : (stryCov_9fa48("638"), `${counted}; waiting until ${new Date(deadline).toISOString()}`)
    });
    const needed = Math.ceil(stryMutAct_9fa48("639") ? options.minLabeledFraction / tasks : (stryCov_9fa48("639"), options.minLabeledFraction * tasks));
    return (stryMutAct_9fa48("643") ? annotated < needed : stryMutAct_9fa48("642") ? annotated > needed : stryMutAct_9fa48("641") ? false : stryMutAct_9fa48("640") ? true : (stryCov_9fa48("640", "641", "642", "643"), annotated >= needed)) ? stryMutAct_9fa48("644") ? {} : (stryCov_9fa48("644"), {
      annotated,
      tasks,
      state: stryMutAct_9fa48("645") ? "" : (stryCov_9fa48("645"), 'enough'),
      reason: stryMutAct_9fa48("646") ? `` : (stryCov_9fa48("646"), `${counted} at the deadline (${options.deadlineHours} h), at least the ${needed} labeling.labelStudio.minLabeledFraction asks`)
    }) : stryMutAct_9fa48("647") ? {} : (stryCov_9fa48("647"), {
      annotated,
      tasks,
      state: stryMutAct_9fa48("648") ? "" : (stryCov_9fa48("648"), 'short'),
      reason: stryMutAct_9fa48("649") ? `` : (stryCov_9fa48("649"), `${counted} at the deadline (${options.deadlineHours} h); labeling.labelStudio.minLabeledFraction asks for ${needed}: the images go back to the batch`)
    });
  }
}