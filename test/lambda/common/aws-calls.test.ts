import { Readable } from 'node:stream';
import { ListEndpointsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { ADAPTIVE_RETRY, isAccessDenied, isNotFound } from '../../../lambda/common/aws-calls';

/**
 * The real SDK retry middleware, against a request handler that answers like SageMaker does when it
 * throttles (aws-sdk-client-mock replaces `send` and with it the retries, so it cannot show them).
 */
function clientAnswering(answers: { status: number; body: string }[]): { client: SageMakerClient; requests: () => number } {
  let requests = 0;
  const client = new SageMakerClient({
    ...ADAPTIVE_RETRY,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: {
      handle: async () => {
        const answer = answers[Math.min(requests, answers.length - 1)];
        requests += 1;
        return {
          // The shape of the SDK's HTTP response; the SDK reads nothing else of it.
          response: {
            statusCode: answer.status,
            headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `r${requests}` },
            body: Readable.from([Buffer.from(answer.body)]),
          },
        };
      },
    },
  });
  return { client, requests: () => requests };
}

const THROTTLED = { status: 400, body: JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }) };
const LISTED = { status: 200, body: JSON.stringify({ Endpoints: [] }) };

describe("segpipe's AWS clients retry as the SDK's adaptive mode does", () => {
  // The SDK waits between attempts with timers: fake ones keep the test from sleeping through them.
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  /** Settles `promise` while moving the fake clock on by the backoff delays. */
  async function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
    let result: PromiseSettledResult<T> | undefined;
    void promise.then(
      (value) => (result = { status: 'fulfilled', value }),
      (reason: unknown) => (result = { status: 'rejected', reason }),
    );
    while (!result) await jest.advanceTimersByTimeAsync(1000);
    return result;
  }

  test('throttling is retried until it stops', async () => {
    const { client, requests } = clientAnswering([THROTTLED, THROTTLED, LISTED]);
    expect(await settle(client.send(new ListEndpointsCommand({})))).toMatchObject({ status: 'fulfilled', value: { Endpoints: [] } });
    expect(requests()).toBe(3);
    expect(await client.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
  });

  test('throttling that does not stop fails after the configured attempts, not forever', async () => {
    const { client, requests } = clientAnswering([THROTTLED]);
    expect(await settle(client.send(new ListEndpointsCommand({})))).toMatchObject({
      status: 'rejected',
      reason: { name: 'ThrottlingException' },
    });
    expect(requests()).toBe(ADAPTIVE_RETRY.maxAttempts);
  });

  test('a refused request is not retried', async () => {
    const { client, requests } = clientAnswering([
      { status: 400, body: JSON.stringify({ __type: 'ValidationException', message: 'bad name' }) },
    ]);
    await expect(client.send(new ListEndpointsCommand({}))).rejects.toThrow('bad name');
    expect(requests()).toBe(1);
  });
});

describe('what an AWS error says', () => {
  const named = (name: string, message?: string) => Object.assign(new Error(message), { name });

  test('not found: the typed errors, and the ValidationException SageMaker answers for what no longer exists', () => {
    expect(isNotFound(named('ResourceNotFound'))).toBe(true);
    expect(isNotFound(named('ResourceNotFoundException'))).toBe(true);
    expect(isNotFound(named('ValidationException', 'Could not find endpoint "segpipe-endpoint".'))).toBe(true);
    expect(isNotFound(named('ValidationException', 'Model segpipe-1 does not exist.'))).toBe(true);
    expect(isNotFound(named('ValidationException', 'Endpoint config not found'))).toBe(true);
  });

  test('not found: nothing else, and no error at all', () => {
    expect(isNotFound(named('ValidationException', 'Value at instanceType failed to satisfy constraint'))).toBe(false);
    expect(isNotFound(named('ValidationException'))).toBe(false);
    expect(isNotFound(named('ResourceInUse', 'Could not find a free slot'))).toBe(false);
    expect(isNotFound(named('ResourceNotFoundExceptionX'))).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
  });

  test('access denied: both names AWS services use, nothing else', () => {
    expect(isAccessDenied(named('AccessDeniedException'))).toBe(true);
    expect(isAccessDenied(named('AccessDenied'))).toBe(true);
    expect(isAccessDenied(named('ValidationException', 'AccessDenied'))).toBe(false);
    expect(isAccessDenied(undefined)).toBe(false);
  });
});
