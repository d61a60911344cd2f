import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext } from '../../../local/lambda-invocation';

test("the quota check logs its verdict under a key of its own (the logger keeps `message` for the line's text and drops it)", async () => {
  const quotas = mockClient(ServiceQuotasClient);
  quotas.on(ListServiceQuotasCommand).resolves({ Quotas: [{ QuotaName: 'ml.p3.2xlarge for training job usage', Value: 2 }] });
  process.env.SEGPIPE_SETTINGS = JSON.stringify({ trainingInstanceType: 'ml.p3.2xlarge', spot: false });
  const { handler } = await import('../../../lambda/handlers/check-quota');
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await handler({}, lambdaContext('check-quota'));
  } finally {
    write.mockRestore();
    quotas.restore();
  }
  const logged = lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  expect(logged).toContainEqual(
    expect.objectContaining({ message: 'training quota checked', verdict: 'quota "ml.p3.2xlarge for training job usage" is 2' }),
  );
});
