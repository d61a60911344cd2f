// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
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
  readonly value: {
    readonly format: 'rle';
    readonly rle: number[];
    readonly brushlabels: [string];
  };
}
export interface TaskPrediction {
  readonly model_version: string;
  readonly score?: number;
  readonly result: BrushResult[];
}
export interface LabelStudioTask {
  readonly data: {
    readonly image: string;
  };
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
  if (stryMutAct_9fa48("278")) {
    {}
  } else {
    stryCov_9fa48("278");
    const {
      mask,
      width,
      height,
      classes
    } = input;
    if (stryMutAct_9fa48("281") ? mask.length === width * height : stryMutAct_9fa48("280") ? false : stryMutAct_9fa48("279") ? true : (stryCov_9fa48("279", "280", "281"), mask.length !== (stryMutAct_9fa48("282") ? width / height : (stryCov_9fa48("282"), width * height)))) throw new Error(stryMutAct_9fa48("283") ? `` : (stryCov_9fa48("283"), `the mask holds ${mask.length} pixels, not ${width}×${height}`));
    const rgba = new Uint8Array(stryMutAct_9fa48("284") ? mask.length / 4 : (stryCov_9fa48("284"), mask.length * 4));
    const result: BrushResult[] = stryMutAct_9fa48("285") ? ["Stryker was here"] : (stryCov_9fa48("285"), []);
    const unnamedIndices: number[] = stryMutAct_9fa48("286") ? ["Stryker was here"] : (stryCov_9fa48("286"), []);
    for (const index of classesInMask(mask)) {
      if (stryMutAct_9fa48("287")) {
        {}
      } else {
        stryCov_9fa48("287");
        const name = classes[stryMutAct_9fa48("288") ? index + 1 : (stryCov_9fa48("288"), index - 1)];
        if (stryMutAct_9fa48("291") ? name !== undefined : stryMutAct_9fa48("290") ? false : stryMutAct_9fa48("289") ? true : (stryCov_9fa48("289", "290", "291"), name === undefined)) {
          if (stryMutAct_9fa48("292")) {
            {}
          } else {
            stryCov_9fa48("292");
            unnamedIndices.push(index);
            continue;
          }
        }
        result.push(stryMutAct_9fa48("293") ? {} : (stryCov_9fa48("293"), {
          id: stryMutAct_9fa48("294") ? `` : (stryCov_9fa48("294"), `segpipe-${index}`),
          from_name: LABEL_STUDIO_NAMES.brush,
          to_name: LABEL_STUDIO_NAMES.image,
          type: stryMutAct_9fa48("295") ? "" : (stryCov_9fa48("295"), 'brushlabels'),
          original_width: width,
          original_height: height,
          image_rotation: 0,
          value: stryMutAct_9fa48("296") ? {} : (stryCov_9fa48("296"), {
            format: stryMutAct_9fa48("297") ? "" : (stryCov_9fa48("297"), 'rle'),
            rle: brushRle(mask, index, rgba),
            brushlabels: stryMutAct_9fa48("298") ? [] : (stryCov_9fa48("298"), [name])
          })
        }));
      }
    }
    const prediction: TaskPrediction = stryMutAct_9fa48("299") ? {} : (stryCov_9fa48("299"), {
      model_version: input.modelVersion,
      ...((stryMutAct_9fa48("302") ? input.score !== undefined : stryMutAct_9fa48("301") ? false : stryMutAct_9fa48("300") ? true : (stryCov_9fa48("300", "301", "302"), input.score === undefined)) ? {} : stryMutAct_9fa48("303") ? {} : (stryCov_9fa48("303"), {
        score: input.score
      })),
      result
    });
    return stryMutAct_9fa48("304") ? {} : (stryCov_9fa48("304"), {
      prediction,
      unnamedIndices
    });
  }
}

/** A Label Studio task (the "tasks" import method) for one image, with its pre-labels when there are any. */
export function labelStudioTask(image: string, meta?: TaskMeta, prediction?: TaskPrediction): LabelStudioTask {
  if (stryMutAct_9fa48("305")) {
    {}
  } else {
    stryCov_9fa48("305");
    return stryMutAct_9fa48("306") ? {} : (stryCov_9fa48("306"), {
      data: {
        [LABEL_STUDIO_NAMES.image]: image
      } as {
        image: string;
      },
      ...((stryMutAct_9fa48("309") ? meta || Object.keys(meta).length > 0 : stryMutAct_9fa48("308") ? false : stryMutAct_9fa48("307") ? true : (stryCov_9fa48("307", "308", "309"), meta && (stryMutAct_9fa48("312") ? Object.keys(meta).length <= 0 : stryMutAct_9fa48("311") ? Object.keys(meta).length >= 0 : stryMutAct_9fa48("310") ? true : (stryCov_9fa48("310", "311", "312"), Object.keys(meta).length > 0)))) ? stryMutAct_9fa48("313") ? {} : (stryCov_9fa48("313"), {
        meta
      }) : {}),
      ...(prediction ? stryMutAct_9fa48("314") ? {} : (stryCov_9fa48("314"), {
        predictions: stryMutAct_9fa48("315") ? [] : (stryCov_9fa48("315"), [prediction])
      }) : {})
    });
  }
}