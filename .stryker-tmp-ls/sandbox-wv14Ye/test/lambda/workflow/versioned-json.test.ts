import { readJson, updateJson, type VersionedStore } from '../../../lambda/workflow/versioned-json';

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

  test('a document that keeps changing is given up after 8 attempts, saying so', async () => {
    const { store } = memoryStore('{"n":1}');
    let writes = 0;
    const losing = {
      ...store,
      writeIfUnchanged: async () => {
        writes += 1;
        return false;
      },
    } as VersionedStore;
    jest.spyOn(Math, 'random').mockReturnValue(0);
    try {
      await expect(updateJson(losing, 's3://b/x.json', { n: 0 }, (v) => v)).rejects.toThrow(
        's3://b/x.json kept changing over 8 attempts to update it',
      );
    } finally {
      jest.restoreAllMocks();
    }
    expect(writes).toBe(8);
  });

  test('an update is written as JSON, typed as JSON', async () => {
    const { store } = memoryStore();
    const types: string[] = [];
    const recording = {
      ...store,
      writeIfUnchanged: async (location: string, body: Buffer, type: string, etag: string | undefined) => {
        types.push(type);
        return store.writeIfUnchanged(location, body, type, etag);
      },
    } as VersionedStore;
    await updateJson(recording, 's3://b/x.json', { n: 0 }, (v) => v);
    expect(types).toEqual(['application/json']);
  });

  test('the parse error quoted from a corrupt document is printable ASCII and short, whatever the document holds', async () => {
    const { store } = memoryStore(`\u00e9\u202e${'\u4e00'.repeat(400)}`);
    const message = await readJson(store, 's3://b/state.json', {}).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(message).toMatch(/^s3:\/\/b\/state\.json is not valid JSON \(.+\)$/);
    const quoted = message.slice('s3://b/state.json is not valid JSON ('.length, -1);
    expect(quoted).toMatch(/^[\x20-\x7e]+$/);
    expect(quoted.length).toBeLessThanOrEqual(120);
    expect(quoted).toContain('?');
  });
});
