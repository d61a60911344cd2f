// Two runs of their own (without --keep) in one data folder: the handlers read their settings and S3
// endpoint once, when loaded, so the second run loads them again (jest.resetModules), as a second
// `segpipe local` process would; a file of its own runs beside local-run.test.ts.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunResult, runLocally } from '../../../bin/local/local-run';

describe('two local runs in one data folder', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'segpipe-local-twice-'));
  const lines: string[][] = [[], []];
  const results: LocalRunResult[] = [];

  beforeAll(async () => {
    for (const i of [0, 1]) {
      jest.resetModules();
      const { runLocally: run } = await import('../../../bin/local/local-run') as { runLocally: typeof runLocally };
      // The first with --keep, closed at once: it skips the idle wait, and the second run's clean-up is the one looked at.
      const result = await run({ images: 12, imageWidth: 96, imageHeight: 72, epochs: 8, dataDir, keep: i === 0, log: (l) => lines[i].push(l) });
      await result.close();
      results.push(result);
    }
  }, 240_000);

  test('the first evaluates its model alone on the endpoint it creates, and prints the report\'s path', () => {
    const [first] = results;
    expect(first.status).toBe('SUCCEEDED');
    expect(first.report!.evaluation).toMatchObject({ promote: true, challenger: { variant: expect.stringMatching(/^segpipe-variant-local-demo-1-/) } });
    expect(first.report!.evaluation!.champion).toBeUndefined();
    expect(first.evaluationReportPath).toBe(join(dataDir, 'evaluation', 'report.html'));
    expect(lines[0]).toContain(`  evaluation report: ${first.evaluationReportPath} (in S3: ${first.report!.evaluation!.reportUri})`);
    expect(lines[0].join('\n')).toMatch(/▸ Evaluate model\n/);
  });

  test('the clean-up sweeps as a dry run, so the endpoint stays for the next run; nothing is announced as deleted', () => {
    const cleanup = results[1].cleanup!;
    expect(cleanup.dryRun).toBe(true);
    expect(cleanup.deleted).toContainEqual({ kind: 'endpoint', name: 'segpipe-endpoint', reason: expect.stringMatching(/^idle: no invocations/) });
    for (const d of cleanup.deleted) expect(lines[1]).toContain(`  clean-up would delete ${d.kind} ${d.name}: ${d.reason}`);
    expect(readFileSync(join(dataDir, 'notifications.log'), 'utf8')).not.toContain('Segpipe Resource Deleted');
    expect(existsSync(join(dataDir, 'sagemaker.json'))).toBe(true);
  });

  test('the second meets the first one\'s endpoint and decides between champion and challenger on the same images', () => {
    const second = results[1];
    expect(second.status).toBe('SUCCEEDED');
    const output = lines[1].join('\n');
    expect(output).toMatch(/LOCAL STAND-IN hosting: endpoint segpipe-endpoint from an earlier run serves segpipe-model-local-demo-1-/);
    for (const state of ['Add challenger', 'Evaluate champion and challenger']) expect(output).toContain(`▸ ${state}\n`);
    const evaluation = second.report!.evaluation!;
    expect(evaluation.champion!.variant).toBe(results[0].report!.evaluation!.challenger.variant);
    expect(evaluation.challenger.variant).toMatch(/^segpipe-variant-local-demo-2-/);
    const deserves = evaluation.challenger.miou >= 0.5 && evaluation.challenger.miou >= evaluation.champion!.miou - 0.01;
    expect({ promote: evaluation.promote, status: second.report!.status }).toEqual({ promote: deserves, status: deserves ? 'deployed' : 'not-promoted' });
    expect(output).toContain(`  evaluation on the endpoint: ${deserves ? 'promoted' : 'not promoted'}: challenger ${evaluation.challenger.variant} mIoU`);
    const metrics = JSON.parse(readFileSync(join(dataDir, 'evaluation', 'metrics.json'), 'utf8'));
    expect(metrics.variants.map((v: { role: string }) => v.role)).toEqual(['champion', 'challenger']);
  });
});
