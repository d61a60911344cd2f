import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GT_BUCKET, GroundTruthFixture, buildGroundTruthFixture } from '../helpers/ground-truth-fixture';

/** The command as users run it: the compiled bundle (`npm test` builds it first). */
function segpipe(...args: string[]) {
  return spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'segpipe.js'), ...args], { encoding: 'utf8' });
}

describe('segpipe convert', () => {
  let work: string;
  let fixture: GroundTruthFixture;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'segpipe-cli-'));
    fixture = await buildGroundTruthFixture(join(work, 'buckets'));
  });

  test('converts a downloaded labeling job with --local-root and prints a one-line summary', () => {
    const out = join(work, 'channels');
    const manifest = join(fixture.root, GT_BUCKET, 'turtles/manifests/output/output.manifest');
    const run = segpipe('convert', '--manifest', manifest, '--local-root', fixture.root, '--out', out, '--classes', 'turtle,rock', '--seed', 's1', '--validation-fraction', '0.5', '--concurrency', '2');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^segpipe convert: ${fixture.expected.length} converted \\(\\d+ train, \\d+ validation\\), ${fixture.skips.length} skipped, 3 classes \\(BACKGROUND, turtle, rock\\), 10 ignored pixels; .* report: ${out}/report.json\\n$`));
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ seed: 's1', validationFraction: 0.5, classes: ['BACKGROUND', 'turtle', 'rock'] });
  });

  test('exits non-zero with the reasons when nothing converts', () => {
    const manifest = join(work, 'bad.manifest');
    writeFileSync(manifest, '{"source-ref":"s3://inbox/none.jpg"}\nnot json\n');
    const run = segpipe('convert', '--manifest', manifest, '--local-root', fixture.root, '--out', join(work, 'none'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/nothing converted \(2 skipped\); first reasons:\n {2}line 1: s3:\/\/inbox\/none\.jpg: no semantic-segmentation label.*\n {2}line 2: \(no source\): not valid JSON/);
  });

  test('exits non-zero with a clear message when the manifest cannot be read', () => {
    const run = segpipe('convert', '--manifest', join(work, 'missing.manifest'), '--local-root', fixture.root, '--out', join(work, 'x'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^segpipe: cannot read the manifest .*missing\.manifest: not found/);
  });

  test('refuses bad options with what is allowed', () => {
    const run = segpipe('convert', '--manifest', 'm', '--out', 'o', '--validation-fraction', '1.5');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/--validation-fraction.*expected a number greater than 0 and less than 1/);
  });
});
