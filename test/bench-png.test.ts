// The chart's PNG encoder produces a file any decoder accepts: the signature,
// an IHDR that says what follows, a correct CRC on every chunk, and IDAT that
// inflates to height rows of (1 filter byte + width × 3) bytes.

import test from 'ava';
import { inflateSync } from 'node:zlib';
import { renderBarCharts } from '../ts/bench/chart.js';
import { textWidth } from '../ts/bench/font.js';
import { crc32, encodePng } from '../ts/bench/png.js';

interface Chunk {
  type: string;
  data: Buffer;
  crc: number;
}

/** A CRC-32 written independently of png.ts (bit by bit, no table). */
function referenceCrc(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunks(png: Buffer): Chunk[] {
  const out: Chunk[] = [];
  let at = 8;
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    out.push({ type, data, crc: png.readUInt32BE(at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

function checkPng(t: import('ava').ExecutionContext, png: Buffer, width: number, height: number): Buffer {
  t.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const list = chunks(png);
  t.deepEqual(list.map((c) => c.type), ['IHDR', 'IDAT', 'IEND']);
  for (const c of list) {
    t.is(c.crc, referenceCrc(Buffer.concat([Buffer.from(c.type, 'latin1'), c.data])), `CRC of ${c.type}`);
  }
  const ihdr = list[0].data;
  t.is(ihdr.length, 13);
  t.is(ihdr.readUInt32BE(0), width);
  t.is(ihdr.readUInt32BE(4), height);
  t.deepEqual([...ihdr.subarray(8)], [8, 2, 0, 0, 0], '8-bit truecolour, deflate, filter 0, no interlace');
  const raw = inflateSync(Buffer.concat(list.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  t.is(raw.length, height * (1 + width * 3), 'height rows of a filter byte and width RGB pixels');
  for (let y = 0; y < height; y++) t.is(raw[y * (1 + width * 3)], 0, `row ${y} uses filter None`);
  return raw;
}

test('crc32 matches the standard check value and an independent implementation', (t) => {
  t.is(crc32(Buffer.from('123456789')), 0xcbf43926);
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff));
  t.is(crc32(data), referenceCrc(data));
  t.is(crc32(Buffer.alloc(0)), 0);
});

test('a small image round-trips: pixels come back where they were put', (t) => {
  const width = 3;
  const height = 2;
  const rgb = new Uint8Array(width * height * 3);
  rgb.set([255, 0, 0], 0); // (0,0) red
  rgb.set([0, 0, 255], (1 * width + 2) * 3); // (2,1) blue
  const raw = checkPng(t, encodePng(width, height, rgb), width, height);
  t.deepEqual([...raw.subarray(1, 4)], [255, 0, 0]);
  const row1 = 1 + width * 3;
  t.deepEqual([...raw.subarray(row1 + 1 + 6, row1 + 1 + 9)], [0, 0, 255]);
});

test('the encoder refuses a size that does not match the pixels', (t) => {
  t.throws(() => encodePng(2, 2, new Uint8Array(5)), { message: /expected 12 bytes/ });
  t.throws(() => encodePng(0, 2, new Uint8Array(0)), { message: /positive/ });
});

test('the bar chart is a valid PNG, one panel under the other, with bars in the series colours', (t) => {
  const colour = [31, 119, 180] as const;
  const png = renderBarCharts(
    [
      {
        title: 'TCP THROUGHPUT',
    unit: 'MBIT/S',
    series: [
      { label: '1 STREAM', color: colour },
      { label: '4 STREAMS', color: [255, 127, 14] },
    ],
        groups: [
          { label: 'raw veth', values: [{ median: 9000, min: 8500, max: 9400 }, { median: 12000, min: 11000, max: 12500 }] },
          { label: 'pim', values: [{ median: 1500, min: 1400, max: 1600 }, undefined] },
        ],
      },
      { title: 'PIM ONLY', unit: 'MBIT/S', series: [{ label: '1 STREAM', color: colour }], groups: [{ label: 'pim', values: [undefined] }] },
    ],
    400,
    150,
  );
  const raw = checkPng(t, png, 400, 300);
  let found = false;
  for (let i = 0; i + 2 < raw.length && !found; i++) found = raw[i] === colour[0] && raw[i + 1] === colour[1] && raw[i + 2] === colour[2];
  t.true(found, 'some pixel has the first series colour');
  t.is(textWidth('AB', 2), 22);
});
