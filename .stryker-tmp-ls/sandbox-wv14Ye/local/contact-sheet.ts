import sharp, { type OverlayOptions } from 'sharp';
import { legendSvg, tintWithMask } from '../bin/predict/predict';

export interface ContactSheetRow {
  readonly name: string;
  readonly rgb: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly truth: Uint8Array;
  /** Absent when there is no endpoint to ask. */
  readonly predicted?: Uint8Array;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function labelSvg(text: string, width: number, height: number, size = 13): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><text x="4" y="${height - 6}" font-family="DejaVu Sans, sans-serif" font-size="${size}" fill="#111">${escapeXml(text)}</text></svg>`,
  );
}

/**
 * A contact sheet of validation images: each row the image, the true mask over it and the predicted
 * mask over it, with a legend of the classes; `title` goes on top.
 */
export async function contactSheetPng(rows: readonly ContactSheetRow[], classNames: readonly string[], title: string): Promise<Buffer> {
  if (rows.length === 0) throw new Error('no validation images to draw');
  const cellWidth = Math.max(...rows.map((r) => r.width));
  const cellHeight = Math.max(...rows.map((r) => r.height));
  const gap = 6;
  const titleHeight = 26;
  const headerHeight = 22;
  const rowLabel = 16;
  const width = 3 * cellWidth + 4 * gap;
  const legend = legendSvg(classNames, width);
  const top = titleHeight + headerHeight;
  const height = top + rows.length * (cellHeight + rowLabel + gap) + legend.height;
  const layers: OverlayOptions[] = [
    { input: labelSvg(title, width, titleHeight, 15), left: 0, top: 0 },
    ...['image', 'true mask', 'predicted mask'].map((text, c) => ({
      input: labelSvg(text, cellWidth, headerHeight),
      left: gap + c * (cellWidth + gap),
      top: titleHeight,
    })),
  ];
  rows.forEach((row, r) => {
    const y = top + r * (cellHeight + rowLabel + gap);
    const raw = { width: row.width, height: row.height, channels: 3 as const };
    layers.push({ input: labelSvg(row.name, width, rowLabel, 11), left: gap, top: y });
    layers.push({ input: Buffer.from(row.rgb), raw, left: gap, top: y + rowLabel });
    layers.push({ input: tintWithMask(row.rgb, row.truth), raw, left: 2 * gap + cellWidth, top: y + rowLabel });
    layers.push(
      row.predicted
        ? { input: tintWithMask(row.rgb, row.predicted), raw, left: 3 * gap + 2 * cellWidth, top: y + rowLabel }
        : { input: labelSvg('not deployed: no prediction', cellWidth, cellHeight / 2), left: 3 * gap + 2 * cellWidth, top: y + rowLabel },
    );
  });
  layers.push({ input: legend.svg, left: 0, top: height - legend.height });
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite(layers)
    .png()
    .toBuffer();
}
