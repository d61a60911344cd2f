import { Readable } from 'node:stream';
import type { ExportItem, ExportSkip } from '../../../../lambda/convert/export-item';
import { manifestReader } from '../../../../lambda/convert/readers/ground-truth';
import type { ObjectStore } from '../../../../lambda/convert/stores/object-store';
import { groundTruthManifestLine, labelingClasses } from '../../../../local/ground-truth-output';

const gtLine = (source: string, mask: string) =>
  JSON.stringify(
    groundTruthManifestLine({ source, mask, attribute: 'turtles-ref', jobName: 'turtles', classes: labelingClasses(['turtle']) }),
  );
const lfvLine = (source: string, mask: string) =>
  JSON.stringify({
    'source-ref': source,
    'anomaly-mask-ref': mask,
    'anomaly-mask-ref-metadata': {
      'internal-color-map': { 0: { 'class-name': 'scratch', 'hex-color': '#2CA02C' } },
      type: 'groundtruth/semantic-segmentation',
    },
  });

/** A store holding only the manifest, handing out the stream it reads so a test can look at it. */
function manifestStore(text: string) {
  const streams: Readable[] = [];
  const store = {
    readStream: async () => {
      const stream = Readable.from([Buffer.from(text)]);
      streams.push(stream);
      return stream;
    },
  } as unknown as ObjectStore;
  return { store, streams };
}

async function itemsOf(text: string, dialect?: 'groundtruth' | 'lookoutvision') {
  const { store } = manifestStore(text);
  const items: (ExportItem | ExportSkip)[] = [];
  for await (const item of manifestReader({ manifest: 'm', manifestStore: store, sources: store, dialect }).items()) items.push(item);
  return items as ExportItem[];
}

describe('Ground Truth manifest reader', () => {
  test('only Lookout for Vision masks read transparent pixels as background; Ground Truth never writes alpha, so its colours count as they are', async () => {
    const [gt] = await itemsOf(`${gtLine('s3://in/a.jpg', 's3://out/a.png')}\n`);
    const [lfv] = await itemsOf(`${lfvLine('s3://in/b.jpg', 's3://out/b.png')}\n`, 'lookoutvision');
    expect(gt.mask).toMatchObject({ kind: 'colour-png', transparentIsBackground: false });
    expect(lfv.mask).toMatchObject({ kind: 'colour-png', transparentIsBackground: true });
  });

  test("with no dialect given, each line's dialect is told from its shape", async () => {
    const [gt, lfv] = await itemsOf(`${gtLine('s3://in/a.jpg', 's3://out/a.png')}\n${lfvLine('s3://in/b.jpg', 's3://out/b.png')}\n`);
    expect(gt.mask).toMatchObject({ transparentIsBackground: false });
    expect(lfv.mask).toMatchObject({ transparentIsBackground: true });
  });

  test('the reader names its format by dialect', () => {
    const { store } = manifestStore('');
    expect(manifestReader({ manifest: 'm', manifestStore: store, sources: store }).format).toBe('groundtruth');
    expect(manifestReader({ manifest: 'm', manifestStore: store, sources: store, dialect: 'groundtruth' }).format).toBe('groundtruth');
    expect(manifestReader({ manifest: 'm', manifestStore: store, sources: store, dialect: 'lookoutvision' }).format).toBe('lookoutvision');
  });

  test('a plain key is looked for once; a URL-encoded one as written, then decoded', async () => {
    const [plain, encoded] = await itemsOf(
      `${gtLine('s3://in/a.jpg', 's3://out/a.png')}\n${gtLine('s3://in/my+turtle%281%29.jpg', 's3://out/b.png')}\n`,
    );
    expect((await plain.findImage()).locations).toEqual(['s3://in/a.jpg']);
    expect(plain.mask).toMatchObject({ file: { locations: ['s3://out/a.png'] } });
    expect((await encoded.findImage()).locations).toEqual(['s3://in/my+turtle%281%29.jpg', 's3://in/my turtle(1).jpg']);
  });

  test("a reader left early (a chunk's range ends) releases the manifest's stream", async () => {
    const { store, streams } = manifestStore(
      `${gtLine('s3://in/a.jpg', 's3://out/a.png')}\n${gtLine('s3://in/b.jpg', 's3://out/b.png')}\n`,
    );
    for await (const item of manifestReader({ manifest: 'm', manifestStore: store, sources: store }).items()) {
      expect(item.source).toBe('s3://in/a.jpg');
      break;
    }
    expect(streams).toHaveLength(1);
    expect(streams[0].destroyed).toBe(true);
  });

  test('a manifest that cannot be opened is an error naming it', async () => {
    const store = {
      readStream: async () => {
        throw new Error('Access Denied');
      },
    } as unknown as ObjectStore;
    const items = manifestReader({ manifest: 's3://b/output.manifest', manifestStore: store, sources: store }).items();
    await expect(items[Symbol.asyncIterator]().next()).rejects.toThrow('cannot read the manifest s3://b/output.manifest: Access Denied');
  });
});

describe("Ground Truth manifest reader: a chunk's slice", () => {
  /** A store serving the manifest whole or by byte range, and counting the bytes it hands out. */
  function rangedStore(text: string) {
    const data = Buffer.from(text);
    const read = { bytes: 0 };
    const serve = (start: number, end: number) => {
      const piece = data.subarray(start, end + 1);
      read.bytes += piece.length;
      return Readable.from([piece]);
    };
    const store = {
      readStream: async () => serve(0, data.length - 1),
      readRangeStream: async (_: string, start: number, end: number) => serve(start, end),
    } as unknown as ObjectStore;
    return { store, read };
  }
  const entries = async (reader: ReturnType<typeof manifestReader>) => {
    const found: { line: number; source: string | null }[] = [];
    for await (const item of reader.items()) found.push({ line: item.line, source: item.source });
    return found;
  };

  test('reads only its lines, numbered as in the whole manifest (blank and broken lines counted); a range of blank lines alone has no slice', async () => {
    const lines = [
      gtLine('s3://in/1.jpg', 's3://out/1.png'),
      '',
      '{broken',
      gtLine('s3://in/4.jpg', 's3://out/4.png'),
      '',
      '',
      gtLine('s3://in/7.jpg', 's3://out/7.png'),
      gtLine('s3://in/8.jpg', 's3://out/8.png'),
    ];
    const text = `\uFEFF${lines.join('\r\n')}`;
    const { store, read } = rangedStore(text);
    const reader = manifestReader({ manifest: 'm', manifestStore: store, sources: store });
    const whole = await entries(reader);
    expect(whole.map((e) => e.line)).toEqual([1, 3, 4, 7, 8]);
    const slices = await reader.slicing!.slicesOf([
      { first: 1, last: 2 },
      { first: 3, last: 4 },
      { first: 5, last: 6 },
      { first: 7, last: 8 },
    ]);
    expect(slices[2]).toBeUndefined();
    read.bytes = 0;
    const sliced = [];
    for (const slice of [slices[0], slices[1], slices[3]]) sliced.push(...(await entries(reader.slicing!.readerOf(slice))));
    expect(sliced).toEqual(whole);
    // Each byte once: the slices tile the manifest.
    expect(read.bytes).toBe(Buffer.byteLength(text));
  });
});
