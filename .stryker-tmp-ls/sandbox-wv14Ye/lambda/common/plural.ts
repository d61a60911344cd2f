/** `1 image`, `2 images`, `3 classes`: a count and its noun, in the number it takes. */
// @ts-nocheck

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : /(s|x|ch|sh)$/.test(word) ? 'es' : 's'}`;
}
