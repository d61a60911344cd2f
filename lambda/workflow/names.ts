import { createHash } from 'node:crypto';

/** SageMaker's name rule for jobs, models, endpoint configs and endpoints. */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const MAX_NAME = 63;

/** Lower-case letters, digits and single hyphens, no hyphen at either end. */
export function nameSafe(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * The stack's prefix for every SageMaker resource it creates. Lower-case, because SageMaker
 * lower-cases names in ARNs and the stack's IAM scopes its actions to `<prefix>-*`.
 */
export function resourcePrefix(stackName: string): string {
  return nameSafe(stackName).slice(0, 20).replace(/-+$/, '') || 'segpipe';
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
    const readable = nameSafe(runId).slice(0, MAX_NAME - fixed.length - hash.length - 1).replace(/-+$/, '');
    return `${fixed}${readable ? `${readable}-` : ''}${hash}`;
  };
  return {
    labelingJob: name('label'), trainingJob: name('train'), model: name('model'), endpointConfig: name('config'), trialConfig: name('trial'), variant: name('variant'),
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
