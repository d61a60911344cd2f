/**
 * What a workflow conversion may read. An export (a manifest, a JSON, a zip) is an upload: the
 * addresses it names are untrusted, and IAM alone would let it read whatever the conversion's role may
 * (other runs, other batches, whole buckets). The export and every image and mask address it names are
 * checked against an allow-list of S3 prefixes before a byte is read; an address outside it is refused
 * per item, with a reason that quotes it.
 */
// @ts-nocheck

import type { Readable } from 'node:stream';
import { quoted } from '../../common/untrusted-text';
import { LABELSTUDIO_ANNOTATIONS_PREFIX } from '../../labelstudio/storage-layout';
import { IMAGES_PREFIX, LABELED_PREFIX, runLayout } from '../../workflow/layout';
import { type ObjectStart, type ObjectStore, parseS3Uri, ReadRefusedError, type ReadStartMore } from './object-store';

/** One S3 prefix a conversion may read: every key of `bucket` that starts with `prefix` (`''`: the whole bucket). */
export interface AllowedPrefix {
  readonly bucket: string;
  readonly prefix: string;
}

export type SourceAllowList = readonly AllowedPrefix[];

/** The settings an allow-list is made from (the conversion Lambdas' own). */
export interface SourceAllowListSettings {
  readonly inboxBucket: string;
  readonly artifactsBucket: string;
  /** `import.readBuckets`: `bucket` or `bucket/prefix`. */
  readonly readLocations: readonly string[];
}

/** `bucket` or `bucket/some/prefix/` (an `import.readBuckets` entry) as a prefix. */
export function parseReadLocation(location: string): AllowedPrefix {
  const slash = location.indexOf('/');
  return slash < 0 ? { bucket: location, prefix: '' } : { bucket: location.slice(0, slash), prefix: location.slice(slash + 1) };
}

/**
 * What one run's conversion may read: its batch's own `images/<batch>/` and `labeled/<batch>/`, the
 * run's labeling output, and the configured `import.readBuckets` entries. An export never reaches
 * another batch's images: a batch's uploader vouches only for that batch. A run started by hand,
 * without a batch, is an operator's and may read every batch's images.
 */
export function sourceAllowList(
  settings: SourceAllowListSettings,
  run: { readonly runId: string; readonly batch?: string; readonly export?: string },
): SourceAllowList {
  // A batch or run id is one key segment: anything else would widen its prefix.
  for (const [what, value] of [
    ['batch', run.batch],
    ['run id', run.runId],
  ] as const) {
    if (value !== undefined && (value === '' || value.includes('/') || value === '.' || value === '..'))
      throw new Error(`a ${what} is one non-empty key segment; received ${quoted(value, 100)}`);
  }
  return [
    // A run started by hand without a batch imports nothing of its own.
    ...(run.batch === undefined
      ? [{ bucket: settings.inboxBucket, prefix: IMAGES_PREFIX }]
      : [
          { bucket: settings.inboxBucket, prefix: `${IMAGES_PREFIX}${run.batch}/` },
          { bucket: settings.inboxBucket, prefix: `${LABELED_PREFIX}${run.batch}/` },
        ]),
    { bucket: settings.artifactsBucket, prefix: runLayout(run.runId).labelingOutput },
    // A Label Studio run converts the target storage's files (its reader keeps only the batch's tasks).
    ...(run.batch !== undefined && run.export === `s3://${settings.inboxBucket}/${LABELSTUDIO_ANNOTATIONS_PREFIX}`
      ? [{ bucket: settings.inboxBucket, prefix: LABELSTUDIO_ANNOTATIONS_PREFIX }]
      : []),
    ...settings.readLocations.map(parseReadLocation),
  ];
}

/**
 * Whether `location` is an `s3://bucket/key` address under one of the allowed prefixes. Keys with
 * `.` or `..` segments are refused whatever their prefix: S3 keeps them literally, but a path-style
 * client or proxy may not.
 */
export function isAllowedSource(location: string, allowList: SourceAllowList): boolean {
  const uri = parseS3Uri(location);
  if (!uri || uri.key.split('/').some((segment) => segment === '.' || segment === '..')) return false;
  return allowList.some(({ bucket, prefix }) => uri.bucket === bucket && uri.key.startsWith(prefix));
}

/** The allowed prefixes as `s3://` addresses, for a reason. */
export function describeAllowList(allowList: SourceAllowList): string {
  return allowList.map(({ bucket, prefix }) => `s3://${bucket}/${prefix}`).join(', ');
}

/** Throws the reason `location` may not be read, when it may not. */
export function checkSource(location: string, allowList: SourceAllowList): void {
  if (!isAllowedSource(location, allowList)) {
    throw new ReadRefusedError(`${quoted(location, 200)} is outside what this run may read (${describeAllowList(allowList)})`);
  }
}

/**
 * A read-only view of `store` that refuses every location outside `allowList` before reading it. A
 * refusal is a `ReadRefusedError`, which the converter reports as the item's skip reason.
 */
export class AllowListedStore implements ObjectStore {
  constructor(
    private readonly store: ObjectStore,
    readonly allowList: SourceAllowList,
  ) {}

  async readStart(location: string, maxBytes: number, more?: ReadStartMore): Promise<ObjectStart | undefined> {
    checkSource(location, this.allowList);
    return this.store.readStart(location, maxBytes, more);
  }

  async read(location: string): Promise<Buffer> {
    checkSource(location, this.allowList);
    return this.store.read(location);
  }

  async readRange(location: string, start: number, end: number): Promise<Buffer> {
    checkSource(location, this.allowList);
    return this.store.readRange(location, start, end);
  }

  async readStream(location: string): Promise<Readable> {
    checkSource(location, this.allowList);
    return this.store.readStream(location);
  }

  async readRangeStream(location: string, start: number, end: number): Promise<Readable> {
    checkSource(location, this.allowList);
    return this.store.readRangeStream(location, start, end);
  }

  async listUnder(location: string): Promise<string[]> {
    checkSource(`${location.replace(/\/+$/, '')}/`, this.allowList);
    return (await this.store.listUnder(location)).filter((found) => isAllowedSource(found, this.allowList));
  }

  /** The store a permitted location is copied from server-side (S3 `CopyObject`). */
  copySourceOf(location: string): ObjectStore {
    checkSource(location, this.allowList);
    return this.store.copySourceOf?.(location) ?? this.store;
  }

  remove(): Promise<void> {
    return Promise.reject(new Error('a store of conversion sources only reads'));
  }

  write(): Promise<void> {
    return Promise.reject(new Error('a store of conversion sources only reads'));
  }

  copyFrom(): Promise<void> {
    return Promise.reject(new Error('a store of conversion sources only reads'));
  }

  join(location: string, ...segments: string[]): string {
    return this.store.join(location, ...segments);
  }
}
