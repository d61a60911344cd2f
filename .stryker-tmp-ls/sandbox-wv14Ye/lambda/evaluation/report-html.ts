// @ts-nocheck
import sharp from 'sharp';
import type { TopLevelSpec } from 'vega-lite';
import { type EvaluationImages, type EvaluationResult, maskIndices, type VariantEvaluation } from './evaluate';
import { IGNORE_LABEL } from './metrics';
import { hexColour, maskColour } from './palette';
import type { TrainingCurvePoint } from './training-curves';
import type { Verdict } from './verdict';

// vega and vega-lite 5 ship CommonJS builds (6 is ESM with top-level await, which neither Jest nor
// the Lambda bundle can require); loaded when a report is drawn, not when a handler starts.
/* eslint-disable @typescript-eslint/no-require-imports */
const loadVega = () => ({ vega: require('vega') as typeof import('vega'), vegaLite: require('vega-lite') as typeof import('vega-lite') });

/** Images of the gallery at each end: the worst and the best by the last variant's per-image IoU. */
export const GALLERY_EACH_END = 3;
/** Width of the gallery's pictures, in pixels: small images are enlarged, so a mask's shapes can be seen. */
const THUMBNAIL_WIDTH = 192;

export interface EvaluationReportInput {
  /** What was evaluated, as the page's heading says it. */
  readonly title: string;
  readonly endpoint: string;
  /** Class names by index, the background first. */
  readonly classes: readonly string[];
  readonly result: EvaluationResult;
  /** Where the gallery's images and true masks are read from. */
  readonly source: EvaluationImages;
  /** The promotion decision, when one was taken. */
  readonly verdict?: Verdict;
  /** The training job's per-epoch metrics; undefined when there is no training job to look at. */
  readonly training?: { readonly job: string; readonly curves: readonly TrainingCurvePoint[] };
  readonly generatedAt: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** What a variant is called in the report's text. */
export function variantLabel(v: Pick<VariantEvaluation, 'role' | 'variant'>): string {
  return v.variant ? `${v.role} (${v.variant})` : v.role;
}

/** What a variant is called in charts and captions, where a variant's long name would not fit: its role, unique in an evaluation. */
const roleOf = (v: Pick<VariantEvaluation, 'role'>) => v.role;

/** A Vega-Lite chart as an SVG element, drawn in this process (no browser). */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, vegaLite } = loadVega();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const percent = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)} %`);

function classIouChart(input: EvaluationReportInput): TopLevelSpec {
  const values = input.result.variants
    .flatMap((v) => v.classIou.map((iou, c) => ({ class: input.classes[c] ?? `class ${c}`, variant: roleOf(v), iou })))
    .filter((row) => row.iou !== null);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: Math.max(240, 70 * input.classes.length),
    height: 220,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'class', type: 'nominal', sort: [...input.classes], title: 'class', axis: classAxis(input.classes, 70) },
      xOffset: { field: 'variant', sort: input.result.variants.map(roleOf) },
      y: { field: 'iou', type: 'quantitative', scale: { domain: [0, 1] }, title: 'IoU' },
      color: { field: 'variant', type: 'nominal', title: 'variant', sort: input.result.variants.map(roleOf) },
    },
  };
}

/**
 * A class axis whose names are never cut short (vega-lite ends a label past its limit with `…`, and
 * `BACKGROUND` became `BACKGRO…`): upright while the names fit a column, slanted when one is longer.
 */
function classAxis(classes: readonly string[], columnWidth: number): { labelAngle: number; labelLimit: number } {
  const longest = Math.max(...classes.map((c) => c.length));
  return { labelAngle: longest * 7 > columnWidth ? -35 : 0, labelLimit: 0 };
}

function confusionChart(input: EvaluationReportInput): TopLevelSpec {
  const name = (c: number) => (c < input.classes.length ? input.classes[c] : `class ${c}`);
  const values = input.result.variants.flatMap((v) =>
    v.confusion.flatMap((row, t) => {
      const total = row.reduce((a, b) => a + b, 0);
      return row
        .map((count, p) => ({
          variant: roleOf(v),
          truth: name(t),
          predicted: p === input.result.numClasses ? 'other index' : name(p),
          share: total === 0 ? 0 : count / total,
        }))
        .filter((cell) => cell.predicted !== 'other index' || cell.share > 0);
    }),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    facet: { column: { field: 'variant', type: 'nominal', title: null, sort: input.result.variants.map(roleOf) } },
    spec: {
      width: 70 * input.classes.length,
      height: 50 * input.classes.length,
      encoding: {
        x: { field: 'predicted', type: 'nominal', sort: [...input.classes], title: 'predicted class', axis: classAxis(input.classes, 70) },
        y: { field: 'truth', type: 'nominal', sort: [...input.classes], title: 'true class', axis: { labelLimit: 0 } },
      },
      layer: [
        {
          mark: 'rect',
          encoding: { color: { field: 'share', type: 'quantitative', scale: { domain: [0, 1], scheme: 'blues' }, title: 'share' } },
        },
        {
          mark: { type: 'text', fontSize: 11 },
          encoding: {
            text: { field: 'share', type: 'quantitative', format: '.0%' },
            color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
          },
        },
      ],
    },
  };
}

function trainingChart(curves: readonly TrainingCurvePoint[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 480,
    height: 220,
    data: { values: curves.map((p) => ({ ...p })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: 'value' },
      color: { field: 'metric', type: 'nominal', title: 'metric' },
    },
  };
}

/** A mask drawn in the report's colours, as a PNG data URL no wider than the thumbnails. */
async function maskDataUrl(mask: { data: Uint8Array; width: number; height: number }): Promise<string> {
  const rgb = Buffer.alloc(mask.data.length * 3);
  mask.data.forEach((index, i) => {
    rgb.set(maskColour(index), i * 3);
  });
  const png = await sharp(rgb, { raw: { width: mask.width, height: mask.height, channels: 3 } })
    .resize({ width: THUMBNAIL_WIDTH, kernel: 'nearest' })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

async function imageDataUrl(jpeg: Buffer): Promise<string> {
  const thumbnail = await sharp(jpeg).resize({ width: THUMBNAIL_WIDTH }).jpeg({ quality: 85 }).toBuffer();
  return `data:image/jpeg;base64,${thumbnail.toString('base64')}`;
}

/** The worst and the best images by the last variant's IoU, worst first; each once. */
export function galleryImages(result: EvaluationResult, eachEnd = GALLERY_EACH_END): { name: string; end: 'worst' | 'best' }[] {
  const ranked = [...result.variants[result.variants.length - 1].perImage].sort((a, b) => a.miou - b.miou || a.name.localeCompare(b.name));
  const worst = ranked.slice(0, eachEnd);
  const best = ranked.slice(Math.max(eachEnd, ranked.length - eachEnd)).reverse();
  return [...worst.map((i) => ({ name: i.name, end: 'worst' as const })), ...best.map((i) => ({ name: i.name, end: 'best' as const }))];
}

async function gallery(input: EvaluationReportInput): Promise<string> {
  const { result } = input;
  const rows: string[] = [];
  for (const { name, end } of galleryImages(result)) {
    const jpeg = await input.source.image(name);
    const truth = await maskIndices(await input.source.mask(name));
    const cells = [
      `<figure><img src="${await imageDataUrl(jpeg)}" alt="image ${escapeHtml(name)}"><figcaption>image</figcaption></figure>`,
      `<figure><img src="${await maskDataUrl(truth)}" alt="true mask of ${escapeHtml(name)}"><figcaption>true mask</figcaption></figure>`,
    ];
    for (const [index, v] of result.variants.entries()) {
      const predicted = await maskIndices(result.predictions[index].get(name)!, truth.width, truth.height);
      const iou = v.perImage.find((p) => p.name === name)!.miou;
      cells.push(
        `<figure><img src="${await maskDataUrl(predicted)}" alt="mask predicted by ${escapeHtml(variantLabel(v))}"><figcaption>${roleOf(v)}: IoU ${iou.toFixed(3)}</figcaption></figure>`,
      );
    }
    rows.push(`<div class="gallery-row"><h3>${end}: ${escapeHtml(name)}</h3><div class="cells">${cells.join('')}</div></div>`);
  }
  const legend = input.classes
    .map((c, i) => `<span class="swatch"><i style="background:${hexColour(i)}"></i>${escapeHtml(c)}</span>`)
    .concat(`<span class="swatch"><i style="background:${hexColour(IGNORE_LABEL)}"></i>ignored (255)</span>`);
  return `<p class="legend">${legend.join(' ')}</p>${rows.join('\n')}`;
}

function scoresTable(input: EvaluationReportInput): string {
  const { variants } = input.result;
  const header = `<tr><th></th>${variants.map((v) => `<th>${roleOf(v)}${v.variant ? `<br><small>${escapeHtml(v.variant)}</small>` : ''}${v.trainer ? `<br><small>trained by ${escapeHtml(v.trainer)}</small>` : ''}</th>`).join('')}</tr>`;
  const row = (label: string, cell: (v: VariantEvaluation) => string) =>
    `<tr><th>${label}</th>${variants.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`;
  return `<table class="scores">${header}
${row('mean IoU', (v) => v.miou.toFixed(3))}
${row('pixel accuracy', (v) => percent(v.pixelAccuracy))}
${input.classes.map((c, i) => row(`IoU ${escapeHtml(c)}`, (v) => (v.classIou[i] === null || v.classIou[i] === undefined ? 'n/a' : v.classIou[i]!.toFixed(3)))).join('\n')}
${row('latency p50', (v) => `${v.latencyMs.p50.toFixed(0)} ms`)}
${row('latency p95', (v) => `${v.latencyMs.p95.toFixed(0)} ms`)}
</table>`;
}

/** `report.html`: one self-contained page (inline SVG charts, images as data URLs, no script, nothing fetched). */
export async function evaluationReportHtml(input: EvaluationReportInput): Promise<string> {
  const { result, verdict, training } = input;
  const trainingSection = !training
    ? '<p>No training job: this evaluation was run on an endpoint, not by a run.</p>'
    : training.curves.length === 0
      ? `<p class="none">CloudWatch holds no per-epoch metrics for training job ${escapeHtml(training.job)} (the account publishes none for it, they are older than CloudWatch keeps one-minute data, or this is a local run): no training curves.</p>`
      : `<p>Training job ${escapeHtml(training.job)}, per-epoch metrics from CloudWatch.</p>${await chartSvg(trainingChart(training.curves))}`;
  const verdictBlock = verdict
    ? `<div class="verdict ${verdict.promote ? 'promoted' : 'kept'}"><strong>${verdict.promote ? 'Promoted' : 'Not promoted'}</strong>: ${escapeHtml(verdict.reason)}</div>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
.verdict { padding: 0.8em 1em; border-radius: 6px; margin: 1em 0; }
.verdict.promoted { background: #e6f4ea; border: 1px solid #5a9; }
.verdict.kept { background: #fdecea; border: 1px solid #d66; }
table.scores { border-collapse: collapse; }
table.scores th, table.scores td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }
.gallery-row .cells { display: flex; flex-wrap: wrap; gap: 0.6em; }
figure { margin: 0; width: 192px; } figcaption { font-size: 0.85em; color: #555; }
figure.chart { width: auto; }
img { image-rendering: pixelated; border: 1px solid #ddd; }
.swatch { margin-right: 1em; white-space: nowrap; } .swatch i { display: inline-block; width: 1em; height: 1em; margin-right: 0.3em; vertical-align: middle; border: 1px solid #999; }
.none { color: #555; font-style: italic; }
</style>
</head>
<body>
<h1>${escapeHtml(input.title)}</h1>
<p>Endpoint ${escapeHtml(input.endpoint)}; ${result.images.length} validation image${result.images.length === 1 ? '' : 's'}, every variant on the same ones; pixels labelled 255 ignored. Generated ${escapeHtml(input.generatedAt)}.</p>
${skippedImagesHtml(result)}
${verdictBlock}
<h2>Scores</h2>
${scoresTable(input)}
<h2>IoU per class</h2>
<figure class="chart" id="class-iou">${await chartSvg(classIouChart(input))}</figure>
<h2>Confusion matrix</h2>
<p>Each row is a true class; each cell the share of its pixels predicted as the column's class.</p>
<figure class="chart" id="confusion">${await chartSvg(confusionChart(input))}</figure>
<h2>Training curves</h2>
<div id="training">${trainingSection}</div>
<h2>Worst and best images</h2>
<div id="gallery">${await gallery(input)}</div>
</body>
</html>
`;
}

/** What was left out of the scores and why: refused and unreadable images by name, masks with no labelled pixel counted. */
export function skippedImagesHtml(result: EvaluationResult): string {
  const { refused, unreadable, unlabelled } = result.skipped;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const refusedBy = result.variants
    .filter((v) => v.refused > 0)
    .map((v) => `${v.refused} by ${v.role}${v.variant ? ` ${escapeHtml(v.variant)}` : ''}`);
  const named = [
    ...refused.map((r) => `${r.name} (${r.variant ?? 'endpoint'}: ${r.reason})`),
    ...unreadable.map((u) => `${u.name} (${u.reason})`),
  ];
  return (
    `<p id="skipped">${plural(result.chosen, 'image')} chosen: ${refused.length === 0 ? 'none refused' : `refused ${refusedBy.join(', ')}`}; ${unreadable.length} unreadable; ` +
    `${plural(unlabelled.length, 'mask')} with no labelled pixel passed over.${named.length ? ` Left out: ${escapeHtml(named.slice(0, 20).join('; '))}${named.length > 20 ? `; and ${named.length - 20} more` : ''}.` : ''}</p>`
  );
}

/** `metrics.json`: the scores behind the report, per variant. */
export function metricsDocument(
  input: Pick<EvaluationReportInput, 'endpoint' | 'classes' | 'result' | 'verdict' | 'generatedAt'>,
): unknown {
  return {
    endpoint: input.endpoint,
    generatedAt: input.generatedAt,
    classes: input.classes,
    images: input.result.images,
    chosen: input.result.chosen,
    skipped: { ...input.result.skipped, unlabelled: input.result.skipped.unlabelled.length },
    ignoredLabel: IGNORE_LABEL,
    verdict: input.verdict,
    variants: input.result.variants.map((v) => ({
      variant: v.variant ?? null,
      role: v.role,
      ...(v.trainer ? { trainer: v.trainer } : {}),
      miou: v.miou,
      pixelAccuracy: v.pixelAccuracy,
      classIou: v.classIou,
      pixels: v.pixels,
      confusion: v.confusion,
      latencyMs: v.latencyMs,
      perImage: v.perImage,
      refused: v.refused,
    })),
  };
}
