import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../local/embedded-s3-server';
import { buildGroundTruthFixture, type GroundTruthFixture, GT_BUCKET, INBOX } from '../helpers/ground-truth-fixture';

/** The bundle in a child process, asynchronously: the S3 server it talks to runs in this process. */
function segpipe(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(__dirname, '..', '..', 'bin', 'segpipe.js'), ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('segpipe convert against an S3-compatible store (embedded S3 server)', () => {
  let server: EmbeddedS3Server;
  let client: S3Client;
  let fixture: GroundTruthFixture;

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: [INBOX, GT_BUCKET, 'artifacts'] });
    client = server.client();
    fixture = await buildGroundTruthFixture(mkdtempSync(join(tmpdir(), 'segpipe-s3-cli-fixture-')));
    for (const { bucket, key, body } of fixture.objects) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  test('reads and writes the store given --endpoint-url', async () => {
    const run = await segpipe(
      [
        'convert',
        '--manifest',
        `s3://${GT_BUCKET}/turtles/manifests/output/output.manifest`,
        '--out',
        's3://artifacts/cli/channels',
        '--endpoint-url',
        server.endpoint,
        '--region',
        'us-east-1',
      ],
      {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    );
    expect(run.stderr).toBe(
      'segpipe convert: s3://gt-output/turtles/manifests/output/output.manifest read as groundtruth (Ground Truth output manifest (JSON Lines with source-ref))\n',
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`segpipe convert: ${fixture.expected.length} converted`);
    expect(run.stdout).toContain('report: s3://artifacts/cli/channels/report.json');
  });
});
