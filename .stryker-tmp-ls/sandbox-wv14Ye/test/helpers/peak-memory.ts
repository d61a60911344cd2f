import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MeasuredRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak resident memory of the process (getrusage's maxrss), JavaScript heap and native memory alike. */
  readonly peakMb: number;
  readonly seconds: number;
}

/**
 * Runs a Node script in a child process with its JavaScript heap capped, and measures its peak
 * resident memory: a preloaded hook writes `process.resourceUsage().maxRSS` when the process exits
 * (or is ended by a signal it can catch), which counts libvips' and zlib's native buffers too.
 */
export function runMeasured(
  script: string,
  args: readonly string[],
  options: { readonly maxOldSpaceMb: number; readonly timeoutMs?: number },
): Promise<MeasuredRun> {
  const dir = mkdtempSync(join(tmpdir(), 'segpipe-peak-'));
  const preload = join(dir, 'peak.js');
  const peakFile = join(dir, 'peak');
  writeFileSync(
    preload,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(peakFile)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  const started = performance.now();
  return new Promise<MeasuredRun>((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${options.maxOldSpaceMb}`, '--require', preload, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (status) => {
      if (timer) clearTimeout(timer);
      let peakMb = NaN;
      try {
        peakMb = Number(readFileSync(peakFile, 'utf8')) / 1024;
      } catch {
        // Killed before its exit hook ran: no figure.
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ status, stdout, stderr, peakMb, seconds: (performance.now() - started) / 1000 });
    });
  });
}
