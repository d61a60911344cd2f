import { createHash } from 'node:crypto';

const MAX_STEM_LENGTH = 80;

/**
 * The output name (file stem) of a source image: its base name made safe (`[A-Za-z0-9._-]`), then
 * a hash of the whole source URI, so it is stable across runs and unique even when two sources in
 * different folders share a base name.
 */
export function outputNameFor(source: string): string {
  const baseName = source.slice(source.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
  const safe = baseName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_STEM_LENGTH);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 8);
  return safe === '' ? hash : `${safe}-${hash}`;
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
