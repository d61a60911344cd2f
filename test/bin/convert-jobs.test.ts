import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGroundTruthFixture, GT_BUCKET } from '../helpers/ground-truth-fixture';

function segpipe(...args: string[]) {
  return spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'segpipe.js'), ...args], { encoding: 'utf8' });
}

function files(folder: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [join(e.parentPath, e.name).slice(folder.length), readFileSync(join(e.parentPath, e.name)).toString('base64')]),
  );
}

test('segpipe convert --jobs 2 (a thread a shard) writes the very bytes and report of --jobs 1', async () => {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-jobs-'));
  const fixture = await buildGroundTruthFixture(join(work, 'buckets'));
  const manifest = join(fixture.root, GT_BUCKET, 'turtles/manifests/output/output.manifest');
  const one = segpipe('convert', '--input', manifest, '--local-root', fixture.root, '--out', join(work, 'one'), '--jobs', '1');
  const two = segpipe('convert', '--input', manifest, '--local-root', fixture.root, '--out', join(work, 'two'), '--jobs', '2');
  expect([one.status, two.status]).toEqual([0, 0]);
  expect(two.stdout.replace(/; [\d.]+ s, \d+ items\/s; report: \S+/, '')).toBe(
    one.stdout.replace(/; [\d.]+ s, \d+ items\/s; report: \S+/, ''),
  );
  expect(files(join(work, 'two'))).toEqual(files(join(work, 'one')));
});
