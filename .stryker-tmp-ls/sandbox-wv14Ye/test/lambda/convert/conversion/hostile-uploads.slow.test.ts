import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { buildSync } from 'esbuild';
import { type EmbeddedS3Server, startEmbeddedS3Server } from '../../../../local/embedded-s3-server';
import { type HostileUpload, writeHostileUploads } from '../../../helpers/hostile-uploads';
import { type MeasuredRun, runMeasured } from '../../../helpers/peak-memory';

/**
 * Issue 29's review: uploads of a few bytes or megabytes that took gigabytes or minutes. Each is
 * converted by `segpipe convert` and by the workflow's plan and chunk code, each in a process of its
 * own whose JavaScript heap is capped and whose peak resident memory (native buffers included) is
 * measured: every one must be reported as a skip or a refusal with its reason, well under the
 * conversion Lambdas' 2,048 MB.
 */
const PEAK_MB = 600;
const HEAP_MB = 512;
/**
 * The repository whose code is run: this one, or another checkout (built, with this runner copied in)
 * given as HOSTILE_ROOT, to print the figures of the code before a fix.
 */
const ROOT = process.env.HOSTILE_ROOT ?? join(__dirname, '..', '..', '..', '..');
const CLI = join(ROOT, 'dist', 'segpipe.js');

interface Expectation {
  /** What the command's report must say of the upload (skips' and unpainted shapes' reasons). */
  readonly reason: RegExp;
  /** Items still converted (an item none of whose shapes could be painted is skipped, with their reasons). */
  readonly converted: number;
  /** Most seconds the command may take (a loaded 2-core machine). */
  readonly seconds: number;
}

const EXPECTED: Record<string, Expectation> = {
  'coco-rle-size': { reason: /RLE declares 20000×20000 pixels, more than the (10000|67108864) accepted/, converted: 0, seconds: 20 },
  'ls-rle-header': { reason: /brushlabels whose rle holds 1500000000 values, not 64×64×4/, converted: 0, seconds: 20 },
  'ls-original-size': { reason: /mask declares 20000×20000 pixels, more than the 67108864 accepted/, converted: 0, seconds: 20 },
  'zip-entry-size': { reason: /mask is 1258291233 bytes, more than the 268435456 accepted/, converted: 0, seconds: 20 },
  'zip-entries': { reason: /^$/, converted: 1, seconds: 30 },
  'ls-large-task': { reason: /task is more than 33554432 bytes of JSON, the most read whole: not read/, converted: 0, seconds: 30 },
  'gt-large-png': { reason: /mask is 262\d+ bytes, more than a 64×64 PNG can need/, converted: 0, seconds: 20 },
  'coco-polygon': { reason: /its shapes cross 160000000 pixel rows, more than the 16777216 one item may/, converted: 0, seconds: 20 },
  'coco-deep': { reason: /annotations\[0\] nests deeper than 100 levels: not read/, converted: 1, seconds: 20 },
  'coco-long-ids': { reason: /annotation of unknown category "a{299}\.\.\.\(5242582 more characters\)/, converted: 0, seconds: 20 },
};

/** Every reason a report gives: its skips', and its items' unpainted shapes'. */
function reasonsOf(report: { skipped: { reason: string }[]; notPainted: Record<string, number>[] }): string[] {
  return [...report.skipped.map((s) => s.reason), ...report.notPainted.flatMap((n) => Object.keys(n))];
}

const figures: string[] = [];
const say = (side: string, upload: string, run: MeasuredRun, extra = '') =>
  figures.push(
    `${side.padEnd(9)} ${upload.padEnd(18)} peak ${run.peakMb.toFixed(0).padStart(5)} MB  ${run.seconds.toFixed(1).padStart(5)} s ${extra}`,
  );

describe('hostile uploads: each is reported with its reason, in bounded memory and time', () => {
  let dir: string;
  let uploads: HostileUpload[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'segpipe-hostile-'));
    uploads = await writeHostileUploads(join(dir, 'uploads'));
  }, 300_000);
  afterAll(() => {
    process.stdout.write(`\n${figures.join('\n')}\n`);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the fixtures are what the review measured: small uploads that declare large sizes', () => {
    const size = (name: string, file: string) => statSync(join(dir, 'uploads', name, file)).size;
    expect(size('zip-entry-size', 'cvat.zip')).toBeLessThan(2 * 1024 * 1024);
    expect(size('zip-entries', 'cvat.zip')).toBeGreaterThan(50 * 1024 * 1024);
    expect(size('coco-polygon', 'coco.json')).toBeLessThan(1024 * 1024);
    expect(size('ls-large-task', 'tasks.json')).toBeGreaterThan(450 * 1024 * 1024);
    expect(size('coco-rle-size', 'coco.json')).toBeLessThan(1024);
    expect(Object.keys(EXPECTED).sort()).toEqual(uploads.map((u) => u.name).sort());
  });

  test.each(Object.keys(EXPECTED))(
    'segpipe convert: %s',
    async (name) => {
      const upload = uploads.find((u) => u.name === name)!;
      const out = join(dir, 'out', name);
      const run = await runMeasured(CLI, ['convert', ...upload.args, '--out', out], { maxOldSpaceMb: HEAP_MB, timeoutMs: 120_000 });
      say('command', name, run);
      const expected = EXPECTED[name];
      expect(run.stderr).not.toMatch(/heap out of memory|Maximum call stack/);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      const reasons = reasonsOf({
        skipped: report.skipped,
        notPainted: report.items.map((i: { notPainted?: Record<string, number> }) => i.notPainted ?? {}),
      });
      if (expected.reason.source !== '^$') expect(reasons).toContainEqual(expect.stringMatching(expected.reason));
      expect(report.counts.converted).toBe(expected.converted);
      expect(statSync(join(out, 'report.json')).size).toBeLessThan(64 * 1024);
      expect(run.peakMb).toBeLessThan(PEAK_MB);
      expect(run.seconds).toBeLessThan(expected.seconds);
    },
    180_000,
  );

  describe("the workflow's plan and chunk code, against the embedded S3 server", () => {
    let server: EmbeddedS3Server;
    let runner: string;

    beforeAll(async () => {
      server = await startEmbeddedS3Server({ buckets: ['inbox', 'artifacts'], directory: join(dir, 's3') });
      // Inside the repository, so that its packages resolve.
      runner = join(ROOT, 'node_modules', '.cache', 'segpipe-test', 'workflow-conversion-runner.js');
      buildSync({
        entryPoints: [join(ROOT, 'test', 'helpers', 'workflow-conversion-runner.ts')],
        bundle: true,
        platform: 'node',
        target: 'node20',
        packages: 'external',
        outfile: runner,
        logLevel: 'warning',
      });
    });
    afterAll(() => server.close());

    test.each(Object.keys(EXPECTED))(
      'plan and chunks: %s',
      async (name) => {
        const upload = uploads.find((u) => u.name === name)!;
        const client = server.client();
        for (const file of upload.workflow.files) {
          await client.send(
            new PutObjectCommand({
              Bucket: 'inbox',
              Key: file.key,
              Body: createReadStream(file.path),
              ContentLength: statSync(file.path).size,
            }),
          );
        }
        client.destroy();
        const run = await runMeasured(runner, [server.endpoint, name, upload.workflow.exportKey], {
          maxOldSpaceMb: HEAP_MB,
          timeoutMs: 150_000,
        });
        say('workflow', name, run);
        expect(run.stderr).not.toMatch(/Error|heap|stack/);
        expect(run.status).toBe(0);
        const result = JSON.parse(run.stdout);
        const expected = EXPECTED[name];
        if (expected.reason.source !== '^$') expect(reasonsOf(result)).toContainEqual(expect.stringMatching(expected.reason));
        expect(result.converted).toBe(expected.converted);
        expect(result.reportBytes).toBeLessThan(64 * 1024);
        expect(run.peakMb).toBeLessThan(PEAK_MB);
      },
      240_000,
    );
  });
});
