import { createHash, randomBytes } from 'node:crypto';
import { encodeClassIndexPng } from '../../../lambda/convert/codecs/mask';
import { type EvaluationImages, evaluateVariants } from '../../../lambda/evaluation/evaluate';
import { metricsDocument, skippedImagesHtml } from '../../../lambda/evaluation/report-html';
import { batchCap, rankEvaluationImages } from '../../../lambda/evaluation/select-images';

const KEY = randomBytes(32);
const rule = { key: KEY, maxImages: 100, maxBatchShare: 1 };
const first = (
  names: readonly string[],
  limit: number,
  extra: Partial<typeof rule> & { batchOf?: (n: string) => string | undefined } = {},
) =>
  rankEvaluationImages(names, { ...rule, ...extra })
    .slice(0, limit)
    .map((c) => c.name);

describe('the evaluation images: ranked under a key uploaders do not know', () => {
  test('the same for the same split and key, and mostly kept as the split grows', () => {
    const names = Array.from({ length: 300 }, (_, i) => `photo-${i}`);
    const chosen = first(names, 100);
    expect(chosen).toHaveLength(100);
    expect(first([...names].reverse(), 100)).toEqual(chosen);
    const grown = first([...names, ...Array.from({ length: 30 }, (_, i) => `more-${i}`)], 100);
    expect(grown.filter((n) => chosen.includes(n)).length).toBeGreaterThan(80);
    expect(first(['a', 'b', 'a'], 100).sort()).toEqual(['a', 'b']);
  });

  test('names ground against a public hash take no more slots than any others', () => {
    // What an uploader could do against a public order: keep the names whose SHA-256 sorts first.
    const honest = Array.from({ length: 500 }, (_, i) => `honest-${i}`);
    const sha = (name: string) => createHash('sha256').update(name).digest('hex');
    const byPublicHash = (a: string, b: string) => (sha(a) < sha(b) ? -1 : 1);
    const ground = Array.from({ length: 20_000 }, (_, i) => `ground-${i}`)
      .sort(byPublicHash)
      .slice(0, 100);
    const publicOrder = [...honest, ...ground].sort(byPublicHash);
    expect(publicOrder.slice(0, 100).filter((n) => n.startsWith('ground-')).length).toBeGreaterThan(90);
    const keyed = first([...honest, ...ground], 100);
    // 100 of 600 names: about 17 expected by chance.
    expect(keyed.filter((n) => n.startsWith('ground-')).length).toBeLessThan(35);
  });

  test('another key, another order', () => {
    const names = Array.from({ length: 50 }, (_, i) => `photo-${i}`);
    expect(first(names, 10, { key: randomBytes(32) })).not.toEqual(first(names, 10));
  });

  test('a batch supplies at most its share; items of no batch count as one batch', () => {
    expect(batchCap({ maxImages: 100, maxBatchShare: 0.25 })).toBe(25);
    expect(batchCap({ maxImages: 3, maxBatchShare: 0.1 })).toBe(1);
  });
});

/** Masks: `flat-*` all background, `void-*` all ignored, the rest half turtle. */
function source(names: string[]): EvaluationImages & { maskReads: string[] } {
  const maskReads: string[] = [];
  return {
    maskReads,
    names: async () => names,
    image: async () => Buffer.from('not read by the fake endpoint'),
    mask: async (name) => {
      maskReads.push(name);
      const value = name.startsWith('flat-') ? [0, 0] : name.startsWith('void-') ? [255, 255] : [0, 1];
      return encodeClassIndexPng(Buffer.from(value), 2, 1);
    },
  };
}

jest.mock('../../../lambda/common/endpoint-payload', () => ({
  ...jest.requireActual('../../../lambda/common/endpoint-payload'),
  // The images of these tests are stand-in bytes: sent as they are.
  prepareRequestImage: async (input: Buffer) => {
    if (input.toString() === 'undecodable') throw new Error('Input buffer contains unsupported image format');
    return { body: input, width: 2, height: 1, sentWidth: 2, sentHeight: 1, rgb: Buffer.alloc(6) };
  },
}));

describe('evaluateVariants chooses and skips', () => {
  const perfect = encodeClassIndexPng(Buffer.from([0, 1]), 2, 1);

  test('no batch supplies more than its share, and masks with no labelled pixel are passed over', async () => {
    const names = [
      ...Array.from({ length: 40 }, (_, i) => `big-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `small-${i}`),
      'flat-1',
      'flat-2',
      'void-1',
    ];
    const batchOf = (name: string) => (name.startsWith('big-') ? 'big' : name.startsWith('small-') ? 'small' : undefined);
    const images = source(names);
    const result = await evaluateVariants({
      source: images,
      invoke: async () => perfect,
      numClasses: 2,
      maxImages: 10,
      holdout: { key: KEY, maxBatchShare: 0.5, batchOf },
      variants: [{ variant: 'v', role: 'model' }],
    });
    expect(result.images.filter((n) => n.startsWith('big-'))).toHaveLength(5);
    expect(result.images.filter((n) => n.startsWith('small-'))).toHaveLength(5);
    expect(result.images.some((n) => /^(flat|void)-/.test(n))).toBe(false);
    expect(result.skipped.unlabelled.every((n) => /^(flat|void)-/.test(n))).toBe(true);
  });

  test('an image a variant refuses is skipped for every variant and counted; too few left fails', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `photo-${i}`);
    const refusing = new Set(['photo-1', 'photo-2', 'photo-3']);
    const invoke = async (_image: Buffer, variant: string | undefined) => {
      if (variant === 'challenger' && refusing.has(currentName))
        throw Object.assign(new Error('Received client error (413) from primary'), { name: 'ModelError' });
      return perfect;
    };
    let currentName = '';
    const images: EvaluationImages = {
      ...source(names),
      image: async (name) => {
        currentName = name;
        return Buffer.from(name);
      },
    };
    const variants = [
      { variant: 'champion', role: 'champion' as const },
      { variant: 'challenger', role: 'challenger' as const },
    ];
    const result = await evaluateVariants({ source: images, invoke, numClasses: 2, maxImages: 10, minImages: 5, variants, concurrency: 1 });
    expect(result.chosen).toBe(10);
    expect(result.images.sort()).toEqual(names.filter((n) => !refusing.has(n)).sort());
    expect(result.skipped.refused.map((r) => [r.name, r.variant]).sort()).toEqual([
      ['photo-1', 'challenger'],
      ['photo-2', 'challenger'],
      ['photo-3', 'challenger'],
    ]);
    expect(result.variants.map((v) => [v.role, v.refused, v.perImage.length])).toEqual([
      ['champion', 0, 7],
      ['challenger', 3, 7],
    ]);
    const metrics = metricsDocument({ endpoint: 'e', classes: ['background', 'turtle'], result, generatedAt: 'now' }) as Record<
      string,
      any
    >;
    expect({
      chosen: metrics.chosen,
      refused: metrics.skipped.refused.length,
      unlabelled: metrics.skipped.unlabelled,
      byVariant: metrics.variants.map((v: any) => v.refused),
    }).toEqual({ chosen: 10, refused: 3, unlabelled: 0, byVariant: [0, 3] });
    expect(skippedImagesHtml(result)).toMatch(
      /^<p id="skipped">10 images chosen: refused 3 by challenger challenger; 0 unreadable; 0 masks with no labelled pixel passed over\. Left out: photo-\d \(challenger: Received client error \(413\) from primary\);/,
    );
    await expect(
      evaluateVariants({ source: images, invoke, numClasses: 2, maxImages: 10, minImages: 8, variants, concurrency: 1 }),
    ).rejects.toThrow(
      /^only 7 of the 10 chosen validation images were answered by every variant, fewer than the 8 needed \(photo-\d refused by variant challenger: Received client error/,
    );
  });

  test('an image that cannot be prepared is skipped and counted; an endpoint failure of another kind fails the evaluation', async () => {
    const images: EvaluationImages = { ...source(['a', 'b']), image: async (name) => Buffer.from(name === 'a' ? 'undecodable' : 'fine') };
    const result = await evaluateVariants({
      source: images,
      invoke: async () => perfect,
      numClasses: 2,
      maxImages: 2,
      variants: [{ variant: 'v', role: 'model' }],
    });
    expect(result.images).toEqual(['b']);
    expect(result.skipped.unreadable).toEqual([{ name: 'a', reason: 'Input buffer contains unsupported image format' }]);
    const denied = async () => {
      throw Object.assign(new Error('not authorized to perform: sagemaker:InvokeEndpoint'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      });
    };
    await expect(
      evaluateVariants({ source: images, invoke: denied, numClasses: 2, maxImages: 2, variants: [{ variant: 'v', role: 'model' }] }),
    ).rejects.toThrow(/^InvokeEndpoint of variant v failed on validation image b: not authorized/);
  });
});
