import sharp from 'sharp';
import { ZipFile } from 'yazl';
import { LABEL_MAP_FILE } from '../../lambda/convert/readers/label-map';
import { VOC_PALETTE } from '../../lambda/convert/readers/voc';
import { classesInMask, IGNORE_INDEX } from '../../lambda/labelstudio/brush-rle';

/** One image's predicted mask, named as CVAT names the image: its path without the extension. */
export interface CvatMaskItem {
  readonly name: string;
  readonly mask: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Why class names cannot go into a `labelmap.txt` (`name:r,g,b:parts:actions` lines), one reason each; empty when they can. */
export function labelMapProblems(classes: readonly string[]): string[] {
  return classes.flatMap((name) =>
    /[:\r\n#]/.test(name) || name.trim() !== name || name === ''
      ? [`class ${JSON.stringify(name)} cannot be a CVAT label-map name (no ":", "#", line breaks or surrounding spaces)`]
      : [],
  );
}

/**
 * CVAT's `labelmap.txt`: the background black, class i in the colour Pascal VOC's colour map gives i
 * (what CVAT itself generates; unique for the 254 classes the algorithm can have).
 */
export function cvatLabelMap(classes: readonly string[]): string {
  const line = (name: string, rgb: number) => `${name}:${rgb >> 16},${(rgb >> 8) & 255},${rgb & 255}::`;
  return (
    ['# label:color_rgb:parts:actions', line('background', 0), ...classes.map((name, i) => line(name, VOC_PALETTE[i + 1]))].join('\n') +
    '\n'
  );
}

function rgbPng(colourOf: (p: number) => number, width: number, height: number): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const c = colourOf(p);
    rgb[p * 3] = c >> 16;
    rgb[p * 3 + 1] = (c >> 8) & 255;
    rgb[p * 3 + 2] = c & 255;
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/**
 * A CVAT "Segmentation mask 1.1" annotations zip, as CVAT exports it and its *Upload annotations*
 * takes: `labelmap.txt`, `ImageSets/Segmentation/default.txt` (the image names), `SegmentationClass/`
 * (each pixel in its class's label-map colour) and `SegmentationObject/` (one instance per class, in
 * VOC's colours of instance numbers 1, 2, ...). Pixels of the ignore label are left as background: a
 * colour the label map does not declare is refused by CVAT's import.
 */
export class CvatSegmentationZip {
  private readonly zip = new ZipFile();
  private readonly names: string[] = [];
  readonly output: NodeJS.ReadableStream = this.zip.outputStream;

  constructor(private readonly classes: readonly string[]) {
    const problems = labelMapProblems(classes);
    if (problems.length > 0) throw new Error(problems.join('; '));
    this.zip.addBuffer(Buffer.from(cvatLabelMap(classes)), LABEL_MAP_FILE);
  }

  async add(item: CvatMaskItem): Promise<void> {
    const { mask, width, height } = item;
    if (mask.length !== width * height) throw new Error(`the mask of ${item.name} holds ${mask.length} pixels, not ${width}×${height}`);
    const known = (index: number) => index !== IGNORE_INDEX && index <= this.classes.length;
    const instanceOf = new Uint8Array(256);
    classesInMask(mask)
      .filter(known)
      .forEach((index, i) => {
        instanceOf[index] = i + 1;
      });
    this.zip.addBuffer(
      await rgbPng((p) => (known(mask[p]) ? VOC_PALETTE[mask[p]] : 0), width, height),
      `SegmentationClass/${item.name}.png`,
    );
    this.zip.addBuffer(
      await rgbPng((p) => (known(mask[p]) && mask[p] !== 0 ? VOC_PALETTE[instanceOf[mask[p]]] : 0), width, height),
      `SegmentationObject/${item.name}.png`,
    );
    this.names.push(item.name);
  }

  /** Writes the image list and ends the zip (the output stream then ends). */
  end(): void {
    this.zip.addBuffer(Buffer.from(this.names.map((n) => `${n}\n`).join('')), 'ImageSets/Segmentation/default.txt');
    this.zip.end();
  }
}
