import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resourcePrefix } from '../../lambda/workflow/names';
import type { LocalRunOptions, LocalRunResult, runLocally } from '../../local/local-run';

/**
 * `segpipe local --trainer pytorch` after a run of the built-in trainer's stand-in, in one data folder:
 * the real PyTorch script trains on the run's channels, its model is served by its own inference code
 * beside the built-in champion on the same endpoint, and both are evaluated on the same images.
 */
const PREFIX = resourcePrefix('Segpipe');
const dataDir = mkdtempSync(join(tmpdir(), 'segpipe-local-pytorch-test-'));
async function localRun(options: Omit<LocalRunOptions, 'dataDir'>): Promise<LocalRunResult> {
  jest.resetModules();
  const { runLocally: run } = (await import('../../local/local-run')) as { runLocally: typeof runLocally };
  return run({ ...options, dataDir });
}

let builtin: LocalRunResult;
let pytorch: LocalRunResult;
const lines: string[] = [];

beforeAll(async () => {
  builtin = await localRun({ images: 12, imageWidth: 96, imageHeight: 72, epochs: 8, log: () => undefined });
  await builtin.close();
  pytorch = await localRun({ images: 16, imageWidth: 96, imageHeight: 72, epochs: 15, trainer: 'pytorch', log: (l) => lines.push(l) });
  await pytorch.close();
}, 900_000);

test('the PyTorch run trains the real script and says the container is stood in for', () => {
  const output = lines.join('\n');
  expect(output).toMatch(
    /LOCAL STAND-IN training: SageMaker's PyTorch container replaced by \S*python3 running train\.py \(--model lraspp --backbone mobilenet_v3_large --pretrained false --epochs 15 /,
  );
  expect(output).toContain('  | epoch=15; train:loss=');
  expect(pytorch.report!.metrics!['validation:mIOU']).toEqual(expect.any(Number));
});

test('a PyTorch challenger is evaluated against a built-in champion on the same endpoint, each served by its own container', () => {
  // It passed the gate (validation:mIOU at least 0.5), so it was deployed beside the champion.
  expect({ status: pytorch.status, report: pytorch.report!.status }).toEqual({
    status: 'SUCCEEDED',
    report: expect.stringMatching(/^(deployed|not-promoted)$/),
  });
  const evaluation = pytorch.report!.evaluation!;
  expect(evaluation.champion!.variant).toBe(builtin.report!.evaluation!.challenger.variant);
  expect(evaluation.challenger.variant).toMatch(new RegExp(`^${PREFIX}-variant-local-demo-2-`));
  // The report says which trainer made each variant.
  expect({ champion: evaluation.champion!.trainer, challenger: evaluation.challenger.trainer }).toEqual({
    champion: 'built-in Semantic Segmentation algorithm',
    challenger: 'PyTorch',
  });
  expect(lines.join('\n')).toMatch(
    new RegExp(
      `LOCAL STAND-IN hosting: model ${PREFIX}-model-local-demo-2-\\S+ is served by its own code/inference\\.py in a local Python, in place of \\d{12}\\.dkr\\.ecr\\.us-east-1\\.amazonaws\\.com/pytorch-inference:2\\.6\\.0-cpu-py312`,
    ),
  );
  // Both variants answered every image: a mean IoU each, on the same images.
  const metrics = JSON.parse(readFileSync(join(dataDir, 'evaluation', 'metrics.json'), 'utf8'));
  expect(metrics.variants.map((v: { role: string }) => v.role)).toEqual(['champion', 'challenger']);
  for (const v of metrics.variants) expect(v.miou).toEqual(expect.any(Number));
});
