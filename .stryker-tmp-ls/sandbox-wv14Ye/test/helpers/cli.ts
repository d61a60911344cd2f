import type { Command } from 'commander';

export interface CommandRun {
  /** What the command wrote to standard output: its own lines and commander's (help). */
  readonly stdout: string;
  /** What it wrote to standard error: per-item failures, and commander's refusals of options. */
  readonly stderr: string;
  /** The error it ended with (a refused option, a failed run), as the CLI would print it after `segpipe: `. */
  readonly error?: Error;
}

/**
 * A command parsed and run in this process, as `segpipe <name> <args>` would: commander exits
 * through an exception instead of the process (`exitOverride`), and what the command and commander
 * write is captured rather than printed.
 */
export async function runCommand(command: Command, args: string[]): Promise<CommandRun> {
  let stdout = '';
  let stderr = '';
  const capture = (stream: NodeJS.WriteStream, append: (text: string) => void) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  const out = capture(process.stdout, (text) => {
    stdout += text;
  });
  const err = capture(process.stderr, (text) => {
    stderr += text;
  });
  command.exitOverride().configureOutput({
    writeOut: (text) => {
      stdout += text;
    },
    writeErr: (text) => {
      stderr += text;
    },
  });
  try {
    await command.parseAsync(args, { from: 'user' });
    return { stdout, stderr };
  } catch (error) {
    return { stdout, stderr, error: error as Error };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}
