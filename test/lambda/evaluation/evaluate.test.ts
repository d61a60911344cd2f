import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { INVOKE_BODY_LIMIT } from '../../../lambda/common/endpoint-payload';
import { encodeClassIndexPng } from '../../../lambda/convert/codecs/mask';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import {
  type EvaluationImages,
  evaluateVariants,
  maskIndices,
  sageMakerInvoker,
  validationChannel,
} from '../../../lambda/evaluation/evaluate';
import { galleryImages } from '../../../lambda/evaluation/report-html';
import { TRAINING_METRICS_NAMESPACE, trainingCurves } from '../../../lambda/evaluation/training-curves';
import { writeTree } from '../../helpers/files';

const runtime = mockClient(SageMakerRuntimeClient);
const cloudwatch = mockClient(CloudWatchClient);
afterEach(() => {
  runtime.reset();
  cloudwatch.reset();
});
afterAll(() => {
  runtime.restore();
  cloudwatch.restore();
});

/** Four 2×1 images whose true masks are [0, 1]. */
const SOURCE: EvaluationImages = {
  names: async () => ['a', 'b', 'c', 'd'],
  image: async () =>
    sharp({ create: { width: 2, height: 1, channels: 3, background: '#204080' } })
      .jpeg()
      .toBuffer(),
  mask: async () => encodeClassIndexPng(Buffer.from([0, 1]), 2, 1),
};

describe('InvokeEndpoint per variant', () => {
  test('sends the JPEG with TargetVariant, asks for the PNG mask, and scores each variant on the same images', async () => {
    const perfect = await encodeClassIndexPng(Buffer.from([0, 1]), 2, 1);
    const background = await encodeClassIndexPng(Buffer.from([0, 0]), 2, 1);
    runtime.on(InvokeEndpointCommand).callsFake((input) => ({ Body: input.TargetVariant === 'champion' ? perfect : background }));
    const result = await evaluateVariants({
      source: SOURCE,
      invoke: sageMakerInvoker(new SageMakerRuntimeClient({ region: 'us-east-1' }), 'segpipe-endpoint'),
      numClasses: 2,
      maxImages: 3,
      variants: [
        { variant: 'champion', role: 'champion' },
        { variant: 'challenger', role: 'challenger' },
      ],
    });
    const calls = runtime.commandCalls(InvokeEndpointCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(6);
    expect(calls[0]).toEqual({
      EndpointName: 'segpipe-endpoint',
      ContentType: 'image/jpeg',
      Accept: 'image/png',
      Body: expect.any(Buffer),
      TargetVariant: 'champion',
    });
    expect(calls.map((c) => c.TargetVariant).sort()).toEqual([
      'challenger',
      'challenger',
      'challenger',
      'champion',
      'champion',
      'champion',
    ]);
    expect(result.images).toHaveLength(3);
    expect(result.variants.map((v) => [v.role, v.miou, v.pixelAccuracy])).toEqual([
      ['champion', 1, 1],
      ['challenger', 0.25, 0.5],
    ]);
    expect(result.variants[1].perImage.map((i) => i.name)).toEqual(result.images);
  });

  test("without a variant, TargetVariant is left out: the endpoint's weights route the request", async () => {
    runtime.on(InvokeEndpointCommand).resolves({ Body: (await encodeClassIndexPng(Buffer.from([0, 1]), 2, 1)) as never });
    await evaluateVariants({
      source: SOURCE,
      invoke: sageMakerInvoker(new SageMakerRuntimeClient({ region: 'us-east-1' }), 'e'),
      numClasses: 2,
      maxImages: 1,
      variants: [{ variant: undefined, role: 'model' }],
    });
    expect(runtime.commandCalls(InvokeEndpointCommand)[0].args[0].input).not.toHaveProperty('TargetVariant');
  });

  test('a variant that refuses every image fails the evaluation, naming the variant and the image', async () => {
    runtime.on(InvokeEndpointCommand).rejects(Object.assign(new Error('Received server error (500) from primary'), { name: 'ModelError' }));
    await expect(
      evaluateVariants({
        source: SOURCE,
        invoke: sageMakerInvoker(new SageMakerRuntimeClient({ region: 'us-east-1', maxAttempts: 1 }), 'e'),
        numClasses: 2,
        maxImages: 1,
        concurrency: 1,
        variants: [{ variant: 'v2', role: 'challenger' }],
      }),
    ).rejects.toThrow(
      /^only 0 of the 1 chosen validation images were answered by every variant, fewer than the 1 needed \([abcd] refused by variant v2: Received server error \(500\) from primary\)$/,
    );
  });

  test('a request the endpoint fails for another reason fails the evaluation, naming the variant and the image', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .rejects(
        Object.assign(new Error('Endpoint e of account 1 not found.'), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } }),
      );
    await expect(
      evaluateVariants({
        source: SOURCE,
        invoke: sageMakerInvoker(new SageMakerRuntimeClient({ region: 'us-east-1', maxAttempts: 1 }), 'e'),
        numClasses: 2,
        maxImages: 1,
        concurrency: 1,
        variants: [{ variant: 'v2', role: 'challenger' }],
      }),
    ).rejects.toThrow(/^InvokeEndpoint of variant v2 failed on validation image [abcd]: Endpoint e of account 1 not found\.$/);
  });

  test("a 9 MB validation image is sent scaled within InvokeEndpoint's 6 MiB; a 12-bit one is left out and counted", async () => {
    const [width, height] = [2000, 1600];
    const big = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toBuffer();
    expect(big.length).toBeGreaterThan(INVOKE_BODY_LIMIT);
    const small = await sharp({ create: { width: 40, height: 32, channels: 3, background: '#204080' } })
      .jpeg()
      .toBuffer();
    const twelveBit = Buffer.from(small);
    for (let at = 2; at < twelveBit.length; at += 2 + twelveBit.readUInt16BE(at + 2)) {
      if (twelveBit[at + 1] === 0xc0) {
        twelveBit[at + 4] = 12;
        break;
      }
    }
    const sizes: Record<string, [number, number]> = { big: [width, height], small: [40, 32], deep: [40, 32] };
    const source: EvaluationImages = {
      names: async () => ['big', 'small', 'deep'],
      image: async (name) => ({ big, small, deep: twelveBit })[name]!,
      mask: async (name) => encodeClassIndexPng(Buffer.alloc(sizes[name][0] * sizes[name][1], 1), ...sizes[name]),
    };
    const sent: number[] = [];
    // As SageMaker: a body over the limit is refused; the model answers a mask at the size it was sent.
    const invoke = async (body: Buffer) => {
      sent.push(body.length);
      if (body.length > INVOKE_BODY_LIMIT)
        throw Object.assign(new Error('HTTP content length exceeded'), { $metadata: { httpStatusCode: 413 } });
      const { width: w, height: h } = await sharp(body).metadata();
      return encodeClassIndexPng(Buffer.alloc(w! * h!, 1), w!, h!);
    };
    const result = await evaluateVariants({ source, invoke, numClasses: 2, maxImages: 3, variants: [{ variant: 'v', role: 'model' }] });
    expect(result.images.sort()).toEqual(['big', 'small']);
    expect(Math.max(...sent)).toBeLessThanOrEqual(INVOKE_BODY_LIMIT);
    expect(result.variants[0].miou).toBe(1);
    expect(result.skipped.unreadable).toEqual([{ name: 'deep', reason: expect.stringContaining('a JPEG of 12-bit precision') }]);
    expect(result.skipped.refused).toEqual([]);
  });

  test('an answer that is no PNG says so', async () => {
    runtime.on(InvokeEndpointCommand).resolves({ Body: Buffer.from('{"predictions": []}') as never });
    await expect(
      evaluateVariants({
        source: SOURCE,
        invoke: sageMakerInvoker(new SageMakerRuntimeClient({ region: 'us-east-1' }), 'e'),
        numClasses: 2,
        maxImages: 1,
        variants: [{ variant: 'v', role: 'model' }],
      }),
    ).rejects.toThrow(/^the answer of variant v for validation image [abcd] is not a mask PNG/);
  });

  test('the gallery: the worst and the best images by the last variant, each once', () => {
    const perImage = [0.9, 0.1, 0.5, 0.7, 0.3].map((miou, i) => ({ name: `i${i}`, miou }));
    const result = { variants: [{ perImage }] } as never;
    expect(galleryImages(result, 2)).toEqual([
      { name: 'i1', end: 'worst' },
      { name: 'i4', end: 'worst' },
      { name: 'i0', end: 'best' },
      { name: 'i3', end: 'best' },
    ]);
    expect(galleryImages({ variants: [{ perImage: perImage.slice(0, 3) }] } as never, 2).map((g) => g.name)).toEqual(['i1', 'i2', 'i0']);
  });
});

describe('training curves from CloudWatch', () => {
  test("the job's metrics, each as its datapoints in time order numbered as epochs", async () => {
    cloudwatch.on(ListMetricsCommand).resolves({
      Metrics: [
        {
          Namespace: TRAINING_METRICS_NAMESPACE,
          MetricName: 'train:loss',
          Dimensions: [
            { Name: 'Host', Value: 'algo-1' },
            { Name: 'TrainingJobName', Value: 'job' },
          ],
        },
        {
          Namespace: TRAINING_METRICS_NAMESPACE,
          MetricName: 'validation:mIOU',
          Dimensions: [
            { Name: 'Host', Value: 'algo-1' },
            { Name: 'TrainingJobName', Value: 'job' },
          ],
        },
      ],
    });
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'm0', Label: 'train:loss', Timestamps: [new Date(2000), new Date(1000)], Values: [0.5, 0.9] },
        { Id: 'm1', Label: 'validation:mIOU', Timestamps: [new Date(1000)], Values: [0.6] },
      ],
    });
    const now = new Date('2026-12-02T06:00:00Z');
    expect(await trainingCurves(new CloudWatchClient({ region: 'us-east-1' }), 'job', now)).toEqual([
      { metric: 'train:loss', epoch: 1, value: 0.9 },
      { metric: 'train:loss', epoch: 2, value: 0.5 },
      { metric: 'validation:mIOU', epoch: 1, value: 0.6 },
    ]);
    expect(cloudwatch.commandCalls(ListMetricsCommand)[0].args[0].input).toEqual({
      Namespace: '/aws/sagemaker/TrainingJobs',
      Dimensions: [{ Name: 'TrainingJobName', Value: 'job' }],
    });
    const query = cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(query.MetricDataQueries?.[1]).toMatchObject({
      Id: 'm1',
      Label: 'validation:mIOU',
      MetricStat: { Period: 60, Stat: 'Average', Metric: { MetricName: 'validation:mIOU' } },
    });
    expect(query.EndTime).toEqual(now);
  });

  test('none: an empty list, and CloudWatch is asked nothing more', async () => {
    cloudwatch.on(ListMetricsCommand).resolves({ Metrics: [] });
    expect(await trainingCurves(new CloudWatchClient({ region: 'us-east-1' }), 'job')).toEqual([]);
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});

describe('the validation channel and the edges of an evaluation', () => {
  const options = { numClasses: 2, maxImages: 4, variants: [{ variant: undefined, role: 'model' as const }] };
  const answer =
    (mask: number[], width = 2, height = 1) =>
    async () =>
      encodeClassIndexPng(Buffer.from(mask), width, height);

  test("segpipe convert's folders: the names with both an image and a mask, each read by name; a missing one named", async () => {
    const root = mkdtempSync(join(tmpdir(), 'segpipe-eval-channel-'));
    writeTree(root, {
      'validation/a.jpg': 'A',
      'validation/b.JPEG': 'B',
      'validation/only-image.jpg': 'x',
      'validation/notes.txt': 'x',
      'validation_annotation/a.png': 'a-mask',
      'validation_annotation/b.png': 'b-mask',
      'validation_annotation/only-mask.png': 'x',
      'validation_annotation/a.jpg': 'not a mask',
    });
    const channel = validationChannel(new FolderObjectStore(), root);
    expect((await channel.names()).sort()).toEqual(['a', 'b']);
    expect((await channel.image('b')).toString()).toBe('B');
    expect((await channel.mask('a')).toString()).toBe('a-mask');
    await expect(channel.image('only-mask')).rejects.toThrow('the validation channel has no image named only-mask');
    await expect(channel.mask('only-image')).rejects.toThrow('the validation channel has no mask named only-image');
  });

  test('nothing to evaluate: no image with its mask, or only masks without a labelled pixel', async () => {
    const invoke = jest.fn();
    await expect(
      evaluateVariants({ ...options, invoke, source: { names: async () => [], image: SOURCE.image, mask: SOURCE.mask } }),
    ).rejects.toThrow('the validation channel holds no image with its mask: there is nothing to evaluate on');
    const background = { ...SOURCE, mask: async () => encodeClassIndexPng(Buffer.from([0, 255]), 2, 1) };
    await expect(evaluateVariants({ ...options, invoke, source: background })).rejects.toThrow(
      'none of the 4 validation masks looked at holds a labelled pixel (all background or 255): there is nothing to evaluate on',
    );
    expect(invoke).not.toHaveBeenCalled();
  });

  test('progress after each image, the unreadable ones included', async () => {
    const seen: [number, number][] = [];
    const source = { ...SOURCE, image: async (name: string) => (name === 'b' ? Buffer.from('not an image') : SOURCE.image(name)) };
    const result = await evaluateVariants({
      ...options,
      source,
      invoke: answer([0, 1]),
      concurrency: 1,
      onProgress: (done, total) => seen.push([done, total]),
    });
    expect(seen).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(result.skipped.unreadable.map((u) => u.name)).toEqual(['b']);
  });

  test('too few answered: the first three reasons, then how many more; a failure without a variant names none', async () => {
    const refusing = async () => {
      throw Object.assign(new Error('no'), { name: 'ModelError' });
    };
    await expect(evaluateVariants({ ...options, source: SOURCE, invoke: refusing, concurrency: 1 })).rejects.toThrow(
      /^only 0 of the 4 chosen validation images were answered by every variant, fewer than the 1 needed \(\w refused: no; \w refused: no; \w refused: no; and 1 more\)$/,
    );
    const failing = async () => {
      throw new Error('socket hang up');
    };
    await expect(evaluateVariants({ ...options, source: SOURCE, invoke: failing })).rejects.toThrow(
      /^InvokeEndpoint failed on validation image [abcd]: socket hang up$/,
    );
  });

  test('an answer at another size than the truth is scaled to it, nearest neighbour, before it is scored', async () => {
    // 4×2, left half background, right half class 1: the 2×1 truth [0, 1] exactly once scaled.
    const result = await evaluateVariants({ ...options, source: SOURCE, invoke: answer([0, 0, 1, 1, 0, 0, 1, 1], 4, 2) });
    expect(result.variants[0].miou).toBe(1);
    expect(await maskIndices(await encodeClassIndexPng(Buffer.from([0, 0, 1, 1]), 4, 1), 2, 1)).toEqual({
      data: new Uint8Array([0, 1]),
      width: 2,
      height: 1,
    });
    // Without a size to meet, or at that size, the answer is read as it is.
    expect((await maskIndices(await encodeClassIndexPng(Buffer.from([0, 1, 1]), 3, 1))).width).toBe(3);
  });
});
