import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import * as tar from 'tar';
import { PYTORCH_SOURCE_DIR } from '../lib/workflow/pytorch-trainer';
import { requireTorchPython } from './torch-python';

/**
 * LOCAL STAND-IN for a model served by SageMaker's PyTorch inference container: the model's
 * `model.tar.gz` unpacked, and a local Python process that runs its own `code/inference.py`
 * (`pytorch/local_serving.py`). Requests are answered one at a time, in order.
 */
export class LocalPyTorchModel {
  private queue: Promise<unknown> = Promise.resolve();
  private buffered = Buffer.alloc(0);
  private waiting?: () => void;
  /** Why the serving process ended, once it has: every request after it fails with this. */
  private ended?: Error;
  private readonly errors: string[] = [];

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    private readonly dir: string,
  ) {
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.waiting?.();
    });
    child.stderr.on('data', (chunk: Buffer) => this.errors.push(chunk.toString()));
    child.on('close', (code) => {
      this.ended = new Error(`the PyTorch model's serving process ended (exit ${code}): ${this.errors.join('').slice(-1000)}`);
      this.waiting?.();
    });
  }

  /** Unpacks the artifact and starts the serving process; resolves once `model_fn` has loaded the model. */
  static async load(artifact: Buffer): Promise<LocalPyTorchModel> {
    const python = requireTorchPython();
    const dir = mkdtempSync(join(tmpdir(), 'segpipe-pytorch-model-'));
    writeFileSync(join(dir, 'model.tar.gz'), artifact);
    await tar.extract({ file: join(dir, 'model.tar.gz'), cwd: dir });
    const child = spawn(python, ['-W', 'ignore', join(PYTORCH_SOURCE_DIR, 'local_serving.py'), dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const model = new LocalPyTorchModel(child, dir);
    try {
      await model.readHeader();
    } catch (err) {
      model.close();
      throw new Error(`the PyTorch model did not load: ${(err as Error).message}`);
    }
    return model;
  }

  /** InvokeEndpoint's body and content type answered by the model's handlers. */
  invoke(body: Buffer, contentType: string, accept: string): Promise<{ body: Buffer; contentType: string }> {
    const next = this.queue.then(async () => {
      this.child.stdin.write(`${JSON.stringify({ contentType, accept, length: body.length })}\n`);
      this.child.stdin.write(body);
      const header = (await this.readHeader()) as { error?: string; contentType: string; length: number };
      if (header.error) throw Object.assign(new Error(header.error), { name: 'ModelError' });
      return { body: await this.readBytes(header.length), contentType: header.contentType };
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    if (!this.ended) this.child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async readHeader(): Promise<unknown> {
    for (;;) {
      const newline = this.buffered.indexOf(10);
      if (newline >= 0) {
        const line = this.buffered.subarray(0, newline).toString();
        this.buffered = this.buffered.subarray(newline + 1);
        return JSON.parse(line);
      }
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  private async readBytes(length: number): Promise<Buffer> {
    while (this.buffered.length < length) {
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    const bytes = this.buffered.subarray(0, length);
    this.buffered = this.buffered.subarray(length);
    return bytes;
  }
}
