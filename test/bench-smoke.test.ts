// A short run of the benchmark harness (`--runs 1 --seconds 1`) into a temp
// dir: it must produce a complete, well-formed result — a Markdown row for
// every metric with a cell for every system, a JSON median for every
// system × metric that applies, a valid PNG — and leave no namespace behind.
// No speed threshold: this checks the harness, not the data plane.
// Root only (CI runs as root); the comparators may be absent where apt-get
// cannot install them or go/cargo cannot build them, which is logged, not
// failed. Built comparators come from the cache outside the checkout
// (build.ts), so only a machine's first run pays for building them.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import { run } from '../ts/lab/exec.js';
import { applies, METRICS, SYSTEM_LABELS, type SystemId } from '../ts/bench/metrics.js';
import { labTest } from './helpers/lab.js';
import { tempDir } from './helpers/tmp.js';

const RUN_JS = require.resolve('../ts/bench/run.js');
// A new machine's first run also builds current wireguard-go and boringtun
// (build.ts, a few minutes on 2 busy cores); later runs find them cached.
const TIMEOUT_MS = 10 * 60_000;

function runHarness(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN_JS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    // SIGINT lets the harness clean up as it does for Ctrl-C.
    const timer = setTimeout(() => child.kill('SIGINT'), TIMEOUT_MS - 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

function pngProblems(png: Buffer): string[] {
  const problems: string[] = [];
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return ['no PNG signature'];
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (at + 12 <= png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (png.readUInt32BE(at + 8 + length) !== crc(png.subarray(at + 4, at + 8 + length))) problems.push(`bad CRC on ${type}`);
    if (type === 'IHDR') [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
    if (type === 'IDAT') idat.push(data);
    types.push(type);
    at += 12 + length;
  }
  if (types[0] !== 'IHDR' || types[types.length - 1] !== 'IEND') problems.push(`chunks ${types.join(',')}`);
  const raw = inflateSync(Buffer.concat(idat));
  if (width === 0 || raw.length !== height * (1 + width * 3)) problems.push(`IDAT inflates to ${raw.length} bytes for ${width}×${height}`);
  return problems;
}

labTest('bench harness: one short run per system gives a complete md, json and png and cleans up', async (t) => {
  t.timeout(TIMEOUT_MS);
  const out = tempDir(t, 'pim-bench-smoke-');

  const { code, output } = await runHarness(['--runs', '1', '--seconds', '1', '--out', out]);
  t.is(code, 0, `the harness exits 0; its output:\n${output.slice(-4000)}`);

  const files = fs.readdirSync(out);
  const find = (ext: string): string => {
    const name = files.find((f) => /^\d{4}-\d{2}-\d{2}\./.test(f) && f.endsWith(ext));
    if (!name) throw new Error(`no <date>${ext} in ${out}: ${files.join(', ')}`);
    return path.join(out, name);
  };

  const result = JSON.parse(fs.readFileSync(find('.json'), 'utf8')) as {
    systems: SystemId[];
    missing: Array<{ system: SystemId; reason: string }>;
    runs: Array<{ system: SystemId; errors: string[] }>;
    summary: Record<string, Record<string, unknown>>;
    offloads: Record<string, Record<string, string>>;
  };
  for (const system of ['raw', 'pim'] as const) t.true(result.systems.includes(system), `${system} was measured`);
  for (const system of ['wireguard-go-current', 'wireguard-go', 'boringtun', 'nebula'] as const) {
    if (result.systems.includes(system)) continue;
    const why = result.missing.find((m) => m.system === system)?.reason ?? 'not listed as missing';
    if (why.startsWith('not installed') || why.startsWith('not built')) t.log(`${system} missing on this machine: ${why}`);
    else t.fail(`${system} was not measured: ${why}`);
  }
  t.is(result.runs.length, result.systems.length, 'one run per system');
  for (const system of result.systems.filter((s) => s !== 'raw')) {
    t.regex(result.offloads[system]?.['tcp-segmentation-offload'] ?? '', /^(on|off)$/, `the report says whether ${system}'s tunnel had TSO`);
  }
  t.deepEqual(result.runs.flatMap((r) => r.errors.map((e) => `${r.system}: ${e}`)), [], 'no workload failed');
  for (const system of result.systems) {
    for (const metric of METRICS) {
      const cell = result.summary[system]?.[metric.id];
      if (!applies(metric, system)) {
        t.is(cell, 'n/a', `${system} ${metric.id} is n/a`);
        continue;
      }
      const median = (cell as { median?: unknown } | undefined)?.median;
      t.true(typeof median === 'number' && median > 0, `${system} ${metric.id} has a median > 0 (got ${JSON.stringify(cell)})`);
    }
  }

  const md = fs.readFileSync(find('.md'), 'utf8');
  const header = md.split('\n').find((l) => l.startsWith('| metric | unit |')) ?? '';
  for (const system of result.systems) t.true(header.includes(SYSTEM_LABELS[system]), `the results table has a ${system} column`);
  for (const metric of METRICS) {
    const row = md.split('\n').find((l) => l.startsWith(`| ${metric.label} |`));
    t.truthy(row, `a row for ${metric.label}`);
    const cells = (row ?? '').split('|').slice(1, -1).map((c) => c.trim());
    t.is(cells.length, 2 + result.systems.length, `${metric.label}: a cell per system`);
    t.false(cells.some((c) => c === '' || c.includes('failed')), `${metric.label}: every cell filled: ${row}`);
  }
  t.regex(md, /\| CPU \| .+, \d+ cores \|/);
  t.regex(md, /\| kernel \| \S+ \|/);

  t.deepEqual(pngProblems(fs.readFileSync(find('.png'))), [], 'the chart is a valid PNG');

  const labId = output.match(/namespaces (pim-bench-[0-9a-f]{6})-a /)?.[1];
  t.truthy(labId, 'the harness named its namespaces');
  const netns = await run('ip', ['netns', 'list']);
  t.false(labId !== undefined && netns.stdout.includes(labId), 'no namespace of the run is left');
});
