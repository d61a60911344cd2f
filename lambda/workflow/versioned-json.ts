import type { ObjectStore } from '../convert/object-store';

/** Object storage that can update a small object without losing a concurrent writer's update. */
export interface VersionedStore extends ObjectStore {
  readVersioned(location: string): Promise<{ data: Buffer; etag: string } | undefined>;
  writeIfUnchanged(location: string, body: Buffer, contentType: string, etag: string | undefined): Promise<boolean>;
}

const ATTEMPTS = 8;
const pause = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 100 * attempt));

/**
 * Reads a small JSON object, `fallback` when there is none. S3 replaces an object atomically; the
 * local S3 stand-in can serve one while it is being rewritten (a torn or aborted read), so a read
 * that fails is tried again.
 */
export async function readJson<T>(store: Pick<ObjectStore, 'readStart'>, location: string, fallback: T): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const start = await store.readStart(location, 64 * 1024 * 1024);
      return start ? (JSON.parse(start.data.toString('utf8')) as T) : fallback;
    } catch (err) {
      if (attempt >= ATTEMPTS) throw new Error(`cannot read ${location}: ${(err as Error).message}`);
      await pause(attempt);
    }
  }
}

/**
 * Read-modify-write of a JSON object that other runs may update at the same time (a batch's state,
 * the dataset's classes and items): a conditional write, redone on the newer version when it lost.
 */
export async function updateJson<T>(store: VersionedStore, location: string, fallback: T, update: (current: T) => T): Promise<T> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let current: { value: T; etag?: string };
    try {
      const read = await store.readVersioned(location);
      current = read ? { value: JSON.parse(read.data.toString('utf8')) as T, etag: read.etag } : { value: fallback };
    } catch {
      await pause(attempt);
      continue;
    }
    const next = update(current.value);
    if (await store.writeIfUnchanged(location, Buffer.from(`${JSON.stringify(next, null, 1)}\n`), 'application/json', current.etag)) return next;
    await pause(attempt);
  }
  throw new Error(`${location} kept changing over ${ATTEMPTS} attempts to update it`);
}
