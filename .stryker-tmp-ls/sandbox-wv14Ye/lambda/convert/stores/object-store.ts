// @ts-nocheck
import type { Readable } from 'node:stream';

/**
 * The small slice of object storage the converter needs, so that one conversion runs against S3,
 * an S3-compatible server, or a folder. Locations are `s3://bucket/key` URIs or, for a folder, paths.
 */
export interface ObjectStore {
  /**
   * The object's first `maxBytes` bytes (all of it when smaller) and its whole size, in one request;
   * `undefined` when there is no such object. A store that reads a file already open at little cost
   * honours `more`: the object's last `tailBytes` as `tail`, or all of an object of at most
   * `wholeUpTo` bytes as `data` (so it is never opened again); others ignore it.
   */
  readStart(location: string, maxBytes: number, more?: ReadStartMore): Promise<ObjectStart | undefined>;
  /** The whole object. */
  read(location: string): Promise<Buffer>;
  /** Bytes `start` to `end` inclusive (clamped to the object's size). */
  readRange(location: string, start: number, end: number): Promise<Buffer>;
  /** The object as a stream, for inputs too large to hold (manifests). */
  readStream(location: string): Promise<Readable>;
  /** Bytes `start` to `end` inclusive as a stream: a large entry of a zip read in place. */
  readRangeStream(location: string, start: number, end: number): Promise<Readable>;
  /** Every object under a folder location (recursively), as locations; `[]` when there is none. */
  listUnder(location: string): Promise<string[]>;
  /** Deletes objects; a missing one is not an error. */
  remove(locations: readonly string[]): Promise<void>;
  write(location: string, body: Buffer, contentType: string): Promise<void>;
  /**
   * Copies `from` (held by `source`) to `to` in this store: server-side when both are the same
   * S3 endpoint, so unchanged bytes never travel through the converter. `bytes`, when the caller
   * holds the source's bytes already, are written instead of reading the source again.
   */
  copyFrom(source: ObjectStore, from: string, to: string, contentType: string, bytes?: Buffer): Promise<void>;
  /** Appends a path segment to a location. */
  join(location: string, ...segments: string[]): string;
  /**
   * The store that holds `location` for a server-side copy: a store that checks reads answers with the
   * store it wraps, once `location` passes its check.
   * @default - the store itself
   */
  copySourceOf?(location: string): ObjectStore;
  /**
   * The store, reading only what really lies under `root`: a folder store that confines links
   * refuses one leading out of it (an export's images folder cannot reach other files through links).
   * @default - the store itself (S3 keys and zip entries lead nowhere else)
   */
  within?(root: string): ObjectStore;
}

/** What `readStart` may return besides an object's first bytes, where that costs little. */
export interface ReadStartMore {
  /** The object's last bytes. */
  readonly tailBytes?: number;
  /** All of an object no larger than this. */
  readonly wholeUpTo?: number;
}

/** An object's first bytes (`data`, all of it when `data.length === size`), its size, and maybe its last bytes. */
export interface ObjectStart {
  readonly data: Buffer;
  readonly size: number;
  readonly tail?: Buffer;
}

/** A location a store will not read (outside what it may read): reported per item, like a missing file. */
export class ReadRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadRefusedError';
  }
}

/** A location that does not exist; the converter reports it per item. */
export class ObjectNotFoundError extends Error {
  constructor(readonly location: string) {
    super(`not found: ${location}`);
    this.name = 'ObjectNotFoundError';
  }
}

export interface S3Uri {
  readonly bucket: string;
  readonly key: string;
}

/** Splits `s3://bucket/key`; the key is kept verbatim (manifests hold raw keys). */
export function parseS3Uri(uri: string): S3Uri | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/s.exec(uri);
  return match ? { bucket: match[1], key: match[2] } : undefined;
}

/**
 * What every location inside `folder` starts with, separator included: `join(folder, '')` drops the
 * separator on a file system, and `train_old/a.jpg` would then pass for a file of `train/`. The root
 * of a zip (`''`) is the empty prefix.
 */
export function folderPrefix(store: Pick<ObjectStore, 'join'>, folder: string): string {
  return folder === '' ? '' : store.join(folder, 'x').slice(0, -1);
}

export function isS3Uri(location: string): boolean {
  return location.startsWith('s3://');
}
