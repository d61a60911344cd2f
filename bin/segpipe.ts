import { Command } from 'commander';
import { benchCommand } from './commands/bench';
import { convertCommand } from './commands/convert';
import { estimateCommand } from './commands/estimate';
import { predictCommand } from './commands/predict';

const program = new Command()
  .name('segpipe')
  .description('Ground Truth semantic-segmentation output to SageMaker Semantic Segmentation channels, and back to pictures')
  .version('0.1.0')
  .addCommand(convertCommand())
  .addCommand(estimateCommand())
  .addCommand(predictCommand())
  .addCommand(benchCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`segpipe: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
