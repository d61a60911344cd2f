import { ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext } from '../../../local/lambda-invocation';

describe('check-quota handler (Service Quotas mocked)', () => {
  const quotas = mockClient(ServiceQuotasClient);
  let handler: typeof import('../../../lambda/handlers/check-quota').handler;

  beforeAll(async () => {
    process.env.SEGPIPE_SETTINGS = JSON.stringify({ trainingInstanceType: 'ml.p3.2xlarge', spot: false });
    ({ handler } = await import('../../../lambda/handlers/check-quota'));
  });
  afterEach(() => quotas.reset());
  afterAll(() => quotas.restore());

  test('pages through the SageMaker quotas and refuses a quota of 0 with what to do', async () => {
    quotas
      .on(ListServiceQuotasCommand, { ServiceCode: 'sagemaker' })
      .resolvesOnce({
        Quotas: [{ QuotaName: 'ml.g5.xlarge for training job usage', QuotaCode: 'L-1', Value: 1 }],
        NextToken: 'page-2',
      })
      .resolvesOnce({ Quotas: [{ QuotaName: 'ml.p3.2xlarge for training job usage', QuotaCode: 'L-2D0D3C5E', Value: 0 }] });
    await expect(handler({}, lambdaContext('check-quota'))).rejects.toMatchObject({
      name: 'TrainingQuotaError',
      message: expect.stringMatching(/"ml\.p3\.2xlarge for training job usage" \(L-2D0D3C5E\) is 0.*ml\.g4dn\.xlarge or ml\.g5\.xlarge/),
    });
    expect(quotas.commandCalls(ListServiceQuotasCommand)).toHaveLength(2);
  });

  test('a quota on no page stops the run: Service Quotas has none for that type in the region', async () => {
    quotas
      .on(ListServiceQuotasCommand)
      .resolvesOnce({ Quotas: [{ QuotaName: 'ml.g5.xlarge for training job usage', Value: 1 }], NextToken: 'page-2' })
      .resolvesOnce({ Quotas: [{ QuotaName: 'ml.p3.2xlarge for spot training job usage', Value: 4 }] });
    await expect(handler({}, lambdaContext('check-quota'))).rejects.toMatchObject({
      name: 'TrainingQuotaError',
      message: expect.stringMatching(/^Service Quotas lists no SageMaker quota "ml\.p3\.2xlarge for training job usage" in this region/),
    });
    expect(quotas.commandCalls(ListServiceQuotasCommand)).toHaveLength(2);
  });

  test('lets the run go on when the quota allows an instance; a page without quotas is passed over', async () => {
    quotas
      .on(ListServiceQuotasCommand)
      .resolvesOnce({ NextToken: 'page-2' })
      .resolves({ Quotas: [{ QuotaName: 'ml.p3.2xlarge for training job usage', Value: 2 }] });
    await expect(handler({}, lambdaContext('check-quota'))).resolves.toEqual({
      message: 'quota "ml.p3.2xlarge for training job usage" is 2',
    });
  });
});
