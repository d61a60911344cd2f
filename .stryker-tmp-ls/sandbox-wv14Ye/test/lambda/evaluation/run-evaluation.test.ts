import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { encodeClassIndexPng } from '../../../lambda/convert/codecs/mask';
import { evaluateRun, type RunEvaluationSettings } from '../../../lambda/evaluation/run-evaluation';
import { channelManifestJson } from '../../../lambda/workflow/channel-manifest';
import { useEmbeddedS3 } from '../../helpers/embedded-s3';

const runtimeMock = mockClient(SageMakerRuntimeClient);
const cloudwatchMock = mockClient(CloudWatchClient);
const NAMES = ['p-0', 'p-1', 'p-2', 'p-3'];
const BUILTIN = '811284229777.dkr.ecr.us-east-1.amazonaws.com/semantic-segmentation:1';
const PYTORCH = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312';

const settings: RunEvaluationSettings = {
  artifactsBucket: 'artifacts',
  endpointName: 'seg-endpoint',
  maxImages: 10,
  maxBatchShare: 1,
  minImages: 2,
  tolerance: 0.05,
  minValidationMiou: 0.4,
};

/**
 * A run's evaluation on the endpoint, wired as the evaluation Lambda wires it: the run's channels on
 * the embedded S3 server, InvokeEndpoint per variant and CloudWatch's training metrics through
 * aws-sdk-client-mock; what it returns, logs and writes under the run.
 */
describe('evaluateRun', () => {
  const s3 = useEmbeddedS3(['artifacts']);
  const runtime = new SageMakerRuntimeClient({ region: 'us-east-1' });
  const cloudwatch = new CloudWatchClient({ region: 'us-east-1' });
  let perfect: Buffer;
  let half: Buffer;
  let logs: { message: string; details: Record<string, unknown> }[];
  const deps = (extra: { cloudwatch?: CloudWatchClient } = {}) => ({
    store: s3.store,
    runtime,
    region: 'eu-west-1',
    holdoutKey: async () => 'key',
    log: (message: string, details: Record<string, unknown>) => logs.push({ message, details }),
    ...extra,
  });
  const read = async (uri: string) => (await s3.store.read(uri)).toString();

  beforeAll(async () => {
    const jpeg = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const truth = await encodeClassIndexPng(Buffer.from([0, 1, 0, 1]), 2, 2);
    perfect = truth;
    // Half the turtle pixels missed: mean IoU (2/3 + 1/2) / 2.
    half = await encodeClassIndexPng(Buffer.from([0, 1, 0, 0]), 2, 2);
    for (const name of NAMES) {
      await s3.store.write(`s3://artifacts/datasets/main/validation/${name}.jpg`, jpeg, 'image/jpeg');
      await s3.store.write(`s3://artifacts/datasets/main/validation_annotation/${name}.png`, truth, 'image/png');
    }
    for (const [channel, extension] of [
      ['validation', 'jpg'],
      ['validation_annotation', 'png'],
    ]) {
      await s3.store.write(
        `s3://artifacts/runs/r1/channels/${channel}.manifest`,
        Buffer.from(
          channelManifestJson({ prefix: 's3://artifacts/datasets/main/', keys: NAMES.map((n) => `${channel}/${n}.${extension}`) }),
        ),
        'application/json',
      );
    }
  });
  beforeEach(() => {
    logs = [];
    runtimeMock.reset();
    cloudwatchMock.reset();
  });
  afterAll(() => {
    runtimeMock.restore();
    cloudwatchMock.restore();
  });

  test('champion against a worse challenger: both on the same images, not promoted, trainers named, metrics and report under the run', async () => {
    runtimeMock.on(InvokeEndpointCommand, { TargetVariant: 'champion-v' }).resolves({ Body: perfect as never });
    runtimeMock.on(InvokeEndpointCommand, { TargetVariant: 'challenger-v' }).resolves({ Body: half as never });
    cloudwatchMock.on(ListMetricsCommand).resolves({ Metrics: [{ MetricName: 'train:loss' }] });
    cloudwatchMock
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Label: 'train:loss', Timestamps: [new Date(1000), new Date(2000)], Values: [0.9, 0.5] }] });
    const result = await evaluateRun(deps({ cloudwatch }), settings, {
      runId: 'r1',
      trainingJob: 'seg-train-r1',
      classes: ['BACKGROUND', 'turtle'],
      champion: 'champion-v',
      challenger: 'challenger-v',
      championImage: BUILTIN,
      challengerImage: PYTORCH,
    });
    const halfMiou = (2 / 3 + 1 / 2) / 2;
    expect(result).toEqual({
      promote: false,
      reason: expect.stringMatching(
        /^challenger challenger-v mIoU 0\.583, champion champion-v mIoU 1\.000 on the same 4 validation images: the challenger is worse by 0\.417, more than the tolerance 0\.05$/,
      ),
      images: 4,
      champion: { variant: 'champion-v', trainer: 'built-in Semantic Segmentation algorithm', miou: 1, pixelAccuracy: 1 },
      challenger: { variant: 'challenger-v', trainer: 'PyTorch', miou: expect.closeTo(halfMiou, 10), pixelAccuracy: 0.75 },
      metricsUri: 's3://artifacts/runs/r1/evaluation/metrics.json',
      reportUri: 's3://artifacts/runs/r1/evaluation/report.html',
      reportConsoleUrl:
        'https://console.aws.amazon.com/s3/object/artifacts?region=eu-west-1&bucketType=general&prefix=runs%2Fr1%2Fevaluation%2Freport.html',
    });
    // Every image went to both variants of the configured endpoint.
    const calls = runtimeMock.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(8);
    expect(new Set(calls.map((c) => c.EndpointName))).toEqual(new Set(['seg-endpoint']));
    expect(cloudwatchMock.commandCalls(ListMetricsCommand)[0].args[0].input.Dimensions).toEqual([
      { Name: 'TrainingJobName', Value: 'seg-train-r1' },
    ]);

    const metrics = JSON.parse(await read(result.metricsUri));
    expect(metrics).toMatchObject({ endpoint: 'seg-endpoint', classes: ['BACKGROUND', 'turtle'], verdict: { promote: false } });
    expect(metrics.variants.map((v: { role: string; trainer: string }) => [v.role, v.trainer])).toEqual([
      ['champion', 'built-in Semantic Segmentation algorithm'],
      ['challenger', 'PyTorch'],
    ]);
    const contentType = async (uri: string) =>
      (await s3.store.client.send(new HeadObjectCommand({ Bucket: 'artifacts', Key: uri.replace('s3://artifacts/', '') }))).ContentType;
    expect(await contentType(result.metricsUri)).toBe('application/json');
    expect(await contentType(result.reportUri)).toBe('text/html; charset=utf-8');
    const html = await read(result.reportUri);
    expect(html).toContain('<title>segpipe run r1: champion against challenger</title>');
    expect(html).toContain('<p>Training job seg-train-r1, per-epoch metrics from CloudWatch.</p><svg');
    expect(html).toContain('>train:loss</text>');
    expect(logs).toEqual([
      {
        message: 'evaluated',
        details: expect.objectContaining({
          runId: 'r1',
          images: 4,
          chosen: 4,
          refused: 0,
          unreadable: 0,
          unlabelled: 0,
          promote: false,
          champion: result.champion,
          challenger: result.challenger,
        }),
      },
    ]);
  });

  test('a first model is evaluated alone, on its own variant; no CloudWatch means a report without curves', async () => {
    runtimeMock.on(InvokeEndpointCommand).resolves({ Body: perfect as never });
    const result = await evaluateRun(deps(), settings, {
      runId: 'r1',
      trainingJob: 'seg-train-r1',
      classes: ['BACKGROUND', 'turtle'],
      challenger: 'first-v',
    });
    expect(result).toMatchObject({ promote: true, images: 4, challenger: { variant: 'first-v', miou: 1 } });
    expect(result.champion).toBeUndefined();
    expect(result.challenger).not.toHaveProperty('trainer');
    expect(result.reason).toBe('mIoU 1.000 on 4 validation images: the first model, at least the minimum mIoU 0.4');
    expect(runtimeMock.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input.TargetVariant)).toEqual(Array(4).fill('first-v'));
    const html = await read(result.reportUri);
    expect(html).toContain('<title>segpipe run r1: first model</title>');
    expect(html).toContain('CloudWatch holds no per-epoch metrics for training job seg-train-r1');
  });

  test("a challenger that refuses an image the champion answers is not promoted, whatever its score; CloudWatch's refusal is logged", async () => {
    let calls = 0;
    runtimeMock.on(InvokeEndpointCommand, { TargetVariant: 'champion-v' }).resolves({ Body: perfect as never });
    runtimeMock.on(InvokeEndpointCommand, { TargetVariant: 'challenger-v' }).callsFake(() => {
      if (calls++ === 0) throw Object.assign(new Error('the model failed'), { name: 'ModelError' });
      return { Body: perfect };
    });
    cloudwatchMock.on(ListMetricsCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDenied' }));
    const result = await evaluateRun(deps({ cloudwatch }), settings, {
      runId: 'r1',
      trainingJob: 'seg-train-r1',
      classes: ['BACKGROUND', 'turtle'],
      champion: 'champion-v',
      challenger: 'challenger-v',
    });
    expect(result).toMatchObject({ promote: false, images: 3, champion: { miou: 1 }, challenger: { miou: 1 } });
    expect(result.reason).toContain('the challenger refused 1 image, the champion 0');
    expect(logs.map((l) => l.message)).toEqual(['evaluated', 'training curves unavailable']);
    expect(logs[0].details).toMatchObject({ refused: 1 });
    expect(logs[1].details).toEqual({ trainingJob: 'seg-train-r1', error: 'not allowed' });

    // Three images answered by both are fewer than minImages 4: the evaluation fails.
    calls = 0;
    await expect(
      evaluateRun(
        deps(),
        { ...settings, minImages: 4 },
        { runId: 'r1', trainingJob: 'j', classes: ['BACKGROUND', 'turtle'], champion: 'champion-v', challenger: 'challenger-v' },
      ),
    ).rejects.toThrow(/^only 3 of the 4 chosen validation images were answered by every variant, fewer than the 4 needed/);
  });
});
