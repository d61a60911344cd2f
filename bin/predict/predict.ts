import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import sharp from 'sharp';
import { predictMask } from '../../lambda/common/endpoint-mask';
import { encodeClassIndexPng } from '../../lambda/convert/codecs/mask';
import { maskColour } from '../../lambda/evaluation/palette';

const IGNORE_LABEL = 255;

/** Share of the pixels of each class index (the ignore label left out). */
export function classFractions(mask: Uint8Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  let total = 0;
  for (const index of mask) {
    if (index === IGNORE_LABEL) continue;
    if (index >= counts.length) counts.length = index + 1;
    counts[index] = (counts[index] ?? 0) + 1;
    total += 1;
  }
  return Array.from(counts, (c) => (total ? (c ?? 0) / total : 0));
}

/** The image with each class's pixels tinted in its colour (half opaque); background and ignored pixels left as they are. */
export function tintWithMask(rgb: Uint8Array, mask: Uint8Array): Buffer {
  const out = Buffer.from(rgb);
  for (let p = 0; p < mask.length; p++) {
    const index = mask[p];
    if (index === 0 || index === IGNORE_LABEL) continue;
    // The evaluation report's colour of the class.
    const colour = maskColour(index);
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(out[p * 3 + c] * 0.45 + colour[c] * 0.55);
  }
  return out;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A legend strip: a swatch and the name of each class, with its pixel share when given. */
export function legendSvg(classNames: readonly string[], width: number, fractions?: readonly number[]): { svg: Buffer; height: number } {
  // Readable at any image size: the legend grows with the image past 640 pixels.
  const scale = Math.max(1, width / 640);
  const rowHeight = Math.round(22 * scale);
  const entries = classNames.map((name, i) => `${name}${fractions ? ` ${((fractions[i] ?? 0) * 100).toFixed(1)}%` : ''}`);
  const columnWidth = Math.round(Math.max(120, ...entries.map((e) => e.length * 8 + 30)) * scale);
  const perRow = Math.max(1, Math.floor(width / columnWidth));
  const height = Math.ceil(entries.length / perRow) * rowHeight + Math.round(6 * scale);
  const items = entries.map((entry, i) => {
    const x = (i % perRow) * columnWidth + Math.round(6 * scale);
    const y = Math.floor(i / perRow) * rowHeight + Math.round(4 * scale);
    const fill = i === 0 ? 'none' : `rgb(${maskColour(i).join(',')})`;
    const swatch = Math.round(14 * scale);
    return (
      `<rect x="${x}" y="${y + Math.round(2 * scale)}" width="${swatch}" height="${swatch}" fill="${fill}" stroke="#333"/>` +
      `<text x="${x + Math.round(20 * scale)}" y="${y + swatch}" font-family="DejaVu Sans, sans-serif" font-size="${Math.round(13 * scale)}" fill="#111">${escapeXml(entry)}</text>`
    );
  });
  return {
    svg: Buffer.from(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/>${items.join('')}</svg>`,
    ),
    height,
  };
}

/** The tinted image above its legend, as PNG. */
export async function overlayPng(
  rgb: Uint8Array,
  width: number,
  height: number,
  mask: Uint8Array,
  classNames: readonly string[],
): Promise<Buffer> {
  const canvasWidth = Math.max(width, 260);
  const legend = legendSvg(classNames, canvasWidth, classFractions(mask, classNames.length));
  return sharp({ create: { width: canvasWidth, height: height + legend.height, channels: 3, background: '#ffffff' } })
    .composite([
      { input: tintWithMask(rgb, mask), raw: { width, height, channels: 3 }, left: 0, top: 0 },
      { input: legend.svg, left: 0, top: height },
    ])
    .png()
    .toBuffer();
}

/** Class names by index: the background, the given names, then `class <n>` for any index beyond them. */
export function classNamesFor(mask: Uint8Array, names: readonly string[]): string[] {
  let highest = names.length;
  for (const index of mask) if (index !== IGNORE_LABEL && index > highest) highest = index;
  return Array.from({ length: highest + 1 }, (_, i) => (i === 0 ? 'background' : (names[i - 1] ?? `class ${i}`)));
}

export interface Prediction {
  readonly width: number;
  readonly height: number;
  /** Whether the image was scaled down to fit the request limit. */
  readonly scaled: boolean;
  readonly mask: Uint8Array;
  /** Single-channel PNG of class indices, at the image's size. */
  readonly maskPng: Buffer;
  readonly overlayPng: Buffer;
  readonly classNames: string[];
  readonly fractions: number[];
}

/**
 * Asks a semantic-segmentation endpoint for an image's mask (`image/jpeg` in, `image/png` out, as the
 * built-in algorithm answers) and draws it over the image.
 */
export async function predictSegmentation(
  client: SageMakerRuntimeClient,
  endpointName: string,
  image: Buffer,
  classNames: readonly string[],
): Promise<Prediction> {
  const { request, mask } = await predictMask(client, endpointName, image);
  const names = classNamesFor(mask, classNames);
  return {
    width: request.width,
    height: request.height,
    scaled: request.sentWidth !== request.width || request.sentHeight !== request.height,
    mask,
    maskPng: await encodeClassIndexPng(Buffer.from(mask), request.width, request.height),
    overlayPng: await overlayPng(request.rgb, request.width, request.height, mask, names),
    classNames: names,
    fractions: classFractions(mask, names.length),
  };
}
