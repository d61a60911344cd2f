import { Command } from 'commander';
import { runLocally } from '../../lambda/local/local-run';
import { parsePositiveInteger } from './convert';

interface LocalOptions {
  images: number;
  dataDir?: string;
  keep: boolean;
}

/** `segpipe local`: the whole workflow on this machine, with local stand-ins for AWS. */
export function localCommand(): Command {
  return new Command('local')
    .description('run the whole workflow on this machine without AWS: embedded S3, the synthesized state machine, local stand-ins for SageMaker')
    .option('--images <n>', 'synthetic photos in the batch', parsePositiveInteger, 40)
    .option('--data-dir <dir>', 'where everything goes: S3 data, channels, report, overlays, notifications (default: a fresh temporary folder); a second run in the same folder is a second batch')
    .option('--keep', 'keep the S3 server and the endpoint serving until Ctrl-C', false)
    .action(async (options: LocalOptions) => {
      // The local run reaches no AWS service: the SDK's notice about Node 20 support is noise here.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const result = await runLocally({ images: options.images, dataDir: options.dataDir, keep: options.keep });
      if (options.keep) {
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        await result.close();
      }
      if (result.status !== 'SUCCEEDED') process.exitCode = 1;
    });
}
