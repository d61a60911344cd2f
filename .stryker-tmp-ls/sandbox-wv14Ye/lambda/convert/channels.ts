/**
 * The four channels of the built-in Semantic Segmentation algorithm, by split. A module of its own,
 * without the converter's imports, so the stack can name the channels without loading sharp at synth.
 */
// @ts-nocheck

export const CHANNELS = {
  train: { images: 'train', masks: 'train_annotation' },
  validation: { images: 'validation', masks: 'validation_annotation' },
} as const;
