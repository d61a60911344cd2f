import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { labelStudioSetupText } from '../../lambda/labelstudio/setup';
import { mergeContextConfig, resolveConfig } from '../../lib/config';
import { parseClassList } from './convert';
import { repositoryRoot } from './estimate';

interface SetupOptions {
  bucket: string;
  origin: string;
  region?: string;
  classes?: string[];
  config?: string;
  kmsKeyArn?: string;
  modelVersion?: string;
}

/** `segpipe labelstudio setup`: what to paste into Label Studio (and AWS) to label the inbox's batches there. */
export function labelStudioCommand(): Command {
  const setup = new Command('setup')
    .description(
      'print the labeling configuration, the source and target storage settings, a least-privilege IAM policy and the inbox CORS rule for Label Studio',
    )
    .requiredOption('--bucket <name>', '(required) the inbox bucket (the stack output InboxBucketName)')
    .requiredOption(
      '--origin <url>',
      '(required) the address browsers open Label Studio at, e.g. https://label-studio.example.com (the only origin the CORS rule allows)',
    )
    .option('--region <region>', "the inbox's region (default: AWS_REGION)")
    .option('--classes <names>', 'class names of indices 1, 2, ... (default: labelClasses of cdk.json and --config)', parseClassList)
    .option('--config <json>', "configuration deep-merged over cdk.json's, as with cdk -c segpipe=<json>")
    .option('--kms-key-arn <arn>', 'the inbox\'s KMS key, when storage.encryption is "kms" (default: storage.kmsKeyArn)')
    .option('--model-version <name>', 'the model version the project shows predictions of (default: the one each run notification names)')
    .addHelpText(
      'after',
      `
Example:
  npx segpipe labelstudio setup --bucket segpipe-inbox-123 --region eu-west-1 --origin https://label-studio.example.com`,
    )
    .action((options: SetupOptions) => {
      const cdkJson = JSON.parse(readFileSync(join(repositoryRoot(), 'cdk.json'), 'utf8'));
      const config = resolveConfig(mergeContextConfig(cdkJson.context?.segpipe, options.config));
      const classes = options.classes ?? config.labelClasses;
      const region = options.region ?? process.env.AWS_REGION;
      const problems: string[] = [];
      if (classes.length === 0) problems.push('no classes: set labelClasses in the configuration or pass --classes');
      if (!region) problems.push('no region: pass --region or set AWS_REGION');
      const kmsKeyArn = options.kmsKeyArn ?? config.storage.kmsKeyArn;
      if (config.storage.encryption === 'kms' && !kmsKeyArn)
        problems.push('storage.encryption is "kms": pass --kms-key-arn with the inbox\'s key (the stack\'s data key)');
      if (problems.length > 0) throw new Error(problems.join('; '));
      process.stdout.write(
        labelStudioSetupText({
          inboxBucket: options.bucket,
          region: region!,
          classes,
          origin: options.origin,
          kmsKeyArn,
          modelVersion: options.modelVersion,
        }),
      );
    });
  return new Command('labelstudio').description('connect Label Studio to the inbox').addCommand(setup);
}
