import { encodePalettePng } from './png';

/**
 * What SageMaker Ground Truth writes for a semantic-segmentation job: colour masks painted with the
 * `internal-color-map` colours on a white background, and `output.manifest` lines. Used by the local
 * run's simulated workforce, the benchmark and the tests.
 */

export const GROUND_TRUTH_BACKGROUND_RGB = 0xffffff;
/** Colours Ground Truth has been seen to give classes (the tab10 set), in order. */
export const GROUND_TRUTH_CLASS_COLOURS = [
  0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
];

export function hexColour(rgb: number): string {
  return `#${rgb.toString(16).padStart(6, '0')}`;
}

export interface LabelingClass {
  readonly name: string;
  readonly rgb: number;
}

/** The classes of a job: the background first, then each label with its colour. */
export function labelingClasses(labels: readonly string[], colours: readonly number[] = GROUND_TRUTH_CLASS_COLOURS): LabelingClass[] {
  return [
    { name: 'BACKGROUND', rgb: GROUND_TRUTH_BACKGROUND_RGB },
    ...labels.map((name, i) => ({ name, rgb: colours[i % colours.length] })),
  ];
}

/**
 * The consolidated mask of one image as an indexed PNG whose palette holds each class's colour.
 * `paletteOrder` permutes the palette slots, as Ground Truth's 2020 bug did: decoding by index then
 * gives wrong classes, decoding by colour stays right.
 */
export function groundTruthMaskPng(
  classIndices: Uint8Array,
  width: number,
  height: number,
  classes: readonly LabelingClass[],
  paletteOrder?: readonly number[],
): Buffer {
  const order = paletteOrder ?? classes.map((_, i) => i);
  const slotOfClass = new Uint8Array(256);
  order.forEach((cls, slot) => {
    slotOfClass[cls] = slot;
  });
  const slots = new Uint8Array(classIndices.length);
  for (let i = 0; i < classIndices.length; i++) slots[i] = slotOfClass[classIndices[i]];
  return encodePalettePng(
    slots,
    width,
    height,
    order.map((cls) => classes[cls].rgb),
  );
}

/** One `output.manifest` line of a labeled image. */
export function groundTruthManifestLine(options: {
  readonly source: string;
  readonly mask: string;
  readonly attribute: string;
  readonly jobName: string;
  readonly classes: readonly LabelingClass[];
  readonly creationDate?: string;
}): Record<string, unknown> {
  const colourMap = Object.fromEntries(
    options.classes.map((c, i) => [String(i), { 'class-name': c.name, confidence: 0, 'hex-color': hexColour(c.rgb) }]),
  );
  return {
    'source-ref': options.source,
    [options.attribute]: options.mask,
    [`${options.attribute}-metadata`]: {
      'internal-color-map': colourMap,
      type: 'groundtruth/semantic-segmentation',
      'human-annotated': 'yes',
      'creation-date': options.creationDate ?? '2026-11-01T12:00:00.000000',
      'job-name': `labeling-job/${options.jobName}`,
    },
  };
}

/** The line Ground Truth writes for an image no worker labeled. */
export function groundTruthFailedLine(options: {
  readonly source: string;
  readonly attribute: string;
  readonly jobName: string;
  readonly reason: string;
}): Record<string, unknown> {
  return {
    'source-ref': options.source,
    [`${options.attribute}-metadata`]: {
      'failure-reason': options.reason,
      type: 'groundtruth/semantic-segmentation',
      'job-name': `labeling-job/${options.jobName}`,
    },
  };
}
