// @ts-nocheck
import { createHash } from 'node:crypto';

/** SageMaker's name rule for jobs, models, endpoint configs and endpoints. */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const MAX_NAME = 63;

/** Lower-case letters, digits and single hyphens, no hyphen at either end. */
export function nameSafe(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Readable characters of the stack name a prefix keeps. */
const PREFIX_READABLE = 12;
/** Hex digits of the stack name's hash a prefix ends with. */
const PREFIX_HASH = 8;

/**
 * The stack's prefix for every SageMaker resource it creates: the stack name's first characters, for
 * people, and a hash of the whole name, so that no two stacks share one (`Segpipe` and `Segpipe-Dev`,
 * or two names that only differ after their first characters or in case), and the stack's IAM, scoped
 * to `<prefix>-*`, reaches only its own resources. Lower-case, because SageMaker lower-cases names in
 * ARNs; at most 21 characters, leaving the rest of SageMaker's 63 to a run's names.
 */
export function resourcePrefix(stackName: string): string {
  const readable = nameSafe(stackName).slice(0, PREFIX_READABLE).replace(/-+$/, '') || 'segpipe';
  return `${readable}-${createHash('sha256').update(stackName).digest('hex').slice(0, PREFIX_HASH)}`;
}

export interface RunResourceNames {
  readonly labelingJob: string;
  readonly trainingJob: string;
  readonly model: string;
  readonly endpointConfig: string;
  /** The endpoint config that adds this run's model beside the serving one, at zero weight. */
  readonly trialConfig: string;
  /** This run's production variant: unique per run, so that it can stand beside the champion's. */
  readonly variant: string;
}

/**
 * Names of what one run creates: readable (they carry the run id), valid for SageMaker, at most 63
 * characters, and unique case-insensitively (they end with a hash of the whole run id).
 */
export function runResourceNames(prefix: string, runId: string): RunResourceNames {
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 8);
  const name = (kind: string) => {
    const fixed = `${prefix}-${kind}-`;
    const readable = nameSafe(runId)
      .slice(0, MAX_NAME - fixed.length - hash.length - 1)
      .replace(/-+$/, '');
    return `${fixed}${readable ? `${readable}-` : ''}${hash}`;
  };
  return {
    labelingJob: name('label'),
    trainingJob: name('train'),
    model: name('model'),
    endpointConfig: name('config'),
    trialConfig: name('trial'),
    variant: name('variant'),
  };
}

/** The one endpoint a stack serves from. */
export function endpointName(prefix: string): string {
  return `${prefix}-endpoint`;
}

/** Tag on everything the workflow creates in SageMaker: its value is the stack's name. */
export const STACK_TAG_KEY = 'segpipe:stack';
/** Tag naming the run that created a SageMaker resource. */
export const RUN_TAG_KEY = 'segpipe:run';
