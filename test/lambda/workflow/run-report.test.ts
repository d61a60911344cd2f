import { buildRunReport, notificationText, type RunReport, type RunState } from '../../../lambda/workflow/run-report';

/**
 * The run report and the e-mail built from it, read field by field: what a user sees after a run
 * (found missing by `npm run mutate`: only the end-to-end workflow tests read the report).
 */
const run = { runId: 'batch-1-r1', batch: 'batch 1', mode: 'label', names: { labelingJob: 'lj-1', model: 'model-1' } };
const channels = {
  numClasses: 3,
  numTrainingSamples: 8,
  numValidationSamples: 2,
  converted: 5,
  skipped: 1,
  skippedItems: [{ line: 3, source: 's3://in/images/b/x.jpg', reason: 'mask holds value 7' }],
  classes: ['background', 'turtle', 'rock'],
};
const training = { TrainingJobName: 'tj-1', TrainingTimeInSeconds: 300, BillableTimeInSeconds: 120 };
const times = { startedAt: '2026-12-01T10:00:00.000Z', finishedAt: '2026-12-01T10:20:01.600Z' };

function report(status: RunReport['status'], state: RunState, minimumMiou = 0.5): RunReport {
  return buildRunReport({ status, runId: 'batch-1-r1', state, endpointName: 'segpipe-endpoint', minimumMiou, ...times });
}

describe('buildRunReport', () => {
  test('a deployed run names the model and the endpoint, its counts, metrics and durations', () => {
    expect(report('deployed', { run, channels, training, metrics: { miou: [0.61234, 0.5], pixelAccuracy: [0.9] } })).toStrictEqual({
      runId: 'batch-1-r1',
      batch: 'batch 1',
      status: 'deployed',
      reason: undefined,
      mode: 'label',
      labelingJob: 'lj-1',
      trainingJob: 'tj-1',
      model: 'model-1',
      endpoint: 'segpipe-endpoint',
      classes: ['background', 'turtle', 'rock'],
      counts: { converted: 5, skipped: 1, train: 8, validation: 2 },
      skippedItems: [{ line: 3, source: 's3://in/images/b/x.jpg', reason: 'mask holds value 7' }],
      metrics: { 'validation:mIOU': 0.61234, 'validation:pixel_accuracy': 0.9, minimumMiou: 0.5 },
      durations: { totalSeconds: 1202, trainingSeconds: 300, billableTrainingSeconds: 120 },
      ...times,
    });
  });

  test('a run below the minimum mIOU names neither model nor endpoint, and says why with the rounded metric', () => {
    const r = report('not-deployed', { run, channels, training, metrics: { miou: [0.123456] } }, 0.5);
    expect(r.reason).toBe('validation:mIOU 0.123 is below the minimum 0.5; the endpoint was left as it was');
    expect(r.model).toBeUndefined();
    expect(r.endpoint).toBeUndefined();
    expect(r.metrics).toStrictEqual({ 'validation:mIOU': 0.123456, 'validation:pixel_accuracy': undefined, minimumMiou: 0.5 });
  });

  describe('the evaluation on the endpoint', () => {
    const evaluation = {
      promote: false,
      reason:
        'challenger v2 mIoU 0.700, champion v1 mIoU 0.800 on the same 40 validation images: the challenger is worse by 0.100, more than the tolerance 0.01',
      images: 40,
      champion: { variant: 'v1', miou: 0.8, pixelAccuracy: 0.9 },
      challenger: { variant: 'v2', miou: 0.7, pixelAccuracy: 0.85 },
      metricsUri: 's3://art/runs/batch-1-r1/evaluation/metrics.json',
      reportUri: 's3://art/runs/batch-1-r1/evaluation/report.html',
      reportConsoleUrl:
        'https://console.aws.amazon.com/s3/object/art?region=eu-west-1&bucketType=general&prefix=runs%2Fbatch-1-r1%2Fevaluation%2Freport.html',
    };

    test("a challenger not promoted: both scores and why, the champion's endpoint still named, no model; the e-mail links the report, never presigned", () => {
      const rep = report('not-promoted', { run, channels, training, champion: { config: 'c1' }, evaluation });
      expect(rep).toMatchObject({
        status: 'not-promoted',
        endpoint: 'segpipe-endpoint',
        evaluation,
        reason: `${evaluation.reason}; the champion keeps serving, the challenger variant was removed`,
      });
      expect(rep.model).toBeUndefined();
      const { subject, message } = notificationText(rep, 's3://art/runs/batch-1-r1/report.json');
      expect(subject).toBe('segpipe: batch 1 trained, not promoted (evaluated on the endpoint)');
      expect(message).toContain(`Reason: ${evaluation.reason}; the champion keeps serving`);
      expect(message).toContain('Endpoint: segpipe-endpoint (still serving the champion)');
      expect(message).toContain(`Evaluation report: ${evaluation.reportUri}\n  in the S3 console: ${evaluation.reportConsoleUrl}`);
      expect(message).not.toMatch(/X-Amz-|Signature=/);
    });

    test('a first model below the minimum: its endpoint was deleted, none is named', () => {
      const rep = report('not-promoted', {
        run,
        channels,
        training,
        evaluation: {
          ...evaluation,
          champion: undefined,
          reason: 'mIoU 0.400 on 40 validation images: the challenger is below the minimum mIoU 0.5',
        },
      });
      expect(rep).toMatchObject({
        endpoint: undefined,
        reason: 'mIoU 0.400 on 40 validation images: the challenger is below the minimum mIoU 0.5; the new endpoint was deleted',
      });
    });

    test('a promoted run quotes the verdict in the e-mail', () => {
      const rep = report('deployed', { run, channels, training, evaluation: { ...evaluation, promote: true, reason: 'not worse' } });
      expect(notificationText(rep, 's3://art/r.json').message).toContain(
        'Evaluation: not worse\nEvaluation report: s3://art/runs/batch-1-r1/evaluation/report.html',
      );
    });
  });

  test('a training job that reported no mIOU is said to, not to be below the minimum', () => {
    // Step Functions' filter for the metric yields [] then, and the gate's isPresent routes the run here.
    const expected =
      'the training job reported no validation:mIOU, so the model cannot pass the minimum 0.5; the endpoint was left as it was';
    expect(report('not-deployed', { run, metrics: {} }).reason).toBe(expected);
    expect(report('not-deployed', { run, metrics: { miou: [] } }).reason).toBe(expected);
  });

  test('a run without labeling (mode "train") names no labeling job', () => {
    expect(report('deployed', { run: { ...run, mode: 'train' } }).labelingJob).toBeUndefined();
  });

  test('the batch comes from the run, then from the snapshot, else "unknown"', () => {
    expect(report('failed', { run, batch: 'snapshot batch' }).batch).toBe('batch 1');
    expect(report('failed', { batch: 'snapshot batch' }).batch).toBe('snapshot batch');
    expect(report('failed', {}).batch).toBe('unknown');
  });

  test('a run stopped before conversion or training has no counts, metrics, or training durations', () => {
    const r = report('failed', { batch: 'b', error: { Error: 'E', Cause: 'c' } });
    expect(r.counts).toBeUndefined();
    expect(r.metrics).toBeUndefined();
    expect(r.classes).toBeUndefined();
    expect(r.skippedItems).toBeUndefined();
    expect(r.mode).toBeUndefined();
    expect(r.trainingJob).toBeUndefined();
    expect(r.durations).toStrictEqual({ totalSeconds: 1202, trainingSeconds: undefined, billableTrainingSeconds: undefined });
  });

  describe('the reason of a failed run, from the Step Functions error', () => {
    const reason = (error: RunState['error']) => report('failed', { run, error }).reason;

    test('a plain-text cause is kept as it is', () => {
      expect(reason({ Error: 'States.TaskFailed', Cause: 'the batch is empty' })).toBe('States.TaskFailed: the batch is empty');
    });
    test('an endpoint that failed names the endpoint, its status and the failure reason', () => {
      expect(
        reason({
          Error: 'EndpointFailed',
          Cause: JSON.stringify({ EndpointName: 'ep', EndpointStatus: 'Failed', FailureReason: 'no capacity' }),
        }),
      ).toBe('EndpointFailed: endpoint ep is Failed: no capacity');
      expect(reason({ Error: 'EndpointFailed', Cause: JSON.stringify({ EndpointName: 'ep', EndpointStatus: 'OutOfService' }) })).toBe(
        'EndpointFailed: endpoint ep is OutOfService',
      );
    });
    test('a Lambda error gives its message; a SageMaker one its FailureReason or Message', () => {
      expect(
        reason({
          Error: 'QuotaError',
          Cause: JSON.stringify({ errorType: 'QuotaError', errorMessage: 'quota is 0', FailureReason: 'f', Message: 'm' }),
        }),
      ).toBe('QuotaError: quota is 0');
      expect(reason({ Error: 'E', Cause: JSON.stringify({ FailureReason: 'AlgorithmError: bad data', Message: 'm' }) })).toBe(
        'E: AlgorithmError: bad data',
      );
      expect(reason({ Error: 'E', Cause: JSON.stringify({ Message: 'Access denied' }) })).toBe('E: Access denied');
    });
    test('a JSON cause with none of those is kept whole', () => {
      expect(reason({ Error: 'E', Cause: '{"other":1}' })).toBe('E: {"other":1}');
    });
    test('a missing error name reads "Error"; a missing cause reads empty', () => {
      expect(reason({ Cause: 'boom' })).toBe('Error: boom');
      expect(reason({ Error: 'States.Timeout' })).toBe('States.Timeout: ');
    });
    test('a long cause is cut at 2000 characters', () => {
      const r = reason({ Error: 'E', Cause: 'x'.repeat(3000) });
      expect(r).toBe(`E: ${'x'.repeat(1997)}`);
    });
    test('a failed run with no error has no reason; a deployed one never has', () => {
      expect(reason(undefined)).toBeUndefined();
      expect(report('deployed', { run, error: { Error: 'E', Cause: 'c' } }).reason).toBeUndefined();
    });
  });
});

describe('notificationText', () => {
  test('a deployed run: the headline, the endpoint, the metrics rounded, the counts, the skipped items and the durations', () => {
    const r = report('deployed', {
      run,
      training,
      channels: { ...channels, skipped: 2, skippedItems: [...channels.skippedItems, { line: 7, source: null, reason: 'not JSON' }] },
      metrics: { miou: [0.61266], pixelAccuracy: [0.9] },
    });
    expect(notificationText(r, 's3://art/runs/batch-1-r1/report.json')).toStrictEqual({
      subject: 'segpipe: batch 1 deployed to segpipe-endpoint',
      message: [
        'segpipe: "batch 1" deployed to segpipe-endpoint',
        '',
        'Run: batch-1-r1',
        'Endpoint: segpipe-endpoint',
        'validation:mIOU 0.613, validation:pixel_accuracy 0.9 (minimum mIOU 0.5)',
        'Items: 5 converted this run, 2 skipped; dataset 8 train, 2 validation',
        '  skipped "s3://in/images/b/x.jpg": "mask holds value 7"',
        '  skipped line 7: "not JSON"',
        'Duration: 1202 s (training 300 s)',
        'Report: s3://art/runs/batch-1-r1/report.json',
      ].join('\n'),
    });
  });

  test('a run below the minimum: its reason, no endpoint; a missing metric reads "missing"', () => {
    const r = report('not-deployed', { run, metrics: { miou: [0.2] } });
    expect(notificationText(r, 'uri')).toStrictEqual({
      subject: 'segpipe: batch 1 trained, not deployed (mIOU below minimum)',
      message: [
        'segpipe: "batch 1" trained, not deployed (mIOU below minimum)',
        '',
        'Run: batch-1-r1',
        'Reason: validation:mIOU 0.2 is below the minimum 0.5; the endpoint was left as it was',
        'validation:mIOU 0.2, validation:pixel_accuracy missing (minimum mIOU 0.5)',
        'Duration: 1202 s',
        'Report: uri',
      ].join('\n'),
    });
  });

  test('a failed run: its reason; no training time is shown when there was none', () => {
    const r = report('failed', { run, error: { Error: 'E', Cause: 'boom' } });
    expect(notificationText(r, 'uri').message).toBe(
      ['segpipe: run for "batch 1" failed', '', 'Run: batch-1-r1', 'Reason: E: boom', 'Duration: 1202 s', 'Report: uri'].join('\n'),
    );
    expect(notificationText(r, 'uri').subject).toBe('segpipe: run for batch 1 failed');
  });

  test('a Label Studio run that took its annotations and failed before committing them says how to bring them back; once committed, or before taking them, it does not', () => {
    const error = { Error: 'E', Cause: 'boom' };
    const next = (state: RunState, status: RunReport['status'] = 'failed') => report(status, { run, error, ...state }).next;
    const retry = expect.stringContaining("Sync the project's target storage in Label Studio");
    expect(next({ annotations: { state: 'complete' } })).toEqual(retry);
    expect(next({ annotations: { state: 'enough' } })).toEqual(retry);
    expect(next({ correctionsGeneration: 0 })).toEqual(retry);
    // Still waiting, or short at the deadline: the round was never closed, its images go back to the batch.
    expect(next({ annotations: { state: 'short' } })).toBeUndefined();
    expect(next({})).toBeUndefined();
    // Committed (the channels were assembled): the dataset has them.
    expect(next({ annotations: { state: 'complete' }, channels })).toBeUndefined();
    expect(next({ correctionsGeneration: 0 }, 'not-deployed')).toBeUndefined();
    const r = report('failed', { run, error, correctionsGeneration: 2 });
    expect(notificationText(r, 'uri').message.split('\n')).toContain(`Next: ${r.next}`);
  });

  test('a training time of 0 s is still shown', () => {
    const r = report('failed', { run, training: { TrainingTimeInSeconds: 0 }, error: { Error: 'E', Cause: 'c' } });
    expect(notificationText(r, 'uri').message).toContain('Duration: 1202 s (training 0 s)');
  });

  test("the subject stays under SNS's 100 characters: the batch name is cut, what is said around it stays", () => {
    const r = report('failed', { run: { ...run, batch: 'b'.repeat(120) } });
    const { subject } = notificationText(r, 'uri');
    expect(subject).toBe(`segpipe: run for ${'b'.repeat(72)}... failed`);
    expect(subject).toHaveLength(99);
  });
});
