import { brushRle, classesInMask } from './brush-rle';
import { LABEL_STUDIO_NAMES } from './labeling-config';

/** What a task says about where it comes from: Label Studio shows it and keeps it in every export. */
export interface TaskMeta {
  readonly batch?: string;
  readonly generation?: string;
  readonly run?: string;
}

/** One brush result of a prediction or an annotation (Label Studio's JSON). */
export interface BrushResult {
  readonly id: string;
  readonly from_name: string;
  readonly to_name: string;
  readonly type: 'brushlabels';
  readonly original_width: number;
  readonly original_height: number;
  readonly image_rotation: 0;
  readonly value: { readonly format: 'rle'; readonly rle: number[]; readonly brushlabels: [string] };
}

export interface TaskPrediction {
  readonly model_version: string;
  readonly score?: number;
  readonly result: BrushResult[];
}

export interface LabelStudioTask {
  readonly data: { readonly image: string };
  readonly meta?: TaskMeta;
  readonly predictions?: TaskPrediction[];
}

export interface MaskPredictionInput {
  /** Class indices, row by row, `width × height`. */
  readonly mask: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Names of indices 1, 2, ... (the configured classes, the labeling configuration's labels). */
  readonly classes: readonly string[];
  /** The serving model's name: Label Studio shows the predictions of the model version the project selects. */
  readonly modelVersion: string;
  /** The prediction's confidence, when the model gives one. @default - none */
  readonly score?: number;
}

export interface MaskPrediction {
  readonly prediction: TaskPrediction;
  /** Indices the mask holds that have no configured name: not sent (Label Studio renders nothing for an unknown label). */
  readonly unnamedIndices: readonly number[];
}

/** A model's class-index mask as a Label Studio prediction: one brush region per class the mask holds. */
export function maskPrediction(input: MaskPredictionInput): MaskPrediction {
  const { mask, width, height, classes } = input;
  if (mask.length !== width * height) throw new Error(`the mask holds ${mask.length} pixels, not ${width}×${height}`);
  const rgba = new Uint8Array(mask.length * 4);
  const result: BrushResult[] = [];
  const unnamedIndices: number[] = [];
  for (const index of classesInMask(mask)) {
    const name = classes[index - 1];
    if (name === undefined) {
      unnamedIndices.push(index);
      continue;
    }
    result.push({
      id: `segpipe-${index}`,
      from_name: LABEL_STUDIO_NAMES.brush,
      to_name: LABEL_STUDIO_NAMES.image,
      type: 'brushlabels',
      original_width: width,
      original_height: height,
      image_rotation: 0,
      value: { format: 'rle', rle: brushRle(mask, index, rgba), brushlabels: [name] },
    });
  }
  const prediction: TaskPrediction = {
    model_version: input.modelVersion,
    ...(input.score === undefined ? {} : { score: input.score }),
    result,
  };
  return { prediction, unnamedIndices };
}

/** A Label Studio task (the "tasks" import method) for one image, with its pre-labels when there are any. */
export function labelStudioTask(image: string, meta?: TaskMeta, prediction?: TaskPrediction): LabelStudioTask {
  return {
    data: { [LABEL_STUDIO_NAMES.image]: image } as { image: string },
    ...(meta && Object.keys(meta).length > 0 ? { meta } : {}),
    ...(prediction ? { predictions: [prediction] } : {}),
  };
}
