import { readJson, updateJson, VersionedStore } from '../../../lambda/workflow/versioned-json';

/** An in-memory versioned store whose reads can be made to fail. */
function memoryStore(initial?: string, failRead?: Error) {
  let object: { data: Buffer; etag: string } | undefined = initial === undefined ? undefined : { data: Buffer.from(initial), etag: '"1"' };
  let version = 1;
  const calls = { reads: 0, writes: 0 };
  const store = {
    readStart: async () => {
      calls.reads += 1;
      if (failRead) throw failRead;
      return object && { data: object.data, size: object.data.length };
    },
    readVersioned: async () => {
      calls.reads += 1;
      if (failRead) throw failRead;
      return object;
    },
    writeIfUnchanged: async (_location: string, body: Buffer, _type: string, etag: string | undefined) => {
      calls.writes += 1;
      if (object?.etag !== etag) return false;
      version += 1;
      object = { data: body, etag: `"${version}"` };
      return true;
    },
  } as unknown as VersionedStore;
  return { store, calls, current: () => object && JSON.parse(object.data.toString()) };
}

const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

describe('shared JSON state', () => {
  test('a denied read fails at once, with the error S3 gave, not retried into silence', async () => {
    const { store, calls } = memoryStore('{}', denied);
    await expect(readJson(store, 's3://b/state.json', {})).rejects.toThrow('Access Denied');
    await expect(updateJson(store, 's3://b/state.json', {}, (v) => v)).rejects.toThrow('Access Denied');
    expect(calls).toEqual({ reads: 2, writes: 0 });
  });

  test('a corrupt document is an error naming it, at once', async () => {
    const { store, calls } = memoryStore('{"taken": [');
    await expect(readJson(store, 's3://b/state.json', {})).rejects.toThrow(/^s3:\/\/b\/state\.json is not valid JSON/);
    await expect(updateJson(store, 's3://b/state.json', {}, (v) => v)).rejects.toThrow(/is not valid JSON/);
    expect(calls.writes).toBe(0);
  });

  test('a missing document reads as the fallback; an update creates it', async () => {
    const { store, current } = memoryStore();
    expect(await readJson(store, 's3://b/x.json', { n: 0 })).toEqual({ n: 0 });
    await updateJson<{ n: number }>(store, 's3://b/x.json', { n: 0 }, (v) => ({ n: v.n + 1 }));
    expect(current()).toEqual({ n: 1 });
  });

  test('a write that lost to another writer is redone on the newer version', async () => {
    const { store, calls, current } = memoryStore('{"n":1}');
    let interfere = true;
    const update = (v: { n: number }) => {
      if (interfere) {
        interfere = false;
        // Another run writes between this read and this write.
        void (store as VersionedStore).writeIfUnchanged('s3://b/x.json', Buffer.from('{"n":10}'), 'application/json', '"1"');
      }
      return { n: v.n + 1 };
    };
    await updateJson(store, 's3://b/x.json', { n: 0 }, update);
    expect(current()).toEqual({ n: 11 });
    expect(calls.writes).toBe(3);
  });
});
