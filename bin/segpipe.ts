import { Command } from 'commander';
import { benchCommand } from './commands/bench';
import { convertCommand } from './commands/convert';
import { estimateCommand } from './commands/estimate';
import { localCommand } from './commands/local';
import { predictCommand } from './commands/predict';
import { replaceSdkNodeVersionNotice } from './node-support';

const sayNodeVersionNotice = replaceSdkNodeVersionNotice();

const program = new Command()
  .name('segpipe')
  .description('images in S3 to a SageMaker semantic-segmentation endpoint: convert labeling output, estimate costs, predict, and run it all locally')
  .version('0.1.0')
  .addCommand(convertCommand())
  .addCommand(estimateCommand())
  .addCommand(predictCommand())
  .addCommand(localCommand())
  .addCommand(benchCommand());

program.hook('preAction', sayNodeVersionNotice);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`segpipe: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
