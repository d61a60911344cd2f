import { Readable } from 'node:stream';
import { ItemSkipped } from '../../../../lambda/convert/export-item';
import { ImageFinder } from '../../../../lambda/convert/image-finder';
import { ObjectNotFoundError, type ObjectStore, ReadRefusedError } from '../../../../lambda/convert/stores/object-store';
import {
  AllowListedStore,
  checkSource,
  isAllowedSource,
  parseReadLocation,
  sourceAllowList,
} from '../../../../lambda/convert/stores/source-allow-list';

const SETTINGS = { inboxBucket: 'inbox', artifactsBucket: 'artifacts', readLocations: ['old-output', 'partner/exports/turtles/'] };
const ALLOW = sourceAllowList(SETTINGS, { runId: 'turtles-1', batch: 'turtles' });

describe("the allow-list of a run's conversion", () => {
  test('a run started by hand, without a batch, may read no labeled/ prefix of its own', () => {
    expect(sourceAllowList(SETTINGS, { runId: 'by-hand-1' })).toEqual([
      { bucket: 'inbox', prefix: 'images/' },
      { bucket: 'artifacts', prefix: expect.stringContaining('by-hand-1') },
      { bucket: 'old-output', prefix: '' },
      { bucket: 'partner', prefix: 'exports/turtles/' },
    ]);
  });

  test.each([
    's3://inbox/images/turtles/a.jpg',
    's3://inbox/labeled/turtles/masks/a.png',
    's3://artifacts/runs/turtles-1/labeling/output/job/annotations/consolidated-annotation/output/0_2026.png',
    's3://old-output/anything/at/all.png',
    's3://partner/exports/turtles/a.png',
  ])('allows %s', (location) => {
    expect(isAllowedSource(location, ALLOW)).toBe(true);
  });

  test.each([
    ["another batch's import", 's3://inbox/labeled/crabs/masks/a.png'],
    ["another batch's images", 's3://inbox/images/crabs/a.jpg'],
    ['a batch whose name starts alike', 's3://inbox/images/turtles-private/a.jpg'],
    ['images outside any batch', 's3://inbox/images/a.jpg'],
    ["another run's labeling output", 's3://artifacts/runs/crabs-1/labeling/output/a.png'],
    ["the run's other keys", 's3://artifacts/runs/turtles-1/report.json'],
    ['the dataset', 's3://artifacts/datasets/main/classes.json'],
    ["the batches' state", 's3://artifacts/batches/abc/state.json'],
    ['a prefix that only starts alike', 's3://partner/exports/turtles-private/a.png'],
    ['the rest of a prefixed bucket', 's3://partner/secrets/a.png'],
    ['a bucket not listed', 's3://elsewhere/images/a.jpg'],
    ['a bucket whose name starts alike', 's3://inbox-archive/images/a.jpg'],
    ['a dot-dot segment', 's3://inbox/images/../batches/state.json'],
    ['a dot segment', 's3://inbox/images/./a.jpg'],
    ['a plain path', '/etc/passwd'],
    ['another scheme', 'https://inbox.s3.amazonaws.com/images/a.jpg'],
    ['a bucket alone', 's3://inbox'],
  ])('refuses %s', (_what, location) => {
    expect(isAllowedSource(location, ALLOW)).toBe(false);
  });

  test('readBuckets entries are a bucket, or a bucket and a prefix', () => {
    expect(parseReadLocation('old-output')).toEqual({ bucket: 'old-output', prefix: '' });
    expect(parseReadLocation('partner/exports/turtles/')).toEqual({ bucket: 'partner', prefix: 'exports/turtles/' });
  });

  test('a batch or run id that is not one key segment is refused: it would widen a prefix', () => {
    expect(() => sourceAllowList(SETTINGS, { runId: 'r', batch: '' })).toThrow(/one non-empty key segment/);
    expect(() => sourceAllowList(SETTINGS, { runId: 'r', batch: 'a/b' })).toThrow(/batch is one non-empty key segment; received "a\/b"/);
    expect(() => sourceAllowList(SETTINGS, { runId: '..', batch: 'b' })).toThrow(/run id/);
  });

  test('the reason quotes the address, cut, and names the allowed prefixes', () => {
    const hostile = `s3://artifacts/datasets/${'x'.repeat(300)}\n.png`;
    let error: unknown;
    try {
      checkSource(hostile, ALLOW);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ReadRefusedError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^"s3:\/\/artifacts\/datasets\/x+"\.\.\.\(\d+ more\) is outside what this run may read \(s3:\/\/inbox\/images\/turtles\/, s3:\/\/inbox\/labeled\/turtles\/, s3:\/\/artifacts\/runs\/turtles-1\/labeling\/output\/, s3:\/\/old-output\/, s3:\/\/partner\/exports\/turtles\/\)$/,
    );
    expect(message).not.toContain('\n');
  });
});

describe('a store that reads only the allow-list', () => {
  /** Answers every read with the same bytes and records what was asked. */
  function recordingStore() {
    const reads: string[] = [];
    const store: ObjectStore = {
      readStart: async (location) => (reads.push(location), { data: Buffer.from('bytes'), size: 5 }),
      read: async (location) => (reads.push(location), Buffer.from('bytes')),
      readRange: async (location) => (reads.push(location), Buffer.from('b')),
      readStream: async (location) => (reads.push(location), Readable.from([])),
      readRangeStream: async (location) => (reads.push(location), Readable.from([])),
      listUnder: async (location) => (reads.push(location), [`${location}/a.jpg`, 's3://inbox/batches/x']),
      remove: async () => {
        throw new ObjectNotFoundError('x');
      },
      write: async () => undefined,
      copyFrom: async () => undefined,
      join: (location, ...segments) => [location, ...segments].join('/'),
    };
    return { store, reads };
  }

  test('every read outside is refused before the wrapped store is asked; reads inside pass', async () => {
    const { store, reads } = recordingStore();
    const sources = new AllowListedStore(store, ALLOW);
    const outside = 's3://artifacts/datasets/main/items.json';
    for (const attempt of [
      () => sources.readStart(outside, 10),
      () => sources.read(outside),
      () => sources.readRange(outside, 0, 1),
      () => sources.readStream(outside),
      () => sources.readRangeStream(outside, 0, 1),
      () => sources.listUnder('s3://artifacts/datasets'),
    ]) {
      await expect(attempt()).rejects.toBeInstanceOf(ReadRefusedError);
    }
    expect(reads).toEqual([]);
    expect(() => sources.copySourceOf(outside)).toThrow(ReadRefusedError);
    await expect(sources.read('s3://inbox/images/turtles/a.jpg')).resolves.toEqual(Buffer.from('bytes'));
    await expect(sources.readStart('s3://inbox/images/turtles/a.jpg', 5)).resolves.toEqual({ data: Buffer.from('bytes'), size: 5 });
    await expect(sources.readRange('s3://inbox/images/turtles/a.jpg', 0, 0)).resolves.toEqual(Buffer.from('b'));
    await sources.readStream('s3://inbox/images/turtles/a.jpg');
    await sources.readRangeStream('s3://inbox/images/turtles/a.jpg', 0, 0);
    expect(reads).toEqual(Array(5).fill('s3://inbox/images/turtles/a.jpg'));
    expect(await sources.listUnder('s3://inbox/images/turtles')).toEqual(['s3://inbox/images/turtles/a.jpg']);
    expect(sources.copySourceOf('s3://inbox/images/turtles/a.jpg')).toBe(store);
  });

  test('it only reads: writes, copies and deletes are refused', async () => {
    const sources = new AllowListedStore(recordingStore().store, ALLOW);
    await expect(sources.write()).rejects.toThrow(/only reads/);
    await expect(sources.remove()).rejects.toThrow(/only reads/);
    await expect(sources.copyFrom()).rejects.toThrow(/only reads/);
  });
});

describe("an export's image reference outside the allow-list", () => {
  /** Objects by location; records every location asked for. */
  function memoryStore(objects: Record<string, string>) {
    const asked: string[] = [];
    const store = {
      readStart: async (location: string) => (
        asked.push(location),
        objects[location] === undefined ? undefined : { data: Buffer.from(objects[location]), size: objects[location].length }
      ),
      listUnder: async (location: string) => (
        asked.push(location), Object.keys(objects).filter((key) => key.startsWith(`${location.replace(/\/+$/, '')}/`))
      ),
      join: (location: string, ...segments: string[]) => [location.replace(/\/+$/, ''), ...segments].join('/'),
    } as unknown as ObjectStore;
    return { store, asked };
  }

  test('is never read: the image is looked for by name where the run may read, and a miss names the refusal', async () => {
    const { store, asked } = memoryStore({ 's3://elsewhere/raw/a.jpg': 'secret', 's3://inbox/images/turtles/a.jpg': 'upload' });
    const sources = new AllowListedStore(store, ALLOW);
    const finder = ImageFinder.of(
      { store: sources, root: 's3://inbox/labeled/turtles', fallback: { store: sources, root: 's3://inbox/images/turtles' } },
      sources,
    );
    expect(await finder.find('s3://elsewhere/raw/a.jpg')).toEqual({ store: sources, locations: ['s3://inbox/images/turtles/a.jpg'] });
    const missing = await finder.find('s3://elsewhere/raw/b.jpg').catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(ItemSkipped);
    expect((missing as Error).message).toContain('"s3://elsewhere/raw/b.jpg" is outside what this run may read');
    expect(asked.filter((location) => location.startsWith('s3://elsewhere'))).toEqual([]);
  });
});
