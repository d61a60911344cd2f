import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointName, resourcePrefix } from '../../lambda/workflow/names';
import type { LocalRunOptions, LocalRunResult, runLocally } from '../../local/local-run';

/**
 * `segpipe local --labeling labelstudio` twice in one data folder: the first run's tasks have no
 * pre-labels (no model yet), the simulated annotator answers them through the target storage, and
 * the run trains and deploys; the second run's tasks carry the first run's model's predictions.
 * Each run loads the handlers again (jest.resetModules), as a second process would.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'segpipe-local-ls-test-'));
async function localRun(options: Omit<LocalRunOptions, 'dataDir'>): Promise<LocalRunResult> {
  jest.resetModules();
  const { runLocally: run } = (await import('../../local/local-run')) as { runLocally: typeof runLocally };
  const result = await run({ ...options, dataDir, labeling: 'labelstudio' });
  await result.close();
  return result;
}

describe('the local run with Label Studio, twice', () => {
  let first: LocalRunResult;
  let second: LocalRunResult;
  const lines: string[] = [];
  beforeAll(async () => {
    first = await localRun({ images: 12, imageWidth: 96, imageHeight: 72, epochs: 8, log: (l) => lines.push(l) });
    second = await localRun({ images: 6, imageWidth: 96, imageHeight: 72, epochs: 8, log: (l) => lines.push(l) });
  }, 300_000);

  test("the first run writes a task per image without pre-labels, waits for the annotator's files, converts them and deploys", () => {
    expect(first.status).toBe('SUCCEEDED');
    expect(first.labelStudioTasks).toEqual({
      tasks: 12,
      predicted: 0,
      prefix: expect.stringMatching(/\/labelstudio\/tasks\/local-demo-1\/0\/$/),
    });
    expect(first.report).toMatchObject({ status: 'deployed', counts: { converted: 11, skipped: 1 } });
    const output = lines.join('\n');
    for (const state of ['Write Label Studio tasks', 'Notify tasks ready', 'Count annotations', 'Use Label Studio annotations'])
      expect(output).toContain(`▸ ${state}\n`);
    expect(output).toContain('LOCAL STAND-IN Label Studio annotator: 12 tasks');
    expect(readFileSync(join(dataDir, 'notifications.log'), 'utf8')).toContain(
      '12 Label Studio tasks of batch local-demo-1 are ready under',
    );
  });

  test("the second run's tasks carry the first run's model's predictions, under the endpoint's name", () => {
    expect(second.status).toBe('SUCCEEDED');
    expect(second.labelStudioTasks).toEqual({
      tasks: 6,
      predicted: 6,
      prefix: expect.stringMatching(/\/labelstudio\/tasks\/local-demo-2\/0\/$/),
    });
    expect(second.endpointName).toBe(endpointName(resourcePrefix('Segpipe')));
  });
});
