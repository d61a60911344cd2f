import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertGroundTruthManifest } from '../../../../lambda/convert/conversion/convert-export';
import { FolderObjectStore } from '../../../../lambda/convert/stores/folder-object-store';
import { groundTruthManifestLine, groundTruthMaskPng, labelingClasses } from '../../../../local/ground-truth-output';
import { grid, H, jpeg, W } from '../../../helpers/format-fixtures';

describe('--local-root is a boundary for the sources a manifest names', () => {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-boundary-'));
  const root = join(work, 'buckets');
  const outside = join(work, 'outside');
  const classes = labelingClasses(['turtle']);
  const line = (source: string, mask = 's3://gt/mask.png') =>
    JSON.stringify(groundTruthManifestLine({ source, mask, attribute: 'a-ref', jobName: 'j', classes }));

  beforeAll(async () => {
    mkdirSync(join(root, 'inbox', 'images'), { recursive: true });
    mkdirSync(join(root, 'gt'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'secret.jpg'), await jpeg(1));
    writeFileSync(
      join(outside, 'secret-mask.png'),
      groundTruthMaskPng(
        grid(() => 1),
        W,
        H,
        classes,
      ),
    );
    for (const name of ['inside', 'inside-2', 'inside-3']) writeFileSync(join(root, 'inbox', 'images', `${name}.jpg`), await jpeg(2));
    writeFileSync(
      join(root, 'gt', 'mask.png'),
      groundTruthMaskPng(
        grid((x) => (x < 10 ? 1 : 0)),
        W,
        H,
        classes,
      ),
    );
    symlinkSync(join(outside, 'secret.jpg'), join(root, 'inbox', 'images', 'link.jpg'));
    symlinkSync(outside, join(root, 'inbox', 'linked-folder'));
    symlinkSync(join(outside, 'secret-mask.png'), join(root, 'gt', 'link-mask.png'));
  });

  test('plain paths and links that lead out of the root are refused per item; what is inside converts', async () => {
    const manifest = join(work, 'output.manifest');
    writeFileSync(
      manifest,
      [
        line('s3://inbox/images/inside.jpg'),
        line(join(outside, 'secret.jpg')),
        line('s3://inbox/images/link.jpg'),
        line('s3://inbox/linked-folder/secret.jpg'),
        line('s3://inbox/images/inside-2.jpg', 's3://gt/link-mask.png'),
        line('s3://inbox/images/inside-3.jpg', join(outside, 'secret-mask.png')),
      ].join('\n'),
    );
    const out = join(work, 'out');
    const report = await convertGroundTruthManifest({
      manifest,
      out,
      stores: {
        manifest: new FolderObjectStore(),
        sources: new FolderObjectStore(root, { onlyUnderRoot: true }),
        output: new FolderObjectStore(),
      },
    });
    expect(report.items.map((i) => i.source)).toEqual(['s3://inbox/images/inside.jpg']);
    expect(report.skipped.map((s) => [s.line, s.reason])).toEqual([
      [2, expect.stringMatching(/is not an s3:\/\/ address; with a local root only s3:\/\/BUCKET\/KEY is read/)],
      [3, expect.stringMatching(/is a link that leads outside the local root/)],
      [4, expect.stringMatching(/is a link that leads outside the local root/)],
      [5, expect.stringMatching(/is a link that leads outside the local root/)],
      [6, expect.stringMatching(/is not an s3:\/\/ address/)],
    ]);
    expect(readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.jpg'))).toHaveLength(1);
  });
});
