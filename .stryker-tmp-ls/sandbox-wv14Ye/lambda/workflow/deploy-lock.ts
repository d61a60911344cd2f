// @ts-nocheck
import type { ObjectStore } from '../convert/stores/object-store';
import { LOCKS_PREFIX, s3Uri } from './layout';
import type { VersionedStore } from './versioned-json';

/**
 * One deploy at a time. Runs train in parallel, but only one changes the stack's endpoint: the run
 * that holds the lock, a small object written with S3's conditional write (`If-None-Match: *`), so
 * that of two runs asking at once exactly one gets it. The lock names its run and is released when
 * the run ends, whatever the outcome (the report stage, or the run-end handling of an execution that
 * failed, timed out or was stopped); a lock left past its expiry (a run whose end was never handled)
 * is taken over with a write conditional on the version read.
 */
export const DEPLOY_LOCK_KEY = `${LOCKS_PREFIX}deploy.json`;

export interface DeployLock {
  readonly owner: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export type LockAnswer = { readonly acquired: true } | { readonly acquired: false; readonly holder: string; readonly until: string };

/** Takes the deploy lock for `owner` (a run id), or says who holds it. Asking again while holding it is a yes. */
export async function acquireDeployLock(
  store: VersionedStore,
  bucket: string,
  owner: string,
  holdSeconds: number,
  now = new Date(),
): Promise<LockAnswer> {
  const location = s3Uri(bucket, DEPLOY_LOCK_KEY);
  const lock: DeployLock = { owner, acquiredAt: now.toISOString(), expiresAt: new Date(now.getTime() + holdSeconds * 1000).toISOString() };
  const body = Buffer.from(`${JSON.stringify(lock)}\n`);
  const current = await store.readVersioned(location);
  const held = current ? parseLock(current.data) : undefined;
  if (held?.owner === owner) return { acquired: true };
  if (held && Date.parse(held.expiresAt) > now.getTime()) return { acquired: false, holder: held.owner, until: held.expiresAt };
  // No lock, an expired one, or one that is not a lock at all: write ours only if it is still that.
  if (await store.writeIfUnchanged(location, body, 'application/json', current?.etag)) return { acquired: true };
  // Another run wrote first; it is asked again at the next poll.
  const winner = parseLock((await store.readVersioned(location))?.data);
  return { acquired: false, holder: winner?.owner ?? 'another run', until: winner?.expiresAt ?? now.toISOString() };
}

/** Releases the deploy lock if `owner` holds it; another run's lock is left alone. True when released. */
export async function releaseDeployLock(
  store: Pick<VersionedStore, 'readVersioned'> & Pick<ObjectStore, 'remove'>,
  bucket: string,
  owner: string,
): Promise<boolean> {
  const location = s3Uri(bucket, DEPLOY_LOCK_KEY);
  const current = await store.readVersioned(location);
  if (!current || parseLock(current.data)?.owner !== owner) return false;
  // Only the holder deletes it, and while it is held nobody else writes it.
  await store.remove([location]);
  return true;
}

function parseLock(data: Buffer | undefined): DeployLock | undefined {
  try {
    const lock = JSON.parse(data?.toString('utf8') ?? '') as Partial<DeployLock>;
    return typeof lock.owner === 'string' && typeof lock.expiresAt === 'string' && !Number.isNaN(Date.parse(lock.expiresAt))
      ? (lock as DeployLock)
      : undefined;
  } catch {
    return undefined;
  }
}
