import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { besideOutput } from '../../bin/commands/convert-output';
import { cvatLabels, writeCvatExport } from '../../local/export-fixtures';

/**
 * `segpipe convert` stopped part way, for real: the shipped command in a child process, sent SIGINT
 * (Ctrl-C) or SIGKILL while it writes, then the output folder read back.
 */
const SEGPIPE = join(__dirname, '..', '..', 'bin', 'segpipe.js');
const work = mkdtempSync(join(tmpdir(), 'segpipe-interrupt-'));
const input = join(work, 'cvat');
const ITEMS = 60;
afterAll(() => rmSync(work, { recursive: true, force: true }));

beforeAll(async () => {
  // PNG images of noise, re-encoded as JPEGs one at a time: slow enough to be stopped part way.
  const size = { width: 640, height: 480 };
  const noise = Buffer.alloc(size.width * size.height * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const image = await sharp(noise, { raw: { ...size, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  const mask = await sharp(Buffer.alloc(size.width * size.height * 3), { raw: { ...size, channels: 3 } })
    .png()
    .toBuffer();
  const items = Array.from({ length: ITEMS }, (_, i) => ({
    stem: `photo-${String(i).padStart(3, '0')}`,
    image,
    imageExtension: '.png',
    mask,
  }));
  writeCvatExport(input, items, cvatLabels(['turtle']));
});

interface Run {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function convert(out: string, seed: string): Run {
  const child = spawn(process.execPath, [
    SEGPIPE,
    'convert',
    '--input',
    input,
    '--out',
    out,
    '--seed',
    seed,
    '--validation-fraction',
    '0.5',
    '--concurrency',
    '1',
  ]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return { child, done: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }))) };
}

/** Waits until the run has written some of its items into its staging folder, then sends `signal`. */
async function stopPartWay(run: Run, out: string, signal: NodeJS.Signals): Promise<void> {
  const { staging } = besideOutput(out);
  const written = () =>
    ['train', 'validation'].reduce((n, split) => n + (existsSync(join(staging, split)) ? readdirSync(join(staging, split)).length : 0), 0);
  for (let tries = 0; written() < 10; tries++) {
    if (tries > 2000) throw new Error('the conversion wrote nothing in 20 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(written()).toBeLessThan(ITEMS);
  run.child.kill(signal);
}

/** The output read back: its report's items match its channel files exactly, and no name is in both splits. */
function checkWhole(out: string): { seed: string; train: string[] } {
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  const files = (folder: string) => (existsSync(join(out, folder)) ? readdirSync(join(out, folder)).sort() : []);
  const names = (split: string) =>
    report.items
      .filter((i: { split: string }) => i.split === split)
      .map((i: { name: string }) => i.name)
      .sort();
  for (const split of ['train', 'validation']) {
    expect(files(split)).toEqual(names(split).map((n: string) => `${n}.jpg`));
    expect(files(`${split}_annotation`)).toEqual(names(split).map((n: string) => `${n}.png`));
  }
  const train = new Set(files('train'));
  expect(files('validation').filter((f) => train.has(f))).toEqual([]);
  expect(readdirSync(out).sort()).toEqual(
    ['report.json', 'train', 'train_annotation', 'validation', 'validation_annotation'].filter(
      (f) => f === 'report.json' || files(f).length > 0,
    ),
  );
  expect(report.counts.converted).toBe(ITEMS);
  return { seed: report.seed, train: files('train') };
}

function noLeftovers(out: string): void {
  const { staging, previous } = besideOutput(out);
  expect({ staging: existsSync(staging), previous: existsSync(previous) }).toEqual({ staging: false, previous: false });
}

describe('segpipe convert stopped part way leaves --out whole, and runs again', () => {
  test('Ctrl-C during a re-run into a previous output: the previous output as it was, one line said; the same command then replaces it', async () => {
    const out = join(work, 'rerun');
    expect((await convert(out, 'first').done).code).toBe(0);
    const before = checkWhole(out);

    const second = convert(out, 'second');
    await stopPartWay(second, out, 'SIGINT');
    const stopped = await second.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr.trim().split('\n').pop()).toBe(
      `segpipe convert: interrupted: ${out} is as it was, the partial conversion was discarded`,
    );
    expect(checkWhole(out)).toEqual(before);
    noLeftovers(out);

    const again = await convert(out, 'second').done;
    expect(again.code).toBe(0);
    const after = checkWhole(out);
    expect(after.seed).toBe('second');
    expect(after.train).not.toEqual(before.train);
    noLeftovers(out);
  });

  test('Ctrl-C during a first run: nothing at --out, and the same command then runs', async () => {
    const out = join(work, 'first-run');
    const run = convert(out, 's');
    await stopPartWay(run, out, 'SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr.trim().split('\n').pop()).toBe(`segpipe convert: interrupted: nothing was written to ${out}`);
    expect(existsSync(out)).toBe(false);
    expect((await convert(out, 's').done).code).toBe(0);
    checkWhole(out);
    noLeftovers(out);
  });

  test('killed outright (no handler runs): --out as it was; the next run clears the staging folder it left', async () => {
    const out = join(work, 'killed');
    expect((await convert(out, 'first').done).code).toBe(0);
    const before = checkWhole(out);
    const run = convert(out, 'second');
    await stopPartWay(run, out, 'SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    expect(checkWhole(out)).toEqual(before);
    expect(existsSync(besideOutput(out).staging)).toBe(true);
    expect((await convert(out, 'second').done).code).toBe(0);
    expect(checkWhole(out).seed).toBe('second');
    noLeftovers(out);
  });
});
