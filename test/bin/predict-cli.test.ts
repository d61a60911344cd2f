import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const ROOT = join(__dirname, '..', '..');

/** segpipe in an environment with no AWS configuration at all: no variables, an empty home. */
function segpipeWithoutAws(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'segpipe.js'), ...args], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...env, HOME: mkdtempSync(join(tmpdir(), 'segpipe-home-')), AWS_EC2_METADATA_DISABLED: 'true', ...extra },
  });
}

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 40, g: 90, b: 160 } } })
    .jpeg()
    .toBuffer();
});

function anImage(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'segpipe-predict-')), 'photo.jpg');
  writeFileSync(file, jpeg);
  return file;
}

describe('segpipe predict without AWS configuration', () => {
  test('no region: one line naming --region and AWS_REGION, before any image is sent', () => {
    const run = segpipeWithoutAws(['predict', '--endpoint', 'x', '--out', join(tmpdir(), 'segpipe-unused'), anImage(), anImage()]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^segpipe: no AWS region: pass --region \(e\.g\. --region eu-west-1\) or set AWS_REGION[^\n]*\n$/);
  });

  test('no credentials: one line saying how to provide them', () => {
    const run = segpipeWithoutAws(['predict', '--endpoint', 'x', '--out', join(tmpdir(), 'segpipe-unused'), anImage()], {
      AWS_REGION: 'eu-west-1',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^segpipe: no AWS credentials: run `aws configure`[^\n]*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n$/);
  });

  test("the local run's endpoint needs neither (and the SDK's Node.js notice is not printed)", () => {
    // A port nothing listens on: the request is made, and fails as a connection, not as configuration.
    const run = segpipeWithoutAws([
      'predict',
      '--endpoint',
      'x',
      '--endpoint-url',
      'http://127.0.0.1:9',
      '--out',
      mkdtempSync(join(tmpdir(), 'segpipe-out-')),
      anImage(),
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).not.toMatch(/region|credentials/i);
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
    expect(run.stderr).toMatch(/^.*photo\.jpg: .*\nsegpipe: 1 of 1 images failed\n$/);
  });

  test('--help shows examples', () => {
    expect(segpipeWithoutAws(['predict', '--help']).stdout).toMatch(
      /Examples:\n.*\n +npx segpipe predict --endpoint segpipe-endpoint --region eu-west-1/,
    );
  });
});
