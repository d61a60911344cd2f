// @ts-nocheck
import type { ObjectStore } from '../convert/stores/object-store';

/** Object storage that can update a small object without losing a concurrent writer's update. */
export interface VersionedStore extends ObjectStore {
  readVersioned(location: string): Promise<{ data: Buffer; etag: string } | undefined>;
  writeIfUnchanged(location: string, body: Buffer, contentType: string, etag: string | undefined): Promise<boolean>;
  /** The object's ETag, which changes whenever it is written again; `undefined` when there is none. */
  etagOf(location: string): Promise<string | undefined>;
}

/** Object storage that lists a bucket's keys under a prefix, with their times (S3). */
export interface ListingStore {
  list(bucket: string, prefix: string): Promise<{ key: string; lastModified: Date }[]>;
}

/** Conditional writes that lost to another writer, redone on the newer version before giving up. */
const ATTEMPTS = 8;
const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * attempt));

/**
 * Reads a small JSON object, `fallback` when there is none. S3 replaces an object atomically, so a
 * read either sees a whole document or none: a read that fails (access denied, a corrupt document)
 * is an error at once, and the SDK has already retried what is transient.
 */
export async function readJson<T>(store: Pick<ObjectStore, 'readStart'>, location: string, fallback: T): Promise<T> {
  const start = await store.readStart(location, 64 * 1024 * 1024);
  return start ? parseJson<T>(start.data, location) : fallback;
}

function parseJson<T>(data: Buffer, location: string): T {
  try {
    return JSON.parse(data.toString('utf8')) as T;
  } catch (err) {
    throw new Error(`${location} is not valid JSON (${(err as Error).message.replace(/[^\x20-\x7e]/g, '?').slice(0, 120)})`);
  }
}

/**
 * Read-modify-write of a JSON object that other runs may update at the same time (a batch's state,
 * the dataset's classes and items): a conditional write, redone on the newer version when it lost.
 * Only a lost write is redone; a failed read is an error at once.
 */
export async function updateJson<T>(store: VersionedStore, location: string, fallback: T, update: (current: T) => T): Promise<T> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const read = await store.readVersioned(location);
    const current = read ? { value: parseJson<T>(read.data, location), etag: read.etag } : { value: fallback, etag: undefined };
    const next = update(current.value);
    if (await store.writeIfUnchanged(location, Buffer.from(`${JSON.stringify(next, null, 1)}\n`), 'application/json', current.etag))
      return next;
    await pause(attempt);
  }
  throw new Error(`${location} kept changing over ${ATTEMPTS} attempts to update it`);
}
