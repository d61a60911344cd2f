import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { Command } from 'commander';
import { checkRegionAndCredentials } from '../aws-client-check';
import { predictSegmentation } from '../predict/predict';
import { runtimeClientFor } from '../predict/runtime-client';
import { parseClassList } from './convert';

interface PredictOptions {
  endpoint: string;
  out: string;
  region?: string;
  endpointUrl?: string;
  classes?: string[];
}

/** An input image's bytes, or why it is not one, in words (never a raw EISDIR or a decoder's message). */
export function readInputImage(path: string): Buffer {
  let info;
  try {
    info = statSync(path);
  } catch {
    throw new Error('no such file');
  }
  if (info.isDirectory()) throw new Error(`is a folder: give its images (e.g. ${join(path, '*.jpg')})`);
  const data = readFileSync(path);
  const jpeg = data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
  const png = data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  if (!jpeg && !png) throw new Error('is not a JPEG or PNG image');
  return data;
}

/** `segpipe predict`: an endpoint's masks for some images, drawn over them. */
export function predictCommand(): Command {
  return new Command('predict')
    .description("send images to a semantic-segmentation endpoint and write each one's class mask and an overlay with a legend")
    .argument('<image...>', 'JPEG or PNG images')
    .requiredOption('--endpoint <name>', "(required) the SageMaker endpoint (segpipe's stack output EndpointName)")
    .requiredOption('--out <dir>', '(required) folder for <name>.mask.png and <name>.overlay.png')
    .option('--region <region>', "the endpoint's region (default: from the AWS configuration)")
    .option('--endpoint-url <url>', "the SageMaker runtime URL, e.g. the local run's")
    .option(
      '--classes <names>',
      "class names of indices 1, 2, ... for the legend, comma-separated (see the run report's classes)",
      parseClassList,
    )
    .addHelpText(
      'after',
      `
Examples:
  # the deployed endpoint (the stack's EndpointName output), class names from the run report
  npx segpipe predict --endpoint segpipe-endpoint --region eu-west-1 --classes turtle,rock --out predictions/ photo1.jpg photo2.png
  # the local run's endpoint (npx segpipe local --keep prints this command with its URL)
  npx segpipe predict --endpoint segpipe-endpoint --endpoint-url http://127.0.0.1:<port> --out predictions/ photo.jpg`,
    )
    .action(async (images: string[], options: PredictOptions) => {
      const client = runtimeClientFor(options);
      try {
        await checkRegionAndCredentials(client);
      } catch (err) {
        client.destroy();
        throw err;
      }
      mkdirSync(options.out, { recursive: true });
      let failed = 0;
      const used = new Set<string>();
      for (const image of images) {
        // Two inputs of the same name (a/photo.jpg, b/photo.jpg) must not overwrite each other's outputs.
        const base = basename(image, extname(image));
        let name = base;
        for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
        used.add(name);
        try {
          const data = readInputImage(image);
          const prediction = await predictSegmentation(client, options.endpoint, data, options.classes ?? []).catch((err: Error) => {
            // sharp's own words for a file it cannot decode (a truncated JPEG): said as such.
            throw /Input (buffer|file)|VipsJpeg|pngload|unsupported image format/i.test(err.message)
              ? new Error('cannot be decoded as an image (truncated or corrupt?)')
              : err;
          });
          const maskPath = join(options.out, `${name}.mask.png`);
          const overlayPath = join(options.out, `${name}.overlay.png`);
          writeFileSync(maskPath, prediction.maskPng);
          writeFileSync(overlayPath, prediction.overlayPng);
          const shares = prediction.classNames.map((c, i) => `${c} ${(prediction.fractions[i] * 100).toFixed(1)}%`).join(', ');
          process.stdout.write(
            `${image} → ${maskPath}, ${overlayPath} (${prediction.width}×${prediction.height}${prediction.scaled ? ', sent scaled down to fit the 6 MiB request limit' : ''}): ${shares}\n`,
          );
        } catch (err) {
          failed += 1;
          process.stderr.write(`${image}: ${(err as Error).message}\n`);
        }
      }
      client.destroy();
      if (failed > 0) throw new Error(`${failed} of ${images.length} images failed`);
    });
}
