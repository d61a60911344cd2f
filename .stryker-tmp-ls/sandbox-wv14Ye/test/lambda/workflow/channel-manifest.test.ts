import { channelManifestJson, readChannelManifest } from '../../../lambda/workflow/channel-manifest';
import { readDatasetIndex } from '../../../lambda/workflow/dataset-index';

describe('a channel manifest (S3DataType ManifestFile)', () => {
  const store = (text: string) => ({ read: async () => Buffer.from(text) });

  test('is a JSON array: the prefix first, then keys relative to it, one a line', async () => {
    const json = channelManifestJson({ prefix: 's3://b/datasets/main/train/', keys: ['a.jpg', 'b c.jpg'] });
    expect(json).toBe('[{"prefix":"s3://b/datasets/main/train/"},\n"a.jpg",\n"b c.jpg"]\n');
    expect(JSON.parse(json)).toEqual([{ prefix: 's3://b/datasets/main/train/' }, 'a.jpg', 'b c.jpg']);
    expect(await readChannelManifest(store(json), 's3://b/m')).toEqual({
      prefix: 's3://b/datasets/main/train/',
      keys: ['a.jpg', 'b c.jpg'],
    });
    expect(channelManifestJson({ prefix: 's3://b/p/', keys: [] })).toBe('[{"prefix":"s3://b/p/"}]\n');
  });

  test('refuses a prefix SageMaker would not take, and reads back only a manifest', async () => {
    expect(() => channelManifestJson({ prefix: 's3://b/no-slash', keys: [] })).toThrow(
      'a channel manifest\'s prefix is an s3:// URI ending in "/", received "s3://b/no-slash"',
    );
    expect(() => channelManifestJson({ prefix: '/local/', keys: [] })).toThrow(/received "\/local\/"/);
    expect(() => channelManifestJson({ prefix: 's3://b/p/train', keys: [] })).toThrow(/received "s3:\/\/b\/p\/train"/);
    expect(() => channelManifestJson({ prefix: 'https://s3://b/p/', keys: [] })).toThrow(/received "https:/);
    for (const text of ['{}', '[]', '["a.jpg"]', '[{"prefix":"s3://b/p/"}, 7]', '[{"prefix":"s3://b/p/"}, "a.jpg", 7]', 'not json']) {
      await expect(readChannelManifest(store(text), 's3://b/m')).rejects.toThrow('s3://b/m is not a channel manifest');
    }
  });
});

describe('the dataset index', () => {
  test("reads the legacy items.json, then the shards oldest first: a later run's line for a name wins", async () => {
    const objects: Record<string, string> = {
      's3://b/datasets/main/items.json': JSON.stringify([
        { name: 'a', split: 'train', source: 's3://in/a.jpg', runId: 'v1' },
        { name: 'b', split: 'train', source: 's3://in/b.jpg', runId: 'v1' },
      ]),
      's3://b/datasets/main/index/r2.jsonl': '{"name":"a","split":"train","source":"s3://in/a.jpg","runId":"r2"}\n',
      's3://b/datasets/main/index/r1.jsonl':
        '{"name":"a","split":"train","source":"s3://in/a.jpg","runId":"r1"}\n\n{"name":"c","split":"validation","source":"s3://in/c.jpg","runId":"r1"}\n',
      's3://b/datasets/main/index/notes.txt': 'not a shard',
    };
    const store = {
      readStart: async (location: string) =>
        objects[location] ? { data: Buffer.from(objects[location]), size: objects[location].length } : undefined,
      read: async (location: string) => Buffer.from(objects[location]),
      // Listed in key order, as S3 lists: r1 is the older shard although it sorts first anyway; r2 is newer.
      list: async () => [
        { key: 'datasets/main/index/notes.txt', lastModified: new Date(0) },
        { key: 'datasets/main/index/r2.jsonl', lastModified: new Date(2000) },
        { key: 'datasets/main/index/r1.jsonl', lastModified: new Date(1000) },
      ],
    };
    const index = await readDatasetIndex(store as never, 'b');
    expect([...index.values()].map((item) => [item.name, item.runId]).sort()).toEqual([
      ['a', 'r2'],
      ['b', 'v1'],
      ['c', 'r1'],
    ]);
  });

  test.each([
    ['an entry without a split', '{"name":"b"}'],
    ['an entry without a name', '{"split":"train","source":"s","runId":"r"}'],
    ['a line that is no JSON', '{"name":"b","split":'],
  ])('a damaged shard is named with its line, rather than read as items: %s', async (_, damaged) => {
    const store = {
      readStart: async () => undefined,
      read: async () => Buffer.from(`{"name":"a","split":"train","source":"s","runId":"r"}\n${damaged}\n`),
      list: async () => [{ key: 'datasets/main/index/r.jsonl', lastModified: new Date(0) }],
    };
    await expect(readDatasetIndex(store as never, 'b')).rejects.toThrow('s3://b/datasets/main/index/r.jsonl line 2 is not an index entry');
  });

  test('shards written in the same millisecond are read in key order', async () => {
    // The same item (batch and source) written by two runs under their own object names.
    const line = (runId: string) => `{"name":"a-${runId}","split":"train","source":"s3://in/a.jpg","runId":"${runId}","batch":"t"}\n`;
    const objects: Record<string, string> = {
      's3://b/datasets/main/index/r1.jsonl': line('r1'),
      's3://b/datasets/main/index/r2.jsonl': line('r2'),
    };
    const store = {
      readStart: async () => undefined,
      read: async (location: string) => Buffer.from(objects[location]),
      list: async () => listed,
    };
    const shards = ['r1', 'r2'].map((runId) => ({ key: `datasets/main/index/${runId}.jsonl`, lastModified: new Date(1000) }));
    let listed = shards;
    const runs = async () => [...(await readDatasetIndex(store as never, 'b')).values()].map((item) => item.runId);
    expect(await runs()).toEqual(['r2']);
    listed = [...shards].reverse();
    expect(await runs()).toEqual(['r2']);
  });
});
