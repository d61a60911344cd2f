import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import * as tar from 'tar';
import { encodeClassIndexPng } from '../../lambda/convert/codecs/mask';
import { ConfusionMatrix } from '../../lambda/evaluation/metrics';
import { PYTORCH_METRIC_DEFINITIONS, PYTORCH_SOURCE_DIR } from '../../lib/workflow/pytorch-trainer';
import { LocalPyTorchModel } from '../../local/pytorch-serving';
import { finalMetrics } from '../../local/pytorch-training';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import { findTorchPython } from '../../local/torch-python';

/**
 * The PyTorch training script (pytorch/train.py) and its serving code (pytorch/inference.py) on
 * Debian's python3-torch, from scratch on tiny generated scenes, with the channels laid out as a
 * ManifestFile channel places them (each object under its full key, images and masks apart).
 */
const run = promisify(execFile);
const python = findTorchPython();
if (!python) throw new Error('no Python with torch and torchvision: apt-get install python3-torch python3-torchvision (.ci/run does)');

const NUM_CLASSES = 3;
const work = mkdtempSync(join(tmpdir(), 'segpipe-trainer-test-'));
const channel = (name: string) => join(work, 'input', 'data', name);
const validationMasks: Uint8Array[] = [];

async function writeChannels(): Promise<void> {
  for (const [split, first, count] of [
    ['train', 0, 24],
    ['validation', 100, 8],
  ] as const) {
    for (let i = first; i < first + count; i++) {
      const scene = renderSyntheticScene(i, 96, 72);
      const labels = Buffer.from(scene.classIndices);
      labels.fill(255, 0, 96); // an unlabelled first row: ignored
      const images = join(channel(split), 'datasets', 'd', 'items', `b${i % 2}`);
      const masks = join(channel(`${split}_annotation`), 'datasets', 'd', 'masks', `b${i % 2}`);
      mkdirSync(images, { recursive: true });
      mkdirSync(masks, { recursive: true });
      writeFileSync(join(images, `scene-${i}.jpg`), await sceneToJpeg(scene));
      writeFileSync(join(masks, `scene-${i}.png`), await encodeClassIndexPng(labels, 96, 72));
      if (split === 'validation') validationMasks.push(labels);
    }
  }
}

async function train(epochs: number): Promise<string[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, SM_MODEL_DIR: join(work, 'model') };
  for (const name of ['train', 'validation', 'train_annotation', 'validation_annotation'])
    env[`SM_CHANNEL_${name.toUpperCase()}`] = channel(name);
  const { stdout } = await run(
    python!,
    [
      '-W',
      'ignore',
      join(PYTORCH_SOURCE_DIR, 'train.py'),
      '--num_classes',
      String(NUM_CLASSES),
      '--model',
      'lraspp',
      '--backbone',
      'mobilenet_v3_large',
      '--pretrained',
      'false',
      '--epochs',
      String(epochs),
      '--batch_size',
      '4',
      '--learning_rate',
      '0.01',
      '--image_size',
      '96',
      '--checkpoint_dir',
      join(work, 'checkpoints'),
    ],
    { env },
  );
  return stdout.split('\n');
}

const epochLines = (lines: string[]) => lines.filter((l) => l.startsWith('epoch='));
const metric = (line: string, name: string) => Number(new RegExp(`${name}=([0-9.eE+-]+);`).exec(line)![1]);

let first: string[];
let resumed: string[];

beforeAll(async () => {
  await writeChannels();
  first = await train(5);
  resumed = await train(6);
}, 600_000);

describe('train.py', () => {
  test('the loss falls, and validation mIoU beats predicting background everywhere', () => {
    const epochs = epochLines(first).slice(0, 5);
    expect(epochs).toHaveLength(5);
    expect(metric(epochs[4], 'train:loss')).toBeLessThan(metric(epochs[0], 'train:loss'));
    const background = new ConfusionMatrix(NUM_CLASSES);
    for (const mask of validationMasks) background.add(mask, new Uint8Array(mask.length));
    const best = Math.max(...epochs.map((l) => metric(l, 'validation:mIOU')));
    expect(best).toBeGreaterThan(background.metrics().miou + 0.1);
  });

  test("prints the best epoch's metrics last, which the job's metric definitions report", () => {
    const epochs = epochLines(first);
    const best = Math.max(...epochs.slice(0, 5).map((l) => metric(l, 'validation:mIOU')));
    expect(metric(epochs.at(-1)!, 'validation:mIOU')).toBe(best);
    const reported = finalMetrics(first, PYTORCH_METRIC_DEFINITIONS);
    expect(reported.find((m) => m.MetricName === 'validation:mIOU')!.Value).toBe(best);
    expect(reported.map((m) => m.MetricName).sort()).toEqual(['train:loss', 'validation:mIOU', 'validation:pixel_accuracy']);
  });

  test('an interrupted job resumes from its checkpoint: a second start trains only the epochs left', () => {
    expect(resumed).toContainEqual(`resumed from ${join(work, 'checkpoints', 'checkpoint.pth')} after epoch 5`);
    expect(epochLines(resumed).map((l) => /^epoch=(\d+);/.exec(l)![1])).toEqual(['6', expect.stringMatching(/^\d$/)]);
  });

  test('writes the model with its inference code, as the PyTorch inference container loads it', () => {
    expect(readdirSync(join(work, 'model')).sort()).toEqual(['code', 'model.pth', 'model_config.json']);
    expect(readdirSync(join(work, 'model', 'code')).sort()).toEqual(['inference.py', 'segmentation_model.py']);
    expect(JSON.parse(readFileSync(join(work, 'model', 'model_config.json'), 'utf8'))).toMatchObject({
      model: 'lraspp',
      backbone: 'mobilenet_v3_large',
      num_classes: 3,
      image_size: 96,
    });
  });

  test('refuses a mask holding a class past num_classes, naming the file', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'segpipe-trainer-bad-'));
    for (const name of ['train', 'validation', 'train_annotation', 'validation_annotation']) mkdirSync(join(bad, name));
    for (const split of ['train', 'validation']) {
      writeFileSync(join(bad, split, 'a.jpg'), await sceneToJpeg(renderSyntheticScene(1, 32, 32)));
      writeFileSync(join(bad, `${split}_annotation`, 'a.png'), await encodeClassIndexPng(Buffer.alloc(32 * 32, 7), 32, 32));
    }
    const args = [
      '-W',
      'ignore',
      join(PYTORCH_SOURCE_DIR, 'train.py'),
      '--num_classes',
      '3',
      '--pretrained',
      'false',
      '--epochs',
      '1',
      '--model_dir',
      join(bad, 'model'),
      '--checkpoint_dir',
      join(bad, 'ck'),
      ...['train', 'validation', 'train_annotation', 'validation_annotation'].flatMap((n) => [`--${n}_dir`, join(bad, n)]),
    ];
    await expect(run(python!, args)).rejects.toThrow(/a\.png: class 7 is past num_classes 3/);
  });
});

describe('inference.py, as the endpoint serves it', () => {
  let model: LocalPyTorchModel;
  beforeAll(async () => {
    const file = join(work, 'model.tar.gz');
    await tar.create({ gzip: true, portable: true, cwd: join(work, 'model'), file }, ['.']);
    model = await LocalPyTorchModel.load(readFileSync(file));
  }, 120_000);
  afterAll(() => model?.close());

  test.each([
    [50, 30],
    [96, 72],
    [333, 201],
  ])('answers a %ix%i JPEG with a mode-L PNG of its size holding class indices', async (width, height) => {
    const jpeg = await sceneToJpeg(renderSyntheticScene(500 + width, width, height));
    const answer = await model.invoke(jpeg, 'image/jpeg', 'image/png');
    expect(answer.contentType).toBe('image/png');
    // IHDR: bit depth 8, colour type 0 (greyscale: PIL's mode L).
    expect([answer.body.readUInt32BE(16), answer.body.readUInt32BE(20), answer.body[24], answer.body[25]]).toEqual([width, height, 8, 0]);
    const data = await sharp(answer.body).extractChannel(0).raw().toBuffer();
    expect(data.length).toBe(width * height);
    expect(Math.max(...data)).toBeLessThan(NUM_CLASSES);
  });

  test('refuses what the built-in algorithm refuses, and serves on', async () => {
    await expect(model.invoke(Buffer.from('{}'), 'application/json', 'image/png')).rejects.toThrow(
      /unsupported ContentType application\/json; send image\/jpeg/,
    );
    await expect(model.invoke(Buffer.from('not a jpeg'), 'image/jpeg', 'image/png')).rejects.toThrow(/the image could not be decoded/);
    const jpeg = await sceneToJpeg(renderSyntheticScene(7, 40, 40));
    await expect(model.invoke(jpeg, 'image/jpeg', 'application/json')).rejects.toThrow(
      /unsupported Accept application\/json; ask for image\/png/,
    );
    expect((await model.invoke(jpeg, 'image/jpeg', 'image/png')).contentType).toBe('image/png');
  });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));
