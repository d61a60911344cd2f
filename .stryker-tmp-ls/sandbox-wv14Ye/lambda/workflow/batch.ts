// @ts-nocheck
import { createHash } from 'node:crypto';
import { decodeEventKey } from '../common/s3-keys';
import type { ObjectStore } from '../convert/stores/object-store';
import { inputManifest } from './labeling';
import { BATCHES_PREFIX, IMAGES_PREFIX, LABELED_PREFIX, s3Uri } from './layout';
import { nameSafe } from './names';
import { type ListingStore, readJson, updateJson, type VersionedStore } from './versioned-json';

/** The marker that starts a batch at once instead of waiting for it to settle. */
export const START_MARKER = '_START';
/** Images Ground Truth labels. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];

/** What an inbox object means to the pipeline. */
export type InboxObject =
  | { readonly kind: 'image'; readonly batch: string; readonly key: string }
  | { readonly kind: 'start-marker'; readonly batch: string; readonly key: string }
  | { readonly kind: 'export'; readonly batch: string; readonly key: string }
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: string };

/**
 * Files under `labeled/<batch>/` that start an import: a Ground Truth or Lookout for Vision manifest,
 * a COCO or Label Studio JSON, a CVAT or VOC zip. What the file is, is read from its content.
 */
export const EXPORT_EXTENSIONS = ['.manifest', '.jsonl', '.json', '.zip'];

/** Classifies an inbox key: `images/<batch>/**`, `<prefix>/<batch>/_START`, `labeled/<batch>/<export>`. */
export function classifyInboxKey(key: string): InboxObject {
  const match = /^(images|labeled)\/([^/]+)\/(.+)$/s.exec(key);
  if (!match) return { kind: 'ignored', key, reason: 'not under images/<batch>/ or labeled/<batch>/' };
  const [, prefix, batch, rest] = match;
  if (rest === START_MARKER) return { kind: 'start-marker', batch, key };
  if (`${prefix}/` === IMAGES_PREFIX) {
    const lower = rest.toLowerCase();
    if (IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext))) return { kind: 'image', batch, key };
    return { kind: 'ignored', key, reason: `not an image Ground Truth labels (${IMAGE_EXTENSIONS.join(', ')})` };
  }
  if (`${prefix}/` === LABELED_PREFIX && !rest.includes('/') && EXPORT_EXTENSIONS.some((ext) => rest.toLowerCase().endsWith(ext)))
    return { kind: 'export', batch, key };
  return { kind: 'ignored', key, reason: `under labeled/<batch>/ only an export file (${EXPORT_EXTENSIONS.join(', ')}) starts an import` };
}

/**
 * S3 → EventBridge events do not document whether keys are URL-encoded: the raw key is tried
 * first, then its decoded form (`+` as a space).
 */
export function keyCandidates(eventKey: string): string[] {
  const decoded = decodeEventKey(eventKey);
  return decoded === eventKey ? [eventKey] : [eventKey, decoded];
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * The execution name of a batch's run of a generation: at most 80 characters of `[a-z0-9-]`. Every
 * event of the batch while that generation settles asks for the same name with the same input, so
 * Step Functions starts one execution however many events arrive.
 */
export function batchExecutionName(batch: string, generation: number): string {
  return `${nameSafe(batch).slice(0, 50) || 'batch'}-${shortHash(batch)}-g${generation}`;
}

/** The artifacts bucket's prefix of everything the pipeline keeps about one batch (its name is the uploader's, so hashed). */
export function batchKeyPrefix(batch: string): string {
  return `${BATCHES_PREFIX}${shortHash(batch)}/`;
}

/** Where the pipeline keeps a batch's progress in the artifacts bucket. */
export function batchStateKey(batch: string): string {
  return `${BATCHES_PREFIX}${shortHash(batch)}/state.json`;
}

/** The images a generation's snapshot took, as a Ground Truth input manifest (one `source-ref` a line). */
export function generationImagesKey(batch: string, generation: number): string {
  return `${BATCHES_PREFIX}${shortHash(batch)}/generations/${String(generation).padStart(6, '0')}/images.manifest`;
}

/** The images earlier versions recorded as taken in the state itself, moved here by the first snapshot after an upgrade. */
export function legacyTakenKey(batch: string): string {
  return `${BATCHES_PREFIX}${shortHash(batch)}/generations/legacy/images.manifest`;
}

/** The objects a generation's snapshot left out (not images), with the reason: their number and names are the uploader's. */
export function generationIgnoredKey(batch: string, generation: number): string {
  return `${BATCHES_PREFIX}${shortHash(batch)}/generations/${String(generation).padStart(6, '0')}/ignored.json`;
}

/**
 * A batch's state: a few numbers whatever the batch's size, so that an upload event reads the same
 * bytes for the 10th image as for the 100,000th. What each generation took is a list in S3 that only
 * the next snapshot reads (once per run, not per event).
 */
export interface BatchState {
  /** Generations whose snapshot was taken; the next run is this number. */
  readonly generation: number;
  /**
   * When the last snapshot began listing the batch (ISO 8601). An image whose upload completed
   * before it was in that listing; a `_START` older than it is spent.
   */
  readonly snapshotAt?: string;
  /** Generations whose run ended before labeling: their images are given back to the next snapshot. */
  readonly released?: readonly number[];
  /**
   * Keys the last snapshot took that were uploaded just before it began (within twice
   * {@link SNAPSHOT_TIME_MARGIN_MS}): their events cannot be told apart by time alone. A batch is
   * quiet when its snapshot is taken, so this is usually empty; it is bounded by bytes, not by the batch.
   */
  readonly recent?: readonly string[];
}

/** Most bytes of keys {@link BatchState.recent} holds; beyond them an event counts as possibly new. */
export const RECENT_KEYS_MAX_BYTES = 8 * 1024;

export const EMPTY_BATCH_STATE: BatchState = { generation: 0 };

export interface ListedObject {
  readonly key: string;
  readonly lastModified: Date;
}

export interface BatchReadiness {
  readonly ready: boolean;
  readonly reason: string;
  readonly images: number;
}

/** A batch is ready once it has been quiet for `quietSeconds`, or a fresh `_START` is there. */
export function batchReadiness(objects: readonly ListedObject[], state: BatchState, quietSeconds: number, now: Date): BatchReadiness {
  const images = objects.filter((o) => classifyInboxKey(o.key).kind === 'image');
  const marker = objects.find((o) => classifyInboxKey(o.key).kind === 'start-marker');
  if (marker && (!state.snapshotAt || marker.lastModified.getTime() > Date.parse(state.snapshotAt))) {
    return { ready: true, reason: `${START_MARKER} is present`, images: images.length };
  }
  const newest = Math.max(0, ...objects.map((o) => o.lastModified.getTime()));
  const quiet = (now.getTime() - newest) / 1000;
  return quiet >= quietSeconds
    ? { ready: true, reason: `quiet for ${Math.floor(quiet)} s`, images: images.length }
    : { ready: false, reason: `last upload ${Math.floor(quiet)} s ago; waiting for ${quietSeconds} s of quiet`, images: images.length };
}

/**
 * Margin between an event's time and the snapshot's start: the event's `time` is cut to the second
 * and comes from another clock than the Lambda's. Within it an image counts as possibly new; if the
 * snapshot did take it, the next run finds nothing new and ends at once.
 */
export const SNAPSHOT_TIME_MARGIN_MS = 5000;

/**
 * Whether the image `key`, whose upload completed at `eventTime`, was in the listing of the batch's
 * last snapshot: S3 lists every object whose write completed before the listing began, and the
 * snapshot names the ones uploaded just before it. A missing or unreadable time counts as new.
 */
export function uploadedBeforeSnapshot(key: string, eventTime: string | undefined, state: BatchState): boolean {
  if (!state.snapshotAt) return false;
  if (state.recent?.includes(key)) return true;
  const uploaded = eventTime ? Date.parse(eventTime) : NaN;
  return Number.isFinite(uploaded) && uploaded + SNAPSHOT_TIME_MARGIN_MS < Date.parse(state.snapshotAt);
}

/** The keys of `images` modified within twice the margin before `listedAt`, up to {@link RECENT_KEYS_MAX_BYTES}. */
function recentKeys(objects: readonly ListedObject[], images: ReadonlySet<string>, bucket: string, listedAt: Date): string[] {
  const recent: string[] = [];
  let bytes = 0;
  for (const { key, lastModified } of objects) {
    if (lastModified.getTime() < listedAt.getTime() - 2 * SNAPSHOT_TIME_MARGIN_MS || !images.has(`s3://${bucket}/${key}`)) continue;
    bytes += Buffer.byteLength(key);
    if (bytes > RECENT_KEYS_MAX_BYTES) break;
    recent.push(key);
  }
  return recent;
}

/** Why an event of an image the last snapshot listed starts nothing. */
export const ALREADY_TAKEN = "uploaded before the batch's last snapshot, which took it";

/** A batch's state in the artifacts bucket (the empty state before its first run). */
export async function readBatchState(store: Pick<ObjectStore, 'readStart'>, bucket: string, batch: string): Promise<BatchState> {
  return { ...EMPTY_BATCH_STATE, ...(await readJson<Partial<BatchState>>(store, `s3://${bucket}/${batchStateKey(batch)}`, {})) };
}

/** Changes a batch's state without losing a concurrent change (a snapshot, a release). */
export function updateBatchState(
  store: VersionedStore,
  bucket: string,
  batch: string,
  update: (state: BatchState) => BatchState,
): Promise<BatchState> {
  return updateJson<Partial<BatchState>>(store, `s3://${bucket}/${batchStateKey(batch)}`, {}, (raw) =>
    update({ ...EMPTY_BATCH_STATE, ...raw }),
  ) as Promise<BatchState>;
}

/** Gives a generation's images back: the batch's next snapshot takes them again. */
export async function releaseGeneration(store: VersionedStore, bucket: string, batch: string, generation: number): Promise<void> {
  await updateBatchState(store, bucket, batch, (state) => ({
    ...state,
    released: [...new Set([...(state.released ?? []), generation])].sort((a, b) => a - b),
  }));
}

/** What a snapshot hands the run: where its lists are and how long they are, never the lists. */
export interface BatchSnapshot {
  /** The images of the batch no run had taken, as a Ground Truth input manifest. */
  readonly imagesManifest: string;
  readonly images: number;
  /** Objects of the batch that are not images, left out; their keys and reasons are in `ignoredList`. */
  readonly ignored: number;
  readonly ignoredList: string;
}

/** The images of a listing no earlier generation took, in key order; the other objects with their reason. */
export function newImages(
  objects: readonly ListedObject[],
  bucket: string,
  taken: ReadonlySet<string>,
): { images: string[]; ignored: { key: string; reason: string }[] } {
  const images: string[] = [];
  const ignored: { key: string; reason: string }[] = [];
  for (const { key } of [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    const kind = classifyInboxKey(key);
    if (kind.kind === 'ignored') ignored.push({ key, reason: kind.reason });
    const uri = `s3://${bucket}/${key}`;
    if (kind.kind === 'image' && !taken.has(uri)) images.push(uri);
  }
  return { images, ignored };
}

/**
 * Takes a generation's snapshot of a batch: lists it, leaves out what earlier generations took
 * (unless released), writes the rest as the generation's input manifest, and opens the next
 * generation for later uploads. Repeating it for a generation already taken (a retried Lambda)
 * answers the same snapshot. No list travels in the execution state, so a run has no image cap.
 */
export async function takeBatchSnapshot(options: {
  readonly store: VersionedStore & ListingStore;
  readonly inboxBucket: string;
  readonly artifactsBucket: string;
  readonly batch: string;
  readonly generation: number;
  readonly now?: () => Date;
}): Promise<BatchSnapshot> {
  const { store, inboxBucket, artifactsBucket, batch, generation } = options;
  if (!Number.isInteger(generation) || generation < 0)
    throw new Error(`generation must be a whole number from 0, received ${JSON.stringify(generation)}`);
  const now = options.now ?? (() => new Date());
  const where = {
    imagesManifest: s3Uri(artifactsBucket, generationImagesKey(batch, generation)),
    ignoredList: s3Uri(artifactsBucket, generationIgnoredKey(batch, generation)),
  };
  const state = await readBatchState(store, artifactsBucket, batch);
  if (state.generation > generation) {
    const taken = await readGenerationImages(store, where.imagesManifest);
    const ignored = await readJson<unknown[]>(store, where.ignoredList, []);
    return { ...where, images: taken.length, ignored: ignored.length };
  }
  const listedAt = now();
  const objects = await store.list(inboxBucket, `${IMAGES_PREFIX}${batch}/`);
  const released = new Set(state.released ?? []);
  // Earlier versions kept every taken image in the state: the first snapshot after an upgrade moves
  // that list out, so that nothing labeled before is labeled again and events read a small state.
  const legacy = (state as { taken?: readonly string[] }).taken;
  if (legacy) await store.write(s3Uri(artifactsBucket, legacyTakenKey(batch)), Buffer.from(inputManifest(legacy)), 'application/x-ndjson');
  const taken = new Set<string>(await readGenerationImages(store, s3Uri(artifactsBucket, legacyTakenKey(batch))));
  for (let earlier = 0; earlier < generation; earlier++) {
    if (released.has(earlier)) continue;
    for (const image of await readGenerationImages(store, s3Uri(artifactsBucket, generationImagesKey(batch, earlier)))) taken.add(image);
  }
  const { images, ignored } = newImages(objects, inboxBucket, taken);
  await store.write(where.imagesManifest, Buffer.from(inputManifest(images)), 'application/x-ndjson');
  await store.write(where.ignoredList, Buffer.from(`${JSON.stringify(ignored, null, 1)}\n`), 'application/json');
  const recent = recentKeys(objects, new Set(images), inboxBucket, listedAt);
  // The generation advances even when nothing is new (a late event): the next upload then starts the next run.
  await updateBatchState(store, artifactsBucket, batch, (current) => {
    const { taken: _moved, ...rest } = current as BatchState & { taken?: unknown };
    return { ...rest, generation: Math.max(current.generation, generation + 1), snapshotAt: listedAt.toISOString(), recent };
  });
  return { ...where, images: images.length, ignored: ignored.length };
}

/** The images a generation took (none when it wrote no list). */
async function readGenerationImages(store: Pick<ObjectStore, 'readStart'>, location: string): Promise<string[]> {
  const start = await store.readStart(location, 2 ** 31);
  if (!start) return [];
  return start.data
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { 'source-ref': string })['source-ref']);
}
