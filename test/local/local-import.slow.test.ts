import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cocoPolygonExport, colourMaskPng, cvatLabels, randomPolygonObjects, writeCvatExport } from '../../local/export-fixtures';
import type { LocalRunResult, runLocally } from '../../local/local-run';
import { renderSyntheticScene, sceneToJpeg } from '../../local/synthetic-scenes';
import { zipFolder } from '../helpers/format-fixtures';

const work = mkdtempSync(join(tmpdir(), 'segpipe-local-import-run-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A local run in a process of its own would load the handlers afresh: so does each run here. */
async function localRun(importExport: string, dataDir: string, lines: string[]): Promise<LocalRunResult> {
  jest.resetModules();
  const { runLocally: run } = (await import('../../local/local-run')) as { runLocally: typeof runLocally };
  return run({ import: importExport, dataDir, epochs: 6, log: (line) => lines.push(line) });
}

/**
 * `segpipe local --import` from generated exports as the tools write them: a CVAT "Segmentation
 * mask 1.1" zip (colour masks and labelmap.txt, wrapped in a folder as CVAT zips it) and a COCO
 * export's folder (annotations/instances_default.json beside images/, as CVAT's "COCO 1.0" writes it),
 * each through labeled/<batch>/ and the whole workflow, no labeling.
 */
describe('segpipe local --import', () => {
  test('a CVAT zip: imported, converted, trained and deployed on this machine', async () => {
    const labels = cvatLabels(['turtle', 'rock']);
    const items = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const scene = renderSyntheticScene(500 + i, 96, 72);
        return {
          stem: `frame_${String(i).padStart(6, '0')}`,
          image: await sceneToJpeg(scene),
          mask: await colourMaskPng(
            scene.classIndices,
            96,
            72,
            labels.map((l) => l.rgb),
          ),
        };
      }),
    );
    writeCvatExport(join(work, 'cvat'), items, labels);
    zipFolder(join(work, 'cvat'), join(work, 'task_turtles-segmentation_mask_1.1.zip'), 'task_turtles');
    const lines: string[] = [];
    const result = await localRun(join(work, 'task_turtles-segmentation_mask_1.1.zip'), join(work, 'run-cvat'), lines);
    const output = lines.join('\n');
    expect(output).toContain('dropped');
    expect(output).toMatch(
      /as s3:\/\/inbox\/labeled\/local-demo-1\/task_turtles-segmentation_mask_1\.1\.zip \(read as cvat: 12 labeled items\)/,
    );
    expect(output).toMatch(/▸ Labels imported\?$/m);
    expect(output).not.toMatch(/▸ Label$/m);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report).toMatchObject({ status: 'deployed', classes: ['background', 'turtle', 'rock'] });
    const channel = (name: string) => readdirSync(join(result.channelsDir!, name));
    expect(channel('train').length + channel('validation').length).toBe(12);
    expect(channel('validation').length).toBeGreaterThan(0);
  }, 240_000);

  test('a COCO export folder: its images found beside annotations/, and its classes used', async () => {
    const dir = join(work, 'coco');
    mkdirSync(join(dir, 'images'), { recursive: true });
    mkdirSync(join(dir, 'annotations'), { recursive: true });
    const images = [];
    for (let i = 0; i < 10; i++) {
      writeFileSync(join(dir, 'images', `img_${i}.jpg`), await sceneToJpeg(renderSyntheticScene(700 + i, 80, 60)));
      images.push({ fileName: `img_${i}.jpg`, width: 80, height: 60, objects: randomPolygonObjects(i, 80, 60, [1, 2]) });
    }
    writeFileSync(
      join(dir, 'annotations', 'instances_default.json'),
      JSON.stringify(
        cocoPolygonExport(images, [
          { id: 1, name: 'seal', supercategory: '' },
          { id: 2, name: 'buoy', supercategory: '' },
        ]),
      ),
    );
    const lines: string[] = [];
    const result = await localRun(dir, join(work, 'run-coco'), lines);
    expect(lines.join('\n')).toMatch(/dropped .*coco zipped \(11 files\).* \(read as coco: 10 labeled items\)/);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.report!.classes).toEqual(['BACKGROUND', 'seal', 'buoy']);
    expect(result.report!.counts).toMatchObject({ converted: 10, skipped: 0 });
  }, 240_000);
});
