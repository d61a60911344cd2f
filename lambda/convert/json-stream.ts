import type { Readable } from 'node:stream';
import Assembler from 'stream-json/Assembler';
import { parser } from 'stream-json';

/** A JSON document that is not what the reader expected, with the reason. */
export class JsonShapeError extends Error {}

/**
 * The elements of large JSON arrays, one at a time, so that an export of gigabytes converts in
 * bounded memory: with `arrays === 'top'`, the elements of a top-level array (Label Studio); else the
 * elements of the named arrays of a top-level object, with their key (COCO's `images`,
 * `annotations`, `categories`). Everything else is parsed past, not kept.
 */
export async function* streamJsonElements(stream: Readable, arrays: 'top' | readonly string[]): AsyncGenerator<{ key: string | null; value: unknown }> {
  const tokens = stream.pipe(parser({ packValues: true, streamValues: false, jsonStreaming: false }));
  stream.on('error', (err) => tokens.destroy(err));
  let depth = 0;
  let key: string | null = null;
  let inTarget = false;
  let element: Assembler | undefined;
  try {
    for await (const token of tokens as AsyncIterable<{ name: string; value?: unknown }>) {
      if (element) {
        element.consume(token as never);
        if (element.done) {
          yield { key, value: element.current };
          element = undefined;
        }
        continue;
      }
      switch (token.name) {
        case 'startObject':
        case 'startArray':
          if (depth === 0) {
            const wanted = arrays === 'top' ? 'startArray' : 'startObject';
            if (token.name !== wanted) throw new JsonShapeError(`expected a JSON ${arrays === 'top' ? 'array' : 'object'} at the top level`);
            if (arrays === 'top') inTarget = true;
          } else if (depth === 1 && arrays !== 'top' && token.name === 'startArray' && key !== null && arrays.includes(key)) {
            inTarget = true;
          } else if (inTarget && depth === (arrays === 'top' ? 1 : 2)) {
            element = new Assembler();
            element.consume(token as never);
            continue;
          }
          depth += 1;
          break;
        case 'endObject':
        case 'endArray':
          depth -= 1;
          if (depth <= 1) inTarget = arrays === 'top' && depth === 1;
          break;
        case 'keyValue':
          if (depth === 1) key = token.value as string;
          break;
        default:
          if (inTarget && depth === (arrays === 'top' ? 1 : 2)) yield { key, value: token.value };
          else if (depth === 0) throw new JsonShapeError(`expected a JSON ${arrays === 'top' ? 'array' : 'object'} at the top level`);
      }
    }
  } catch (err) {
    if (err instanceof JsonShapeError) throw err;
    throw new JsonShapeError(`not valid JSON: ${(err as Error).message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}`);
  } finally {
    stream.destroy();
  }
}
