import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { predictCommand } from '../../bin/commands/predict';
import { prelabelCommand } from '../../bin/commands/prelabel';
import { parseS3Uri } from '../../lambda/convert/stores/object-store';
import { createS3Client } from '../../lambda/convert/stores/s3-object-store';
import { brushAlpha } from '../../lambda/labelstudio/brush-rle';
import { endpointName, resourcePrefix } from '../../lambda/workflow/names';
import type { LocalRunOptions, LocalRunResult, runLocally } from '../../local/local-run';
import { renderSyntheticScene } from '../../local/synthetic-scenes';
import { runCommand } from '../helpers/cli';
import { readMasksWithPil } from '../helpers/pil';

/** The local run's stack's SageMaker prefix (`Segpipe`, lib/synthesize.ts). */
const PREFIX = resourcePrefix('Segpipe');

/** `segpipe predict <args>`, parsed and run in this process against the local endpoint. */
const predict = (...args: string[]) => runCommand(predictCommand(), args);

/**
 * Two local runs in one data folder, as a user would run `segpipe local` twice: the first with --keep
 * (looked at while it serves, then closed, which also skips its idle wait), the second meeting the
 * first one's endpoint as its champion. The handlers read their settings and S3 endpoint once, when
 * loaded, so each run loads them again (jest.resetModules), as a second process would.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'segpipe-local-test-'));
async function localRun(options: Omit<LocalRunOptions, 'dataDir'>): Promise<LocalRunResult> {
  jest.resetModules();
  const { runLocally: run } = (await import('../../local/local-run')) as { runLocally: typeof runLocally };
  return run({ ...options, dataDir });
}

let result: LocalRunResult;
const lines: string[] = [];

describe('the local run, --keep', () => {
  beforeAll(async () => {
    result = await localRun({ images: 16, imageWidth: 96, imageHeight: 72, epochs: 8, keep: true, log: (l) => lines.push(l) });
  }, 180_000);
  afterAll(async () => result?.close());

  test('runs the shipped state machine to a deployed endpoint, saying what is a stand-in', () => {
    expect(result.status).toBe('SUCCEEDED');
    const output = lines.join('\n');
    for (const state of [
      'Check batch',
      'Snapshot batch',
      'Label',
      'Convert chunk',
      'Assemble channels',
      'Train',
      'Create endpoint',
      'Report deployed',
      'Run finished',
    ]) {
      expect(output).toContain(`▸ ${state}\n`);
    }
    expect(output).toMatch(/LOCAL STAND-IN labeling/);
    expect(output).toMatch(/LOCAL STAND-IN training/);
    expect(output).toMatch(/LOCAL STAND-IN hosting/);
    expect(output).toContain('Shortened for a local run');
    expect(output).toContain(`Try: npx segpipe predict --endpoint ${endpointName(PREFIX)} --endpoint-url ${result.endpointUrl}`);
    // The first batch of a fresh data folder, named without the clock.
    expect(result.runId).toMatch(/^local-demo-1-/);
  });

  test('--keep prints the S3 commands with the dummy keys, endpoint URL and region they need, and the local S3 takes those keys', async () => {
    const output = lines.join('\n');
    expect(output).toContain('takes any access keys');
    const s3Options = `--endpoint-url ${result.s3Endpoint} --region us-east-1`;
    expect(result.s3Commands).toEqual([
      `AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws s3 ls s3://artifacts/runs/${result.runId}/ --recursive ${s3Options}`,
      expect.stringMatching(
        new RegExp(
          `^AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local npx segpipe convert --manifest s3://artifacts/runs/${result.runId}/labeling/output/[^ ]+/manifests/output/output\\.manifest --out \\S+ --classes turtle,rock ${s3Options}$`,
        ),
      ),
    ]);
    for (const command of result.s3Commands!) expect(output).toContain(command);
    const client = createS3Client({
      endpoint: result.s3Endpoint!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const manifest = parseS3Uri(/--manifest (\S+)/.exec(result.s3Commands![1])![1])!;
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'artifacts', Prefix: manifest.key }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual([manifest.key]);
    } finally {
      client.destroy();
    }
  });

  test('its report holds the run, the classes and metrics that beat predicting background everywhere', () => {
    const report = JSON.parse(readFileSync(result.reportPath!, 'utf8'));
    expect(report).toMatchObject({ status: 'deployed', classes: ['BACKGROUND', 'turtle', 'rock'], counts: { skipped: 1 } });
    expect(report.counts.converted).toBe(15);
    // Background everywhere scores its pixel share over 3 classes: at most 1/3.
    expect(report.metrics['validation:mIOU']).toBeGreaterThan(0.45);
    expect(report.metrics['validation:pixel_accuracy']).toBeGreaterThan(0.7);
  });

  test('its channels are what the algorithm reads: JPEGs and single-channel class-index PNGs of the same names', () => {
    const names = (channel: string) =>
      readdirSync(join(result.channelsDir!, channel))
        .map((f) => f.replace(/\.(jpg|png)$/, ''))
        .sort();
    expect(names('train').length).toBeGreaterThan(0);
    expect(names('train_annotation')).toEqual(names('train'));
    expect(names('validation_annotation')).toEqual(names('validation'));
    expect(names('train').length + names('validation').length).toBe(15);
    const masks = readMasksWithPil(
      readdirSync(join(result.channelsDir!, 'train_annotation')).map((f) => join(result.channelsDir!, 'train_annotation', f)),
    );
    for (const mask of masks) {
      expect(mask).toMatchObject({ mode: 'L', width: 96, height: 72 });
      expect(Math.max(...mask.values)).toBeLessThanOrEqual(2);
    }
  });

  test('validation-overlays.png is a contact sheet of the validation images', async () => {
    const meta = await sharp(result.overlayPath!).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThanOrEqual(3 * 96);
    expect(meta.height).toBeGreaterThan(72);
  });

  test("segpipe predict against the local endpoint writes masks of the input image's size, and overlays", async () => {
    const work = mkdtempSync(join(tmpdir(), 'segpipe-predict-'));
    const scene = renderSyntheticScene(42, 150, 110);
    const png = join(work, 'shore.png');
    await sharp(scene.rgb, { raw: { width: 150, height: 110, channels: 3 } })
      .png()
      .toFile(png);
    const jpeg = join(work, 'rocks.jpg');
    await sharp(renderSyntheticScene(43, 77, 51).rgb, { raw: { width: 77, height: 51, channels: 3 } })
      .jpeg()
      .toFile(jpeg);
    const again = join(work, 'again');
    mkdirSync(again);
    copyFileSync(png, join(again, 'shore.png'));
    const out = join(work, 'out');
    const { stdout, error } = await predict(
      '--endpoint',
      result.endpointName,
      '--endpoint-url',
      result.endpointUrl!,
      '--classes',
      'turtle,rock',
      '--out',
      out,
      png,
      jpeg,
      join(again, 'shore.png'),
    );
    expect(error).toBeUndefined();
    expect(stdout).toMatch(
      /shore\.png → .*shore\.mask\.png, .*shore\.overlay\.png \(150×110\): background \d+\.\d%, turtle \d+\.\d%, rock \d+\.\d%/,
    );
    // A second input of the same name gets outputs of its own.
    expect(readdirSync(out).sort()).toEqual([
      'rocks.mask.png',
      'rocks.overlay.png',
      'shore-2.mask.png',
      'shore-2.overlay.png',
      'shore.mask.png',
      'shore.overlay.png',
    ]);
    for (const [name, width, height] of [
      ['shore', 150, 110],
      ['rocks', 77, 51],
    ] as const) {
      const mask = await sharp(join(out, `${name}.mask.png`)).metadata();
      expect({ width: mask.width, height: mask.height, channels: mask.channels }).toEqual({ width, height, channels: 1 });
    }
    // Most pixels predicted right on a scene like the training ones.
    const predicted = await sharp(join(out, 'shore.mask.png')).extractChannel(0).raw().toBuffer();
    let right = 0;
    predicted.forEach((v, i) => {
      if (v === scene.classIndices[i]) right++;
    });
    expect(right / predicted.length).toBeGreaterThan(0.6);
  });

  test('segpipe prelabel against the local endpoint: Label Studio tasks whose brush regions are exactly the mask segpipe predict writes', async () => {
    const work = mkdtempSync(join(tmpdir(), 'segpipe-prelabel-local-'));
    mkdirSync(join(work, 'images'));
    const scene = renderSyntheticScene(44, 120, 90);
    const image = join(work, 'images', 'shore.jpg');
    await sharp(scene.rgb, { raw: { width: 120, height: 90, channels: 3 } })
      .jpeg()
      .toFile(image);
    const endpoint = ['--endpoint', result.endpointName, '--endpoint-url', result.endpointUrl!, '--classes', 'turtle,rock'];
    expect((await predict(...endpoint, '--out', join(work, 'predicted'), image)).error).toBeUndefined();
    const { error } = await runCommand(prelabelCommand(), [
      ...endpoint,
      '--images',
      join(work, 'images'),
      '--out',
      join(work, 'tasks.json'),
      '--model-version',
      'local-demo-1',
    ]);
    expect(error).toBeUndefined();
    const mask = await sharp(join(work, 'predicted', 'shore.mask.png'))
      .extractChannel(0)
      .raw()
      .toBuffer();
    const [task] = JSON.parse(readFileSync(join(work, 'tasks.json'), 'utf8'));
    const regions = task.predictions[0].result as { value: { rle: number[]; brushlabels: string[] } }[];
    expect(regions.length).toBeGreaterThan(0);
    for (const region of regions) {
      const index = ['turtle', 'rock'].indexOf(region.value.brushlabels[0]) + 1;
      expect(Array.from(brushAlpha(region.value.rle, 120, 90)!, (a) => a === 255)).toEqual(Array.from(mask, (m) => m === index));
    }
  });

  test('predict reports an unknown endpoint by name and fails (its options are tested in test/bin/commands/predict.test.ts)', async () => {
    const work = mkdtempSync(join(tmpdir(), 'segpipe-predict-'));
    const jpeg = join(work, 'a.jpg');
    await sharp(renderSyntheticScene(1, 20, 20).rgb, { raw: { width: 20, height: 20, channels: 3 } })
      .jpeg()
      .toFile(jpeg);
    const unknown = await predict('--endpoint', 'nope', '--endpoint-url', result.endpointUrl!, '--out', work, jpeg);
    expect(unknown.stderr).toBe(`${jpeg}: Endpoint nope of account 123456789012 not found.\n`);
    expect(unknown.error?.message).toBe('1 of 1 images failed');
  });

  test("evaluates its model alone on the endpoint it creates, and prints the report's path", () => {
    expect(result.report!.evaluation).toMatchObject({
      promote: true,
      challenger: { variant: expect.stringMatching(new RegExp(`^${PREFIX}-variant-local-demo-1-`)) },
    });
    expect(result.report!.evaluation!.champion).toBeUndefined();
    expect(result.evaluationReportPath).toBe(join(dataDir, 'evaluation', 'report.html'));
    expect(lines).toContain(`  evaluation report: ${result.evaluationReportPath} (in S3: ${result.report!.evaluation!.reportUri})`);
    expect(lines.join('\n')).toMatch(/▸ Evaluate model\n/);
  });
});

describe('a second local run in the same data folder', () => {
  let second: LocalRunResult;
  const secondLines: string[] = [];

  beforeAll(async () => {
    second = await localRun({ images: 12, imageWidth: 96, imageHeight: 72, epochs: 16, log: (l) => secondLines.push(l) });
    await second.close();
  }, 180_000);

  test('the clean-up sweeps as a dry run, so the endpoint stays for the next run; nothing is announced as deleted', () => {
    const cleanup = second.cleanup!;
    expect(cleanup.dryRun).toBe(true);
    expect(cleanup.deleted).toContainEqual({
      kind: 'endpoint',
      name: `${PREFIX}-endpoint`,
      reason: expect.stringMatching(/^idle: no invocations/),
    });
    for (const d of cleanup.deleted) expect(secondLines).toContain(`  clean-up would delete ${d.kind} ${d.name}: ${d.reason}`);
    expect(readFileSync(join(dataDir, 'notifications.log'), 'utf8')).not.toContain('Segpipe Resource Deleted');
    expect(existsSync(join(dataDir, 'sagemaker.json'))).toBe(true);
  });

  test("the second meets the first one's endpoint and decides between champion and challenger on the same images", () => {
    expect(second.status).toBe('SUCCEEDED');
    const output = secondLines.join('\n');
    expect(output).toContain(
      `LOCAL STAND-IN hosting: endpoint ${PREFIX}-endpoint from an earlier run serves ${PREFIX}-model-local-demo-1-`,
    );
    for (const state of ['Add challenger', 'Evaluate champion and challenger']) expect(output).toContain(`▸ ${state}\n`);
    const evaluation = second.report!.evaluation!;
    expect(evaluation.champion!.variant).toBe(result.report!.evaluation!.challenger.variant);
    expect(evaluation.challenger.variant).toMatch(new RegExp(`^${PREFIX}-variant-local-demo-2-`));
    const deserves = evaluation.challenger.miou >= 0.5 && evaluation.challenger.miou >= evaluation.champion!.miou - 0.01;
    expect({ promote: evaluation.promote, status: second.report!.status }).toEqual({
      promote: deserves,
      status: deserves ? 'deployed' : 'not-promoted',
    });
    expect(output).toContain(
      `  evaluation on the endpoint: ${deserves ? 'promoted' : 'not promoted'}: challenger ${evaluation.challenger.variant} mIoU`,
    );
    const metrics = JSON.parse(readFileSync(join(dataDir, 'evaluation', 'metrics.json'), 'utf8'));
    expect(metrics.variants.map((v: { role: string }) => v.role)).toEqual(['champion', 'challenger']);
  });
});
