import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertCommand } from '../../../bin/commands/convert';
import { maskPrediction } from '../../../lambda/labelstudio/tasks';
import { renderSyntheticScene, sceneToJpeg } from '../../../local/synthetic-scenes';
import { runCommand } from '../../helpers/cli';

/** One target storage serves a whole project: a conversion takes one batch's tasks (or one project's) and reports the others. */
test('segpipe convert of a target-storage folder keeps the tasks of --labelstudio-batch and --labelstudio-project, and reports the rest', async () => {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-convert-ls-'));
  mkdirSync(join(work, 'images'));
  mkdirSync(join(work, 'annotations'));
  const scene = renderSyntheticScene(9, 32, 24);
  writeFileSync(join(work, 'images', 'a.jpg'), await sceneToJpeg(scene));
  const { prediction } = maskPrediction({
    mask: scene.classIndices,
    width: 32,
    height: 24,
    classes: ['turtle', 'rock'],
    modelVersion: 'm',
  });
  const annotation = (id: number, batch: string, project: number) =>
    JSON.stringify({
      id,
      result: prediction.result,
      was_cancelled: false,
      updated_at: '2026-12-07T10:00:00Z',
      task: { id: 100 + id, project, data: { image: 'a.jpg' }, meta: { batch, generation: '1', run: 'r' } },
    });
  writeFileSync(join(work, 'annotations', '1'), annotation(1, 'turtles', 3));
  writeFileSync(join(work, 'annotations', '2'), annotation(2, 'seals', 3));
  writeFileSync(join(work, 'annotations', '3'), annotation(3, 'turtles', 4));
  const out = join(work, 'channels');
  const { error } = await runCommand(convertCommand(), [
    '--input',
    join(work, 'annotations'),
    '--images',
    join(work, 'images'),
    '--out',
    out,
    '--classes',
    'turtle,rock',
    '--labelstudio-batch',
    'turtles',
    '--labelstudio-project',
    '3',
  ]);
  expect(error).toBeUndefined();
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  expect(report.counts).toMatchObject({ converted: 1, skipped: 2 });
  expect(report.skipped.map((s: { reason: string }) => s.reason)).toEqual([
    `${join(work, 'annotations', '2')}: task 102 is of batch "seals", not turtles`,
    `${join(work, 'annotations', '3')}: task 103 is of Label Studio project "4", not 3`,
  ]);
});
