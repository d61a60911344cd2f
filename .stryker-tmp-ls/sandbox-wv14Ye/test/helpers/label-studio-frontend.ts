import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';

/** Debian's chromium, which .ci/run installs: never a browser puppeteer downloads. */
const CHROMIUM = '/usr/bin/chromium';
/** Label Studio's frontend as npm ships it: 1.4.0 is the last release with a built bundle. */
const BUNDLE = join(__dirname, '..', '..', 'node_modules', '@heartexlabs', 'label-studio', 'build', 'static');

/** A region as the frontend holds it. */
export interface FrontendRegion {
  readonly id: string;
  readonly type: string;
  readonly label: string;
}

/** A brush result as the frontend's `serializeAnnotation()` returns it. */
export interface SerializedResult {
  readonly id: string;
  readonly type: string;
  readonly from_name: string;
  readonly to_name: string;
  readonly original_width: number;
  readonly original_height: number;
  readonly value: { readonly rle: number[]; readonly brushlabels: string[] };
}

/**
 * Label Studio's own frontend (`@heartexlabs/label-studio` 1.4.0, the UMD bundle) in headless
 * chromium, served over HTTP with the images, so that the page reads a task and a labeling
 * configuration exactly as Label Studio's server hands them to it.
 */
export class LabelStudioFrontend {
  /** Console errors and page errors since the page was opened. */
  readonly errors: string[] = [];
  private server?: Server;
  private browser?: Browser;
  private html = '';
  private readonly images = new Map<string, Buffer>();
  page?: Page;
  origin = '';

  async start(): Promise<void> {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
    if (!existsSync(join(BUNDLE, 'js', 'main.js'))) throw new Error(`${BUNDLE} is missing: npm ci installs @heartexlabs/label-studio`);
    this.server = createServer((req, res) => {
      const url = req.url ?? '/';
      const image = this.images.get(url);
      if (url === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(this.html);
      } else if (image) {
        res.writeHead(200, { 'content-type': url.endsWith('.png') ? 'image/png' : 'image/jpeg' }).end(image);
      } else if (url === '/ls/js/main.js' || url === '/ls/css/main.css') {
        res
          .writeHead(200, { 'content-type': url.endsWith('.css') ? 'text/css' : 'application/javascript' })
          .end(readFileSync(join(BUNDLE, url.slice(4))));
      } else {
        res.writeHead(url === '/favicon.ico' ? 204 : 404).end();
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const puppeteer = await import('puppeteer-core');
    this.browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }

  /** Serves an image at `path` (e.g. `/images/a.jpg`). */
  serve(path: string, body: Buffer): void {
    this.images.set(path, body);
  }

  /**
   * Opens a task with `config`, as Label Studio's project page does, and waits until its predictions
   * are loaded; with `acceptPrediction`, makes an annotation from the first prediction (what "use
   * predictions to pre-label tasks" does) and selects it.
   */
  async open(config: string, task: unknown, options: { acceptPrediction: boolean }): Promise<Page> {
    await this.page?.close();
    this.errors.length = 0;
    this.html = `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/ls/css/main.css"></head>
<body style="margin:0"><div id="label-studio"></div><script src="/ls/js/main.js"></script><script>
new LabelStudio('label-studio', {
  config: ${JSON.stringify(config)},
  interfaces: ['panel', 'update', 'submit', 'controls', 'side-column', 'annotations:menu', 'predictions:menu'],
  user: { pk: 1, firstName: 'Ann', lastName: 'Otator' },
  task: ${JSON.stringify(task).replace(/</g, '\\u003c')},
  onLabelStudioLoad(ls) { window.labelStudio = ls; },
});
</script></body></html>`;
    const page = await this.browser!.newPage();
    this.page = page;
    page.on('console', (message) => {
      if (message.type() === 'error') this.errors.push(message.text());
    });
    page.on('pageerror', (err) => this.errors.push(String(err)));
    page.on('requestfailed', (request) => this.errors.push(`failed: ${request.url()}`));
    await page.setViewport({ width: 1280, height: 720 });
    await page.goto(`${this.origin}/`, { waitUntil: 'load' });
    await page.waitForFunction('window.labelStudio && window.labelStudio.annotationStore.predictions.length > 0', { timeout: 30_000 });
    if (options.acceptPrediction) {
      await page.evaluate(
        `(() => { const store = window.labelStudio.annotationStore; const a = store.addAnnotationFromPrediction(store.predictions[0]); store.selectAnnotation(a.id); })()`,
      );
    } else {
      await page.evaluate(`window.labelStudio.annotationStore.selectPrediction(window.labelStudio.annotationStore.predictions[0].id)`);
    }
    // The brush layers are drawn once the image has loaded.
    await page.waitForFunction(
      `(() => { const img = document.querySelector('img[alt], img[src]'); return img && img.complete && img.naturalWidth > 0 && document.querySelectorAll('canvas').length > 0; })()`,
      { timeout: 30_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    return page;
  }

  /** The selected annotation's (or prediction's) regions: id, type and label. */
  regions(): Promise<FrontendRegion[]> {
    return this.page!.evaluate(
      `window.labelStudio.annotationStore.selected.regions.map((r) => ({ id: r.id, type: r.type, label: r.labelName }))`,
    ) as Promise<FrontendRegion[]>;
  }

  /** The selected annotation's results as the frontend serializes them for saving (brush RLE re-encoded from its canvas). */
  serialize(): Promise<SerializedResult[]> {
    return this.page!.evaluate('window.labelStudio.annotationStore.selected.serializeAnnotation()') as Promise<SerializedResult[]>;
  }

  /** Where the image is on the page, to draw on it with the mouse. */
  imageBox(): Promise<{ x: number; y: number; width: number; height: number }> {
    return this.page!.evaluate(
      `(() => { const r = [...document.querySelectorAll('img')].find((i) => i.naturalWidth > 0).getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; })()`,
    ) as Promise<{ x: number; y: number; width: number; height: number }>;
  }

  async close(): Promise<void> {
    await this.browser?.close();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
