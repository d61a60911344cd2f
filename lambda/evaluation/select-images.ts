import { createHash } from 'node:crypto';

/**
 * Up to `limit` of a validation split's item names, the same for the same split: ordered by a hash of
 * the name (not by name, which would favour whatever folder sorts first), so that a split that grows
 * by a batch keeps most of the images an earlier run was evaluated on.
 */
export function selectEvaluationImages(names: readonly string[], limit: number): string[] {
  const hashOf = (name: string) => createHash('sha256').update(name).digest('hex');
  return [...new Set(names)].map((name) => ({ name, hash: hashOf(name) }))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    .slice(0, limit)
    .map((item) => item.name);
}
