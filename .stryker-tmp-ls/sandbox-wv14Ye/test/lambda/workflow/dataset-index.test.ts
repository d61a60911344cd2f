import { type DatasetItem, readDatasetIndex, writeIndexShard } from '../../../lambda/workflow/dataset-index';

/** An in-memory bucket whose listing gives each key the time it is told. */
function memoryBucket(objects: Record<string, { body: string; at?: number }>) {
  const writes: { location: string; type: string; body: string }[] = [];
  const store = {
    readStart: async (location: string) => {
      const object = objects[location.replace('s3://b/', '')];
      return object && { data: Buffer.from(object.body), size: object.body.length };
    },
    read: async (location: string) => Buffer.from(objects[location.replace('s3://b/', '')].body),
    list: async (_bucket: string, prefix: string) =>
      Object.entries(objects)
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, object]) => ({ key, lastModified: new Date(object.at ?? 0) })),
    write: async (location: string, body: Buffer, type: string) => {
      writes.push({ location, type, body: body.toString() });
    },
  };
  return { store, writes };
}

const line = (name: string, runId: string, split: DatasetItem['split'] = 'train') =>
  `${JSON.stringify({ name, split, source: `s3://in/${name}.jpg`, runId })}\n`;

describe('dataset index', () => {
  test("a run's shard is JSON Lines under index/<run-id>.jsonl, typed as such", async () => {
    const { store, writes } = memoryBucket({});
    await writeIndexShard(store, 'b', 'run-1', [{ name: 'a', split: 'validation', source: 's3://in/a.jpg', runId: 'run-1' }]);
    expect(writes).toEqual([
      { location: 's3://b/datasets/main/index/run-1.jsonl', type: 'application/x-ndjson', body: line('a', 'run-1', 'validation') },
    ]);
  });

  test('later shards win: oldest first by time, then by key for shards written in the same second; the legacy index comes first', async () => {
    const { store } = memoryBucket({
      'datasets/main/items.json': {
        body: JSON.stringify([
          { name: 'old', split: 'train', source: 's3://in/old.jpg', runId: 'legacy' },
          { name: 'x', split: 'train', source: 's', runId: 'legacy' },
        ]),
      },
      'datasets/main/index/z-early.jsonl': { body: line('x', 'z-early') + line('y', 'z-early'), at: 1000 },
      'datasets/main/index/a-late.jsonl': { body: line('x', 'a-late'), at: 2000 },
      'datasets/main/index/c-same.jsonl': { body: line('y', 'c-same'), at: 1000 },
      'datasets/main/index/notes.txt': { body: 'not a shard', at: 3000 },
    });
    const items = await readDatasetIndex(store, 'b');
    expect(Object.fromEntries([...items.values()].map((item) => [item.name, item.runId]))).toEqual({
      old: 'legacy',
      x: 'a-late',
      y: 'z-early',
    });
  });

  test('blank and whitespace-only lines are skipped; a damaged line is named by shard and line number', async () => {
    const { store } = memoryBucket({ 'datasets/main/index/r.jsonl': { body: `${line('a', 'r')}  \n\r\n${line('b', 'r')}` } });
    expect([...(await readDatasetIndex(store, 'b')).values()].map((item) => item.name)).toEqual(['a', 'b']);
    const damaged = memoryBucket({ 'datasets/main/index/r.jsonl': { body: `${line('a', 'r')}{"name":"b","split":"test"}\n` } });
    await expect(readDatasetIndex(damaged.store, 'b')).rejects.toThrow('s3://b/datasets/main/index/r.jsonl line 2 is not an index entry');
  });
});
