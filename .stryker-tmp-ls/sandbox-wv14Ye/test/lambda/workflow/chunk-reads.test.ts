import type { ConversionReport } from '../../../lambda/convert/conversion/report';
import { type ConversionPlan, convertChunk, planConversion } from '../../../lambda/workflow/dataset';
import { runLayout } from '../../../lambda/workflow/layout';
import { CountingStore } from '../../../local/counting-store';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../local/embedded-s3-server';
import { groundTruthManifestLine, groundTruthMaskPng, labelingClasses } from '../../../local/ground-truth-output';
import { grid, H, jpeg, W } from '../../helpers/format-fixtures';

const ENTRIES = 12;
const CHUNK = 3;
const classes = labelingClasses(['turtle']);
/** Sources of the entries: entry 11 repeats entry 2's image, so a chunk must know of another chunk's entry. */
const sourceOf = (i: number) => `s3://inbox/images/b1/${i === 11 ? 2 : i}.jpg`;
/** A folder of Label Studio target-storage files. */
const TARGET_STORAGE = 's3://inbox/labeled/b1/target-storage/';

describe('each chunk reads only its share of the export (embedded S3 server)', () => {
  let server: EmbeddedS3Server;
  let store: CountingStore;
  const location = (name: string) => ({
    export: `s3://inbox/labeled/b1/${name}`,
    batch: 'b1',
    inboxBucket: 'inbox',
    allowList: [
      { bucket: 'inbox', prefix: 'labeled/b1/' },
      { bucket: 'inbox', prefix: 'images/b1/' },
    ],
  });

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: ['inbox', 'artifacts'] });
    store = new CountingStore(server.client());
    // Every chunk sniffs the export's format from at most 64 KiB of its start, whatever its share.
    store.countFirstBytes = false;
    const mask = groundTruthMaskPng(
      grid((x) => (x < W / 2 ? 1 : 0)),
      W,
      H,
      classes,
    );
    const lines: string[] = [];
    for (let i = 1; i <= ENTRIES; i++) {
      await store.write(`s3://inbox/images/b1/${i}.jpg`, await jpeg(i), 'image/jpeg');
      await store.write(`s3://inbox/images/b1/${i}.png`, mask, 'image/png');
      lines.push(
        JSON.stringify(
          groundTruthManifestLine({
            source: sourceOf(i),
            mask: `s3://inbox/images/b1/${i}.png`,
            attribute: 'label-ref',
            jobName: 'j',
            classes,
          }),
        ),
      );
    }
    // A blank line and a broken one: positions count them, as a whole reading does.
    lines.splice(5, 0, '', '{not json');
    await store.write('s3://inbox/labeled/b1/output.manifest', Buffer.from(`${lines.join('\n')}\n`), 'application/x-ndjson');
    const coco = {
      categories: [{ id: 1, name: 'turtle' }],
      images: Array.from({ length: ENTRIES }, (_, i) => ({ id: i + 1, file_name: `${i === 10 ? 2 : i + 1}.jpg`, width: W, height: H })),
      // Annotations listed apart from their images, in reverse order.
      annotations: Array.from({ length: ENTRIES }, (_, i) => ({
        id: i,
        image_id: ENTRIES - i,
        category_id: 1,
        segmentation: [[0, 0, 20, 0, 20, H, 0, H]],
        iscrowd: 0,
      })),
    };
    await store.write('s3://inbox/labeled/b1/coco.json', Buffer.from(JSON.stringify(coco)), 'application/json');
    const polygon = {
      points: [
        [0, 0],
        [50, 0],
        [50, 100],
        [0, 100],
      ],
      closed: true,
      polygonlabels: ['turtle'],
    };
    const tasks: unknown[] = Array.from({ length: ENTRIES }, (_, i) => ({
      id: i + 1,
      data: { image: sourceOf(i + 1) },
      annotations: [
        {
          id: i + 1,
          result: [
            {
              id: 'p',
              type: 'polygonlabels',
              from_name: 'tag',
              to_name: 'image',
              original_width: W,
              original_height: H,
              image_rotation: 0,
              value: polygon,
            },
          ],
        },
      ],
    }));
    tasks.splice(5, 0, { id: 99, data: {} });
    // Spaces and newlines between tasks, as Label Studio's export writes them.
    await store.write('s3://inbox/labeled/b1/tasks.json', Buffer.from(JSON.stringify(tasks, null, 2)), 'application/json');
    // The same tasks as Label Studio's target storage writes them: odd tasks as `<annotation id>` files
    // (the task nested), even ones as `<task id>.json`; task 4 annotated again later in another file,
    // and a file that is not JSON.
    for (const [i, task] of (tasks as { id: number; data: object; annotations?: object[] }[]).entries()) {
      const [annotation] = task.annotations ?? [{ id: 1000 + i, result: [] }];
      const stamped = { ...annotation, updated_at: '2026-12-01T00:00:00Z' };
      const file = task.id % 2 === 1 ? `${500 + task.id}` : `${task.id}.json`;
      const body = task.id % 2 === 1 ? { ...stamped, task: { id: task.id, data: task.data } } : { ...task, annotations: [stamped] };
      await store.write(`${TARGET_STORAGE}${file}`, Buffer.from(JSON.stringify(body)), 'application/json');
      if (task.id === 4)
        await store.write(
          `${TARGET_STORAGE}${900 + task.id}`,
          Buffer.from(JSON.stringify({ ...stamped, id: 77, updated_at: '2026-12-02T00:00:00Z', task: { id: task.id, data: task.data } })),
          'application/json',
        );
    }
    await store.write(`${TARGET_STORAGE}555`, Buffer.from('{not json'), 'application/json');
  });
  afterAll(async () => {
    store.client.destroy();
    await server.close();
  });

  /** Converts every chunk of a plan; the bytes of the export each read, and their reports. */
  async function convertAll(plan: ConversionPlan, runId: string, name: string): Promise<{ bytes: number[]; reports: ConversionReport[] }> {
    const bytes: number[] = [];
    const reports: ConversionReport[] = [];
    for (const chunk of plan.chunks) {
      store.bytes = 0;
      await convertChunk({
        ...location(name),
        store,
        bucket: 'artifacts',
        runId,
        chunk,
        classes: plan.classes,
        exportVersion: plan.exportVersion,
        validationFraction: 0.5,
        seed: 's',
      });
      bytes.push(store.bytes);
      reports.push(JSON.parse((await store.read(`s3://artifacts/${runLayout(runId).conversionReport(chunk.index)}`)).toString('utf8')));
    }
    return { bytes, reports };
  }

  /** What the chunks reported, together: every item and skip of the export once. */
  const together = (reports: readonly ConversionReport[]) => ({
    items: reports
      .flatMap((r) => r.items)
      .map(({ line, source, name, split, pixelsPerClass, imageSha256 }) => ({ line, source, name, split, pixelsPerClass, imageSha256 })),
    skipped: reports.flatMap((r) => r.skipped),
    lines: reports.reduce((n, r) => n + r.counts.lines, 0),
  });

  test.each(['output.manifest', 'coco.json', 'tasks.json'])(
    '%s: the last chunk reads no more of the export than the first, and the chunks report what chunks reading from the start report',
    async (name) => {
      store.watched = `s3://inbox/labeled/b1/${name}`;
      const runId = `sliced-${name}`;
      const plan = await planConversion({
        ...location(name),
        store,
        bucket: 'artifacts',
        runId,
        configuredClasses: [],
        chunkEntries: CHUNK,
      });
      expect(plan.chunks.length).toBeGreaterThanOrEqual(4);
      const sliced = await convertAll(plan, runId, name);
      const first = sliced.bytes[0];
      const last = sliced.bytes[sliced.bytes.length - 1];
      expect(last).toBeLessThanOrEqual(Math.max(first, 1) * 1.5);

      // The same plan's chunks without their indexes read the export from its start, as chunks did before.
      await store.remove(plan.chunks.map((chunk) => `s3://artifacts/${runLayout(runId).conversionIndex(chunk.index)}`));
      const fromStart = await convertAll(plan, runId, name);
      expect(fromStart.bytes[fromStart.bytes.length - 1]).toBeGreaterThan(2 * Math.max(...sliced.bytes));
      expect(together(sliced.reports)).toEqual(together(fromStart.reports));
      // The duplicate in another chunk than its first copy is reported, with the line of that copy (COCO keeps an image's first entry alone).
      if (name === 'output.manifest')
        expect(together(sliced.reports).skipped).toEqual(
          expect.arrayContaining([{ line: 13, source: sourceOf(11), reason: 'duplicate of line 2' }]),
        );
    },
  );

  test("Label Studio target-storage files: each chunk reads only its share's files, and the chunks report what chunks reading them all report", async () => {
    const reads: string[] = [];
    const recording = Object.assign(Object.create(store) as CountingStore, {
      readStart: (location: string, maxBytes: number) => {
        // The files themselves (not the folder's sniff, nor images looked for beside them).
        const name = location.slice(TARGET_STORAGE.length);
        if (location.startsWith(TARGET_STORAGE) && name !== '' && !name.includes('/')) reads.push(location);
        return store.readStart(location, maxBytes);
      },
    });
    const runId = 'sliced-target-storage';
    const where = { ...location('target-storage/'), export: TARGET_STORAGE };
    const plan = await planConversion({
      ...where,
      store: recording,
      bucket: 'artifacts',
      runId,
      configuredClasses: [],
      chunkEntries: CHUNK,
    });
    expect(plan.chunks.length).toBeGreaterThanOrEqual(4);
    const convert = async () => {
      const perChunk: number[] = [];
      const reports: ConversionReport[] = [];
      for (const chunk of plan.chunks) {
        reads.length = 0;
        const args = {
          ...where,
          store: recording,
          bucket: 'artifacts',
          runId,
          chunk,
          classes: plan.classes,
          exportVersion: plan.exportVersion,
        };
        await convertChunk({ ...args, validationFraction: 0.5, seed: 's' });
        perChunk.push(reads.length);
        reports.push(JSON.parse((await store.read(`s3://artifacts/${runLayout(runId).conversionReport(chunk.index)}`)).toString('utf8')));
      }
      return { perChunk, reports };
    };
    const sliced = await convert();
    // A chunk of 3 entries reads its 3 files once (4 where a file's line lies in the next chunk).
    expect(Math.max(...sliced.perChunk)).toBeLessThanOrEqual(CHUNK + 1);
    await store.remove(plan.chunks.map((chunk) => `s3://artifacts/${runLayout(runId).conversionIndex(chunk.index)}`));
    const whole = await convert();
    // Without their indexes, every chunk reads every file (the newest annotation of a task is found over all of them).
    expect(Math.min(...whole.perChunk)).toBeGreaterThan(ENTRIES);
    expect(together(sliced.reports)).toEqual(together(whole.reports));
    const skipped = together(sliced.reports).skipped.map((s) => s.reason);
    expect(skipped).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^s3:\/\/inbox\/labeled\/b1\/target-storage\/4\.json: task 4 is annotated again, in .*904, which is newer and kept$/,
        ),
        expect.stringMatching(/target-storage\/555: not JSON/),
      ]),
    );
  });

  test('a chunk refuses an index its plan wrote for another version of the export', async () => {
    store.watched = '';
    const runId = 'moved';
    const plan = await planConversion({
      ...location('output.manifest'),
      store,
      bucket: 'artifacts',
      runId,
      configuredClasses: [],
      chunkEntries: CHUNK,
    });
    const index = `s3://artifacts/${runLayout(runId).conversionIndex(0)}`;
    const written = JSON.parse((await store.read(index)).toString('utf8'));
    await store.write(index, Buffer.from(JSON.stringify({ ...written, exportVersion: '"other"' })), 'application/json');
    await expect(
      convertChunk({
        ...location('output.manifest'),
        store,
        bucket: 'artifacts',
        runId,
        chunk: plan.chunks[0],
        classes: plan.classes,
        exportVersion: plan.exportVersion,
        validationFraction: 0.5,
        seed: 's',
      }),
    ).rejects.toThrow(expect.objectContaining({ name: 'ExportChangedError' }));
  });
});
