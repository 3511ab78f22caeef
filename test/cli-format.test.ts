import test from 'ava';
import { formatAge, formatBytes, formatDuration, formatLatency, renderTable, sanitizeForTerminal } from '../ts/cli/format.js';

// Test titles show control and bidi characters escaped, so they cannot garble the report.
const show = (value: unknown): string =>
  JSON.stringify(value).replace(/[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

const cases = <I, O>(name: string, fn: (input: I) => O, table: Array<[I, O]>): void => {
  for (const [input, expected] of table) {
    test(`${name}(${show(input)}) → ${show(expected)}`, (t) => {
      t.is(fn(input), expected);
    });
  }
};

cases('formatBytes', formatBytes, [
  [0, '0 B'],
  [1, '1 B'],
  [512, '512 B'],
  [1023, '1023 B'],
  [1024, '1.0 KiB'],
  [1536, '1.5 KiB'],
  [1048575, '1.0 MiB'],
  [12.3 * 1024 * 1024, '12.3 MiB'],
  [1.5 * 1024 ** 3, '1.5 GiB'],
  [2 * 1024 ** 4, '2.0 TiB'],
  [3 * 1024 ** 6, '3072.0 PiB'],
  [-1, '-'],
  [Number.NaN, '-'],
]);

cases('formatAge', formatAge, [
  [null, 'never'],
  [0, '0s ago'],
  [14, '14s ago'],
  [14.9, '14s ago'],
  [59, '59s ago'],
  [60, '1m 0s ago'],
  [185, '3m 5s ago'],
  [3599, '59m 59s ago'],
  [3600, '1h 0m ago'],
  [2 * 3600 + 4 * 60 + 59, '2h 4m ago'],
  [86399, '23h 59m ago'],
  [3 * 86400 + 3600 + 12, '3d 1h ago'],
  [-2, '0s ago'],
]);

cases('formatDuration', formatDuration, [
  [0, '0s'],
  [45, '45s'],
  [65, '1m 5s'],
  [3600, '1h 0m 0s'],
  [3723, '1h 2m 3s'],
  [2 * 86400 + 301, '2d 0h 5m 1s'],
  [12.7, '12s'],
]);

cases('formatLatency', formatLatency, [
  [null, '-'],
  [0, '0.0 ms'],
  [1.23, '1.2 ms'],
  [1.25, '1.3 ms'],
  [250, '250.0 ms'],
]);

test('renderTable aligns columns two spaces apart with no trailing spaces', (t) => {
  const out = renderTable(
    ['ID', 'LABEL', 'MESH IP', 'RX'],
    [
      ['300c9c96', 'home-gw', '10.77.0.1', '12.3 MiB'],
      ['abcdef01', '', '10.77.124.78', '0 B'],
    ],
  );
  t.is(
    out,
    [
      'ID        LABEL    MESH IP       RX',
      '300c9c96  home-gw  10.77.0.1     12.3 MiB',
      'abcdef01           10.77.124.78  0 B',
    ].join('\n'),
  );
});

test('renderTable with no rows prints the header alone', (t) => {
  t.is(renderTable(['ID', 'STATE'], []), 'ID  STATE');
});

test('renderTable drops trailing spaces when the last cell is short or empty', (t) => {
  t.is(renderTable(['A', 'LAST'], [['x', ''], ['y']]), 'A  LAST\nx\ny');
});

test('renderTable counts code points, not UTF-16 units', (t) => {
  // U+1D465 is one code point, two UTF-16 units, one terminal column.
  t.is(renderTable(['L', 'X'], [['\u{1d465}\u{1d465}', '1'], ['abc', '2']]), 'L    X\n\u{1d465}\u{1d465}   1\nabc  2');
});

test('renderTable refuses a row wider than the header', (t) => {
  t.throws(() => renderTable(['A'], [['1', '2']]), { instanceOf: RangeError });
});

test('renderTable neutralises terminal escapes and newlines in cells', (t) => {
  const out = renderTable(['LABEL'], [['evil\u001b[2J\nx']]);
  t.false(out.includes('\u001b'));
  t.is(out.split('\n').length, 2);
});

cases('sanitizeForTerminal', sanitizeForTerminal, [
  ['home-gw', 'home-gw'],
  ['a\tb', 'a?b'],
  ['\u001b]0;pwned\u0007', '?]0;pwned?'],
  ['x\u009by', 'x?y'],
  ['gw\u202Eexe.txt', 'gw?exe.txt'],
  ['café', 'café'],
]);
