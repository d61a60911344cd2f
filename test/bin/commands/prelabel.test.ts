import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { labelStudioCommand } from '../../../bin/commands/labelstudio';
import { prelabelCommand } from '../../../bin/commands/prelabel';
import { decodeColourMask } from '../../../lambda/convert/codecs/mask';
import { openExport } from '../../../lambda/convert/export-input';
import type { ExportItem } from '../../../lambda/convert/export-item';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import { brushAlpha } from '../../../lambda/labelstudio/brush-rle';
import { labelStudioSetupText } from '../../../lambda/labelstudio/setup';
import { LOCAL_S3_CREDENTIALS, startEmbeddedS3Server } from '../../../local/embedded-s3-server';
import { renderSyntheticScene, sceneToJpeg } from '../../../local/synthetic-scenes';
import { runCommand } from '../../helpers/cli';
import { FakeRuntime } from '../../helpers/fake-runtime';
import { SYSTEM_PYTHON } from '../../helpers/pil';

const W = 40;
const H = 30;
const CLASSES = ['turtle', 'rock'];

/** The CVAT zip as CVAT's importer (Datumaro's VOC reader) sees it, read with PIL alone: every colour declared, each mask's class indices hashed. */
const READ_CVAT_ZIP = `
import hashlib, io, json, sys, zipfile
import numpy as np
from PIL import Image
z = zipfile.ZipFile(sys.argv[1])
lines = [l for l in z.read('labelmap.txt').decode().splitlines() if l.strip() and not l.startswith('#')]
labels = [l.split(':')[0] for l in lines]
colours = {tuple(int(c) for c in l.split(':')[1].split(',')): i for i, l in enumerate(lines)}
names = z.read('ImageSets/Segmentation/default.txt').decode().split()
out = {"labels": labels, "items": {}}
for name in names:
    cls = np.array(Image.open(io.BytesIO(z.read('SegmentationClass/%s.png' % name))).convert('RGB'))
    obj = np.array(Image.open(io.BytesIO(z.read('SegmentationObject/%s.png' % name))).convert('RGB'))
    found = {tuple(int(v) for v in c) for c in np.unique(cls.reshape(-1, 3), axis=0)}
    undeclared = sorted(str(c) for c in found if c not in colours)
    index = np.zeros(cls.shape[:2], dtype=np.uint8)
    for c, i in colours.items():
        index[(cls == c).all(axis=2)] = i
    # each instance (object colour) lies inside one class
    instances = {}
    for c in np.unique(obj.reshape(-1, 3), axis=0):
        if tuple(c) == (0, 0, 0): continue
        instances[str(tuple(int(v) for v in c))] = sorted(int(v) for v in np.unique(index[(obj == c).all(axis=2)]))
    out["items"][name] = {"undeclared": undeclared, "sha256": hashlib.sha256(index.tobytes()).hexdigest(), "instances": instances}
print(json.dumps(out))
`;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('segpipe prelabel', () => {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-prelabel-'));
  const images = join(work, 'images');
  const runtime = new FakeRuntime();
  const truths = new Map<string, Uint8Array>();
  let endpointUrl: string;

  beforeAll(async () => {
    endpointUrl = await runtime.start();
    mkdirSync(join(images, 'shore'), { recursive: true });
    for (const [i, name] of ['a.jpg', 'b.jpg', 'shore/c.jpg'].entries()) {
      const scene = renderSyntheticScene(700 + i, W, H);
      const jpeg = await sceneToJpeg(scene);
      writeFileSync(join(images, name), jpeg);
      runtime.truthByImage.set(FakeRuntime.hash(jpeg), { width: W, height: H, classIndices: scene.classIndices });
      truths.set(name, scene.classIndices);
    }
    writeFileSync(join(images, 'notes.txt'), 'not an image');
  });
  afterAll(() => runtime.close());

  const run = (args: string[]) =>
    runCommand(prelabelCommand(), [
      '--images',
      images,
      '--endpoint',
      'segpipe-endpoint',
      '--endpoint-url',
      endpointUrl,
      '--classes',
      CLASSES.join(','),
      ...args,
    ]);

  test("Label Studio tasks: one per image, each predicted class one brush region whose pixels are the endpoint's", async () => {
    const out = join(work, 'tasks.json');
    const { stdout, error } = await run([
      '--out',
      out,
      '--image-url-prefix',
      's3://inbox/images/shore-batch/',
      '--model-version',
      'segpipe-run-7',
    ]);
    expect(error).toBeUndefined();
    expect(stdout).toBe(`3 of 3 images pre-labeled by segpipe-endpoint → ${out}\n`);
    const tasks = JSON.parse(readFileSync(out, 'utf8'));
    expect(tasks.map((t: { data: { image: string } }) => t.data.image)).toEqual([
      's3://inbox/images/shore-batch/a.jpg',
      's3://inbox/images/shore-batch/b.jpg',
      's3://inbox/images/shore-batch/shore/c.jpg',
    ]);
    for (const [i, name] of ['a.jpg', 'b.jpg', 'shore/c.jpg'].entries()) {
      const truth = truths.get(name)!;
      const [prediction] = tasks[i].predictions;
      expect(prediction.model_version).toBe('segpipe-run-7');
      const present = [1, 2].filter((c) => truth.includes(c));
      expect(prediction.result.map((r: { value: { brushlabels: string[] } }) => r.value.brushlabels[0])).toEqual(
        present.map((c) => CLASSES[c - 1]),
      );
      for (const [k, result] of prediction.result.entries()) {
        const alpha = brushAlpha(result.value.rle, W, H)!;
        expect(Array.from(alpha, (a) => (a ? 1 : 0))).toEqual(Array.from(truth, (t) => (t === present[k] ? 1 : 0)));
      }
    }
  });

  test('to a folder: one flat <name>.json task per image (a source storage lists direct children)', async () => {
    const out = join(work, 'tasks');
    const { stdout, error } = await run(['--out', out]);
    expect(error).toBeUndefined();
    expect(stdout).toBe(`3 of 3 images pre-labeled by segpipe-endpoint → 3 files under ${out}\n`);
    expect(readdirSync(out).sort()).toEqual(['a.json', 'b.json', 'shore__c.json']);
    expect(JSON.parse(readFileSync(join(out, 'shore__c.json'), 'utf8')).data.image).toBe('shore/c.jpg');
    expect((await run(['--out', images])).error?.message).toMatch(
      /^--out is the images folder: Label Studio tasks need a prefix of their own/,
    );
  });

  test('an image the endpoint fails on still gets its task, without predictions, and is reported', async () => {
    runtime.answer = (_variant, nth) => (nth === 2 ? 'error' : 'truth');
    runtime.requests.length = 0;
    const out = join(work, 'with-failure.json');
    const { stderr, error } = await run(['--out', out, '--concurrency', '1']);
    runtime.answer = () => 'truth';
    expect(error?.message).toBe('the endpoint failed on 1 of 3 images (their tasks are written without predictions)');
    expect(stderr).toMatch(new RegExp(`^${join(images, 'b.jpg')}: .+\\n$`));
    const tasks = JSON.parse(readFileSync(out, 'utf8'));
    expect(tasks.map((t: { predictions?: unknown[] }) => t.predictions?.length)).toEqual([1, undefined, 1]);
  });

  test("a CVAT Segmentation mask 1.1 zip: read back with PIL against its label map, and by segpipe's CVAT reader", async () => {
    const out = join(work, 'cvat', 'prelabels.zip');
    const { error } = await run(['--format', 'cvat', '--out', out]);
    expect(error).toBeUndefined();
    const pil = JSON.parse(execFileSync(SYSTEM_PYTHON, ['-c', READ_CVAT_ZIP, out], { encoding: 'utf8' }));
    expect(pil.labels).toEqual(['background', ...CLASSES]);
    expect(Object.keys(pil.items)).toEqual(['a', 'b', 'shore/c']);
    for (const name of ['a.jpg', 'b.jpg', 'shore/c.jpg']) {
      const item = pil.items[name.replace(/\.jpg$/, '')];
      expect(item.undeclared).toEqual([]);
      expect(item.sha256).toBe(sha256(truths.get(name)!));
      expect((Object.values(item.instances) as number[][]).sort()).toEqual(
        [1, 2].filter((c) => truths.get(name)!.includes(c)).map((c) => [c]),
      );
    }
    const { reader, close } = await openExport({ input: out, images, local: new FolderObjectStore(), sources: new FolderObjectStore() });
    try {
      expect(reader.format).toBe('cvat');
      const items: ExportItem[] = [];
      for await (const item of reader.items()) if (!('reason' in item)) items.push(item);
      expect(items.map((i) => i.source)).toEqual(['JPEGImages/a', 'JPEGImages/b', 'JPEGImages/shore/c']);
      for (const [k, item] of items.entries()) {
        const spec = item.mask;
        if (spec.kind !== 'colour-png') throw new Error(`a CVAT item is a colour PNG, not ${spec.kind}`);
        // A file resolved when it is read (relative references) or known at once.
        const file = typeof spec.file === 'function' ? await spec.file() : spec.file;
        const png = await file.store.read(file.locations[0]);
        const decoded = await decodeColourMask(
          png,
          spec.colours.map((c, i) => ({ rgb: c.rgb, index: i })),
          { limitInputPixels: W * H },
        );
        expect(sha256(decoded.indices)).toBe(sha256(truths.get(['a.jpg', 'b.jpg', 'shore/c.jpg'][k])!));
      }
    } finally {
      close();
    }
  });

  test("from and to S3: data.image is the image's s3:// URI, one task file per image under the tasks prefix", async () => {
    const server = await startEmbeddedS3Server({ buckets: ['inbox'] });
    const client = server.client();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = LOCAL_S3_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_S3_CREDENTIALS.secretAccessKey;
    try {
      for (const name of ['a.jpg', 'b.jpg'])
        await client.send(new PutObjectCommand({ Bucket: 'inbox', Key: `images/shore/${name}`, Body: readFileSync(join(images, name)) }));
      const { stdout, error } = await runCommand(prelabelCommand(), [
        '--images',
        's3://inbox/images/shore/',
        '--endpoint',
        'segpipe-endpoint',
        '--endpoint-url',
        endpointUrl,
        '--s3-endpoint-url',
        server.endpoint,
        '--classes',
        CLASSES.join(','),
        '--out',
        's3://inbox/labelstudio/tasks/shore/1/',
        '--batch',
        'shore',
      ]);
      expect(error).toBeUndefined();
      expect(stdout).toBe('2 of 2 images pre-labeled by segpipe-endpoint → 2 files under s3://inbox/labelstudio/tasks/shore/1/\n');
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'inbox', Prefix: 'labelstudio/' }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual(['labelstudio/tasks/shore/1/a.json', 'labelstudio/tasks/shore/1/b.json']);
      const task = JSON.parse(
        await (
          await client.send(new GetObjectCommand({ Bucket: 'inbox', Key: 'labelstudio/tasks/shore/1/b.json' }))
        ).Body!.transformToString(),
      );
      expect(task.data.image).toBe('s3://inbox/images/shore/b.jpg');
      expect(task.meta).toEqual({ batch: 'shore' });
      expect(task.predictions[0].result.length).toBeGreaterThan(0);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      client.destroy();
      await server.close();
    }
  });

  test('bad options are one line each', async () => {
    expect((await run(['--format', 'cvat', '--out', join(work, 'x.json')])).error?.message).toBe(
      `--out ${join(work, 'x.json')}: a CVAT annotations upload is a .zip`,
    );
    expect((await run(['--format', 'cvat', '--out', join(work, 'x.zip'), '--classes', 'a:b'])).error?.message).toBe(
      'class "a:b" cannot be a CVAT label-map name (no ":", "#", line breaks or surrounding spaces)',
    );
    const empty = mkdtempSync(join(tmpdir(), 'segpipe-prelabel-empty-'));
    expect(
      (
        await runCommand(prelabelCommand(), [
          '--images',
          empty,
          '--endpoint',
          'e',
          '--endpoint-url',
          endpointUrl,
          '--classes',
          'a',
          '--out',
          join(work, 'y.json'),
        ])
      ).error?.message,
    ).toBe(`${empty} holds no .jpg, .jpeg or .png image`);
  });
});

describe('segpipe labelstudio setup', () => {
  const setup = (args: string[]) =>
    runCommand(labelStudioCommand(), ['setup', '--bucket', 'segpipe-inbox-1', '--region', 'eu-west-1', ...args]);

  test("prints the set-up text for the stack's inbox, its region, the classes and the origin given (test/lambda/labelstudio/setup.test.ts checks the text)", async () => {
    const { stdout, error } = await setup(['--origin', 'https://label-studio.example.com/projects/1', '--classes', 'turtle,rock']);
    expect(error).toBeUndefined();
    expect(stdout).toBe(
      labelStudioSetupText({
        inboxBucket: 'segpipe-inbox-1',
        region: 'eu-west-1',
        classes: ['turtle', 'rock'],
        origin: 'https://label-studio.example.com/projects/1',
      }),
    );
  });

  test('a KMS inbox adds its key, through S3 only; a missing key, region or classes and an http origin are refused', async () => {
    const kms = await setup([
      '--origin',
      'https://ls.example.com',
      '--classes',
      'turtle',
      '--config',
      '{"storage":{"encryption":"kms"}}',
      '--kms-key-arn',
      'arn:aws:kms:eu-west-1:111122223333:key/abc',
    ]);
    expect(kms.stdout).toContain('"kms:ViaService": "s3.eu-west-1.amazonaws.com"');
    expect(
      (await setup(['--origin', 'https://ls.example.com', '--classes', 'turtle', '--config', '{"storage":{"encryption":"kms"}}'])).error
        ?.message,
    ).toMatch(/pass --kms-key-arn/);
    expect((await setup(['--origin', 'http://ls.example.com', '--classes', 'turtle'])).error?.message).toBe(
      '--origin http://ls.example.com: Label Studio must be served over https (http only for localhost)',
    );
    expect((await setup(['--origin', 'not a url', '--classes', 'turtle'])).error?.message).toMatch(/^--origin "not a url" is not a URL/);
  });
});
