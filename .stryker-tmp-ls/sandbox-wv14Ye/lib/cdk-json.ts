import { readFileSync } from 'node:fs';

/** A cdk.json that is not JSON: its message is one line naming the file, line and column. */
export class CdkJsonError extends Error {
  override readonly name = 'CdkJsonError';
}

/**
 * cdk.json, parsed; a syntax error is one line naming the file, line and column, not `JSON.parse`'s
 * `Unexpected token } in JSON at position 812`.
 */
export function readCdkJson(path: string): { context?: Record<string, unknown> } {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CdkJsonError(`${path}: ${jsonErrorPlace(text, (err as Error).message)}`);
  }
}

/** Where in `text` a JSON.parse error is, and what it is: `line 12, column 5: ...`. */
export function jsonErrorPlace(text: string, message: string): string {
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  const position = /at position (\d+)/.exec(message);
  let place = '';
  if (lineColumn) {
    place = `line ${lineColumn[1]}, column ${lineColumn[2]}`;
  } else if (position) {
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    place = `line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
  } else {
    place = `line ${text.split('\n').length} (the end)`;
  }
  const what = message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/,? ?"[^"]*"\s*is not valid JSON.*$/s, '')
    .replace(/\s*\(line \d+ column \d+\)/, '');
  return `${place}: not valid JSON (${what.trim() || 'syntax error'})`;
}
