import { isMainThread, workerData } from 'node:worker_threads';
import { Command } from 'commander';
import { replaceSdkNodeVersionNotice } from './node-support';

const sayNodeVersionNotice = replaceSdkNodeVersionNotice();

/**
 * Each command's module, loaded only when needed: between them they import the AWS SDK clients,
 * aws-cdk-lib and s3rver, whose loading would add 0.3-0.6 s to every command (convert included).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  convert: async () => (await import('./commands/convert')).convertCommand(),
  estimate: async () => (await import('./commands/estimate')).estimateCommand(),
  predict: async () => (await import('./commands/predict')).predictCommand(),
  prelabel: async () => (await import('./commands/prelabel')).prelabelCommand(),
  labelstudio: async () => (await import('./commands/labelstudio')).labelStudioCommand(),
  evaluate: async () => (await import('./commands/evaluate')).evaluateCommand(),
  local: async () => (await import('./commands/local')).localCommand(),
};

async function main(): Promise<void> {
  const program = new Command()
    .name('segpipe')
    .description(
      'images in S3 to a SageMaker semantic-segmentation endpoint: convert labeling output, estimate costs, predict, evaluate an endpoint, and run it all locally',
    )
    .version('0.1.0');
  // The invoked command alone; anything else (--help, help <command>, a misspelt name) needs them all.
  const invoked = process.argv[2];
  const names = Object.hasOwn(COMMANDS, invoked) ? [invoked] : Object.keys(COMMANDS);
  for (const name of names) program.addCommand(await COMMANDS[name]());
  program.hook('preAction', sayNodeVersionNotice);
  await program.parseAsync(process.argv);
}

if (!isMainThread && workerData?.convertShard) {
  // A thread of `segpipe convert --jobs`: this same file, converting its share of the export.
  void import('./commands/convert').then((convert) => convert.convertShardInWorker(workerData.convertShard));
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`segpipe: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
