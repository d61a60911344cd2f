import { Command, InvalidArgumentError, Option } from 'commander';
import { localImageCountProblem, MAX_LOCAL_IMAGES, MIN_LOCAL_IMAGES, runLocally } from '../../local/local-run';

interface LocalOptions {
  images: number;
  import?: string;
  dataDir?: string;
  keep: boolean;
  trainer: 'builtin' | 'pytorch';
  labeling: 'groundtruth' | 'labelstudio';
}

/** `--images`, refused before anything starts when a run of that many cannot complete. */
function parseLocalImageCount(value: string): number {
  const images = Number(value);
  const problem = localImageCountProblem(images);
  if (problem) throw new InvalidArgumentError(problem);
  return images;
}

/** `segpipe local`: the whole workflow on this machine, with local stand-ins for AWS. */
export function localCommand(): Command {
  return new Command('local')
    .description(
      'run the whole workflow on this machine without AWS: embedded S3, the synthesized state machine, local stand-ins for SageMaker',
    )
    .option('--images <n>', `synthetic photos in the batch, ${MIN_LOCAL_IMAGES} to ${MAX_LOCAL_IMAGES}`, parseLocalImageCount, 40)
    .option(
      '--import <export>',
      'run from a labeling export (a CVAT or VOC zip or folder, a COCO or Label Studio JSON with its images, a zip of any of them) instead of synthetic photos: dropped under labeled/<batch>/ as on AWS, it skips labeling',
    )
    .option(
      '--data-dir <dir>',
      'where everything goes: S3 data, channels, report, overlays, notifications (default: a fresh temporary folder); a second run in the same folder is a second batch',
    )
    .option('--keep', 'keep the S3 server and the endpoint serving until Ctrl-C, and print the commands to try against them', false)
    .addOption(
      new Option(
        '--trainer <trainer>',
        "builtin: the stand-in's small CPU model in place of the built-in algorithm; pytorch: the real PyTorch training script and its inference code, on a local Python with torch and torchvision (python3-torch)",
      )
        .choices(['builtin', 'pytorch'])
        .default('builtin'),
    )
    .addOption(
      new Option(
        '--labeling <tool>',
        "who labels: a simulated Ground Truth workforce, or a simulated person answering Label Studio tasks (a second run in the same --data-dir shows the first run's model's pre-labels in its tasks)",
      )
        .choices(['groundtruth', 'labelstudio'])
        .default('groundtruth'),
    )
    .addHelpText(
      'after',
      `
Examples:
  # the default demo: 40 images, under a minute (15 s measured on 2 idle cores, 40 to 55 s on busy ones)
  npx segpipe local
  # a bigger batch in a folder of your choice, then a second batch that trains on both
  npx segpipe local --images 200 --data-dir ./segpipe-demo
  npx segpipe local --images 200 --data-dir ./segpipe-demo
  # keep the local S3 and endpoint up and print the predict and aws s3 commands to try
  npx segpipe local --keep
  # your own labels: a CVAT "Segmentation mask 1.1" zip, or a COCO export's folder
  npx segpipe local --import task_turtles-segmentation_mask_1.1.zip
  npx segpipe local --import ./coco-export --data-dir ./segpipe-demo
  # the PyTorch trainer: its real script on the CPU, served by its own inference code (minutes)
  npx segpipe local --trainer pytorch
  # the Label Studio path: tasks out, annotations back; run twice for pre-labels
  npx segpipe local --labeling labelstudio --data-dir ./segpipe-ls`,
    )
    .action(async (options: LocalOptions, command: Command) => {
      if (options.import !== undefined && command.getOptionValueSource('images') === 'cli')
        command.error('error: give --images (synthetic photos) or --import (your export), not both');
      if (options.import !== undefined && options.labeling === 'labelstudio')
        command.error('error: --import skips labeling; --labeling labelstudio labels synthetic photos: give one of them');
      const result = await runLocally({
        images: options.images,
        import: options.import,
        dataDir: options.dataDir,
        keep: options.keep,
        trainer: options.trainer,
        labeling: options.labeling,
      });
      if (options.keep) {
        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        await result.close();
      }
      if (result.status !== 'SUCCEEDED') process.exitCode = 1;
    });
}
