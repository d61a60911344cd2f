// @ts-nocheck
import { type CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';

/** Where SageMaker puts the per-epoch metrics a training job's algorithm logs. */
export const TRAINING_METRICS_NAMESPACE = '/aws/sagemaker/TrainingJobs';

export interface TrainingCurvePoint {
  readonly metric: string;
  /** 1, 2, ...: the datapoints in time order, one per epoch the algorithm logged. */
  readonly epoch: number;
  readonly value: number;
}

/**
 * The per-epoch metrics of a training job (`train:loss`, `validation:mIOU`, ...) from CloudWatch, over
 * the `days` before now; `[]` when the account has none for it (the local run, a job older than
 * CloudWatch keeps one-minute data, or an account that does not publish them).
 */
export async function trainingCurves(
  cloudwatch: CloudWatchClient,
  trainingJob: string,
  now = new Date(),
  days = 3,
): Promise<TrainingCurvePoint[]> {
  const listed = await cloudwatch.send(
    new ListMetricsCommand({ Namespace: TRAINING_METRICS_NAMESPACE, Dimensions: [{ Name: 'TrainingJobName', Value: trainingJob }] }),
  );
  const metrics = (listed.Metrics ?? []).filter((m) => m.MetricName).slice(0, 20);
  if (metrics.length === 0) return [];
  const data = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - days * 86_400_000),
      EndTime: now,
      ScanBy: 'TimestampAscending',
      MetricDataQueries: metrics.map((metric, index) => ({
        Id: `m${index}`,
        Label: metric.MetricName,
        MetricStat: { Metric: metric, Period: 60, Stat: 'Average' },
      })),
    }),
  );
  return (data.MetricDataResults ?? []).flatMap((result) => {
    const points = (result.Timestamps ?? [])
      .map((t, i) => ({ t: new Date(t).getTime(), value: result.Values?.[i] ?? NaN }))
      .filter((p) => Number.isFinite(p.value))
      .sort((a, b) => a.t - b.t);
    return points.map((p, i) => ({ metric: result.Label ?? 'metric', epoch: i + 1, value: p.value }));
  });
}
