import { PutObjectCommand } from '@aws-sdk/client-s3';
import { batchStateKey } from '../../lambda/workflow/batch';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import { fakes } from '../helpers/workflow-fakes';
import { INBOX_BUCKET, startWorkflowHarness, type WorkflowHarness } from '../helpers/workflow-harness';

// Mechanical Turk at $0.84 × 3 workers plus Ground Truth's $0.08 per image: $2.60 an image, before training and hosting.
const CONFIG = {
  labelClasses: ['turtle'],
  workforce: { type: 'public', publicTaskPriceUsd: 0.84, attestNoPersonalData: true },
  budgetUsd: 10,
};

describe('a per-run budget, checked in the local workflow', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await startWorkflowHarness(CONFIG);
  });
  afterAll(async () => harness?.close());

  async function uploadBatch(batch: string, count: number): Promise<void> {
    const client = harness.server.client();
    for (let i = 0; i < count; i++) {
      await client.send(
        new PutObjectCommand({
          Bucket: INBOX_BUCKET,
          Key: `images/${batch}/${i}.jpg`,
          Body: await sceneToJpeg(renderSyntheticScene(i, 32, 24)),
        }),
      );
    }
    client.destroy();
  }

  test('a batch whose estimate is over the budget stops before labeling, says why, and gives its images back', async () => {
    await uploadBatch('big', 5);
    const client = harness.server.client();
    await client.send(new PutObjectCommand({ Bucket: INBOX_BUCKET, Key: 'images/big/_START', Body: Buffer.alloc(0) }));
    client.destroy();
    const { tasks, calls } = fakes(harness, new Map());
    const outcome = await harness.run({ input: { batch: 'big', generation: 0 }, executionName: 'big-over-budget', fakes: tasks });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'BudgetExceeded' });
    // The README's order: the quota check, then the budget, and nothing after it but the failure.
    expect(outcome.path).toEqual([
      'Started by an upload?',
      'Check batch',
      'Batch settled?',
      'Snapshot batch',
      'Anything new?',
      'Use snapshot',
      'Prepare run',
      'Check training quota',
      'Check budget',
      'Report failure',
      'Notify failure',
      'Publish failure event',
      'Run failed',
    ]);
    expect(calls.Label).toBeUndefined();
    const message = (calls['Notify failure'][0] as { Message: string }).Message;
    // 5 × ($0.84 × 3 + $0.08) = $13.00 labeling, $3.825 training, $0.612 hosting.
    expect(message).toContain('the estimated cost of this run, $17.52, is over the budget of $10.00 per run');
    expect(message).toContain('Total: $17.52');
    const state = JSON.parse((await harness.store.read(`s3://artifacts/${batchStateKey('big')}`)).toString());
    // Given back: the batch's next snapshot takes its images again.
    expect(state).toMatchObject({ generation: 1, released: [0] });
  });

  test('a batch within the budget goes on to labeling', async () => {
    await uploadBatch('small', 1);
    const { tasks, calls } = fakes(harness, new Map());
    tasks.Label = async () => {
      throw Object.assign(new Error('stop here'), { name: 'States.TaskFailed' });
    };
    const outcome = await harness.run({
      input: { batch: 'small', images: [`s3://${INBOX_BUCKET}/images/small/0.jpg`] },
      executionName: 'small-within-budget',
      fakes: tasks,
    });
    const quota = outcome.path.indexOf('Check training quota');
    expect(outcome.path.slice(quota, quota + 4)).toEqual(['Check training quota', 'Check budget', 'Labels imported?', 'Label']);
    expect(calls['Check training quota']).toHaveLength(1);
  });
});
