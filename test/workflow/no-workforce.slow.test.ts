import { allStates, type TaskHandler } from '../../local/workflow-runner';
import { startWorkflowHarness, type WorkflowHarness } from '../helpers/workflow-harness';

describe('a stack that labels nothing (labeling.tool "none")', () => {
  let harness: WorkflowHarness;
  beforeAll(async () => {
    harness = await startWorkflowHarness({ labeling: { tool: 'none' } });
  });
  afterAll(async () => harness?.close());

  test('an images batch ends at once, failed, with a notification saying how to configure labeling', async () => {
    const sent: unknown[] = [];
    const record: TaskHandler = async (input) => {
      sent.push(input);
      return {};
    };
    // Any other task is a path this run must not take.
    const unexpected = Object.fromEntries(
      allStates(harness.definition)
        .filter(([, s]) => s.Type === 'Task')
        .map(([name]): [string, TaskHandler] => [
          name,
          async () => {
            throw new Error(`unexpected state ${name}`);
          },
        ]),
    );
    const outcome = await harness.run({
      input: { batch: 'turtles', images: ['s3://inbox/images/turtles/a.jpg'] },
      executionName: 'turtles-1',
      fakes: {
        ...unexpected,
        ...harness.lambdaStates,
        'Check training quota': async () => ({}),
        'Notify failure': record,
        'Publish failure event': record,
      },
    });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'NoWorkforceConfigured' });
    expect(outcome.path).toEqual([
      'Started by an upload?',
      'Prepare run',
      'Check training quota',
      'Check budget',
      'Labels imported?',
      'No workforce',
      'Report failure',
      'Notify failure',
      'Publish failure event',
      'Run failed',
    ]);
    expect((sent[0] as { Message: string }).Message).toContain(
      'set labeling.tool to "labelstudio" (or a Ground Truth workforce) in the segpipe configuration, deploy, and drop _START into the batch',
    );
  });
});
