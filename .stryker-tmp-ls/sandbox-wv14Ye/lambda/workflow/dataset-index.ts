// @ts-nocheck
import type { ObjectStore } from '../convert/stores/object-store';
import { datasetLayout, s3Uri } from './layout';
import type { ListingStore } from './versioned-json';

/** An item of the dataset and the run that added it: the dataset's lineage. */
export interface DatasetItem {
  readonly source: string;
  /** The stem of its objects in the dataset, unique to the run that wrote them. */
  readonly name: string;
  readonly split: 'train' | 'validation';
  readonly runId: string;
  /**
   * The batch whose upload brought it (`''` for a run started by hand); absent in entries written
   * before items were told apart by batch.
   */
  readonly batch?: string;
}

/**
 * What makes two index entries the same item, the later replacing the earlier: its batch and its
 * source, so that no batch's upload replaces another batch's item. Entries written before batches
 * were recorded are told apart by their object name, as they were then.
 */
export function itemIdentity(item: DatasetItem): string {
  return item.batch === undefined ? `name\u0000${item.name}` : `item\u0000${item.batch}\u0000${item.source}`;
}

/**
 * The dataset's index is one JSON Lines shard per run (`datasets/<name>/index/<run-id>.jsonl`),
 * written once by the run that converted its items and never rewritten. Concurrent runs write
 * different objects, so none loses another's items and no conditional write can keep failing; a
 * run writes bytes in proportion to its own items, not to the dataset; and a million items are a
 * few hundred shards read in sequence, a line at a time. An item converted again by a later run
 * (same batch and source) is that run's: shards are read oldest first and later lines win.
 */
export async function writeIndexShard(
  store: Pick<ObjectStore, 'write'>,
  bucket: string,
  runId: string,
  items: readonly DatasetItem[],
): Promise<void> {
  const body = items
    .map((item) => `${JSON.stringify({ name: item.name, split: item.split, source: item.source, runId: item.runId, batch: item.batch })}\n`)
    .join('');
  await store.write(s3Uri(bucket, datasetLayout().indexShard(runId)), Buffer.from(body), 'application/x-ndjson');
}

/** Every item of the dataset by identity (`itemIdentity`): the shards oldest first, after the index of earlier versions. */
export async function readDatasetIndex(
  store: Pick<ObjectStore, 'readStart' | 'read'> & ListingStore,
  bucket: string,
): Promise<Map<string, DatasetItem>> {
  const dataset = datasetLayout();
  const items = new Map<string, DatasetItem>();
  const legacy = await store.readStart(s3Uri(bucket, dataset.legacyItems), 2 ** 31);
  if (legacy) for (const item of JSON.parse(legacy.data.toString('utf8')) as DatasetItem[]) items.set(itemIdentity(item), item);
  const shards = (await store.list(bucket, dataset.index))
    .filter((o) => o.key.endsWith('.jsonl'))
    .sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime() || (a.key < b.key ? -1 : 1));
  for (const shard of shards) {
    const location = s3Uri(bucket, shard.key);
    const lines = (await store.read(location)).toString('utf8').split('\n');
    for (const [index, line] of lines.entries()) {
      if (line.trim() === '') continue;
      const item = parseIndexLine(line);
      if (!item)
        throw new Error(
          `${location} line ${index + 1} is not an index entry ({"name", "split", "source", "runId"}): the dataset's index is damaged`,
        );
      items.set(itemIdentity(item), item);
    }
  }
  return items;
}

function parseIndexLine(line: string): DatasetItem | undefined {
  try {
    const item = JSON.parse(line) as Partial<DatasetItem>;
    return typeof item?.name === 'string' &&
      (item.split === 'train' || item.split === 'validation') &&
      (item.batch === undefined || typeof item.batch === 'string')
      ? (item as DatasetItem)
      : undefined;
  } catch {
    return undefined;
  }
}
