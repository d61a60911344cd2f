import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import {
  groundTruthFailedLine,
  groundTruthManifestLine,
  groundTruthMaskPng,
  type LabelingClass,
  labelingClasses,
} from '../../local/ground-truth-output';
import { encodePalettePng } from '../../local/png';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';

export const INBOX = 'inbox';
export const GT_BUCKET = 'gt-output';
export const WIDTH = 96;
export const HEIGHT = 64;
const ATTRIBUTE = 'turtles-ref';

/** What a converted item must hold: its true class index per pixel, at the size it is written. */
export interface ExpectedItem {
  readonly source: string;
  readonly width: number;
  readonly height: number;
  readonly classIndices: Uint8Array;
  readonly image: 'copied' | 're-encoded';
}

export interface ExpectedSkip {
  readonly source: string | null;
  readonly reason: RegExp;
}

export interface GroundTruthFixture {
  /** Folder laid out as `aws s3 sync` leaves buckets: `<root>/<bucket>/<key>`. */
  readonly root: string;
  readonly manifestText: string;
  readonly expected: ExpectedItem[];
  readonly skips: ExpectedSkip[];
  /** Objects as `{ bucket, key, body }`, for uploading to an S3 server. */
  readonly objects: { bucket: string; key: string; body: Buffer }[];
}

/** The first job's classes, and a second job's that gives the same classes other colours and keys. */
export const JOB_A = labelingClasses(['turtle', 'rock']);
export const JOB_B: LabelingClass[] = [
  { name: 'BACKGROUND', rgb: 0xffffff },
  { name: 'rock', rgb: 0xd62728 },
  { name: 'turtle', rgb: 0x9467bd },
];
/** JOB_B's class indices in the converter's order (BACKGROUND, turtle, rock). */
const JOB_B_TO_CONVERTED = [0, 2, 1];

/**
 * A Ground Truth output with the quirks real ones have: keys with spaces, unicode and `+`, two
 * images sharing a base name, EXIF orientation, a PNG source, masks as palette (with wrong palette
 * indices), RGB and RGBA PNGs, a colour no class has, two merged jobs, and bad lines of every kind.
 */
export async function buildGroundTruthFixture(root: string): Promise<GroundTruthFixture> {
  const objects: GroundTruthFixture['objects'] = [];
  const lines: string[] = [];
  const expected: ExpectedItem[] = [];
  const skips: ExpectedSkip[] = [];
  const put = (bucket: string, key: string, body: Buffer) => {
    objects.push({ bucket, key, body });
    const path = join(root, bucket, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  };
  let seed = 1;
  const scene = (width = WIDTH, height = HEIGHT) => renderSyntheticScene(seed++, width, height);
  const line = (source: string, mask: string, classes: LabelingClass[] = JOB_A, creationDate?: string) =>
    JSON.stringify(groundTruthManifestLine({ source, mask, attribute: ATTRIBUTE, jobName: 'turtles', classes, creationDate }));

  /** A good item: a JPEG and its palette mask (with wrong palette indices) drawn from the scene's truth. */
  const good = async (key: string) => {
    const s = scene();
    await goodWith(
      key,
      await sceneToJpeg(s),
      groundTruthMaskPng(s.classIndices, WIDTH, HEIGHT, JOB_A, [2, 0, 1]),
      s.classIndices,
      WIDTH,
      HEIGHT,
      'copied',
    );
  };

  await good('images/batch/turtle 1.jpg');
  await good('images/batch/sub/turtle 1.jpg');
  await good('images/batch/tortue-é+1.jpg');

  // EXIF orientation 6, mask on the stored pixel grid: re-encoded without rotation, tag dropped.
  {
    const s = scene();
    const rotated = await sharp(s.rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    await goodWith(
      'images/batch/rotated.jpg',
      rotated,
      groundTruthMaskPng(s.classIndices, WIDTH, HEIGHT, JOB_A),
      s.classIndices,
      WIDTH,
      HEIGHT,
    );
  }
  // EXIF orientation 6, mask drawn on the rotated view: the image is rotated to match it.
  {
    const s = scene();
    const stored = await sharp(s.rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const view = await sharp(Buffer.from(s.classIndices), { raw: { width: WIDTH, height: HEIGHT, channels: 1 } })
      .rotate(90)
      .extractChannel(0)
      .raw()
      .toBuffer();
    await goodWith(
      'images/batch/rotated-view.jpg',
      stored,
      groundTruthMaskPng(new Uint8Array(view), HEIGHT, WIDTH, JOB_A),
      new Uint8Array(view),
      HEIGHT,
      WIDTH,
    );
  }
  // A PNG source with alpha.
  {
    const s = scene();
    const png = await sharp(s.rgb, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
      .ensureAlpha(0.8)
      .png()
      .toBuffer();
    await goodWith('images/batch/photo.png', png, groundTruthMaskPng(s.classIndices, WIDTH, HEIGHT, JOB_A), s.classIndices, WIDTH, HEIGHT);
  }
  // RGB and RGBA masks.
  for (const channels of [3, 4] as const) {
    const s = scene();
    await goodWith(
      `images/batch/mask-${channels}-channels.jpg`,
      await sceneToJpeg(s),
      await colourMaskPng(s.classIndices, JOB_A, channels),
      s.classIndices,
      WIDTH,
      HEIGHT,
      'copied',
    );
  }
  // A smoothed edge: a colour no class has becomes 255.
  {
    const s = scene();
    const truth = Uint8Array.from(s.classIndices);
    for (let x = 0; x < 10; x++) truth[x] = 255;
    await goodWith(
      'images/batch/smoothed.jpg',
      await sceneToJpeg(s),
      await colourMaskPng(truth, JOB_A, 3, 0x808080),
      truth,
      WIDTH,
      HEIGHT,
      'copied',
    );
  }
  // A second job merged in: other colours, other key order, same class names.
  {
    const s = scene();
    const jobB = Uint8Array.from(s.classIndices, (c) => [0, 2, 1][c]);
    const key = 'images/batch/job-b.jpg';
    put(INBOX, key, await sceneToJpeg(s));
    put(GT_BUCKET, 'job-b/mask.png', groundTruthMaskPng(jobB, WIDTH, HEIGHT, JOB_B));
    lines.push(line(`s3://${INBOX}/${key}`, `s3://${GT_BUCKET}/job-b/mask.png`, JOB_B, '2026-11-02T12:00:00.000000'));
    expected.push({
      source: `s3://${INBOX}/${key}`,
      width: WIDTH,
      height: HEIGHT,
      classIndices: Uint8Array.from(jobB, (c) => JOB_B_TO_CONVERTED[c]),
      image: 'copied',
    });
  }

  // Bad items, each with the reason it must be reported with.
  const bad = (source: string | null, reason: RegExp) => skips.push({ source, reason });
  {
    const s = scene();
    put(GT_BUCKET, 'missing-image-mask.png', groundTruthMaskPng(s.classIndices, WIDTH, HEIGHT, JOB_A));
    lines.push(line(`s3://${INBOX}/images/batch/missing.jpg`, `s3://${GT_BUCKET}/missing-image-mask.png`));
    bad(`s3://${INBOX}/images/batch/missing.jpg`, /^image not found: s3:\/\/inbox\/images\/batch\/missing\.jpg$/);
  }
  put(INBOX, 'images/batch/no-mask.jpg', await sceneToJpeg(scene()));
  lines.push(line(`s3://${INBOX}/images/batch/no-mask.jpg`, `s3://${GT_BUCKET}/nothing-here.png`));
  bad(`s3://${INBOX}/images/batch/no-mask.jpg`, /^mask not found: s3:\/\/gt-output\/nothing-here\.png$/);
  {
    const s = scene();
    const jpeg = await sceneToJpeg(s);
    put(INBOX, 'images/batch/truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    put(GT_BUCKET, 'truncated.png', groundTruthMaskPng(s.classIndices, WIDTH, HEIGHT, JOB_A));
    lines.push(line(`s3://${INBOX}/images/batch/truncated.jpg`, `s3://${GT_BUCKET}/truncated.png`));
    bad(`s3://${INBOX}/images/batch/truncated.jpg`, /truncated \(no JPEG end-of-image marker\)/);
  }
  put(INBOX, 'images/batch/corrupt-mask.jpg', await sceneToJpeg(scene()));
  put(GT_BUCKET, 'corrupt.png', Buffer.from('this is not a PNG at all'));
  lines.push(line(`s3://${INBOX}/images/batch/corrupt-mask.jpg`, `s3://${GT_BUCKET}/corrupt.png`));
  bad(`s3://${INBOX}/images/batch/corrupt-mask.jpg`, /mask s3:\/\/gt-output\/corrupt\.png is not a PNG/);
  {
    const s = scene();
    const png = groundTruthMaskPng(s.classIndices, WIDTH, HEIGHT, JOB_A);
    put(INBOX, 'images/batch/broken-mask.jpg', await sceneToJpeg(s));
    put(GT_BUCKET, 'broken.png', png.subarray(0, 60));
    lines.push(line(`s3://${INBOX}/images/batch/broken-mask.jpg`, `s3://${GT_BUCKET}/broken.png`));
    bad(`s3://${INBOX}/images/batch/broken-mask.jpg`, /mask s3:\/\/gt-output\/broken\.png cannot be decoded/);
  }
  {
    const s = scene();
    const small = renderSyntheticScene(999, WIDTH / 2, HEIGHT / 2);
    put(INBOX, 'images/batch/wrong-size.jpg', await sceneToJpeg(s));
    put(GT_BUCKET, 'wrong-size.png', groundTruthMaskPng(small.classIndices, WIDTH / 2, HEIGHT / 2, JOB_A));
    lines.push(line(`s3://${INBOX}/images/batch/wrong-size.jpg`, `s3://${GT_BUCKET}/wrong-size.png`));
    bad(`s3://${INBOX}/images/batch/wrong-size.jpg`, /^mask is 48×32 but the image is 96×64/);
  }
  {
    // 100000 × 100000 declared in a few bytes.
    const bomb = encodePalettePng(new Uint8Array(1), 1, 1, [0]);
    bomb.writeUInt32BE(100_000, 16);
    bomb.writeUInt32BE(100_000, 20);
    put(INBOX, 'images/batch/bomb.png', bomb);
    put(GT_BUCKET, 'bomb-mask.png', groundTruthMaskPng(scene().classIndices, WIDTH, HEIGHT, JOB_A));
    lines.push(line(`s3://${INBOX}/images/batch/bomb.png`, `s3://${GT_BUCKET}/bomb-mask.png`));
    bad(`s3://${INBOX}/images/batch/bomb.png`, /image declares 100000×100000 pixels, more than the \d+ accepted/);
  }
  put(INBOX, 'images/batch/notes.txt', Buffer.from('field notes, not an image\n'));
  put(GT_BUCKET, 'notes-mask.png', groundTruthMaskPng(scene().classIndices, WIDTH, HEIGHT, JOB_A));
  lines.push(line(`s3://${INBOX}/images/batch/notes.txt`, `s3://${GT_BUCKET}/notes-mask.png`));
  bad(`s3://${INBOX}/images/batch/notes.txt`, /^image \S+notes\.txt is not a JPEG or PNG$/);
  lines.push(line(`s3://${INBOX}/../../../etc/passwd`, `s3://${GT_BUCKET}/notes-mask.png`));
  bad(`s3://${INBOX}/../../../etc/passwd`, /escapes the local root|image not found/);
  lines.push(
    JSON.stringify(
      groundTruthFailedLine({
        source: `s3://${INBOX}/images/batch/unlabeled.jpg`,
        attribute: ATTRIBUTE,
        jobName: 'turtles',
        reason: 'ClientError: worker abandoned the task',
      }),
    ),
  );
  bad(`s3://${INBOX}/images/batch/unlabeled.jpg`, /^labeling failed: ClientError: worker abandoned the task$/);
  lines.push('{"source-ref": "s3://inbox/images/batch/cut');
  bad(null, /^not valid JSON/);
  lines.push(JSON.stringify({ 'source-ref': `s3://${INBOX}/huge.jpg`, padding: 'x'.repeat(120_000) }));
  bad(null, /longer than Ground Truth's maximum of 100000/);
  lines.push(lines[0]);
  bad(expected[0].source, /^duplicate of line 1$/);

  // A BOM, CRLF line ends and blank lines, as hand-edited manifests have.
  const manifestText = `\ufeff${lines.join('\r\n\r\n')}\r\n\n`;
  put(GT_BUCKET, 'turtles/manifests/output/output.manifest', Buffer.from(manifestText));
  return { root, manifestText, expected, skips, objects };

  async function goodWith(
    key: string,
    image: Buffer,
    mask: Buffer,
    classIndices: Uint8Array,
    width: number,
    height: number,
    how: 'copied' | 're-encoded' = 're-encoded',
  ) {
    const source = `s3://${INBOX}/${key}`;
    const maskKey = `turtles/masks/${expected.length}.png`;
    put(INBOX, key, image);
    put(GT_BUCKET, maskKey, mask);
    lines.push(line(source, `s3://${GT_BUCKET}/${maskKey}`));
    expected.push({ source, width, height, classIndices, image: how });
  }
}

/** A colour mask as an RGB or RGBA PNG; index 255 is painted `unknownRgb`. */
async function colourMaskPng(classIndices: Uint8Array, classes: LabelingClass[], channels: 3 | 4, unknownRgb = 0x000000): Promise<Buffer> {
  const pixels = Buffer.alloc(classIndices.length * channels);
  classIndices.forEach((c, i) => {
    const rgb = c === 255 ? unknownRgb : classes[c].rgb;
    pixels[i * channels] = rgb >> 16;
    pixels[i * channels + 1] = (rgb >> 8) & 0xff;
    pixels[i * channels + 2] = rgb & 0xff;
    if (channels === 4) pixels[i * channels + 3] = 255;
  });
  return sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels } })
    .png()
    .toBuffer();
}
