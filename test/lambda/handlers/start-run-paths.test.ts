import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { correctionMarkersPrefix, correctionsExecutionName, roundClosedKey } from '../../../lambda/labelstudio/corrections';
import { annotatedPrefix, MAX_ANNOTATION_FILE_BYTES, taskKey } from '../../../lambda/labelstudio/workflow-tasks';
import { batchExecutionName } from '../../../lambda/workflow/batch';
import { importExecutionName } from '../../../lambda/workflow/import-turns';
import { lambdaContext, objectCreatedEvent } from '../../../local/lambda-invocation';
import { useLambdaEnvironment } from '../../helpers/lambda-module';

/**
 * The start Lambda's paths as deployed, one upload event each: what it asks Step Functions to start
 * (name and input), what it ignores and why, and what a Label Studio target-storage file records.
 * S3 on the embedded server; Step Functions mocked (the replay test runs the executions it asks for).
 */
describe('start-run: what an upload event starts', () => {
  const env = useLambdaEnvironment(['inbox', 'artifacts']);
  const sfn = mockClient(SFNClient);
  const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:segpipe';
  let handler: typeof import('../../../lambda/handlers/start-run').handler;
  const message = (text: string) => env.logged().findLast((line) => line.message === text);

  beforeAll(async () => {
    ({ handler } = await env.load(
      'start-run',
      { artifactsBucket: 'artifacts', stateMachineArn },
      () => import('../../../lambda/handlers/start-run'),
    ));
  });
  beforeEach(() => {
    sfn.reset();
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
  });
  afterAll(() => sfn.restore());

  /** One upload event; `encoded` as S3 writes keys in events (spaces as `+`). */
  const uploaded = (key: string, encoded = false) =>
    handler(objectCreatedEvent('inbox', key, { encodeKey: encoded }), lambdaContext('start-run'));
  const started = () =>
    sfn.commandCalls(StartExecutionCommand).map((call) => {
      const { stateMachineArn: arn, name, input } = call.args[0].input;
      return { arn, name, input: JSON.parse(input ?? 'null') };
    });
  const put = (key: string, body: string | Buffer = 'x') =>
    env.store.write(`s3://inbox/${key}`, Buffer.from(body), 'application/octet-stream');

  test('an image asks for its batch’s run of the current generation', async () => {
    await put('images/beach/a.jpg');
    expect(await uploaded('images/beach/a.jpg')).toEqual({ action: 'started', executionName: batchExecutionName('beach', 0) });
    expect(started()).toEqual([{ arn: stateMachineArn, name: batchExecutionName('beach', 0), input: { batch: 'beach', generation: 0 } }]);
    expect(message('run requested')).toMatchObject({ key: 'images/beach/a.jpg', executionName: batchExecutionName('beach', 0) });
  });

  test('a URL-encoded key (+ for a space) is read as the object it names', async () => {
    await put('images/my beach/a b.jpg');
    expect(await uploaded('images/my beach/a b.jpg', true)).toMatchObject({
      action: 'started',
      executionName: batchExecutionName('my beach', 0),
    });
    expect(started()[0].input).toEqual({ batch: 'my beach', generation: 0 });
  });

  test('an export asks for its import of the next generation, naming the export', async () => {
    await put('labeled/reef/output.manifest', '{}\n');
    const name = importExecutionName('reef', 'labeled/reef/output.manifest', 0);
    expect(await uploaded('labeled/reef/output.manifest')).toEqual({ action: 'started', executionName: name });
    expect(started()).toEqual([
      { arn: stateMachineArn, name, input: { batch: 'reef', export: 's3://inbox/labeled/reef/output.manifest', importGeneration: 0 } },
    ]);
  });

  test('an object gone before its event, or outside the layout, starts nothing and says why', async () => {
    expect(await uploaded('images/beach/gone.jpg')).toEqual({ action: 'ignored', reason: 'the object no longer exists' });
    expect(message('object of the event is gone; ignored')).toMatchObject({ key: 'images/beach/gone.jpg' });
    await put('notes/readme.txt');
    expect(await uploaded('notes/readme.txt')).toEqual({ action: 'ignored', reason: 'not under images/<batch>/ or labeled/<batch>/' });
    expect(message('object ignored')).toMatchObject({ key: 'notes/readme.txt' });
    expect(started()).toEqual([]);
  });

  test('an execution of that name already asked for is not an error; any other refusal is', async () => {
    await put('images/beach/b.jpg');
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await uploaded('images/beach/b.jpg')).toMatchObject({ action: 'started' });
    expect(message('execution already exists')).toMatchObject({ executionName: batchExecutionName('beach', 0) });
    sfn.on(StartExecutionCommand).rejects(new Error('Rate exceeded'));
    await expect(uploaded('images/beach/b.jpg')).rejects.toThrow('Rate exceeded');
  });

  describe('a Label Studio target-storage file', () => {
    const image = 's3://inbox/images/lab/a.jpg';
    const annotation = (meta: Record<string, unknown>) => JSON.stringify({ id: 7, result: [], task: { id: 3, data: { image }, meta } });

    beforeAll(async () => {
      await env.store.write(`s3://inbox/${taskKey('lab', 'g0', image)}`, Buffer.from('{}'), 'application/json');
    });

    test('of a task segpipe wrote, in an open round: records the task, starts nothing', async () => {
      await put('labelstudio/annotations/7', annotation({ batch: 'lab', generation: 'g0' }));
      expect(await uploaded('labelstudio/annotations/7')).toEqual({ action: 'recorded', reason: 'a task of batch lab, round g0' });
      expect(started()).toEqual([]);
      const markers = await env.store.listUnder(`s3://artifacts/${annotatedPrefix('lab', 'g0')}`);
      expect(markers).toHaveLength(1);
      expect(JSON.parse((await env.store.read(markers[0])).toString())).toEqual({ image, annotation: 'labelstudio/annotations/7' });
    });

    test("saved after its round's run took the annotations: queued for the batch's corrections run, which it asks for", async () => {
      await env.store.write(`s3://artifacts/${roundClosedKey('lab', 'g0')}`, Buffer.from(''), 'text/plain');
      await put('labelstudio/annotations/8', annotation({ batch: 'lab', generation: 'g0' }));
      const name = correctionsExecutionName('lab', 0);
      expect(await uploaded('labelstudio/annotations/8')).toMatchObject({ action: 'started', executionName: name });
      expect(started()).toEqual([{ arn: stateMachineArn, name, input: { batch: 'lab', correctionsGeneration: 0 } }]);
      const marker = JSON.parse((await env.store.read(`s3://artifacts/${correctionMarkersPrefix('lab', 0)}8`)).toString());
      expect(marker).toEqual({ annotation: 'labelstudio/annotations/8', round: 'g0', image });
      // Its round's marker too, written before the closed mark was read: a run closing its round meanwhile lists it.
      expect((await env.store.listUnder(`s3://artifacts/${annotatedPrefix('lab', 'g0')}`)).filter((m) => m.endsWith('/8'))).toHaveLength(1);
    });

    test('of no task segpipe wrote, not JSON, or too large: ignored with its reason, nothing recorded', async () => {
      await put('labelstudio/annotations/9', annotation({ batch: 'lab', generation: 'other' }));
      expect(await uploaded('labelstudio/annotations/9')).toEqual({
        action: 'ignored',
        reason: 'labelstudio/annotations/9: its task (batch lab, round other) is not one segpipe wrote under labelstudio/tasks/',
      });
      await put('labelstudio/annotations/10', 'not json');
      expect(await uploaded('labelstudio/annotations/10')).toEqual({ action: 'ignored', reason: 'labelstudio/annotations/10 is not JSON' });
      await put('labelstudio/annotations/11', Buffer.alloc(MAX_ANNOTATION_FILE_BYTES + 1, 0x20));
      expect(await uploaded('labelstudio/annotations/11')).toEqual({
        action: 'ignored',
        reason: `labelstudio/annotations/11 holds ${MAX_ANNOTATION_FILE_BYTES + 1} bytes, over the ${MAX_ANNOTATION_FILE_BYTES} an annotation file may`,
      });
      expect(message('annotation file too large; ignored')).toMatchObject({ size: MAX_ANNOTATION_FILE_BYTES + 1 });
      expect(started()).toEqual([]);
    });
  });
});
