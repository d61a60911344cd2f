import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectTaggingCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { convertGroundTruthManifest } from '../../../../lambda/convert/conversion/convert-export';
import type { ConversionReport } from '../../../../lambda/convert/conversion/report';
import { S3ObjectStore } from '../../../../lambda/convert/stores/s3-object-store';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../../local/embedded-s3-server';
import { sha256 } from '../../../helpers/files';
import { buildGroundTruthFixture, type GroundTruthFixture, GT_BUCKET, INBOX } from '../../../helpers/ground-truth-fixture';

describe('convertGroundTruthManifest, S3 to S3 (embedded S3 server)', () => {
  let server: EmbeddedS3Server;
  let client: S3Client;
  let fixture: GroundTruthFixture;
  let report: ConversionReport;
  const commands: string[] = [];
  const copyInputs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    server = await startEmbeddedS3Server({ buckets: [INBOX, GT_BUCKET, 'artifacts'] });
    client = server.client();
    fixture = await buildGroundTruthFixture(mkdtempSync(join(tmpdir(), 'segpipe-s3-fixture-')));
    for (const { bucket, key, body } of fixture.objects) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(`${context.commandName} ${(args.input as { Key?: string }).Key}`);
        if (context.commandName === 'CopyObjectCommand') copyInputs.push(args.input as Record<string, unknown>);
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    const store = new S3ObjectStore(client, { tagging: 'segpipe:retention=scratch' });
    report = await convertGroundTruthManifest({
      manifest: `s3://${GT_BUCKET}/turtles/manifests/output/output.manifest`,
      out: 's3://artifacts/runs/run-1/channels',
      stores: { manifest: store, sources: store, output: store },
    });
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });

  test('converts every good item and reports every bad one', () => {
    expect(report.items.map((i) => i.source)).toEqual(fixture.expected.map((e) => e.source));
    // The hostile `..` key is a plain (missing) key on S3.
    expect(report.skipped).toHaveLength(fixture.skips.length);
  });

  test('masks are right pixel for pixel', async () => {
    const store = new S3ObjectStore(client);
    for (const expected of fixture.expected) {
      const item = report.items.find((i) => i.source === expected.source)!;
      const png = await store.read(`s3://artifacts/runs/run-1/channels/${item.split}_annotation/${item.name}.png`);
      expect(sha256(await sharp(png).extractChannel(0).raw().toBuffer())).toBe(sha256(expected.classIndices));
    }
  });

  test('JPEGs that need no change are copied server-side, never uploaded', () => {
    const copied = report.items.filter((i) => i.image === 'copied');
    expect(copied.length).toBeGreaterThan(5);
    for (const item of copied) {
      const key = `runs/run-1/channels/${item.split}/${item.name}.jpg`;
      expect(commands).toContain(`CopyObjectCommand ${key}`);
      expect(commands).not.toContain(`PutObjectCommand ${key}`);
    }
    const sourceKeys = fixture.expected.filter((e) => e.image === 'copied').map((e) => e.source.slice(`s3://${INBOX}/`.length));
    const fullReads = commands.filter((c) => c.startsWith('GetObjectCommand') && sourceKeys.some((k) => c.endsWith(` ${k}`)));
    // One ranged read, its head, which holds these small images whole: their end-of-image marker and
    // their hash (the duplicates across splits) come from it. One read per image, no byte uploaded.
    expect(fullReads.length).toBe(sourceKeys.length);
  });

  test('outputs carry the scratch tag the lifecycle rule expires', async () => {
    const item = report.items[0];
    const { TagSet } = await client.send(
      new GetObjectTaggingCommand({ Bucket: 'artifacts', Key: `runs/run-1/channels/${item.split}_annotation/${item.name}.png` }),
    );
    expect(TagSet).toEqual([{ Key: 'segpipe:retention', Value: 'scratch' }]);
    // s3rver ignores tags on CopyObject; S3 applies them with TaggingDirective REPLACE.
    expect(copyInputs.length).toBeGreaterThan(0);
    for (const input of copyInputs) expect(input).toMatchObject({ Tagging: 'segpipe:retention=scratch', TaggingDirective: 'REPLACE' });
  });
});
