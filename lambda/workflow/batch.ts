import { createHash } from 'node:crypto';
import type { ObjectStore } from '../convert/object-store';
import { decodeEventKey } from '../common/s3-keys';
import { BATCHES_PREFIX, IMAGES_PREFIX, LABELED_PREFIX } from './layout';
import { VersionedStore, readJson, updateJson } from './versioned-json';
import { nameSafe } from './names';

/** The marker that starts a batch at once instead of waiting for it to settle. */
export const START_MARKER = '_START';
/** Images Ground Truth labels. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];

/** What an inbox object means to the pipeline. */
export type InboxObject =
  | { readonly kind: 'image'; readonly batch: string; readonly key: string }
  | { readonly kind: 'start-marker'; readonly batch: string; readonly key: string }
  | { readonly kind: 'manifest'; readonly batch: string; readonly key: string }
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: string };

/** Classifies an inbox key: `images/<batch>/**`, `<prefix>/<batch>/_START`, `labeled/<batch>/*.manifest`. */
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
  if (`${prefix}/` === LABELED_PREFIX && rest.endsWith('.manifest') && !rest.includes('/')) return { kind: 'manifest', batch, key };
  return { kind: 'ignored', key, reason: 'under labeled/<batch>/ only *.manifest files start an import' };
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

/** The execution name of an import: one run per manifest. */
export function importExecutionName(batch: string, manifestKey: string): string {
  return `${nameSafe(batch).slice(0, 50) || 'batch'}-${shortHash(batch)}-m${shortHash(manifestKey)}`;
}

/** Where the pipeline keeps a batch's progress in the artifacts bucket. */
export function batchStateKey(batch: string): string {
  return `${BATCHES_PREFIX}${shortHash(batch)}/state.json`;
}

export interface BatchState {
  /** Generations whose snapshot was taken; the next run is this number. */
  readonly generation: number;
  /** When the last snapshot was taken (ISO 8601); a `_START` older than this is spent. */
  readonly snapshotAt?: string;
  /**
   * Images a run has taken into its snapshot: never taken again, unless that run ends before its
   * labeling job starts (no workforce, no quota), which gives them back.
   */
  readonly taken: readonly string[];
}

export const EMPTY_BATCH_STATE: BatchState = { generation: 0, taken: [] };

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

/** A batch's state in the artifacts bucket (the empty state before its first run). */
export async function readBatchState(store: Pick<ObjectStore, 'readStart'>, bucket: string, batch: string): Promise<BatchState> {
  return { ...EMPTY_BATCH_STATE, ...(await readJson<Partial<BatchState>>(store, `s3://${bucket}/${batchStateKey(batch)}`, {})) };
}

/** Changes a batch's state without losing a concurrent change (a snapshot, a release). */
export function updateBatchState(store: VersionedStore, bucket: string, batch: string, update: (state: BatchState) => BatchState): Promise<BatchState> {
  return updateJson<Partial<BatchState>>(store, `s3://${bucket}/${batchStateKey(batch)}`, {}, (raw) => update({ ...EMPTY_BATCH_STATE, ...raw })) as Promise<BatchState>;
}

/** Most images one run takes: their URIs travel in the execution state, which Step Functions caps at 256 KiB. */
export const MAX_IMAGES_PER_RUN = 2000;

export interface BatchSnapshot {
  /** Images of the batch no labeling job has taken yet, as s3:// URIs. */
  readonly images: string[];
  /** Objects of the batch that are not images, with the reason they are left out. */
  readonly ignored: { key: string; reason: string }[];
}


/** The images of a batch no run has taken; beyond the per-run maximum they stay for the next run. */
export function snapshotImages(bucket: string, objects: readonly ListedObject[], state: BatchState): BatchSnapshot {
  const labeled = new Set(state.taken);
  const images: string[] = [];
  const ignored: { key: string; reason: string }[] = [];
  for (const object of [...objects].sort((a, b) => a.key.localeCompare(b.key))) {
    const kind = classifyInboxKey(object.key);
    if (kind.kind === 'ignored') ignored.push({ key: object.key, reason: kind.reason });
    const uri = `s3://${bucket}/${object.key}`;
    if (kind.kind === 'image' && !labeled.has(uri) && images.length < MAX_IMAGES_PER_RUN) images.push(uri);
  }
  return { images, ignored };
}
