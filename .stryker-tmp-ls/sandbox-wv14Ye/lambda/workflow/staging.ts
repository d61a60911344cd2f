// @ts-nocheck
import type { ObjectStore } from '../convert/stores/object-store';
import { runLayout, s3Uri } from './layout';
import type { ListingStore } from './versioned-json';

/**
 * Removes a run's staging area: after its commit, or when the run ended before one (the run-end
 * handling). Nothing outside `runs/<run-id>/staging/` is touched. A module of its own, without the
 * converter's imports, for the run-end Lambda.
 */
export async function removeStaging(store: Pick<ObjectStore, 'remove'> & ListingStore, bucket: string, runId: string): Promise<number> {
  const keys = (await store.list(bucket, runLayout(runId).staging)).map(({ key }) => s3Uri(bucket, key));
  await store.remove(keys);
  return keys.length;
}
