import { Readable } from 'node:stream';
import { groundTruthManifestLine, labelingClasses } from '../../../../bin/local/ground-truth-output';
import { ExportItem, ExportSkip } from '../../../../lambda/convert/export-item';
import type { ObjectStore } from '../../../../lambda/convert/stores/object-store';
import { manifestReader } from '../../../../lambda/convert/readers/ground-truth';

const gtLine = (source: string, mask: string) => JSON.stringify(groundTruthManifestLine({ source, mask, attribute: 'turtles-ref', jobName: 'turtles', classes: labelingClasses(['turtle']) }));
const lfvLine = (source: string, mask: string) => JSON.stringify({
  'source-ref': source,
  'anomaly-mask-ref': mask,
  'anomaly-mask-ref-metadata': { 'internal-color-map': { 0: { 'class-name': 'scratch', 'hex-color': '#2CA02C' } }, type: 'groundtruth/semantic-segmentation' },
});

/** A store holding only the manifest, handing out the stream it reads so a test can look at it. */
function manifestStore(text: string) {
  const streams: Readable[] = [];
  const store = { readStream: async () => { const stream = Readable.from([Buffer.from(text)]); streams.push(stream); return stream; } } as unknown as ObjectStore;
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

  test('with no dialect given, each line\'s dialect is told from its shape', async () => {
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
    const [plain, encoded] = await itemsOf(`${gtLine('s3://in/a.jpg', 's3://out/a.png')}\n${gtLine('s3://in/my+turtle%281%29.jpg', 's3://out/b.png')}\n`);
    expect((await plain.findImage()).locations).toEqual(['s3://in/a.jpg']);
    expect(plain.mask).toMatchObject({ file: { locations: ['s3://out/a.png'] } });
    expect((await encoded.findImage()).locations).toEqual(['s3://in/my+turtle%281%29.jpg', 's3://in/my turtle(1).jpg']);
  });

  test('a reader left early (a chunk\'s range ends) releases the manifest\'s stream', async () => {
    const { store, streams } = manifestStore(`${gtLine('s3://in/a.jpg', 's3://out/a.png')}\n${gtLine('s3://in/b.jpg', 's3://out/b.png')}\n`);
    for await (const item of manifestReader({ manifest: 'm', manifestStore: store, sources: store }).items()) {
      expect(item.source).toBe('s3://in/a.jpg');
      break;
    }
    expect(streams).toHaveLength(1);
    expect(streams[0].destroyed).toBe(true);
  });

  test('a manifest that cannot be opened is an error naming it', async () => {
    const store = { readStream: async () => { throw new Error('Access Denied'); } } as unknown as ObjectStore;
    const items = manifestReader({ manifest: 's3://b/output.manifest', manifestStore: store, sources: store }).items();
    await expect(items[Symbol.asyncIterator]().next()).rejects.toThrow('cannot read the manifest s3://b/output.manifest: Access Denied');
  });
});
