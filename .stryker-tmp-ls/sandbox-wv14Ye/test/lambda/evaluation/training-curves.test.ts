import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { trainingCurves } from '../../../lambda/evaluation/training-curves';

describe('training curves: what CloudWatch is asked, and what of its answer is kept', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  afterEach(() => cloudwatch.reset());
  afterAll(() => cloudwatch.restore());
  const now = new Date('2026-12-02T06:00:00Z');

  test('at most 20 named metrics over the days asked, oldest first; points without a value are left out and the epochs counted again', async () => {
    const metrics = [{ Namespace: 'x' }, ...Array.from({ length: 22 }, (_, i) => ({ MetricName: `metric-${i}` }))];
    cloudwatch.on(ListMetricsCommand).resolves({ Metrics: metrics });
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Label: 'train:loss', Timestamps: [new Date(1000), new Date(2000), new Date(3000)], Values: [0.9, Number.NaN, 0.4] },
        { Timestamps: [new Date(1000), new Date(2000)], Values: [0.7] },
      ],
    });
    expect(await trainingCurves(new CloudWatchClient({ region: 'us-east-1' }), 'job', now, 1)).toEqual([
      { metric: 'train:loss', epoch: 1, value: 0.9 },
      { metric: 'train:loss', epoch: 2, value: 0.4 },
      { metric: 'metric', epoch: 1, value: 0.7 },
    ]);
    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(query.StartTime).toEqual(new Date('2026-12-01T06:00:00Z'));
    expect(query.ScanBy).toBe('TimestampAscending');
    expect(query.MetricDataQueries?.map((q) => q.Label)).toEqual(Array.from({ length: 20 }, (_, i) => `metric-${i}`));
    expect(query.MetricDataQueries?.[19]).toMatchObject({ Id: 'm19', MetricStat: { Metric: { MetricName: 'metric-19' } } });
  });

  test('three days by default; an answer without results is no curve', async () => {
    cloudwatch.on(ListMetricsCommand).resolves({ Metrics: [{ MetricName: 'train:loss' }] });
    cloudwatch.on(GetMetricDataCommand).resolves({});
    expect(await trainingCurves(new CloudWatchClient({ region: 'us-east-1' }), 'job', now)).toEqual([]);
    expect(cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input.StartTime).toEqual(new Date('2026-11-29T06:00:00Z'));
    // A listing without its list is no metric: nothing more is asked.
    cloudwatch.reset();
    cloudwatch.on(ListMetricsCommand).resolves({});
    expect(await trainingCurves(new CloudWatchClient({ region: 'us-east-1' }), 'job', now)).toEqual([]);
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});
