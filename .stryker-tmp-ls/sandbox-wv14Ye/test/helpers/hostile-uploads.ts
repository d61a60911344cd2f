import { closeSync, linkSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { encodePalettePng } from '../../local/png';
import { cocoRleString, jpeg } from './format-fixtures';

/**
 * The uploads of issue 29's security review, rebuilt by code: each costs a few bytes or megabytes
 * to upload and, before the converter checked what uploads declare, gigabytes or minutes to read.
 */
export interface HostileUpload {
  readonly name: string;
  /** `segpipe convert` arguments besides `--out`. */
  readonly args: readonly string[];
  /**
   * The upload as the workflow meets it, its batch named as the upload: files by key under the inbox
   * (`labeled/<name>/...`, `images/<name>/...`), and the export's key among them.
   */
  readonly workflow: { readonly exportKey: string; readonly files: readonly { readonly key: string; readonly path: string }[] };
}

function write(path: string, body: string | Buffer): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  return path;
}

/** Writes `total` bytes of `chunk` repeated, then `tail`, after `head`, without holding them. */
function writeRepeated(path: string, head: string | Buffer, chunk: Buffer, total: number, tail: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.from(head));
    for (let written = 0; written < total; written += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, total - written));
    writeSync(fd, Buffer.from(tail));
  } finally {
    closeSync(fd);
  }
}

/** Bits written most significant first, as @thi.ng/bitstream reads them (Label Studio's brush RLE). */
class BitWriter {
  private readonly bytes: number[] = [];
  private bit = 0;

  write(value: number, bits: number): this {
    for (let b = bits - 1; b >= 0; b--) {
      if (this.bit % 8 === 0) this.bytes.push(0);
      if (Math.floor(value / 2 ** b) % 2 === 1) this.bytes[this.bytes.length - 1] |= 0x80 >> (this.bit % 8);
      this.bit++;
    }
    return this;
  }

  done(): number[] {
    return this.bytes;
  }
}

/** A brush RLE that decodes to `values` bytes all `value`, in runs of 65,536: tiny, whatever it claims. */
function brushRleOf(values: number, value: number): number[] {
  const out = new BitWriter().write(values, 32).write(7, 5);
  for (const size of [3, 4, 8, 16]) out.write(size - 1, 4);
  for (let left = values; left > 0; ) {
    const n = Math.min(left, 65_536);
    out
      .write(1, 1)
      .write(3, 2)
      .write(n - 1, 16)
      .write(value, 8);
    left -= n;
  }
  return out.done();
}

/** A 64×64 indexed PNG mask (Ground Truth's shape), with `padding` bytes of a private chunk before IEND. */
function paddedMaskPng(path: string, size: number, padding: number): void {
  const png = encodePalettePng(new Uint8Array(size * size).fill(1), size, size, [0x000000, 0xff0000]);
  const iend = png.length - 12;
  const header = Buffer.alloc(8);
  header.writeUInt32BE(padding, 0);
  header.write('prVt', 4, 'latin1');
  // The CRC is not checked before the chunk is skipped; the file is read as a PNG either way.
  writeRepeated(
    path,
    Buffer.concat([png.subarray(0, iend), header]),
    Buffer.alloc(1024 * 1024),
    padding,
    Buffer.concat([Buffer.alloc(4), png.subarray(iend)]),
  );
}

interface ZipEntry {
  readonly name: string;
  /** The entry's bytes, in pieces (a large entry is never held whole). */
  readonly pieces: () => Iterable<Buffer>;
  /** Stored, not deflated (many tiny entries). */
  readonly stored?: boolean;
}

/** A zip written piece by piece (local headers, data descriptors not needed: sizes are known after). */
function writeZip(path: string, entries: readonly ZipEntry[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  const put = (data: Buffer) => {
    writeSync(fd, data);
    offset += data.length;
  };
  try {
    for (const entry of entries) {
      const name = Buffer.from(entry.name);
      let crc = 0;
      let size = 0;
      const compressedPieces: Buffer[] = [];
      if (entry.stored) {
        for (const piece of entry.pieces()) {
          crc = crc32(piece, crc);
          size += piece.length;
          compressedPieces.push(piece);
        }
      } else {
        // Deflated piece by piece with full flushes between: valid deflate, bounded memory.
        const pieces = [...entry.pieces()];
        pieces.forEach((piece, i) => {
          crc = crc32(piece, crc);
          size += piece.length;
          compressedPieces.push(
            deflateRawSync(piece, { level: 9, finishFlush: i === pieces.length - 1 ? constants.Z_FINISH : constants.Z_FULL_FLUSH }),
          );
        });
      }
      const compressed = compressedPieces.reduce((n, p) => n + p.length, 0);
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(entry.stored ? 0 : 8, 8);
      local.writeUInt32LE(crc >>> 0, 14);
      local.writeUInt32LE(compressed, 18);
      local.writeUInt32LE(size, 22);
      local.writeUInt16LE(name.length, 26);
      const at = offset;
      put(local);
      put(name);
      for (const piece of compressedPieces) put(piece);
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE(20, 4);
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(entry.stored ? 0 : 8, 10);
      header.writeUInt32LE(crc >>> 0, 16);
      header.writeUInt32LE(compressed, 20);
      header.writeUInt32LE(size, 24);
      header.writeUInt16LE(name.length, 28);
      header.writeUInt32LE(at, 42);
      central.push(header, name);
    }
    const start = offset;
    for (const piece of central) put(piece);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(Math.min(entries.length, 0xffff), 8);
    end.writeUInt16LE(Math.min(entries.length, 0xffff), 10);
    end.writeUInt32LE(offset - start, 12);
    end.writeUInt32LE(start, 16);
    if (entries.length > 0xffff) {
      // Zip64: the counts do not fit; its end record and locator carry them.
      const end64 = Buffer.alloc(56);
      end64.writeUInt32LE(0x06064b50, 0);
      end64.writeBigUInt64LE(44n, 4);
      end64.writeUInt16LE(45, 12);
      end64.writeUInt16LE(45, 14);
      end64.writeBigUInt64LE(BigInt(entries.length), 24);
      end64.writeBigUInt64LE(BigInt(entries.length), 32);
      end64.writeBigUInt64LE(BigInt(offset - start), 40);
      end64.writeBigUInt64LE(BigInt(start), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(offset), 8);
      locator.writeUInt32LE(1, 16);
      put(end64);
      put(locator);
      end.writeUInt16LE(0xffff, 8);
      end.writeUInt16LE(0xffff, 10);
    }
    put(end);
  } finally {
    closeSync(fd);
  }
}

const repeat = (piece: Buffer, total: number) =>
  function* () {
    for (let left = total; left > 0; left -= piece.length) yield left >= piece.length ? piece : piece.subarray(0, left);
  };

/** A CVAT item: label map, image and mask entries. */
async function cvatEntries(mask: ZipEntry['pieces']): Promise<ZipEntry[]> {
  const image = await jpeg(1, 64, 64);
  return [
    { name: 'labelmap.txt', pieces: () => [Buffer.from('# label:color_rgb:parts:actions\nbackground:0,0,0::\nturtle:255,0,0::\n')] },
    { name: 'JPEGImages/a.jpg', pieces: () => [image] },
    { name: 'SegmentationClass/a.png', pieces: mask },
  ];
}

/** The workflow's view of an upload whose export file and images are plain files. */
const inBatch = (name: string, exportFile: string, images: readonly string[] = []): HostileUpload['workflow'] => {
  const exportKey = `labeled/${name}/${exportFile.slice(exportFile.lastIndexOf('/') + 1)}`;
  return {
    exportKey,
    files: [
      { key: exportKey, path: exportFile },
      ...images.map((path) => ({ key: `images/${name}/${path.slice(path.lastIndexOf('/') + 1)}`, path })),
    ],
  };
};

const labelStudioTask = (image: string, result: Record<string, unknown>) => ({
  id: 1,
  data: { image },
  annotations: [{ id: 1, result: [{ id: 'r1', type: 'brushlabels', from_name: 'tag', to_name: 'image', ...result }] }],
});

/** Every upload of the review's table, written under `dir`. */
export async function writeHostileUploads(dir: string): Promise<HostileUpload[]> {
  const uploads: HostileUpload[] = [];
  const image64 = await jpeg(1, 64, 64);
  const folder = (name: string) => join(dir, name);

  {
    // COCO compressed RLE declaring 20000×20000 on an image whose size the JSON omits; three of them.
    const d = folder('coco-rle-size');
    write(join(d, 'images', 'a.jpg'), image64);
    const rle = { size: [20_000, 20_000], counts: cocoRleString([0, 20_000 * 20_000]) };
    const coco = {
      categories: [{ id: 1, name: 'turtle' }],
      images: [{ id: 1, file_name: 'a.jpg' }],
      annotations: [1, 2, 3].map((id) => ({ id, image_id: 1, category_id: 1, segmentation: rle, iscrowd: 1 })),
    };
    const json = write(join(d, 'coco.json'), JSON.stringify(coco));
    uploads.push({
      name: 'coco-rle-size',
      args: ['--input', json, '--images', join(d, 'images'), '--max-pixels', '10000'],
      workflow: inBatch('coco-rle-size', json, [join(d, 'images', 'a.jpg')]),
    });
  }
  for (const [name, rle, size] of [
    // A brush RLE whose header claims 1.5 billion values on a 64×64 image.
    ['ls-rle-header', brushRleOf(1_500_000_000, 255), 64],
    // original_width × original_height of 20000×20000, with an RLE that decodes to exactly that.
    ['ls-original-size', brushRleOf(20_000 * 20_000 * 4, 255), 20_000],
  ] as const) {
    const d = folder(name);
    write(join(d, 'a.jpg'), image64);
    const task = labelStudioTask('a.jpg', { original_width: size, original_height: size, value: { rle, brushlabels: ['turtle'] } });
    const json = write(join(d, 'tasks.json'), JSON.stringify([task]));
    uploads.push({ name, args: ['--input', json], workflow: inBatch(name, json, [join(d, 'a.jpg')]) });
  }
  {
    // A 1.2 MB zip whose mask entry inflates to 1.2 GB (a PNG header, then zeros).
    const d = folder('zip-entry-size');
    const header = encodePalettePng(new Uint8Array(64 * 64), 64, 64, [0, 0xff0000]).subarray(0, 33);
    const zip = join(d, 'cvat.zip');
    writeZip(
      zip,
      await cvatEntries(function* () {
        yield header;
        yield* repeat(Buffer.alloc(8 * 1024 * 1024), 1200 * 1024 * 1024)();
      }),
    );
    uploads.push({ name: 'zip-entry-size', args: ['--input', zip], workflow: inBatch('zip-entry-size', zip) });
  }
  {
    // A zip of 400,000 entries (about 54 MB): one CVAT item, the rest empty files.
    const d = folder('zip-entries');
    const mask = encodePalettePng(new Uint8Array(64 * 64).fill(1), 64, 64, [0, 0xff0000]);
    const entries = await cvatEntries(() => [mask]);
    for (let i = 0; i < 400_000; i++)
      entries.push({ name: `extra/padding-entry-${String(i).padStart(7, '0')}.txt`, pieces: () => [], stored: true });
    const zip = join(d, 'cvat.zip');
    writeZip(zip, entries);
    uploads.push({ name: 'zip-entries', args: ['--input', zip], workflow: inBatch('zip-entries', zip) });
  }
  {
    // One Label Studio task of 480 MB (an RLE list of zeros).
    const d = folder('ls-large-task');
    write(join(d, 'a.jpg'), image64);
    const json = join(d, 'tasks.json');
    const head = JSON.stringify([
      labelStudioTask('a.jpg', { original_width: 64, original_height: 64, value: { brushlabels: ['turtle'], rle: [1] } }),
    ]).replace('"rle":[1]', '"rle":[0]');
    const [before, after] = [head.slice(0, head.indexOf('[0') + 2), head.slice(head.indexOf('[0') + 2)];
    writeRepeated(json, before, Buffer.from(',0'.repeat(512 * 1024)), 480 * 1024 * 1024, after);
    uploads.push({ name: 'ls-large-task', args: ['--input', json], workflow: inBatch('ls-large-task', json, [join(d, 'a.jpg')]) });
  }
  {
    // Four Ground Truth items, 64×64 pixels each, whose masks are 250 MB PNGs (hard links of one file).
    const d = folder('gt-large-png');
    const mask = join(d, 'gt', 'masks', 'm0.png');
    paddedMaskPng(mask, 64, 250 * 1024 * 1024);
    const lines = [0, 1, 2, 3].map((i) => {
      write(join(d, 'inbox', 'images', `i${i}.jpg`), image64);
      if (i > 0) linkSync(mask, join(d, 'gt', 'masks', `m${i}.png`));
      return JSON.stringify({
        'source-ref': `s3://inbox/images/i${i}.jpg`,
        'label-ref': `s3://gt/masks/m${i}.png`,
        'label-ref-metadata': {
          type: 'groundtruth/semantic-segmentation',
          'job-name': 'labeling-job/h',
          'creation-date': '2026-01-01T00:00:00',
          'internal-color-map': {
            0: { 'class-name': 'BACKGROUND', 'hex-color': '#000000' },
            1: { 'class-name': 'turtle', 'hex-color': '#ff0000' },
          },
        },
      });
    });
    const manifest = write(join(d, 'output.manifest'), `${lines.join('\n')}\n`);
    // In the workflow the lines name the batch's images and one uploaded mask (one upload of 250 MB).
    const batch = 'gt-large-png';
    const inWorkflow = write(
      join(d, 'workflow.manifest'),
      `${lines
        .map((line, i) =>
          line
            .replace(`s3://inbox/images/i${i}.jpg`, `s3://inbox/images/${batch}/i${i}.jpg`)
            .replace(`s3://gt/masks/m${i}.png`, `s3://inbox/labeled/${batch}/m0.png`),
        )
        .join('\n')}\n`,
    );
    uploads.push({
      name: batch,
      args: ['--input', manifest, '--local-root', d],
      workflow: {
        exportKey: `labeled/${batch}/output.manifest`,
        files: [
          { key: `labeled/${batch}/output.manifest`, path: inWorkflow },
          { key: `labeled/${batch}/m0.png`, path: mask },
          ...[0, 1, 2, 3].map((i) => ({ key: `images/${batch}/i${i}.jpg`, path: join(d, 'inbox', 'images', `i${i}.jpg`) })),
        ],
      },
    });
  }
  {
    // One polygon of 80,000 vertices zigzagging over 2,000 rows (about 850 KB of JSON).
    const d = folder('coco-polygon');
    write(join(d, 'images', 'a.jpg'), await jpeg(1, 100, 2000));
    const ring = Array.from({ length: 80_000 }, (_, k) => [Math.round(((k * 100) / 80_000) * 100) / 100, k % 2 === 0 ? 0 : 2000]).flat();
    const coco = {
      categories: [{ id: 1, name: 'turtle' }],
      images: [{ id: 1, file_name: 'a.jpg', width: 100, height: 2000 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, segmentation: [ring], iscrowd: 0 }],
    };
    const json = write(join(d, 'coco.json'), JSON.stringify(coco));
    uploads.push({
      name: 'coco-polygon',
      args: ['--input', json, '--images', join(d, 'images')],
      workflow: inBatch('coco-polygon', json, [join(d, 'images', 'a.jpg')]),
    });
  }
  {
    // A category_id nested 200,000 levels deep, beside an annotation that paints.
    const d = folder('coco-deep');
    write(join(d, 'images', 'a.jpg'), image64);
    const square = [[0, 0, 32, 0, 32, 64, 0, 64]];
    const json = write(
      join(d, 'coco.json'),
      `{"categories":[{"id":1,"name":"turtle"}],"images":[{"id":1,"file_name":"a.jpg","width":64,"height":64}],` +
        `"annotations":[{"id":1,"image_id":1,"category_id":${'['.repeat(200_000)}1${']'.repeat(200_000)},"segmentation":[]},` +
        `{"id":2,"image_id":1,"category_id":1,"segmentation":${JSON.stringify(square)}}]}`,
    );
    uploads.push({
      name: 'coco-deep',
      args: ['--input', json, '--images', join(d, 'images')],
      workflow: inBatch('coco-deep', json, [join(d, 'images', 'a.jpg')]),
    });
  }
  {
    // Three category ids of 5 MB each, which the report once copied whole.
    const d = folder('coco-long-ids');
    write(join(d, 'images', 'a.jpg'), image64);
    const coco = {
      categories: [{ id: 1, name: 'turtle' }],
      images: [{ id: 1, file_name: 'a.jpg', width: 64, height: 64 }],
      annotations: ['a', 'b', 'c'].map((c, id) => ({
        id,
        image_id: 1,
        category_id: c.repeat(5 * 1024 * 1024),
        segmentation: [[0, 0, 32, 0, 32, 64]],
      })),
    };
    const json = write(join(d, 'coco.json'), JSON.stringify(coco));
    uploads.push({
      name: 'coco-long-ids',
      args: ['--input', json, '--images', join(d, 'images')],
      workflow: inBatch('coco-long-ids', json, [join(d, 'images', 'a.jpg')]),
    });
  }
  return uploads;
}
