// @ts-nocheck
import type { Readable } from 'node:stream';
import { MAX_JSON_DEPTH, MAX_JSON_ELEMENT_BYTES } from '../limits';

/** A JSON document that is not what the reader expected, with the reason. */
export class JsonShapeError extends Error {
  override readonly name = 'JsonShapeError';
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** An element of a streamed array, or why it was not read (too large, nested too deep). */
export type JsonElement =
  | { readonly key: string | null; readonly value: unknown; readonly refused?: undefined }
  | { readonly key: string | null; readonly value?: undefined; readonly refused: string };

/** Longest key of the top-level object: export keys are short words. */
const MAX_KEY_BYTES = 64 * 1024;

/**
 * The elements of large JSON arrays, one at a time, so that an export of gigabytes converts in
 * bounded memory: with `arrays === 'top'`, the elements of a top-level array (Label Studio); else the
 * elements of the named arrays of a top-level object, with their key (COCO's `images`,
 * `annotations`, `categories`). Everything else is scanned past, not kept.
 *
 * A byte scanner finds where each element starts and ends (brackets outside strings; every byte it
 * looks for is ASCII, so UTF-8 text never confuses it) and `JSON.parse` reads the element. A
 * token-by-token parser (stream-json) read Label Studio brush exports, whose RLEs hold ~800,000
 * numbers a task, at 3.6 MB/s here: a 2 GB export would take ten minutes before any image.
 *
 * An element longer than `maxElementBytes`, or nested deeper than `maxDepth`, is neither kept nor
 * parsed: it is yielded with the reason it was `refused`, and the stream goes on after it.
 */
export async function* streamJsonElements(
  stream: Readable,
  arrays: 'top' | readonly string[],
  bounds: {
    readonly maxElementBytes?: number;
    readonly maxDepth?: number;
    /** Told where each element lies in the stream (`end` exclusive), before it is yielded: a share of a list is then one ranged read. */
    readonly onElement?: (start: number, end: number) => void;
  } = {},
): AsyncGenerator<JsonElement> {
  const maxElementBytes = bounds.maxElementBytes ?? MAX_JSON_ELEMENT_BYTES;
  const maxDepth = bounds.maxDepth ?? MAX_JSON_DEPTH;
  const elementDepth = arrays === 'top' ? 1 : 2;
  const shapeError = () => new JsonShapeError(`expected a JSON ${arrays === 'top' ? 'array' : 'object'} at the top level`);
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  /** In a wanted array, at its elements' level. */
  let inTarget = false;
  /** At the top object's level, where the next string is a key. */
  let expectKey = false;
  let key: string | null = null;
  let keyBytes: Buffer[] | undefined;
  let keyLength = 0;
  let keyFrom = -1;
  /** The element being read: its pieces from earlier chunks, and where it starts in this one. */
  let pieces: Buffer[] = [];
  let elementFrom = -1;
  let inElement = false;
  let elementBytes = 0;
  /** Where the chunk being scanned, and the element being read, start in the stream. */
  let chunkStart = 0;
  let elementStart = 0;
  /** Why the element being read is not kept, once it is known. */
  let refused: string | undefined;
  const tooLarge = () => `is more than ${maxElementBytes} bytes of JSON, the most read whole`;

  const parse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new JsonShapeError(`not valid JSON: ${(err as Error).message.replace(/[^\x20-\x7e]/g, '?').slice(0, 120)}`);
    }
  };

  try {
    for await (const chunk of stream) {
      const data: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const found: JsonElement[] = [];
      if (inElement) elementFrom = 0;
      if (keyBytes) keyFrom = 0;
      const length = data.length;
      for (let i = 0; i < length; i++) {
        let byte = data[i];
        if (escaped) {
          escaped = false;
          continue;
        }
        if (inString) {
          // Tight loops: most bytes of an export are inside strings or deep inside elements.
          while (byte !== QUOTE && byte !== BACKSLASH && ++i < length) byte = data[i];
          if (i === length) break;
          if (byte === BACKSLASH) {
            escaped = true;
            continue;
          }
          inString = false;
          if (keyBytes) {
            keyBytes.push(data.subarray(keyFrom, i + 1));
            key = parse(Buffer.concat(keyBytes).toString('utf8')) as string;
            keyBytes = undefined;
          }
          continue;
        }
        if (depth > elementDepth || (depth > 1 && !inTarget)) {
          while (
            byte !== QUOTE &&
            byte !== OPEN_BRACE &&
            byte !== CLOSE_BRACE &&
            byte !== OPEN_BRACKET &&
            byte !== CLOSE_BRACKET &&
            ++i < length
          )
            byte = data[i];
          if (i === length) break;
          if (byte === QUOTE) inString = true;
          else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
            depth += 1;
            if (inElement && refused === undefined && depth - elementDepth > maxDepth) {
              refused = `nests deeper than ${maxDepth} levels`;
              pieces = [];
            }
          } else depth -= 1;
          continue;
        }
        if (isSpace(byte)) continue;
        if (!started) {
          started = true;
          if (byte !== (arrays === 'top' ? OPEN_BRACKET : OPEN_BRACE)) throw shapeError();
          depth = 1;
          inTarget = arrays === 'top';
          expectKey = arrays !== 'top';
          continue;
        }
        if (depth === 0) throw new JsonShapeError('not valid JSON: text after the end of the document');
        if (inTarget && depth === elementDepth) {
          if (byte === COMMA || byte === CLOSE_BRACKET) {
            if (inElement) {
              bounds.onElement?.(elementStart, chunkStart + i);
              const bytes = elementBytes + i - elementFrom;
              if (refused === undefined && bytes > maxElementBytes) refused = tooLarge();
              if (refused !== undefined) {
                found.push({ key, refused });
              } else {
                pieces.push(data.subarray(elementFrom, i));
                found.push({ key, value: parse(Buffer.concat(pieces).toString('utf8')) });
              }
              pieces = [];
              inElement = false;
              elementBytes = 0;
              refused = undefined;
            }
            if (byte === CLOSE_BRACKET) {
              depth -= 1;
              inTarget = false;
            }
            continue;
          }
          if (!inElement) {
            inElement = true;
            elementFrom = i;
            elementStart = chunkStart + i;
          }
        }
        if (depth === 1 && arrays !== 'top') {
          if (byte === QUOTE && expectKey) {
            keyBytes = [];
            keyLength = 0;
            keyFrom = i;
            inString = true;
            expectKey = false;
            continue;
          }
          if (byte === COMMA) {
            expectKey = true;
            continue;
          }
          if (byte === OPEN_BRACKET && key !== null && arrays.includes(key)) {
            depth = 2;
            inTarget = true;
            continue;
          }
        }
        if (byte === QUOTE) inString = true;
        else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth += 1;
        else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth -= 1;
      }
      if (inElement) {
        elementBytes += length - elementFrom;
        if (refused === undefined && elementBytes > maxElementBytes) {
          refused = tooLarge();
          pieces = [];
        }
        if (refused === undefined) pieces.push(data.subarray(elementFrom));
      }
      if (keyBytes) {
        keyLength += length - keyFrom;
        if (keyLength > MAX_KEY_BYTES) throw new JsonShapeError(`a key of the top-level object is longer than ${MAX_KEY_BYTES} bytes`);
        keyBytes.push(data.subarray(keyFrom));
      }
      chunkStart += length;
      yield* found;
    }
  } catch (err) {
    if (err instanceof JsonShapeError) throw err;
    throw new JsonShapeError(`cannot read the JSON: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
  if (!started) throw shapeError();
  if (depth !== 0 || inString) throw new JsonShapeError('not valid JSON: the document ends before it is complete');
}
