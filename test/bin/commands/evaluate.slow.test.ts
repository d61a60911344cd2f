import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { evaluateCommand } from '../../../bin/commands/evaluate';
import { runtimeClientFor } from '../../../bin/predict/runtime-client';
import { encodeClassIndexPng } from '../../../lambda/convert/codecs/mask';
import { FolderObjectStore } from '../../../lambda/convert/stores/folder-object-store';
import { evaluateVariants, sageMakerInvoker, validationChannel } from '../../../lambda/evaluation/evaluate';
import { evaluationReportHtml } from '../../../lambda/evaluation/report-html';
import { renderSyntheticScene, sceneToJpeg } from '../../../local/synthetic-scenes';
import { runCommand } from '../../helpers/cli';
import { FakeRuntime } from '../../helpers/fake-runtime';

/** The page's `document`, as the function `page.evaluate` runs in the browser reads it (this project's types have no DOM). */
interface PageElement {
  textContent: string | null;
  getBoundingClientRect(): { width: number };
}
declare const document: {
  images: ArrayLike<{ complete: boolean; naturalWidth: number }> & Iterable<{ complete: boolean; naturalWidth: number }>;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
  querySelector(selector: string): PageElement | null;
};

/** Debian's chromium, which .ci/run installs: never a browser puppeteer downloads. */
const CHROMIUM = '/usr/bin/chromium';
const CLASSES = ['background', 'turtle', 'rock'];

/**
 * `segpipe evaluate` against a stand-in runtime that knows the true masks, and the report as a person
 * sees it: opened in a real headless browser.
 */
describe('the evaluation report', () => {
  const work = mkdtempSync(join(tmpdir(), 'segpipe-evaluate-'));
  const channels = join(work, 'channels');
  const runtime = new FakeRuntime();
  let endpointUrl: string;

  beforeAll(async () => {
    endpointUrl = await runtime.start();
    for (const folder of ['validation', 'validation_annotation']) mkdirSync(join(channels, folder), { recursive: true });
    for (let i = 0; i < 9; i++) {
      const scene = renderSyntheticScene(4000 + i, 80, 60);
      const jpeg = await sceneToJpeg(scene);
      writeFileSync(join(channels, 'validation', `shore-${i}.jpg`), jpeg);
      writeFileSync(
        join(channels, 'validation_annotation', `shore-${i}.png`),
        await encodeClassIndexPng(Buffer.from(scene.classIndices), 80, 60),
      );
      runtime.truthByImage.set(FakeRuntime.hash(jpeg), { width: 80, height: 60, classIndices: scene.classIndices });
    }
    // The "old" variant misses every third image; the "new" one every fourth.
    runtime.answer = (variant, nth) => (nth % (variant === 'old' ? 3 : 4) === 0 ? 'background' : 'truth');
  });
  afterAll(async () => {
    await runtime.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('segpipe evaluate scores one variant, by TargetVariant, and writes metrics.json and report.html', async () => {
    const out = join(work, 'cli');
    const { stdout, error } = await runCommand(evaluateCommand(), [
      '--endpoint',
      'segpipe-endpoint',
      '--variant',
      'new',
      '--endpoint-url',
      endpointUrl,
      '--channels',
      channels,
      '--out',
      out,
      '--classes',
      'turtle,rock',
      '--max-images',
      '6',
    ]);
    expect(error).toBeUndefined();
    expect(stdout).toMatch(
      /^model \(new\) of segpipe-endpoint on 6 validation images: mIoU 0\.\d{3}, pixel accuracy \d+\.\d %, latency p50 \d+ ms, p95 \d+ ms\nreport: .*report\.html\n$/,
    );
    expect(new Set(runtime.requests)).toEqual(new Set(['new']));
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({
      endpoint: 'segpipe-endpoint',
      classes: CLASSES,
      ignoredLabel: 255,
      variants: [{ variant: 'new', role: 'model' }],
    });
    expect(metrics.images).toHaveLength(6);
    expect(metrics.variants[0].confusion).toHaveLength(3);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  test("without --classes, a run's report.json one level above its channels/ names them (the help's own examples)", async () => {
    writeFileSync(join(work, 'report.json'), JSON.stringify({ runId: 'r', classes: CLASSES }));
    try {
      const { error } = await runCommand(evaluateCommand(), [
        '--endpoint',
        'segpipe-endpoint',
        '--endpoint-url',
        endpointUrl,
        '--channels',
        channels,
        '--out',
        join(work, 'from-run'),
        '--max-images',
        '2',
      ]);
      expect(error).toBeUndefined();
      expect(JSON.parse(readFileSync(join(work, 'from-run', 'metrics.json'), 'utf8')).classes).toEqual(CLASSES);
    } finally {
      rmSync(join(work, 'report.json'));
    }
  });

  test('bad input is one clear line', async () => {
    const noClasses = await runCommand(evaluateCommand(), [
      '--endpoint',
      'e',
      '--endpoint-url',
      endpointUrl,
      '--channels',
      channels,
      '--out',
      join(work, 'x'),
    ]);
    expect(noClasses.error?.message).toBe(
      `no --classes, and neither ${join(channels, 'report.json')} nor ${join(work, 'report.json')} (segpipe convert writes one in the channels, a run one level above them) names the classes: pass --classes <names of indices 1, 2, ...>`,
    );
    const empty = join(work, 'empty');
    mkdirSync(join(empty, 'train'), { recursive: true });
    writeFileSync(join(empty, 'train', 'a.jpg'), 'x');
    const nothing = await runCommand(evaluateCommand(), [
      '--endpoint',
      'e',
      '--endpoint-url',
      endpointUrl,
      '--channels',
      empty,
      '--out',
      join(work, 'y'),
      '--classes',
      'turtle',
    ]);
    expect(nothing.error?.message).toBe(
      `--channels ${empty} holds no validation/ images: give the folder holding train/, validation/ and their _annotation/ folders`,
    );
    const missing = await runCommand(evaluateCommand(), [
      '--endpoint',
      'e',
      '--endpoint-url',
      endpointUrl,
      '--channels',
      join(work, 'typo'),
      '--out',
      join(work, 'y'),
      '--classes',
      'turtle',
    ]);
    expect(missing.error?.message).toBe(`--channels ${join(work, 'typo')}: no such folder, or it is empty`);
    const badCount = await runCommand(evaluateCommand(), [
      '--endpoint',
      'e',
      '--channels',
      channels,
      '--out',
      work,
      '--max-images',
      'many',
    ]);
    expect(badCount.stderr).toContain("option '--max-images <n>' argument 'many' is invalid. expected a whole number from 1 to 10000");
  });

  describe("a run's report (champion against challenger, training curves), in headless chromium", () => {
    let browser: Browser;
    let html: string;

    beforeAll(async () => {
      const client = runtimeClientFor({ endpointUrl });
      const source = validationChannel(new FolderObjectStore(), channels);
      const result = await evaluateVariants({
        source,
        invoke: sageMakerInvoker(client, 'segpipe-endpoint'),
        numClasses: 3,
        maxImages: 100,
        variants: [
          { variant: 'old', role: 'champion' },
          { variant: 'new', role: 'challenger' },
        ],
      });
      client.destroy();
      const curves = [1, 2, 3, 4].flatMap((epoch) => [
        { metric: 'train:loss', epoch, value: 1 / epoch },
        { metric: 'validation:mIOU', epoch, value: 0.5 + epoch / 10 },
      ]);
      html = await evaluationReportHtml({
        title: 'segpipe run turtles-2: champion against challenger',
        endpoint: 'segpipe-endpoint',
        classes: CLASSES,
        result,
        source,
        verdict: { promote: true, reason: 'the challenger is not worse' },
        training: { job: 'segpipe-train-turtles-2', curves },
        generatedAt: '2026-12-02T06:00:00.000Z',
      });
      writeFileSync(join(work, 'report.html'), html);
      const puppeteer = await import('puppeteer-core');
      if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
      browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    });
    afterAll(async () => browser?.close());

    test("the charts' class names are whole, never cut short with an ellipsis", () => {
      for (const id of ['confusion', 'class-iou']) {
        const figure = new RegExp(`<figure class="chart" id="${id}">([\\s\\S]*?)</figure>`).exec(html)?.[1] ?? '';
        if (id === 'confusion') expect(figure).not.toBe('');
        expect(figure).not.toContain('…');
        if (figure) for (const name of CLASSES) expect(figure).toContain(`>${name}</text>`);
      }
    });

    test('is self-contained: no script, nothing fetched from elsewhere', () => {
      expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
    });

    test('renders with no console errors, every image loaded, the charts and the gallery there', async () => {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warn') problems.push(message.text());
      });
      page.on('pageerror', (err) => problems.push(String(err)));
      page.on('requestfailed', (request) => problems.push(`failed: ${request.url().slice(0, 80)}`));
      await page.setViewport({ width: 1100, height: 900 });
      await page.goto(`file://${join(work, 'report.html')}`, { waitUntil: 'load' });
      const seen = await page.evaluate(() => ({
        images: [...document.images].map((img) => ({ complete: img.complete, width: img.naturalWidth })),
        charts: ['class-iou', 'confusion', 'training'].map(
          (id) =>
            document.querySelectorAll(
              `#${id} svg .mark-rect path, #${id} svg .mark-rect rect, #${id} svg path.mark-line, #${id} svg .mark-line path, #${id} svg .role-mark path`,
            ).length,
        ),
        svgWidths: [...document.querySelectorAll('figure.chart svg')].map((svg) => svg.getBoundingClientRect().width),
        galleryRows: document.querySelectorAll('#gallery .gallery-row').length,
        legend: document.querySelector('.legend')?.textContent,
        verdict: document.querySelector('.verdict')?.textContent,
      }));
      expect(problems).toEqual([]);
      // 6 gallery rows × (image, true mask, 2 predictions).
      expect(seen.galleryRows).toBe(6);
      expect(seen.images).toHaveLength(24);
      for (const image of seen.images) expect(image).toEqual({ complete: true, width: expect.any(Number) });
      expect(seen.images.every((i) => i.width > 0)).toBe(true);
      for (const marks of seen.charts) expect(marks).toBeGreaterThan(0);
      for (const width of seen.svgWidths) expect(width).toBeGreaterThan(100);
      expect(seen.legend).toContain('turtle');
      expect(seen.verdict).toBe('Promoted: the challenger is not worse');
      await page.screenshot({ path: join(work, 'report.png'), fullPage: true });
      await page.close();
    });
  });
});
