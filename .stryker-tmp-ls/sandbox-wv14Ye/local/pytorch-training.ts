import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import * as tar from 'tar';
import { parseS3Uri } from '../lambda/convert/stores/object-store';
import type { S3ObjectStore } from '../lambda/convert/stores/s3-object-store';
import { readChannelManifest } from '../lambda/workflow/channel-manifest';
import { PYTORCH_SOURCE_DIR } from '../lib/workflow/pytorch-trainer';
import { completedTrainingJob, modelArtifactUri } from './local-training';
import { requireTorchPython } from './torch-python';

/** The parts of a CreateTrainingJob request for the PyTorch container that the stand-in reads. */
export interface PyTorchTrainingJobRequest {
  readonly TrainingJobName: string;
  readonly AlgorithmSpecification: { TrainingImage: string; MetricDefinitions?: readonly { Name: string; Regex: string }[] };
  readonly HyperParameters: Record<string, string>;
  readonly InputDataConfig: readonly { ChannelName: string; DataSource: { S3DataSource: { S3DataType?: string; S3Uri: string } } }[];
  readonly OutputDataConfig: { S3OutputPath: string };
}

/** Whether a training request runs SageMaker's PyTorch training container. */
export function isPyTorchTrainingJob(request: { AlgorithmSpecification?: { TrainingImage?: string } }): boolean {
  return /\/pytorch-training:/.test(request.AlgorithmSpecification?.TrainingImage ?? '');
}

const validationError = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });

/** A hyperparameter as the training toolkit reads it: JSON when it parses, else the string itself. */
function decode(value: string): string {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : String(parsed);
  } catch {
    return value;
  }
}

/**
 * The script's command line as SageMaker's training toolkit builds it: every hyperparameter but the
 * toolkit's own (`sagemaker_*`) as `--name value`.
 */
export function scriptArguments(hyperParameters: Record<string, string>): string[] {
  return Object.entries(hyperParameters)
    .filter(([name]) => !name.startsWith('sagemaker_'))
    .flatMap(([name, value]) => [`--${name}`, decode(value)]);
}

/** The last value each metric definition's regex caught in the job's output, as `FinalMetricDataList`. */
export function finalMetrics(lines: readonly string[], definitions: readonly { Name: string; Regex: string }[]) {
  const last = new Map<string, number>();
  for (const line of lines) {
    for (const { Name, Regex } of definitions) {
      const match = new RegExp(Regex).exec(line);
      if (match && Number.isFinite(Number(match[1]))) last.set(Name, Number(match[1]));
    }
  }
  return [...last].map(([MetricName, Value]) => ({ MetricName, Value, Timestamp: new Date().toISOString() }));
}

/**
 * LOCAL STAND-IN for a training job in SageMaker's PyTorch container: it lays the job's channels out
 * under a folder as SageMaker does under /opt/ml/input/data (a manifest channel's objects under their
 * full keys), runs the real training script with a local Python's torch (CPU, or CUDA where there is one)
 * and the command line the training toolkit would build, reads the metrics from its output with the job's
 * metric definitions, and writes the model folder as `model.tar.gz` where SageMaker would.
 */
export async function runLocalPyTorchTrainingJob(
  store: S3ObjectStore,
  request: PyTorchTrainingJobRequest,
  log: (line: string) => void = () => undefined,
) {
  const started = Date.now();
  const python = requireTorchPython();
  const { HyperParameters: hyperParameters } = request;
  const program = decode(hyperParameters.sagemaker_program ?? '');
  const submitted = decode(hyperParameters.sagemaker_submit_directory ?? '');
  const code = request.InputDataConfig.find((c) => c.ChannelName === 'code')?.DataSource.S3DataSource.S3Uri ?? '';
  // The training toolkit extracts sagemaker_submit_directory, which must be the code channel's tarball.
  // The source asset is not uploaded anywhere locally: the folder the stack built it from runs instead.
  const tarballName = code.slice(code.lastIndexOf('/') + 1);
  if (!tarballName.endsWith('.gz') || submitted !== `/opt/ml/input/data/code/${tarballName}`) {
    throw validationError(
      `sagemaker_submit_directory ${JSON.stringify(submitted)} is not the tarball of the job's code channel (${code || 'none'})`,
    );
  }
  if (!existsSync(join(PYTORCH_SOURCE_DIR, program)))
    throw validationError(`sagemaker_program ${JSON.stringify(program)} is not a file of ${PYTORCH_SOURCE_DIR}`);
  const work = mkdtempSync(join(tmpdir(), 'segpipe-pytorch-job-'));
  try {
    const environment: Record<string, string> = {};
    for (const channel of request.InputDataConfig.filter((c) => c.ChannelName !== 'code')) {
      const dir = join(work, 'input', 'data', channel.ChannelName);
      const source = channel.DataSource.S3DataSource;
      const keys: { bucket: string; key: string }[] = [];
      if (source.S3DataType === 'ManifestFile') {
        const manifest = await readChannelManifest(store, source.S3Uri);
        const prefix = parseS3Uri(manifest.prefix)!;
        keys.push(...manifest.keys.map((key) => ({ bucket: prefix.bucket, key: `${prefix.key}${key}` })));
      } else {
        const prefix = parseS3Uri(source.S3Uri)!;
        keys.push(...(await store.list(prefix.bucket, prefix.key)).map((o) => ({ bucket: prefix.bucket, key: o.key })));
      }
      for (const { bucket, key } of keys) {
        const file = join(dir, key);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, await store.read(`s3://${bucket}/${key}`));
      }
      environment[`SM_CHANNEL_${channel.ChannelName.toUpperCase()}`] = dir;
    }
    const modelDir = join(work, 'model');
    const args = [join(PYTORCH_SOURCE_DIR, program), ...scriptArguments(hyperParameters), '--checkpoint_dir', join(work, 'checkpoints')];
    log(`LOCAL STAND-IN training: SageMaker's PyTorch container replaced by ${python} running ${program} (${args.slice(1).join(' ')})`);
    const lines: string[] = [];
    const child = spawn(python, ['-u', '-W', 'ignore', ...args], {
      cwd: PYTORCH_SOURCE_DIR,
      env: { ...process.env, ...environment, SM_MODEL_DIR: modelDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (stream: NodeJS.ReadableStream) =>
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        log(`  | ${line}`);
      });
    collect(child.stdout!);
    collect(child.stderr!);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (status !== 0) {
      // As SageMaker's FailureReason: the end of what the script said.
      throw Object.assign(new Error(`AlgorithmError: ${program} exited with ${status}: ${lines.slice(-5).join(' / ').slice(-1024)}`), {
        name: 'AlgorithmError',
      });
    }
    const artifact = modelArtifactUri(request);
    const tarball = join(work, 'model.tar.gz');
    await tar.create({ gzip: true, portable: true, cwd: modelDir, file: tarball }, ['.']);
    await store.write(artifact, readFileSync(tarball), 'application/gzip');
    return completedTrainingJob(request, artifact, started, finalMetrics(lines, request.AlgorithmSpecification.MetricDefinitions ?? []));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
