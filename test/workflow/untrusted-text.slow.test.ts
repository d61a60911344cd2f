import type { TrueLabels } from '../../local/simulated-workforce';
import { checkSnsPublish } from '../../local/sns-stand-in';
import type { TaskHandler } from '../../local/workflow-runner';
import { fakes } from '../helpers/workflow-fakes';
import { startWorkflowHarness, uploadSyntheticBatch, type WorkflowHarness } from '../helpers/workflow-harness';

/** A batch name as an object key can carry it: a line break, a bell, an escape sequence, a bidi override. */
const HOSTILE_BATCH = 'turtles\nBcc: victim@example.com\u0007\u001b[31m\u202eevil';

/** Stand-ins for SNS and EventBridge that record what they accept; SNS refuses what SNS refuses. */
function notifications() {
  const published: { state: string; input: any }[] = [];
  const refused: { state: string; error: string }[] = [];
  const sns =
    (state: string, refuseAll = false): TaskHandler =>
    async (input) => {
      try {
        if (refuseAll) throw Object.assign(new Error('Topic is unavailable'), { name: 'SNS.NotFoundException' });
        checkSnsPublish(input);
      } catch (err) {
        refused.push({ state, error: (err as Error).name });
        throw err;
      }
      published.push({ state, input });
      return { MessageId: '1' };
    };
  const events =
    (state: string): TaskHandler =>
    async (input) => {
      published.push({ state, input });
      return { FailedEntryCount: 0 };
    };
  return { published, refused, sns, events };
}

describe('text from uploads in notifications', () => {
  const CONFIG = {
    labelClasses: ['turtle', 'rock'],
    workforce: { type: 'private', workteamArn: 'arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/turtle-team' },
    split: { validationFraction: 0.3 },
    training: { minSamples: 2 },
  };
  // One harness per file: each handler module reads its settings once, when Jest first loads it.
  let harness: WorkflowHarness;
  const truth = new Map<string, TrueLabels>();
  beforeAll(async () => {
    harness = await startWorkflowHarness(CONFIG);
  });
  afterAll(async () => harness?.close());

  const uploadBatch = (batch: string, count: number, seed: number) => uploadSyntheticBatch(harness, truth, batch, count, seed);

  test('a batch name with a line break and control characters: SNS accepts the subject, the body quotes the name, the event follows', async () => {
    const images = await uploadBatch('hostile', 2, 100);
    const { tasks } = fakes(harness, truth, { failLabeling: true });
    const { published, refused, sns, events } = notifications();
    const outcome = await harness.run({
      input: { batch: HOSTILE_BATCH, images },
      executionName: 'hostile-1',
      fakes: { ...tasks, 'Notify failure': sns('Notify failure'), 'Publish failure event': events('Publish failure event') },
    });
    expect(refused).toEqual([]);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(published.map((p) => p.state)).toEqual(['Notify failure', 'Publish failure event']);
    const { Subject, Message } = published[0].input as { Subject: string; Message: string };
    expect(Subject).toBe('segpipe: run for turtles?Bcc: victim@example.com??[31m?evil failed');
    // No line of the body starts with the uploader's text; the name is quoted with its controls escaped.
    expect(Message.split('\n')[0]).toBe('segpipe: run for "turtles\\nBcc: victim@example.com\\u0007\\u001b[31m\\u202eevil" failed');
    expect(Message.split('\n').some((line) => line.startsWith('Bcc:'))).toBe(false);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for the control characters the message must not hold.
    expect(Message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
    // The event carries the name as data (JSON), unchanged.
    expect(published[1].input.Entries[0]).toMatchObject({
      DetailType: 'Segpipe Run Failed',
      Detail: expect.objectContaining({ batch: HOSTILE_BATCH, status: 'failed' }),
    });
  });

  test('a failure notification SNS refuses does not lose the failure event, and the run still ends failed', async () => {
    const images = await uploadBatch('doomed', 2, 200);
    const { tasks } = fakes(harness, truth, { failLabeling: true });
    const { published, refused, sns, events } = notifications();
    const outcome = await harness.run({
      input: { batch: 'doomed', images },
      executionName: 'doomed-refused-1',
      fakes: { ...tasks, 'Notify failure': sns('Notify failure', true), 'Publish failure event': events('Publish failure event') },
    });
    expect(refused.length).toBeGreaterThan(0);
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(outcome.path.slice(-3)).toEqual(['Notify failure', 'Publish failure event', 'Run failed']);
    expect(published.map((p) => p.state)).toEqual(['Publish failure event']);
  });

  test('a deployed run whose notification SNS refuses still publishes its event and succeeds', async () => {
    const images = await uploadBatch('refused', 8, 900);
    const { tasks } = fakes(harness, truth);
    const { published, refused, sns, events } = notifications();
    const outcome = await harness.run({
      input: { batch: 'refused', images },
      executionName: 'refused-deployed-1',
      fakes: { ...tasks, Notify: sns('Notify', true), 'Publish event': events('Publish event') },
    });
    expect({ status: outcome.status, cause: outcome.cause }).toEqual({ status: 'SUCCEEDED', cause: undefined });
    expect(refused.length).toBeGreaterThan(0);
    expect(outcome.path.slice(-3)).toEqual(['Notify', 'Publish event', 'Run finished']);
    expect(published.map((p) => p.state)).toEqual(['Publish event']);
    expect(published[0].input.Entries[0]).toMatchObject({
      DetailType: 'Segpipe Run Finished',
      Detail: expect.objectContaining({ status: 'deployed' }),
    });
  });
});
