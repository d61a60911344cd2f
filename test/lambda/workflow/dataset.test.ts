import { S3ObjectStore } from '../../../lambda/convert/s3-object-store';
import { EmbeddedS3Server, startEmbeddedS3Server } from '../../../lambda/local/embedded-s3-server';
import { groundTruthManifestLine, labelingClasses } from '../../../lambda/local/ground-truth-output';
import { encodePng } from '../../../lambda/local/png';
import { assembleChannels, planConversion } from '../../../lambda/workflow/dataset';

describe('conversion plan and channel checks (embedded S3 server)', () => {
  let server: EmbeddedS3Server;
  let store: S3ObjectStore;
  const bucket = 'artifacts';

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: [bucket] });
    store = new S3ObjectStore(server.client());
  });
  afterAll(async () => {
    store.client.destroy();
    await server.close();
  });

  test('the plan fixes the class order (dataset, configured, first-seen) and cuts lines into chunks', async () => {
    await store.write(`s3://${bucket}/datasets/main/classes.json`, Buffer.from('["BACKGROUND","rock"]'), 'application/json');
    const classes = labelingClasses(['kelp', 'turtle', 'rock']);
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify(groundTruthManifestLine({ source: `s3://in/${i}.jpg`, mask: `s3://in/${i}.png`, attribute: 'a-ref', jobName: 'j', classes })));
    await store.write(`s3://${bucket}/runs/r/output.manifest`, Buffer.from(`${lines.join('\n')}\n\nnot json\n`), 'application/x-ndjson');
    const plan = await planConversion({ store, bucket, manifest: `s3://${bucket}/runs/r/output.manifest`, configuredClasses: ['turtle'], chunkLines: 3 });
    expect(plan.classes).toEqual(['BACKGROUND', 'rock', 'turtle', 'kelp']);
    expect(plan.chunks).toEqual([
      { index: 0, manifest: `s3://${bucket}/runs/r/output.manifest`, first: 1, last: 3 },
      { index: 1, manifest: `s3://${bucket}/runs/r/output.manifest`, first: 4, last: 6 },
      { index: 2, manifest: `s3://${bucket}/runs/r/output.manifest`, first: 7, last: 7 },
    ]);
    expect(JSON.parse((await store.read(`s3://${bucket}/datasets/main/classes.json`)).toString())).toEqual(plan.classes);
  });

  test('channels that are not fit to train on stop the run with every problem named', async () => {
    await store.write(`s3://${bucket}/datasets/main/classes.json`, Buffer.from('["BACKGROUND","turtle"]'), 'application/json');
    const mask = (values: number[]) => encodePng({ width: values.length, height: 1, colourType: 0, data: Uint8Array.from(values) });
    await store.write(`s3://${bucket}/datasets/main/train/a.jpg`, Buffer.from('jpeg'), 'image/jpeg');
    await store.write(`s3://${bucket}/datasets/main/train_annotation/a.png`, mask([0, 1, 7]), 'image/png');
    const report = { items: [{ source: 's3://in/a.jpg', name: 'a', split: 'train', width: 3, height: 1 }], skipped: [] };
    await store.write(`s3://${bucket}/runs/check/conversion/chunk-00000.json`, Buffer.from(JSON.stringify(report)), 'application/json');
    await expect(assembleChannels({ store, scratchStore: store, bucket, runId: 'check', chunks: 1, minTrainingSamples: 5 })).rejects.toThrow(
      /the channels are not fit to train on \(3 problems\): a: mask holds 7, not a class index below 2 or 255; the train channel holds 1 items; at least 5 are needed; the validation channel is empty/,
    );
  });
});

describe('updateJson', () => {
  test('a write that lost to another run is redone on the newer version, so neither update is lost', async () => {
    const { updateJson } = await import('../../../lambda/workflow/versioned-json');
    let stored: { data: Buffer; etag: string } = { data: Buffer.from('["BACKGROUND","turtle"]'), etag: '"1"' };
    let raced = false;
    const store = {
      readVersioned: async () => stored,
      writeIfUnchanged: async (_location: string, body: Buffer, _type: string, etag: string | undefined) => {
        if (!raced) {
          // Another run appends "kelp" between this run's read and its write.
          raced = true;
          stored = { data: Buffer.from('["BACKGROUND","turtle","kelp"]'), etag: '"2"' };
        }
        if (etag !== stored.etag) return false;
        stored = { data: body, etag: '"3"' };
        return true;
      },
    } as never;
    const result = await updateJson<string[]>(store, 's3://b/datasets/main/classes.json', [], (known) => [...known, 'rock']);
    expect(result).toEqual(['BACKGROUND', 'turtle', 'kelp', 'rock']);
    expect(JSON.parse(stored.data.toString())).toEqual(result);
  });
});
