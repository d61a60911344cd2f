/**
 * Text from uploads (a batch name from an object key, a manifest's `source-ref`, a reason that echoes
 * either) in what segpipe sends people: quoted and cut, never trusted. Every message that carries
 * upload text builds it with these helpers.
 */
// @ts-nocheck


/**
 * SNS's limits on a subject (Amazon SNS API Reference, `Publish`, `Subject`): ASCII text that begins
 * with a letter, number or punctuation mark, with no line breaks or control characters, less than 100
 * characters long. A subject that breaks them is refused (`InvalidParameter`), and the message with it.
 */
export const SNS_SUBJECT_MAX_LENGTH = 99;

/** Characters a reader cannot see or that change how text reads: controls, format characters (bidi overrides, zero-width), line and paragraph separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** Where an untrusted string was cut: the number of characters left out. */
function cutMarker(omitted: number): string {
  return `...(${omitted} more)`;
}

/**
 * An untrusted string as one quoted line of plain text: in double quotes, with quotes, backslashes and
 * invisible characters escaped (`\n`, `\u0007`, `\u202e`), cut to `maxLength` characters of the
 * original with a note of how many were left out. Nothing in it can start a line or hide a character.
 */
export function quoted(text: string, maxLength = 200): string {
  const characters = [...text];
  const kept = characters.slice(0, maxLength).join('');
  const escaped = kept.replace(/["\\]/g, '\\$&').replace(INVISIBLE, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"${characters.length > maxLength ? cutMarker(characters.length - maxLength) : ''}`;
}

/**
 * Text that mixes segpipe's words with untrusted ones (an error's cause): invisible characters other
 * than line breaks become spaces, every line after the first is indented (so no line of it passes for
 * one of the message's own), and the text is cut to `maxLength` characters.
 */
export function plainText(text: string, maxLength = 2000, indent = '  '): string {
  const characters = [...text.replace(/\r\n?/g, '\n')];
  const kept = characters.slice(0, maxLength).join('');
  const cleaned = kept
    .split('\n')
    .map((line) => line.replace(INVISIBLE, ' ').trimEnd())
    .join(`\n${indent}`);
  return characters.length > maxLength ? `${cleaned}${cutMarker(characters.length - maxLength)}` : cleaned;
}

/** Printable ASCII only: anything else becomes `?`, runs of spaces one. */
function printableAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, '?').replace(/ {2,}/g, ' ');
}

/**
 * A subject SNS accepts, whatever `untrusted` holds: `before`, the untrusted text and `after` in
 * printable ASCII only (anything else becomes `?`), starting with a letter, number or punctuation
 * mark, and at most {@link SNS_SUBJECT_MAX_LENGTH} characters: the untrusted part is cut (ending in
 * `...`) so that what segpipe says around it stays whole.
 */
export function snsSubject(before: string, untrusted = '', after = ''): string {
  const fixed = printableAscii(before).length + printableAscii(after).length;
  let middle = printableAscii(untrusted);
  const room = SNS_SUBJECT_MAX_LENGTH - fixed;
  if (middle.length > room) middle = room > 3 ? `${middle.slice(0, room - 3)}...` : '';
  const subject = printableAscii(`${before}${middle}${after}`).trim().slice(0, SNS_SUBJECT_MAX_LENGTH);
  return subject === '' ? 'segpipe' : subject;
}

/** Whether SNS would accept `subject` as a Publish subject (the rules {@link snsSubject} follows). */
export function isValidSnsSubject(subject: string): boolean {
  return subject.length >= 1 && subject.length <= SNS_SUBJECT_MAX_LENGTH && /^[\x21-\x7e][\x20-\x7e]*$/.test(subject);
}
