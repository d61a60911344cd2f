/** Whether a challenger replaces the champion, from their mean IoU on the same images. */
// @ts-nocheck


export interface VariantScore {
  readonly variant: string;
  readonly miou: number;
}

export interface PromotionRule {
  /** How much worse than the champion's the challenger's mean IoU may be. */
  readonly tolerance: number;
  /** The least mean IoU a model is served with (`minValidationMiou`). */
  readonly minimumMiou: number;
}

export interface Verdict {
  readonly promote: boolean;
  readonly reason: string;
}

const fixed = (value: number) => value.toFixed(3);

/**
 * Promote when the challenger passes the minimum, refused no more images than the champion, and is not
 * worse than it by more than the tolerance.
 */
export function promotionVerdict(
  challenger: VariantScore,
  champion: VariantScore | undefined,
  rule: PromotionRule,
  images: number,
  refused?: { readonly challenger: number; readonly champion: number },
): Verdict {
  const on = `on the same ${images} validation image${images === 1 ? '' : 's'}`;
  const scores = champion
    ? `challenger ${challenger.variant} mIoU ${fixed(challenger.miou)}, champion ${champion.variant} mIoU ${fixed(champion.miou)} ${on}`
    : `mIoU ${fixed(challenger.miou)} ${on.replace('the same ', '')}`;
  if (challenger.miou < rule.minimumMiou) {
    return { promote: false, reason: `${scores}: the challenger is below the minimum mIoU ${rule.minimumMiou}` };
  }
  // Images are scored only where every variant answered: a challenger that refuses what the
  // champion answers would otherwise be judged on its easy cases alone.
  if (champion && refused && refused.challenger > refused.champion) {
    return {
      promote: false,
      reason: `${scores}: the challenger refused ${refused.challenger} image${refused.challenger === 1 ? '' : 's'}, the champion ${refused.champion}`,
    };
  }
  if (champion && challenger.miou < champion.miou - rule.tolerance) {
    return {
      promote: false,
      reason: `${scores}: the challenger is worse by ${fixed(champion.miou - challenger.miou)}, more than the tolerance ${rule.tolerance}`,
    };
  }
  if (!champion) return { promote: true, reason: `${scores}: the first model, at least the minimum mIoU ${rule.minimumMiou}` };
  return { promote: true, reason: `${scores}: the challenger is not worse than the champion by more than the tolerance ${rule.tolerance}` };
}
