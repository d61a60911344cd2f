import { isValidSnsSubject, plainText, quoted, SNS_SUBJECT_MAX_LENGTH, snsSubject } from '../../../lambda/common/untrusted-text';

describe('quoted', () => {
  test('quotes, escapes quotes, backslashes and invisible characters', () => {
    expect(quoted('a "b" \\ c')).toBe('"a \\"b\\" \\\\ c"');
    expect(quoted('x\ny\r\tz\u0007\u001b\u202e\u200b\u2028')).toBe('"x\\ny\\r\\tz\\u0007\\u001b\\u202e\\u200b\\u2028"');
    expect(quoted('schön 🐢')).toBe('"schön 🐢"');
  });
  test('cuts to the length asked and says how much was left out', () => {
    expect(quoted('abcdef', 3)).toBe('"abc"...(3 more)');
    expect(quoted('abc', 3)).toBe('"abc"');
    expect(quoted('x'.repeat(100_000))).toHaveLength(202 + '...(99800 more)'.length);
  });
});

describe('plainText', () => {
  test('keeps line breaks but indents every line after the first; other invisibles become spaces', () => {
    expect(plainText('a\nb\r\nc\u0007d\u202e')).toBe('a\n  b\n  c d');
  });
  test('cuts long text', () => {
    expect(plainText('abcdef', 4)).toBe('abcd...(2 more)');
  });
});

describe('snsSubject', () => {
  test('printable ASCII only, runs of spaces one, trimmed', () => {
    expect(snsSubject('segpipe: ', 'a\nb\u0007 é  🐢', ' failed')).toBe('segpipe: a?b? ? ? failed');
    expect(snsSubject('', '  \n', '')).toBe('?');
    expect(snsSubject('', '', '')).toBe('segpipe');
  });
  test('the untrusted part is cut so that the whole stays under 100 characters with its end intact', () => {
    const subject = snsSubject('segpipe: ', 'b'.repeat(500), ' deployed to segpipe-endpoint');
    expect(subject).toHaveLength(SNS_SUBJECT_MAX_LENGTH);
    expect(subject.endsWith('... deployed to segpipe-endpoint')).toBe(true);
  });
  test('whatever it is given, SNS would accept it', () => {
    for (const text of ['\n', '\u0000'.repeat(200), 'ü'.repeat(99), ' x', 'a'.repeat(1000), '🐢\r\n']) {
      expect(isValidSnsSubject(snsSubject('segpipe: ', text, ' failed'))).toBe(true);
      expect(isValidSnsSubject(snsSubject('', text, ''))).toBe(true);
    }
  });
});

describe('isValidSnsSubject', () => {
  test('refuses what SNS refuses', () => {
    expect(isValidSnsSubject('ok subject')).toBe(true);
    expect(isValidSnsSubject('a'.repeat(99))).toBe(true);
    expect(isValidSnsSubject('a'.repeat(100))).toBe(false);
    expect(isValidSnsSubject('')).toBe(false);
    expect(isValidSnsSubject(' leading space')).toBe(false);
    expect(isValidSnsSubject('line\nbreak')).toBe(false);
    expect(isValidSnsSubject('bell\u0007')).toBe(false);
    expect(isValidSnsSubject('schön')).toBe(false);
  });
});

describe('snsSubject at the edges of its room', () => {
  test('with nothing untrusted, what segpipe says alone', () => {
    expect(snsSubject('segpipe: run started')).toBe('segpipe: run started');
    expect(snsSubject('segpipe: ', 'b1')).toBe('segpipe: b1');
  });
  test('an untrusted part that just fits is not cut', () => {
    const subject = snsSubject('a'.repeat(10), 'b'.repeat(89));
    expect(subject).toBe(`${'a'.repeat(10)}${'b'.repeat(89)}`);
  });
  test('room for the ellipsis only: the untrusted part is left out, not replaced by dots', () => {
    expect(snsSubject('a'.repeat(96), 'bbbbb')).toBe('a'.repeat(96));
    expect(snsSubject('a'.repeat(97), 'bbbbb')).toBe('a'.repeat(97));
    expect(snsSubject('a'.repeat(92), 'bbbbbbbb')).toBe(`${'a'.repeat(92)}bbbb...`);
  });
  test("what segpipe says is cut too when it alone is over SNS's limit", () => {
    expect(snsSubject('c'.repeat(120), 'b', 'd')).toBe('c'.repeat(SNS_SUBJECT_MAX_LENGTH));
  });
});
