import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * An 8-bit indexed (palette) PNG with exactly the given indices and palette. sharp cannot write one:
 * its palette output quantizes and reorders indices. Ground Truth writes indexed masks, so the local
 * stand-in and the fixtures need this.
 */
export function encodePalettePng(indices: Uint8Array, width: number, height: number, palette: readonly number[]): Buffer {
  if (indices.length !== width * height) throw new Error(`expected ${width * height} indices, received ${indices.length}`);
  if (palette.length === 0 || palette.length > 256) throw new Error(`a palette holds 1 to 256 colours, received ${palette.length}`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 3; // colour type: indexed
  const plte = Buffer.alloc(palette.length * 3);
  palette.forEach((rgb, i) => {
    plte[i * 3] = (rgb >> 16) & 0xff;
    plte[i * 3 + 1] = (rgb >> 8) & 0xff;
    plte[i * 3 + 2] = rgb & 0xff;
  });
  const rows = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width + 1)] = 0; // filter: none
    rows.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('PLTE', plte), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
