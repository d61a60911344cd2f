import sharp from 'sharp';
import { encodeClassIndexPng } from '../../../lambda/convert/codecs/mask';
import type { EvaluationImages, EvaluationResult, VariantEvaluation } from '../../../lambda/evaluation/evaluate';
import { hexColour, maskColour } from '../../../lambda/evaluation/palette';
import { escapeHtml, evaluationReportHtml, metricsDocument, skippedImagesHtml, variantLabel } from '../../../lambda/evaluation/report-html';

const W = 4;
const H = 2;
const CLASSES = ['BACKGROUND', 'turtle', 'rock'];
/** Each image's true mask: background on the left, turtle or rock on the right. */
const TRUTH: Record<string, number[]> = {
  'img-a': [0, 0, 1, 1, 0, 0, 1, 1],
  'img-b': [0, 0, 2, 2, 0, 0, 2, 2],
  'img-c': [0, 0, 1, 1, 0, 0, 2, 2],
  'img-d': [0, 0, 1, 1, 0, 0, 1, 1],
};
const NAMES = Object.keys(TRUTH);

/** Validation images in memory: a JPEG of one colour per name, and its true mask. */
async function source(): Promise<EvaluationImages> {
  const images = new Map<string, Buffer>();
  for (const [i, name] of NAMES.entries()) {
    images.set(
      name,
      await sharp({ create: { width: W, height: H, channels: 3, background: { r: 60 * i, g: 100, b: 200 } } })
        .jpeg()
        .toBuffer(),
    );
  }
  return {
    names: async () => NAMES,
    image: async (name) => images.get(name)!,
    mask: async (name) => encodeClassIndexPng(Buffer.from(TRUTH[name]), W, H),
  };
}

function variant(role: VariantEvaluation['role'], name: string | undefined, extra: Partial<VariantEvaluation>): VariantEvaluation {
  return {
    variant: name,
    role,
    pixelAccuracy: 0.875,
    // No turtle pixel in the truth nor predicted: its row is empty, its IoU null.
    classIou: [0.9, null, 0.75],
    miou: 0.825,
    confusion: [
      [16, 0, 0, 0],
      [0, 0, 0, 0],
      [1, 0, 3, 0],
    ],
    pixels: 24,
    latencyMs: { p50: 12.4, p95: 40.6, max: 50 },
    perImage: [
      { name: 'img-a', miou: 1 },
      { name: 'img-b', miou: 0.25 },
      { name: 'img-c', miou: 0.5 },
    ],
    refused: 0,
    ...extra,
  };
}

/** A champion and a challenger scored on three images; img-d refused by the challenger. */
function result(): EvaluationResult {
  return {
    images: ['img-a', 'img-b', 'img-c'],
    chosen: 4,
    skipped: {
      unlabelled: ['flat-1', 'flat-2'],
      unreadable: [],
      refused: [{ name: 'img-d', variant: 'AllTraffic-2', reason: 'ModelError' }],
    },
    numClasses: 3,
    variants: [
      variant('champion', 'AllTraffic-1', { trainer: 'builtin' }),
      variant('challenger', 'AllTraffic-2', {
        trainer: 'pytorch',
        miou: 0.5,
        pixelAccuracy: 0.5,
        classIou: [0.5, 0.5, 0],
        // Every rock pixel predicted as an index past the classes: the confusion matrix shows an "other index" column.
        confusion: [
          [16, 0, 0, 0],
          [0, 4, 0, 0],
          [0, 0, 0, 4],
        ],
        refused: 1,
      }),
    ],
    predictions: [PREDICTED, PREDICTED],
  };
}

/** The masks both variants predicted: rock taken for the background. */
const PREDICTED = new Map<string, Buffer>();
beforeAll(async () => {
  for (const name of NAMES) PREDICTED.set(name, await encodeClassIndexPng(Buffer.from(TRUTH[name].map((c) => (c === 2 ? 0 : c))), W, H));
});

const text = (html: string, id: string) =>
  html.match(new RegExp(`<(?:figure|div) [^>]*id="${id}">([\\s\\S]*?)</(?:figure|div)>\\n<h2>`))?.[1] ?? '';

describe('report.html', () => {
  let images: EvaluationImages;
  let html: string;
  const input = () => ({
    title: 'segpipe run <r1>: champion against challenger',
    endpoint: 'seg-endpoint',
    classes: CLASSES,
    result: result(),
    source: images,
    verdict: { promote: false, reason: 'the challenger is worse by 0.325 & more' },
    training: {
      job: 'seg-train-r1',
      curves: [
        { metric: 'train:loss', epoch: 1, value: 0.9 },
        { metric: 'train:loss', epoch: 2, value: 0.4 },
        { metric: 'validation:mIOU', epoch: 1, value: 0.3 },
        { metric: 'validation:mIOU', epoch: 2, value: 0.6 },
      ],
    },
    generatedAt: '2026-12-07T12:00:00.000Z',
  });

  beforeAll(async () => {
    images = await source();
    html = await evaluationReportHtml(input());
  });

  test('the heading, the endpoint, the images counted, the verdict, all escaped', () => {
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<title>segpipe run &lt;r1&gt;: champion against challenger</title>');
    expect(html).toContain('<h1>segpipe run &lt;r1&gt;: champion against challenger</h1>');
    expect(html).toContain(
      '<p>Endpoint seg-endpoint; 3 validation images, every variant on the same ones; pixels labelled 255 ignored. Generated 2026-12-07T12:00:00.000Z.</p>',
    );
    expect(html).toContain('<div class="verdict kept"><strong>Not promoted</strong>: the challenger is worse by 0.325 &amp; more</div>');
    expect(html).not.toContain('<script');
  });

  test('the scores table: each variant with its name and trainer, scores as people read them, a class no image holds as n/a', () => {
    const table = html.match(/<table class="scores">[\s\S]*?<\/table>/)![0];
    expect(table).toContain(
      '<tr><th></th><th>champion<br><small>AllTraffic-1</small><br><small>trained by builtin</small></th><th>challenger<br><small>AllTraffic-2</small><br><small>trained by pytorch</small></th></tr>',
    );
    expect(table).toContain('<tr><th>mean IoU</th><td>0.825</td><td>0.500</td></tr>');
    expect(table).toContain('<tr><th>pixel accuracy</th><td>87.5 %</td><td>50.0 %</td></tr>');
    expect(table).toContain('<tr><th>IoU BACKGROUND</th><td>0.900</td><td>0.500</td></tr>');
    expect(table).toContain('<tr><th>IoU turtle</th><td>n/a</td><td>0.500</td></tr>');
    expect(table).toContain('<tr><th>IoU rock</th><td>0.750</td><td>0.000</td></tr>');
    expect(table).toContain('<tr><th>latency p50</th><td>12 ms</td><td>12 ms</td></tr>');
    expect(table).toContain('<tr><th>latency p95</th><td>41 ms</td><td>41 ms</td></tr>');
  });

  test('the class IoU chart: a bar per class and variant that has an IoU, named by role, on a 0 to 1 axis', () => {
    const chart = text(html, 'class-iou');
    expect(chart).toMatch(/^<svg /);
    for (const label of ['IoU', 'class', 'variant', 'BACKGROUND', 'turtle', 'rock', 'champion', 'challenger', '0.0', '1.0']) {
      expect(chart).toContain(`>${label}</text>`);
    }
    expect(chart).not.toContain('AllTraffic');
    // Classes in the dataset's order, variants in the evaluation's (not as their values come, nor alphabetical).
    const order = (labels: string[]) => labels.map((label) => chart.indexOf(`>${label}</text>`));
    expect(order(['BACKGROUND', 'turtle', 'rock'])).toEqual([...order(['BACKGROUND', 'turtle', 'rock'])].sort((a, b) => a - b));
    expect(order(['champion', 'challenger'])).toEqual([...order(['champion', 'challenger'])].sort((a, b) => a - b));
    // Five bars: the champion's turtle IoU is n/a and drawn as nothing.
    expect(chart.match(/aria-roledescription="bar"/g)).toHaveLength(5);
    // The classes' short names stand upright.
    expect(chart).not.toContain('rotate(325)');
  });

  test('the confusion matrix: each true class a row of shares, an "other index" column only where one was predicted', () => {
    const chart = text(html, 'confusion');
    for (const label of ['true class', 'predicted class', 'share', 'other index', '100%', '75%', '25%', '0%']) {
      expect(chart).toContain(`>${label}</text>`);
    }
    // 3 × 3 cells for each variant, and the challenger's one "other index" cell.
    expect(
      chart.match(/aria-roledescription="rect mark"|role="graphics-symbol" aria-roledescription="rect"/g)?.length ?? 0,
    ).toBeGreaterThan(0);
    // An empty row is shares of 0, not of 0/0.
    expect(chart).toContain('aria-label="predicted class: turtle; true class: turtle; share: 0"');
    // The champion's facet first, each in the dataset's class order.
    expect(chart.indexOf('>champion</text>')).toBeLessThan(chart.indexOf('>challenger</text>'));
    expect(chart.indexOf('>turtle</text>')).toBeLessThan(chart.indexOf('>rock</text>'));
    // Each facet 70 pixels a class wide, 50 high.
    expect(chart).toContain('d="M0.5,0.5h210v150h-210Z"');
    // A share over a half is written white on its dark cell, the others black.
    expect(chart).toMatch(/fill="white"[^>]*>100%</);
    expect(chart).toMatch(/fill="black"[^>]*>25%</);
  });

  test('the training curves: a line per metric by epoch', () => {
    const chart = text(html, 'training');
    expect(chart).toContain('<p>Training job seg-train-r1, per-epoch metrics from CloudWatch.</p><svg ');
    for (const label of ['epoch', 'value', 'metric', 'train:loss', 'validation:mIOU', '1', '2'])
      expect(chart).toContain(`>${label}</text>`);
    // A line of points per metric; whole epochs only on the axis.
    expect(chart.match(/aria-roledescription="line mark"/g)).toHaveLength(2);
    expect(chart.match(/aria-roledescription="point"/g)).toHaveLength(4);
    expect(chart).toContain('aria-label="X-axis titled \'epoch\' for a linear scale with values from 1 to 2"');
    expect(chart).not.toContain('>1.5</text>');
  });

  test('the gallery: the worst images first, each with its true mask and every prediction, in the report colours', async () => {
    const gallery = html.slice(html.indexOf('<div id="gallery">'));
    const rows = [...gallery.matchAll(/<h3>(worst|best): ([^<]+)<\/h3>/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows).toEqual(['worst img-b', 'worst img-c', 'worst img-a']);
    expect(gallery).toContain('<figcaption>champion: IoU 0.250</figcaption>');
    expect(gallery).toContain('alt="mask predicted by challenger (AllTraffic-2)"');
    expect(gallery).toContain('alt="true mask of img-b"><figcaption>true mask</figcaption>');
    expect(gallery).toContain('alt="image img-b"><figcaption>image</figcaption>');
    expect(gallery).toContain(`<i style="background:${hexColour(2)}"></i>rock</span>`);
    expect(gallery).toContain('<i style="background:#ffffff"></i>ignored (255)</span>');
    const urls = [...gallery.matchAll(/src="data:image\/(png|jpeg);base64,([^"]+)"/g)];
    // Per row: the image, the true mask and two predictions.
    expect(urls).toHaveLength(12);
    expect(urls.filter((u) => u[1] === 'jpeg')).toHaveLength(3);
    // img-b's true mask: background on the left, rock on the right, enlarged to 192 pixels wide, each pixel kept sharp.
    const truth = await sharp(Buffer.from(urls[1][2], 'base64')).raw().toBuffer({ resolveWithObject: true });
    expect(truth.info).toMatchObject({ width: 192, height: 96, channels: 3 });
    const pixel = (x: number) => [...truth.data.subarray(x * 3, x * 3 + 3)];
    expect(pixel(0)).toEqual([...maskColour(0)]);
    expect(pixel(95)).toEqual([...maskColour(0)]);
    expect(pixel(96)).toEqual([...maskColour(2)]);
    const thumbnail = await sharp(Buffer.from(urls[0][2], 'base64')).metadata();
    expect(thumbnail).toMatchObject({ format: 'jpeg', width: 192 });
  });

  test('a promoted first model, no training job, and long class names slanted and never cut short', async () => {
    // A class list longer than the scores (a class added since): the class without one reads n/a.
    const classes = ['BACKGROUND', 'a-very-long-class-name', 'extra'];
    const one: EvaluationResult = {
      ...result(),
      images: ['img-a'],
      chosen: 1,
      skipped: { unlabelled: [], unreadable: [], refused: [] },
      numClasses: 2,
      variants: [
        variant('model', undefined, {
          classIou: [0.9, 0.8],
          confusion: [
            [1, 0, 0],
            [0, 1, 0],
          ],
          perImage: [{ name: 'img-a', miou: 1 }],
        }),
      ],
      predictions: [PREDICTED],
    };
    const page = await evaluationReportHtml({
      title: 'first',
      endpoint: 'e',
      classes,
      result: one,
      source: images,
      verdict: { promote: true, reason: 'the first model' },
      generatedAt: 'now',
    });
    expect(page).toContain('; 1 validation image, every variant');
    expect(page).toContain('<div class="verdict promoted"><strong>Promoted</strong>: the first model</div>');
    expect(page).toContain('<div id="training"><p>No training job: this evaluation was run on an endpoint, not by a run.</p></div>');
    expect(page).toContain('<tr><th></th><th>model</th></tr>');
    expect(page).toContain('<tr><th>IoU extra</th><td>n/a</td></tr>');
    expect(page).toContain('>a-very-long-class-name</text>');
    // Slanted by 35 degrees; the chart at its least width, 240 by 220.
    expect(text(page, 'class-iou')).toContain('rotate(325)');
    expect(text(page, 'class-iou')).toContain('d="M0.5,0.5h240v220h-240Z"');
    expect(page).not.toContain('other index');
    // One image is both the worst and the best: it is shown once.
    expect([...page.matchAll(/<h3>/g)]).toHaveLength(1);
    expect(page).toContain('<figcaption>model: IoU 1.000</figcaption>');

    const noVerdict = await evaluationReportHtml({
      title: 't',
      endpoint: 'e',
      classes,
      result: one,
      source: images,
      generatedAt: 'now',
      training: { job: 'j<1>', curves: [] },
    });
    expect(noVerdict).not.toContain('class="verdict');
    expect(noVerdict).toContain('CloudWatch holds no per-epoch metrics for training job j&lt;1&gt; (');
  });
});

describe('the report parts', () => {
  test('escapeHtml escapes the five characters HTML gives meaning to, and only them', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a> ok`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt; ok');
  });

  test('a variant is called by its role, with its name when it has one', () => {
    expect(variantLabel({ role: 'champion', variant: 'AllTraffic-1' })).toBe('champion (AllTraffic-1)');
    expect(variantLabel({ role: 'model', variant: undefined })).toBe('model');
  });

  test('what was left out: refused by which variant, unreadable, unlabelled, each named and escaped, at most 20', () => {
    const r = result();
    expect(skippedImagesHtml(r)).toBe(
      '<p id="skipped">4 images chosen: refused 1 by challenger AllTraffic-2; 0 unreadable; 2 masks with no labelled pixel passed over. Left out: img-d (AllTraffic-2: ModelError).</p>',
    );
    const many: EvaluationResult = {
      ...r,
      chosen: 1,
      variants: [variant('model', undefined, { refused: 22 })],
      skipped: {
        unlabelled: ['u'],
        unreadable: [{ name: 'x<y>', reason: 'not a JPEG' }],
        refused: Array.from({ length: 22 }, (_, i) => ({ name: `r${i}`, variant: undefined, reason: 'too large' })),
      },
    };
    const html = skippedImagesHtml(many);
    expect(html).toMatch(
      /^<p id="skipped">1 image chosen: refused 22 by model; 1 unreadable; 1 mask with no labelled pixel passed over\. Left out: r0 \(endpoint: too large\); /,
    );
    expect(html).toContain('r19 (endpoint: too large); and 3 more.</p>');
    expect(html).not.toContain('r20 (');
    // Twenty are all named, with nothing more to say.
    const twenty = skippedImagesHtml({ ...many, skipped: { ...many.skipped, unreadable: [], refused: many.skipped.refused.slice(0, 20) } });
    expect(twenty).toContain('r19 (endpoint: too large).</p>');
    expect(
      skippedImagesHtml({ ...r, variants: [], skipped: { unlabelled: [], unreadable: [{ name: 'x<y>', reason: 'bad' }], refused: [] } }),
    ).toContain('none refused; 1 unreadable; 0 masks with no labelled pixel passed over. Left out: x&lt;y&gt; (bad).</p>');
  });

  test('metrics.json: every variant score, unlabelled masks counted, the ignored label named', () => {
    const r = result();
    const doc = metricsDocument({
      endpoint: 'e',
      classes: CLASSES,
      result: r,
      verdict: { promote: true, reason: 'r' },
      generatedAt: 'g',
    }) as Record<string, unknown>;
    expect(doc).toEqual({
      endpoint: 'e',
      generatedAt: 'g',
      classes: CLASSES,
      images: r.images,
      chosen: 4,
      skipped: { unlabelled: 2, unreadable: [], refused: r.skipped.refused },
      ignoredLabel: 255,
      verdict: { promote: true, reason: 'r' },
      variants: r.variants.map(
        ({ variant, role, trainer, miou, pixelAccuracy, classIou, pixels, confusion, latencyMs, perImage, refused }) => ({
          variant,
          role,
          trainer,
          miou,
          pixelAccuracy,
          classIou,
          pixels,
          confusion,
          latencyMs,
          perImage,
          refused,
        }),
      ),
    });
    const bare = metricsDocument({
      endpoint: 'e',
      classes: CLASSES,
      result: { ...r, variants: [variant('model', undefined, {})] },
      generatedAt: 'g',
    }) as {
      variants: Record<string, unknown>[];
    };
    expect(bare.variants[0].variant).toBeNull();
    expect(bare.variants[0]).not.toHaveProperty('trainer');
  });
});
