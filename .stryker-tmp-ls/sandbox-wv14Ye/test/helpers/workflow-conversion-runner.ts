/**
 * Plans and converts an export the way the workflow's plan and chunk Lambdas do (their modules,
 * against an S3 endpoint), in a process of its own so that its peak memory is measured alone. Prints
 * one JSON line: the plan's size and what the chunks' reports hold, or why the plan refused the export.
 *
 * Usage: node runner.js <endpoint> <batch> <export key>
 */

import type { ConversionReport } from '../../lambda/convert/conversion/report';
import { createS3Client, S3ObjectStore } from '../../lambda/convert/stores/s3-object-store';
import { convertChunk, planConversion } from '../../lambda/workflow/dataset';
import { runLayout } from '../../lambda/workflow/layout';
import { LOCAL_S3_CREDENTIALS } from '../../local/embedded-s3-server';

async function main(): Promise<void> {
  const [endpoint, batch, exportKey] = process.argv.slice(2);
  const store = new S3ObjectStore(createS3Client({ endpoint, region: 'us-east-1', credentials: LOCAL_S3_CREDENTIALS }));
  const location = {
    export: `s3://inbox/${exportKey}`,
    batch,
    inboxBucket: 'inbox',
    allowList: [
      { bucket: 'inbox', prefix: `labeled/${batch}/` },
      { bucket: 'inbox', prefix: `images/${batch}/` },
    ],
  };
  const bucket = 'artifacts';
  let plan;
  try {
    plan = await planConversion({ ...location, store, bucket, runId: batch, configuredClasses: [] });
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ refused: (err as Error).message })}\n`);
    return;
  }
  const reports: ConversionReport[] = [];
  for (const chunk of plan.chunks) {
    await convertChunk({
      ...location,
      store,
      bucket,
      runId: batch,
      chunk,
      classes: plan.classes,
      exportVersion: plan.exportVersion,
      validationFraction: 0.5,
      seed: 'segpipe',
    });
    reports.push(JSON.parse((await store.read(`s3://${bucket}/${runLayout(batch).conversionReport(chunk.index)}`)).toString('utf8')));
  }
  const reportBytes = reports.reduce((n, r) => n + JSON.stringify(r).length, 0);
  process.stdout.write(
    `${JSON.stringify({
      entries: plan.entries,
      chunks: plan.chunks.length,
      converted: reports.reduce((n, r) => n + r.counts.converted, 0),
      skipped: reports.flatMap((r) => r.skipped),
      notPainted: reports.flatMap((r) => r.items.map((i) => i.notPainted ?? {})),
      reportBytes,
    })}\n`,
  );
  store.client.destroy();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
