import { predictCommand } from '../../../bin/commands/predict';
import { runCommand } from '../../helpers/cli';

describe('segpipe predict options, parsed in-process', () => {
  test('--classes refuses an empty or repeated name before any image is read or sent', async () => {
    for (const classes of ['turtle,,rock', 'turtle,turtle']) {
      const run = await runCommand(predictCommand(), ['--endpoint', 'x', '--endpoint-url', 'http://127.0.0.1:9', '--classes', classes, '--out', '/nonexistent/out', '/nonexistent/a.jpg']);
      expect(run.stderr).toContain(`error: option '--classes <names>' argument '${classes}' is invalid. expected unique, non-empty class names separated by commas`);
      expect(run.error).toMatchObject({ code: 'commander.invalidArgument' });
      expect(run.stdout).toBe('');
    }
  });

  test('--endpoint and --out are required, and at least one image', async () => {
    expect((await runCommand(predictCommand(), ['--out', 'o', 'a.jpg'])).stderr).toContain("error: required option '--endpoint <name>' not specified");
    expect((await runCommand(predictCommand(), ['--endpoint', 'x', 'a.jpg'])).stderr).toContain("error: required option '--out <dir>' not specified");
    expect((await runCommand(predictCommand(), ['--endpoint', 'x', '--out', 'o'])).stderr).toContain("error: missing required argument 'image'");
  });
});
