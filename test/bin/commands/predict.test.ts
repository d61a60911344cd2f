import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predictCommand } from '../../../bin/commands/predict';
import { runCommand } from '../../helpers/cli';
import { FakeRuntime } from '../../helpers/fake-runtime';

describe('segpipe predict options, parsed in-process', () => {
  test('--classes refuses an empty or repeated name before any image is read or sent', async () => {
    for (const classes of ['turtle,,rock', 'turtle,turtle']) {
      const run = await runCommand(predictCommand(), [
        '--endpoint',
        'x',
        '--endpoint-url',
        'http://127.0.0.1:9',
        '--classes',
        classes,
        '--out',
        '/nonexistent/out',
        '/nonexistent/a.jpg',
      ]);
      expect(run.stderr).toContain(
        `error: option '--classes <names>' argument '${classes}' is invalid. expected unique, non-empty class names separated by commas`,
      );
      expect(run.error).toMatchObject({ code: 'commander.invalidArgument' });
      expect(run.stdout).toBe('');
    }
  });

  test('--endpoint and --out are required, and at least one image', async () => {
    expect((await runCommand(predictCommand(), ['--out', 'o', 'a.jpg'])).stderr).toContain(
      "error: required option '--endpoint <name>' not specified",
    );
    expect((await runCommand(predictCommand(), ['--endpoint', 'x', 'a.jpg'])).stderr).toContain(
      "error: required option '--out <dir>' not specified",
    );
    expect((await runCommand(predictCommand(), ['--endpoint', 'x', '--out', 'o'])).stderr).toContain(
      "error: missing required argument 'image'",
    );
  });
});

describe('segpipe predict inputs that are no image: one line each, never a raw EISDIR or decoder error', () => {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-predict-inputs-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('a folder, a missing file, a text file, a truncated JPEG', async () => {
    const runtime = new FakeRuntime();
    const endpointUrl = await runtime.start();
    try {
      mkdirSync(join(work, 'photos'));
      writeFileSync(join(work, 'notes.txt'), 'not an image');
      writeFileSync(join(work, 'cut.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]));
      const inputs = ['photos', 'missing.jpg', 'notes.txt', 'cut.jpg'].map((f) => join(work, f));
      const run = await runCommand(predictCommand(), [
        '--endpoint',
        'segpipe-endpoint',
        '--endpoint-url',
        endpointUrl,
        '--out',
        join(work, 'out'),
        ...inputs,
      ]);
      expect(run.stderr.split('\n').filter(Boolean)).toEqual([
        `${inputs[0]}: is a folder: give its images (e.g. ${join(inputs[0], '*.jpg')})`,
        `${inputs[1]}: no such file`,
        `${inputs[2]}: is not a JPEG or PNG image`,
        `${inputs[3]}: cannot be decoded as an image (truncated or corrupt?)`,
      ]);
      expect(run.error?.message).toBe('4 of 4 images failed');
      expect(runtime.requests).toEqual([]);
    } finally {
      await runtime.close();
    }
  });
});
