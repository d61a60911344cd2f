// @ts-nocheck
import { createHash } from 'node:crypto';

const MAX_STEM_LENGTH = 80;

const MAX_NAMESPACE_LENGTH = 40;

/** Where output names come from beyond the source: the workflow names a batch's items apart from every other batch's. */
export interface NameScope {
  /**
   * Mixed into every name and its hash: two namespaces never give the same name, whatever their
   * sources (the workflow's batch: one batch's upload cannot name another batch's items).
   * @default - none: the name depends on the source alone
   */
  readonly namespace?: string;
  /**
   * Appended to every name (`<name>-<suffix>`): the workflow's run, so that a run writes objects no
   * earlier run wrote.
   * @default - none
   */
  readonly suffix?: string;
}

/**
 * The output name (file stem) of a source image: its base name made safe (`[A-Za-z0-9._-]`), then
 * a hash of the whole source URI, so it is stable across runs and unique even when two sources in
 * different folders share a base name; in a namespace, the namespace first and in the hash too.
 */
export function outputNameFor(source: string, scope: NameScope = {}): string {
  const baseName = source.slice(source.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
  const safe = safeStem(baseName).slice(0, MAX_STEM_LENGTH);
  const { namespace, suffix } = scope;
  // A NUL cannot occur in a batch name nor a source, so (namespace, source) pairs never hash alike.
  const hash = createHash('sha256')
    .update(namespace === undefined ? source : `${namespace}\u0000${source}`)
    .digest('hex')
    .slice(0, 8);
  const space = namespace === undefined ? '' : safeStem(namespace).slice(0, MAX_NAMESPACE_LENGTH);
  const stem = safe === '' ? hash : `${safe}-${hash}`;
  const name = space === '' ? stem : `${space}--${stem}`;
  return suffix === undefined ? name : `${name}-${suffix}`;
}

function safeStem(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '');
}

export type Split = 'train' | 'validation';

/**
 * The split of an item, from the seed and its source alone: re-running gives the same split, and
 * adding items never moves an existing one.
 */
export function splitFor(source: string, seed: string, validationFraction: number): Split {
  const draw = createHash('sha256').update(`${seed}:${source}`).digest().readUInt32BE(0) / 2 ** 32;
  return draw < validationFraction ? 'validation' : 'train';
}
