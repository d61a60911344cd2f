/**
 * Label Studio's brush RLE decoded from its published bit layout alone (not with `@thi.ng/rle-pack`),
 * so that a test of segpipe's encoder does not check the library against itself: a 32-bit word count,
 * 5 bits of word size - 1, 4 × 4 bits of repeat-class size - 1, then records of a repeat flag, a 2-bit
 * class and a length - 1, followed by one word (a repeat) or `length` words (a literal).
 */
export function decodeBrushRleBySpec(bytes: readonly number[]): Uint8Array {
  let bit = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++, bit++) {
      const byte = bytes[bit >> 3];
      if (byte === undefined) throw new Error(`the RLE ends at bit ${bit}`);
      v = v * 2 + ((byte >> (7 - (bit & 7))) & 1);
    }
    return v;
  };
  const num = read(32);
  const wordSize = read(5) + 1;
  const sizes = [read(4) + 1, read(4) + 1, read(4) + 1, read(4) + 1];
  const out = new Uint8Array(num);
  let at = 0;
  while (at < num) {
    const repeat = read(1) === 1;
    const length = read(sizes[read(2)]) + 1;
    if (repeat) out.fill(read(wordSize), at, at + length);
    else for (let i = 0; i < length; i++) out[at + i] = read(wordSize);
    at += length;
  }
  return out;
}
