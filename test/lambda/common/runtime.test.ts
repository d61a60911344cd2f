import { lambdaHandler, logger } from '../../../lambda/common/runtime';
import { lambdaContext } from '../../../local/lambda-invocation';

/** The JSON log lines a call writes. */
async function logged(call: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await call();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("a handler's entry point", () => {
  // Made in each test, not when the file is collected: mutation testing credits the wrapper's code to the tests that run it.
  let handler: ReturnType<typeof lambdaHandler<'deploy-lock', string>>;
  beforeEach(() => {
    handler = lambdaHandler('deploy-lock', async (event) => {
      if (event.runId === 'first') logger.appendKeys({ runId: event.runId });
      logger.info('handled');
      return event.runId;
    });
  });

  test("each log line carries the invocation's request context", async () => {
    const context = lambdaContext('segpipe-deploy-lock');
    const [line] = await logged(() => handler({ runId: 'first' }, context));
    expect(line).toMatchObject({
      message: 'handled',
      function_name: 'segpipe-deploy-lock',
      function_request_id: context.awsRequestId,
      runId: 'first',
    });
  });

  test('keys one invocation appends are gone in the next', async () => {
    await logged(() => handler({ runId: 'first' }, lambdaContext('segpipe-deploy-lock')));
    const [line] = await logged(() => handler({ runId: 'second' }, lambdaContext('segpipe-deploy-lock')));
    expect(line).toMatchObject({ message: 'handled' });
    expect(line).not.toHaveProperty('runId');
  });

  test('an event that does not fit fails before the handler runs', async () => {
    const lines = await logged(() =>
      expect(handler({ runId: 7 }, lambdaContext('segpipe-deploy-lock'))).rejects.toMatchObject({ name: 'EventError' }),
    );
    expect(lines.filter((l) => l.message === 'handled')).toEqual([]);
  });
});
