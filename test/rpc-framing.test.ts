import test from 'ava';
import { PimError } from '../ts/errors';
import { LineSplitter, MAX_LINE_BYTES } from '../ts/rpc/framing';

function feed(splitter: LineSplitter, chunks: (string | Buffer)[]): string[] {
  return chunks.flatMap((chunk) => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
}

test('a complete line in one chunk comes out without its newline', (t) => {
  t.deepEqual(feed(new LineSplitter(), ['{"a":1}\n']), ['{"a":1}']);
});

test('many lines in one chunk come out in order', (t) => {
  t.deepEqual(feed(new LineSplitter(), ['one\ntwo\nthree\n']), ['one', 'two', 'three']);
});

test('a line is held until its newline arrives', (t) => {
  const splitter = new LineSplitter();
  t.deepEqual(splitter.push(Buffer.from('{"meth')), []);
  t.deepEqual(splitter.push(Buffer.from('od":"x"}')), []);
  t.deepEqual(splitter.push(Buffer.from('\n{"b"')), ['{"method":"x"}']);
  t.deepEqual(splitter.push(Buffer.from(':2}\n')), ['{"b":2}']);
});

test('a line fed one byte at a time, with multi-byte characters cut in half, decodes intact', (t) => {
  const text = 'héllo → 世界 🙂';
  const bytes = Buffer.from(`${text}\n`);
  const splitter = new LineSplitter();
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i++) lines.push(...splitter.push(bytes.subarray(i, i + 1)));
  t.deepEqual(lines, [text]);
});

test('CRLF line endings are accepted and blank lines are skipped', (t) => {
  t.deepEqual(feed(new LineSplitter(), ['a\r\n\n\r\nb\n', '\n']), ['a', 'b']);
});

test('an unfinished line yields nothing', (t) => {
  t.deepEqual(feed(new LineSplitter(), ['no newline yet']), []);
});

test('the default limit is 1 MiB', (t) => {
  t.is(MAX_LINE_BYTES, 1024 * 1024);
});

test('a line of exactly the limit is accepted, with or without CR', (t) => {
  const line = 'x'.repeat(16);
  t.deepEqual(feed(new LineSplitter(16), [`${line}\n`]), [line]);
  t.deepEqual(feed(new LineSplitter(16), [`${line}\r\n`]), [line]);
});

test('a line one byte over the limit is a protocol violation', (t) => {
  const err = t.throws(() => feed(new LineSplitter(16), [`${'x'.repeat(17)}\n`]));
  t.true(err instanceof PimError);
  t.is((err as PimError).code, 'invalid_request');
  t.regex(err!.message, /longer than 16 bytes/);
});

test('an over-long line is reported before its newline arrives, across chunks', (t) => {
  const splitter = new LineSplitter(16);
  t.deepEqual(splitter.push(Buffer.from('x'.repeat(10))), []);
  t.throws(() => splitter.push(Buffer.from('x'.repeat(10))), { instanceOf: PimError });
});

test('the limit applies to each line, not to the chunk', (t) => {
  const lines = Array.from({ length: 100 }, (_, i) => `line-${String(i).padStart(3, '0')}`);
  t.deepEqual(feed(new LineSplitter(16), [`${lines.join('\n')}\n`]), lines);
});

test('a 1 MiB line cut into small chunks is reassembled', (t) => {
  const bytes = Buffer.from(`${'y'.repeat(MAX_LINE_BYTES)}\n`);
  const splitter = new LineSplitter();
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 64) lines.push(...splitter.push(bytes.subarray(i, i + 64)));
  t.is(lines.length, 1);
  t.is(lines[0]!.length, MAX_LINE_BYTES);
});
