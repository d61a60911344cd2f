import { EventError, HANDLER_EVENTS, parseEvent } from '../../../lambda/common/handler-events';
import { HANDLER_SETTINGS } from '../../../lambda/common/settings';
import { objectCreatedEvent } from '../../../local/lambda-invocation';

describe("each handler's event, parsed before anything is read or written", () => {
  test('every handler with settings has an event schema, and no schema names a handler that does not exist', () => {
    expect(Object.keys(HANDLER_EVENTS).sort()).toEqual(Object.keys(HANDLER_SETTINGS).sort());
  });

  test('a payload that fits is returned as parsed', () => {
    const chunk = {
      runId: 'r1',
      export: 's3://inbox/labeled/b/x.json',
      batch: 'b',
      labelStudioRound: '',
      chunk: { index: 0, first: 0, last: 9 },
      classes: { location: 's3://a/runs/r1/conversion/classes.json', version: '0123456789abcdef', count: 2 },
      exportVersion: '"etag"',
    };
    expect(parseEvent('convert-chunk', chunk)).toEqual(chunk);
  });

  test('a part typed by a module keeps a field its schema does not name yet, so no new optional field is dropped on the way', () => {
    const ref = { location: 's3://a/runs/r1/conversion/classes.json', version: '0123456789abcdef', count: 2, written: '2026-12-07' };
    expect(
      parseEvent('assemble-channels', { runId: 'r1', batch: '', chunks: [{ index: 0, converted: 1, skipped: 0, reads: 7 }], classes: ref }),
    ).toEqual({
      runId: 'r1',
      batch: '',
      chunks: [{ index: 0, converted: 1, skipped: 0, reads: 7 }],
      classes: ref,
    });
  });

  test('every problem is named with its path and the value that caused it, quoted and cut', () => {
    const attempt = () =>
      parseEvent('prepare-run', {
        runId: 'typo-1',
        input: { batch: '', images: ['s3://inbox/images/b/a.jpg', '/home/me/turtle.jpg', 'x'.repeat(500)] },
      });
    expect(attempt).toThrow(EventError);
    expect(attempt).toThrow(
      /^the prepare-run Lambda's event has 3 problems: input\.batch: .*; input\.images\.1: must be an s3:\/\/bucket\/key URI \(received "\/home\/me\/turtle\.jpg"\); input\.images\.2: must be an s3:\/\/bucket\/key URI \(received "x{120}"\.\.\.\(380 more\)\)$/,
    );
  });

  test("a snapshot's manifest without its count is refused: the run could not say how many images it labels", () => {
    expect(() => parseEvent('prepare-run', { runId: 'r', input: { batch: 'b', imagesManifest: 's3://a/batches/b/0.manifest' } })).toThrow(
      'input.imageCount: an imagesManifest needs its imageCount',
    );
  });

  test('the error is named, so the state machine and the report say what failed', () => {
    try {
      parseEvent('deploy-lock', {});
      throw new Error('not refused');
    } catch (err) {
      expect(err).toBeInstanceOf(EventError);
      expect((err as Error).name).toBe('EventError');
      expect((err as Error).message).toBe("the deploy-lock Lambda's event runId: Invalid input: expected string, received undefined");
    }
  });

  test("S3's Object Created event as EventBridge delivers it, in Powertools' schema of it", () => {
    const event = objectCreatedEvent('inbox', 'images/b/a b.jpg', { encodeKey: true });
    expect(parseEvent('start-run', event).detail.object.key).toBe('images/b/a+b.jpg');
    expect(() => parseEvent('start-run', { ...event, time: 'yesterday' })).toThrow(/^the start-run Lambda's event time: /);
  });

  test("an Update or Delete of the tear-down resource keeps the PhysicalResourceId CloudFormation sends (Powertools' schema leaves it out)", () => {
    const base = {
      ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
      ResponseURL: 'https://example.invalid/response',
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Segpipe/1',
      RequestId: 'r1',
      LogicalResourceId: 'TearDown',
      ResourceType: 'Custom::SegpipeSageMakerTearDown',
      ResourceProperties: { ServiceToken: 'x' },
    };
    expect(parseEvent('tear-down', { ...base, RequestType: 'Delete', PhysicalResourceId: 'Segpipe-sagemaker-tear-down' })).toMatchObject({
      PhysicalResourceId: 'Segpipe-sagemaker-tear-down',
    });
    expect(() => parseEvent('tear-down', { ...base, RequestType: 'Delete' })).toThrow(EventError);
  });

  test("the clean-up takes its schedule's event and an endpoint's failure, nothing else", () => {
    const envelope = {
      version: '0',
      id: 'e',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-12-07T05:00:00Z',
      region: 'us-east-1',
      resources: [],
    };
    expect(parseEvent('clean-up', { ...envelope, 'detail-type': 'Scheduled Event', detail: {} })['detail-type']).toBe('Scheduled Event');
    expect(
      parseEvent('clean-up', {
        ...envelope,
        'detail-type': 'SageMaker Endpoint State Change',
        detail: { EndpointName: 'e', EndpointStatus: 'FAILED' },
      }),
    ).toMatchObject({ detail: { EndpointName: 'e' } });
    expect(() => parseEvent('clean-up', { ...envelope, 'detail-type': 'SageMaker Endpoint State Change', detail: {} })).toThrow(EventError);
  });

  test("the run report's state keeps every part the schema does not spell out", () => {
    const state = { batch: 'b', conversion: { export: 's3://x/y' }, labelStudioTasks: { chunks: 2 } };
    expect(parseEvent('finish-run', { status: 'failed', runId: 'r', state, startedAt: '2026-12-07T05:00:00Z' }).state).toEqual(state);
  });

  test("an evaluation in the run report's state must be an evaluation result", () => {
    const run = { status: 'deployed', runId: 'r', startedAt: '2026-12-07T05:00:00Z' };
    const evaluation = { reason: 'the challenger is not worse', promote: true };
    expect(parseEvent('finish-run', { ...run, state: { evaluation } }).state.evaluation).toEqual(evaluation);
    for (const wrong of ['promoted', null, { reason: 3 }, {}]) {
      expect(() => parseEvent('finish-run', { ...run, state: { evaluation: wrong } })).toThrow(
        'state.evaluation: must be an evaluation result',
      );
    }
  });

  test('an event that is not an object is named as the whole event', () => {
    expect(() => parseEvent('deploy-lock', 'lock')).toThrow(
      `the deploy-lock Lambda's event (the whole event): Invalid input: expected object, received string (received "lock")`,
    );
  });
});
