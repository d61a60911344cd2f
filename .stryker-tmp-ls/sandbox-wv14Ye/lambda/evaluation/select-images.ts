// @ts-nocheck
import { createHmac } from 'node:crypto';

/** How the evaluation's images are chosen from a validation split. */
export interface HoldoutRule {
  /**
   * The key of the order: the stack's holdout key (kept in Secrets Manager), which uploaders do not
   * know, so no one can pick names that take the evaluation's slots.
   */
  readonly key: string | Buffer;
  /** Most images evaluated. */
  readonly maxImages: number;
  /** Largest share of those images one batch may supply (0 to 1): at least one image each. */
  readonly maxBatchShare: number;
  /** The batch of an item; items of no known batch are one group together. */
  readonly batchOf?: (name: string) => string | undefined;
}

/** Items of no known batch (indexed before batches were recorded) are capped together, as one batch. */
const NO_BATCH = '\u0000no batch';

/** Most images one batch may supply under `rule`. */
export function batchCap(rule: Pick<HoldoutRule, 'maxImages' | 'maxBatchShare'>): number {
  return Math.max(1, Math.floor(rule.maxImages * rule.maxBatchShare));
}

/**
 * The validation split's item names in the order the evaluation takes them: by the HMAC of the name
 * under the holdout key (the same split gives the same order, and a split that grows by a batch keeps
 * most of the images an earlier run was evaluated on), leaving out names past their batch's cap. The
 * caller walks it until it has `maxImages` usable images.
 */
export function rankEvaluationImages(names: readonly string[], rule: HoldoutRule): { name: string; batch: string }[] {
  const rankOf = (name: string) => createHmac('sha256', rule.key).update(name).digest('hex');
  return [...new Set(names)]
    .map((name) => ({ name, batch: rule.batchOf?.(name) ?? NO_BATCH, rank: rankOf(name) }))
    .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    .map(({ name, batch }) => ({ name, batch }));
}

/** Counts what each batch supplied, refusing past the cap. */
export class BatchQuota {
  private readonly taken = new Map<string, number>();
  private readonly cap: number;

  constructor(rule: Pick<HoldoutRule, 'maxImages' | 'maxBatchShare'>) {
    this.cap = batchCap(rule);
  }

  full(batch: string): boolean {
    return (this.taken.get(batch) ?? 0) >= this.cap;
  }

  take(batch: string): void {
    this.taken.set(batch, (this.taken.get(batch) ?? 0) + 1);
  }

  /** Gives back a place taken for an image that turned out unusable. */
  release(batch: string): void {
    this.taken.set(batch, (this.taken.get(batch) ?? 1) - 1);
  }
}
