import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCommand } from '../../bin/commands/convert';
import { runCommand } from '../helpers/cli';
import { H, jpeg, W } from '../helpers/format-fixtures';

/**
 * `segpipe convert --local-root` reads exports as the workflow reads an upload: someone else's. A COCO
 * export under `labeled/<batch>/` names its images; a link among them leads elsewhere under the root
 * (another batch's image) or out of it, and neither is followed.
 */
describe("--local-root: an export's images are read from its own folder, links included", () => {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-local-root-links-'));
  const root = join(work, 'buckets');
  const exportFolder = join(root, 'inbox', 'labeled', 'mine');

  beforeAll(async () => {
    mkdirSync(exportFolder, { recursive: true });
    mkdirSync(join(root, 'inbox', 'images', 'theirs'), { recursive: true });
    mkdirSync(join(work, 'elsewhere'), { recursive: true });
    writeFileSync(join(exportFolder, 'own.jpg'), await jpeg(1));
    writeFileSync(join(root, 'inbox', 'images', 'theirs', 'private.jpg'), await jpeg(2));
    writeFileSync(join(work, 'elsewhere', 'secret.jpg'), await jpeg(3));
    symlinkSync(join(root, 'inbox', 'images', 'theirs', 'private.jpg'), join(exportFolder, 'other-batch.jpg'));
    symlinkSync(join(work, 'elsewhere', 'secret.jpg'), join(exportFolder, 'outside.jpg'));
    const square = [0, 0, W, 0, W, H, 0, H];
    const images = ['own.jpg', 'other-batch.jpg', 'outside.jpg'].map((file_name, i) => ({ id: i + 1, file_name, width: W, height: H }));
    writeFileSync(
      join(exportFolder, 'coco.json'),
      JSON.stringify({
        categories: [{ id: 1, name: 'turtle' }],
        images,
        annotations: images.map((image) => ({
          id: image.id,
          image_id: image.id,
          category_id: 1,
          segmentation: [square],
          area: W * H,
          bbox: [0, 0, W, H],
          iscrowd: 0,
        })),
      }),
    );
  });

  test("only the image really in the export's folder converts; each link is skipped with its reason", async () => {
    const out = join(work, 'out');
    const run = await runCommand(convertCommand(), ['--input', 's3://inbox/labeled/mine/coco.json', '--local-root', root, '--out', out]);
    expect(run.error).toBeUndefined();
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.items.map((i: { source: string }) => i.source)).toEqual(['own.jpg']);
    expect(report.skipped.map((s: { source: string; reason: string }) => [s.source, s.reason]).sort()).toEqual([
      ['other-batch.jpg', expect.stringMatching(/other-batch\.jpg is a link that leads outside s3:\/\/inbox\/labeled\/mine/)],
      ['outside.jpg', expect.stringMatching(/outside\.jpg is a link that leads outside/)],
    ]);
  });

  test('without --local-root, a folder the user names is theirs: its links are followed', async () => {
    const out = join(work, 'out-own');
    const run = await runCommand(convertCommand(), ['--input', join(exportFolder, 'coco.json'), '--out', out]);
    expect(run.error).toBeUndefined();
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.items).toHaveLength(3);
  });
});
