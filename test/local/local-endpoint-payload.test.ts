import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { runtimeClientFor } from '../../bin/predict/runtime-client';
import { INVOKE_BODY_LIMIT } from '../../lambda/common/endpoint-payload';
import { isRefusal } from '../../lambda/evaluation/evaluate';
import { LocalSageMaker } from '../../local/local-sagemaker';

describe('the local endpoint stand-in refuses what InvokeEndpoint refuses', () => {
  const sagemaker = new LocalSageMaker({ store: undefined as never, truthOf: () => undefined, log: () => undefined });
  let endpointUrl: string;
  beforeAll(async () => {
    endpointUrl = await sagemaker.start();
  });
  afterAll(() => sagemaker.close());

  const invoke = (body: Buffer) =>
    runtimeClientFor({ endpointUrl }).send(
      new InvokeEndpointCommand({ EndpointName: 'segpipe-endpoint', ContentType: 'image/jpeg', Accept: 'image/png', Body: body }),
    );

  test('a body over 6 MiB is refused with 413 before any endpoint is looked at, and the evaluation counts it as a refusal', async () => {
    const error = await invoke(Buffer.alloc(INVOKE_BODY_LIMIT + 1)).catch((err: unknown) => err);
    expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(413);
    expect(isRefusal(error)).toBe(true);
    // At the limit, the request reaches the endpoint lookup (there is none).
    const atLimit = await invoke(Buffer.alloc(INVOKE_BODY_LIMIT)).catch((err: unknown) => err);
    expect(atLimit).toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/^Endpoint segpipe-endpoint of account \d+ not found\.$/),
    });
    expect(isRefusal(atLimit)).toBe(false);
  });
});
