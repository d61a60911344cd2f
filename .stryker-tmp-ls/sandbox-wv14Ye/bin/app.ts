#!/usr/bin/env node
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { CdkJsonError, readCdkJson } from '../lib/cdk-json';
import { ConfigError, mergeContextConfig, resolveConfig } from '../lib/config';
import { SegpipeStack } from '../lib/segpipe-stack';

const app = new App();
// CDK replaces a context key given with -c as a whole; read cdk.json's object so the override deep-merges.
try {
  const cdkJson = readCdkJson(join(__dirname, '..', 'cdk.json'));
  const config = resolveConfig(mergeContextConfig(cdkJson.context?.segpipe, app.node.tryGetContext('segpipe')));
  new SegpipeStack(app, 'Segpipe', {
    config,
    description: 'segpipe: images in S3 to a semantic-segmentation endpoint, with labeling (Label Studio or Ground Truth) in between',
  });
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof CdkJsonError)) throw err;
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
