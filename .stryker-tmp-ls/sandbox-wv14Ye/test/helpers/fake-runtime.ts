import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { encodeClassIndexPng } from '../../lambda/convert/codecs/mask';

/** How a variant answers: the true mask, background everywhere, or a ModelError. */
export type VariantAnswer = 'truth' | 'background' | 'error';

/**
 * The SageMaker runtime's InvokeEndpoint for the workflow tests, whose training is faked: it knows
 * the true masks of the JPEGs the tests uploaded (by their bytes, which the converter copies
 * unchanged into the channels) and answers each variant (`X-Amzn-SageMaker-Target-Variant`) as
 * `answer` says, so a test decides which model is better.
 */
export class FakeRuntime {
  readonly truthByImage = new Map<string, { width: number; height: number; classIndices: Uint8Array }>();
  /** Requests per variant, in order. */
  readonly requests: string[] = [];
  answer: (variant: string, nth: number) => VariantAnswer = () => 'truth';
  private server?: Server;

  static hash(body: Buffer): string {
    return createHash('sha256').update(body).digest('hex');
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const variant = String(req.headers['x-amzn-sagemaker-target-variant'] ?? 'AllTraffic');
        this.requests.push(variant);
        const nth = this.requests.filter((v) => v === variant).length;
        const body = Buffer.concat(chunks);
        (async () => {
          const answer = this.answer(variant, nth);
          if (answer === 'error') {
            res.writeHead(424, { 'content-type': 'application/json', 'x-amzn-errortype': 'ModelError' });
            res.end(JSON.stringify({ message: `variant ${variant} failed on request ${nth}` }));
            return;
          }
          const truth = this.truthByImage.get(FakeRuntime.hash(body));
          const { width, height } = truth ?? ((await sharp(body).metadata()) as { width: number; height: number });
          const mask = answer === 'truth' && truth ? truth.classIndices : new Uint8Array(width * height);
          const png = await encodeClassIndexPng(Buffer.from(mask), width, height);
          res.writeHead(200, { 'content-type': 'image/png', 'x-amzn-invoked-production-variant': variant });
          res.end(png);
        })().catch((err: Error) => {
          res.writeHead(500, { 'x-amzn-errortype': 'InternalFailure' });
          res.end(JSON.stringify({ message: err.message }));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
