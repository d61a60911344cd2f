import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { convertExport } from '../../../../lambda/convert/conversion/convert-export';
import type { ConversionReport } from '../../../../lambda/convert/conversion/report';
import { manifestReader } from '../../../../lambda/convert/readers/ground-truth';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { groundTruthManifestLine, groundTruthMaskPng } from '../../../../local/ground-truth-output';
import { renderSyntheticScene, sceneToJpeg } from '../../../../local/synthetic-scenes';
import {
  buildGroundTruthFixture,
  type GroundTruthFixture,
  GT_BUCKET,
  HEIGHT,
  INBOX,
  JOB_A,
  WIDTH,
} from '../../../helpers/ground-truth-fixture';

/**
 * The README promises "re-running gives the same split, and adding items never moves an existing
 * one". The workflow converts a dataset's manifests in chunks of lines, and each run adds items, so
 * an item's split must not depend on its line, its chunk, or how many items came before it.
 */
describe('an item keeps its split when the manifest grows and is converted in chunks', () => {
  let work: string;
  let fixture: GroundTruthFixture;
  let store: FolderObjectStore;

  // As the workflow's chunks convert: the whole export read, only the chunk's entries converted.
  const convert = (manifestKey: string, out: string, range?: { first: number; last: number }) =>
    convertExport({
      reader: manifestReader({ manifest: `s3://${GT_BUCKET}/${manifestKey}`, manifestStore: store, sources: store }),
      out: join(work, out),
      output: new FolderObjectStore(),
      validationFraction: 0.5,
      ...(range ? { range } : {}),
    });

  /** Manifest lines of new labeled images (image and mask written under the fixture's root). */
  async function newLines(prefix: string, count: number, seed: number): Promise<string[]> {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const scene = renderSyntheticScene(seed + i, WIDTH, HEIGHT);
      const image = `images/${prefix}/${i}.jpg`;
      const mask = `${prefix}/masks/${i}.png`;
      put(INBOX, image, await sceneToJpeg(scene));
      put(GT_BUCKET, mask, groundTruthMaskPng(scene.classIndices, WIDTH, HEIGHT, JOB_A));
      lines.push(
        JSON.stringify(
          groundTruthManifestLine({
            source: `s3://${INBOX}/${image}`,
            mask: `s3://${GT_BUCKET}/${mask}`,
            attribute: 'turtles-ref',
            jobName: prefix,
            classes: JOB_A,
          }),
        ),
      );
    }
    return lines;
  }
  const put = (bucket: string, key: string, body: Buffer) => {
    const path = join(fixture.root, bucket, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'segpipe-split-'));
    fixture = await buildGroundTruthFixture(join(work, 'buckets'));
    store = new FolderObjectStore(fixture.root);
  });

  test('the same manifest with lines before and after, converted in chunks, gives every item the split it had', async () => {
    const first = await convert('turtles/manifests/output/output.manifest', 'first');
    const splitOf = new Map(first.items.map((item) => [item.source, item.split]));
    // A test with only one split in play could not see an item move.
    expect(new Set(splitOf.values())).toEqual(new Set(['train', 'validation']));

    const before = await newLines('earlier', 7, 5000);
    const after = await newLines('later', 5, 6000);
    // The fixture's manifest (with its BOM, CRLF, blank and bad lines), moved down by the new lines.
    const grown = `\ufeff${before.join('\n')}\n${fixture.manifestText.replace(/^\ufeff/, '')}${after.join('\n')}\n`;
    put(GT_BUCKET, 'grown/output.manifest', Buffer.from(grown));
    const totalLines = grown.split('\n').length;
    const chunkLines = 9;
    const chunks: ConversionReport[] = [];
    for (let firstLine = 1; firstLine <= totalLines; firstLine += chunkLines) {
      chunks.push(await convert('grown/output.manifest', `chunk-${firstLine}`, { first: firstLine, last: firstLine + chunkLines - 1 }));
    }
    expect(chunks.filter((c) => c.items.length > 0).length).toBeGreaterThanOrEqual(3);

    const converted = chunks.flatMap((c) => c.items);
    expect(new Set(converted.map((i) => i.source))).toEqual(
      new Set([...splitOf.keys(), ...[...before, ...after].map((l) => JSON.parse(l)['source-ref'])]),
    );
    const moved = converted.filter((item) => splitOf.has(item.source) && splitOf.get(item.source) !== item.split);
    expect(moved.map((i) => `${i.source}: ${splitOf.get(i.source)} -> ${i.split}`)).toEqual([]);

    // The added items, converted once more in one piece, agree with their chunks.
    const whole = await convert('grown/output.manifest', 'whole');
    const chunkSplit = new Map(converted.map((item) => [item.source, item.split]));
    expect(whole.items.map((i) => [i.source, i.split])).toEqual(whole.items.map((i) => [i.source, chunkSplit.get(i.source)]));
  });
});
