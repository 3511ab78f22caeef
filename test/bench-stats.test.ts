// The benchmark's pure logic: medians and ratios, the UDP rate search, the
// parsers of iperf3/ping//proc output and the command line.

import test from 'ava';
import { parseArgs } from '../ts/bench/args.js';
import { parseIperfJson, parsePingRtts, parseTcp, parseUdp } from '../ts/bench/iperf.js';
import { cacheDir } from '../ts/bench/build.js';
import { cpuModel } from '../ts/bench/machine.js';
import { parseEthtoolFeatures } from '../ts/bench/offloads.js';
import { METRICS } from '../ts/bench/metrics.js';
import { cpuDelta, parseStat, parseStatusKiB } from '../ts/bench/proc.js';
import { searchUdpRate, type Probe } from '../ts/bench/search.js';
import { formatNumber, median, ratios, summarize, summarizeRuns, type RunRecord } from '../ts/bench/stats.js';

test('median: the middle value of an odd count, the mean of the two middle values of an even count', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.is(median([7]), 7);
  t.throws(() => median([]));
});

test('summarize ignores failed runs (null) and reports how many runs counted', (t) => {
  t.deepEqual(summarize([5, null, 1, 3, undefined]), { median: 3, min: 1, max: 5, n: 3 });
  t.is(summarize([null, null]), undefined);
  t.is(summarize([Number.NaN]), undefined);
});

function rec(run: number, system: RunRecord['system'], samples: Record<string, number | null>): RunRecord {
  return { run, system, samples };
}

test('summarizeRuns: n/a where a metric does not apply, missing where every run failed', (t) => {
  const runs = [
    rec(1, 'raw', { tcp1_ab_mbps: 10_000, cpu_s_per_gbit: 1 }),
    rec(1, 'pim', { tcp1_ab_mbps: 900, event_loop_p99_ms: 2 }),
    rec(2, 'pim', { tcp1_ab_mbps: 1100, event_loop_p99_ms: null }),
    rec(3, 'pim', { tcp1_ab_mbps: 1000 }),
  ];
  const table = summarizeRuns(['raw', 'pim'], runs);
  t.deepEqual(table.pim?.tcp1_ab_mbps, { median: 1000, min: 900, max: 1100, n: 3 });
  t.deepEqual(table.pim?.event_loop_p99_ms, { median: 2, min: 2, max: 2, n: 1 });
  t.is(table.pim?.udp_kpps, 'missing');
  t.is(table.raw?.cpu_s_per_gbit, 'n/a', 'the raw veth has no daemon, whatever was recorded');
  t.is(table.raw?.event_loop_p99_ms, 'n/a');
  t.is(Object.keys(table.pim ?? {}).length, METRICS.length, 'a cell for every metric');
});

test('ratios come from the medians, for the pairs where both systems have one', (t) => {
  const runs = [
    rec(1, 'raw', { tcp1_ab_mbps: 8000 }),
    rec(1, 'pim', { tcp1_ab_mbps: 2000, cpu_s_per_gbit: 3 }),
    rec(2, 'pim', { tcp1_ab_mbps: 4000, cpu_s_per_gbit: 1 }),
    rec(1, 'wireguard-go-current', { tcp1_ab_mbps: 1000, cpu_s_per_gbit: 4 }),
  ];
  const r = ratios(summarizeRuns(['raw', 'pim', 'wireguard-go-current'], runs));
  const find = (metric: string, a: string, b: string): number | undefined =>
    r.find((x) => x.metric === metric && x.numerator === a && x.denominator === b)?.ratio;
  t.is(find('tcp1_ab_mbps', 'pim', 'wireguard-go-current'), 3);
  t.is(find('tcp1_ab_mbps', 'pim', 'raw'), 3000 / 8000);
  t.is(find('tcp1_ab_mbps', 'wireguard-go-current', 'raw'), 1000 / 8000);
  t.is(find('cpu_s_per_gbit', 'pim', 'wireguard-go-current'), 0.5);
  t.is(find('cpu_s_per_gbit', 'pim', 'raw'), undefined, 'n/a for the raw veth');
  t.is(find('tcp1_ab_mbps', 'pim', 'nebula'), undefined, 'nebula not measured');
});

test('formatNumber: 3 significant digits below 100, whole numbers above', (t) => {
  t.is(formatNumber(1234.56), '1235');
  t.is(formatNumber(12.345), '12.3');
  t.is(formatNumber(0.04567), '0.0457');
  t.is(formatNumber(0), '0');
});

/** A link that delivers up to `capacity` bit/s and drops the excess. */
function fakeLink(capacityBps: number, rates: number[]): (rate: number) => Promise<Probe> {
  return async (rate) => {
    rates.push(rate);
    const lossPercent = rate <= capacityBps ? 0 : (100 * (rate - capacityBps)) / rate;
    return { rateBps: rate, lossPercent, deliveredPps: Math.min(rate, capacityBps) / (1372 * 8) };
  };
}

const SEARCH = { steps: 5, maxSteps: 8, maxLossPercent: 1, floorBps: 1e6 };

test('UDP search: starts at the TCP rate and bisects down when that loses packets', async (t) => {
  const rates: number[] = [];
  const r = await searchUdpRate({ ...SEARCH, startBps: 1000e6 }, fakeLink(600e6, rates));
  t.is(rates[0], 1000e6);
  t.is(rates.length, 5, 'five probes');
  t.deepEqual(rates.slice(0, 3), [1000e6, 500e6, 750e6]);
  t.truthy(r.best);
  t.true((r.best?.rateBps ?? 0) <= 600e6 && (r.best?.rateBps ?? 0) >= 500e6, 'the best passing rate is within the last bracket');
  t.true(r.probes.every((p) => p.rateBps >= SEARCH.floorBps));
});

test('UDP search: doubles while every probe passes', async (t) => {
  const rates: number[] = [];
  const r = await searchUdpRate({ ...SEARCH, startBps: 100e6 }, fakeLink(500e6, rates));
  t.deepEqual(rates.slice(0, 4), [100e6, 200e6, 400e6, 800e6]);
  t.is(rates[4], 600e6, 'then bisects between the best pass and the first failure');
  t.is(r.best?.rateBps, 400e6);
});

test('UDP search: keeps halving past the usual steps until a rate passes, never below the floor', async (t) => {
  const rates: number[] = [];
  const r = await searchUdpRate({ ...SEARCH, startBps: 1000e6 }, fakeLink(10e6, rates));
  t.true(rates.length > 5 && rates.length <= 8);
  t.truthy(r.best, 'a passing rate was found');
  const none: number[] = [];
  const dead = await searchUdpRate({ ...SEARCH, startBps: 8e6 }, fakeLink(0, none));
  t.is(dead.best, undefined, 'nothing passes on a dead link');
  t.true(none.every((rate) => rate >= 1e6));
  t.true(none.length <= 8);
});

const TCP_JSON = JSON.stringify({
  end: {
    sum_sent: { seconds: 10, bytes: 1_250_000_000, bits_per_second: 1e9, retransmits: 7 },
    sum_received: { seconds: 10.001, bytes: 1_249_000_000, bits_per_second: 999e6 },
  },
});

test('iperf3 TCP JSON: the receiver-side rate and bytes, and retransmits when reported', (t) => {
  t.deepEqual(parseTcp(parseIperfJson(TCP_JSON)), { bps: 999e6, bytes: 1_249_000_000, seconds: 10.001, retransmits: 7 });
  t.throws(() => parseIperfJson('{"error": "unable to connect to server: Connection refused"}'), { message: /iperf3: unable to connect/ });
  t.throws(() => parseIperfJson(''), { message: /no JSON/ });
  t.throws(() => parseTcp({ end: {} }), { message: /sum_received/ });
});

test('iperf3 UDP JSON: delivered packets per second and the loss percentage', (t) => {
  const doc = { end: { sum_received: { seconds: 2, packets: 10_000, lost_packets: 50, bytes: 1 } } };
  const p = parseUdp(doc, 80e6);
  t.is(p.rateBps, 80e6);
  t.is(p.lossPercent, 0.5);
  t.is(p.deliveredPps, 4975);
  t.is(parseUdp({ end: { sum_received: { seconds: 1, packets: 0, lost_packets: 0 } } }, 1e6).lossPercent, 100, 'nothing sent is total loss');
});

test('ping output: every reply time, none from the summary line', (t) => {
  const out = [
    'PING 10.77.0.2 (10.77.0.2) 56(84) bytes of data.',
    '64 bytes from 10.77.0.2: icmp_seq=1 ttl=64 time=0.412 ms',
    '64 bytes from 10.77.0.2: icmp_seq=2 ttl=64 time=1.05 ms',
    '',
    '2 packets transmitted, 2 received, 0% packet loss, time 21ms',
    'rtt min/avg/max/mdev = 0.412/0.731/1.050/0.319 ms',
  ].join('\n');
  t.deepEqual(parsePingRtts(out), [0.412, 1.05]);
});

test('/proc parsing: stat fields after a command name with spaces and parentheses, status in kB', (t) => {
  const line = '4242 (node (pim) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 123 456 789';
  t.deepEqual(parseStat(line), { ppid: 1, utime: 250, stime: 75 });
  t.is(parseStat('garbage'), undefined);
  t.is(parseStatusKiB('Name:\tnode\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n', 'VmHWM'), 51200);
  t.is(parseStatusKiB('Name:\tnode\n', 'VmRSS'), undefined);
  t.is(cpuDelta(new Map([[1, 2], [2, 5]]), new Map([[1, 3.5], [3, 9]])), 1.5, 'only pids present both times count');
  t.is(cpuModel('processor\t: 0\nmodel name\t: AMD EPYC 7B13\n'), 'AMD EPYC 7B13');
});

test('command line: defaults, flags over environment, --only in round-robin order', (t) => {
  t.deepEqual(parseArgs([]), { runs: 5, seconds: 10, systems: ['raw', 'pim', 'wireguard-go-current', 'wireguard-go', 'boringtun', 'nebula'], out: undefined, help: false });
  const o = parseArgs(['--runs', '1', '--seconds=3', '--only', 'pim,raw', '--out', '/tmp/x'], { BENCH_RUNS: '5', BENCH_SECONDS: '7' });
  t.deepEqual(o, { runs: 1, seconds: 3, systems: ['raw', 'pim'], out: '/tmp/x', help: false });
  t.is(parseArgs([], { RUNS: '4' }).runs, 4);
  t.deepEqual(parseArgs(['--only', 'nebula,wg']).systems, ['wireguard-go', 'nebula']);
  t.deepEqual(parseArgs(['--only', 'bt,wgc,pim']).systems, ['pim', 'wireguard-go-current', 'boringtun']);
  t.throws(() => parseArgs(['--runs', '0']), { message: /--runs must be a whole number/ });
  t.throws(() => parseArgs(['--seconds', '1.5']), { message: /--seconds/ });
  t.throws(() => parseArgs(['--only', 'tailscale']), { message: /unknown system "tailscale"/ });
  t.throws(() => parseArgs(['--fast']), { message: /unknown argument/ });
  t.throws(() => parseArgs(['--out']), { message: /needs a value/ });
});

test('ethtool -k: on/off per feature, notes like [fixed] dropped', (t) => {
  const text = [
    'Features for pim0:',
    'rx-checksumming: off [fixed]',
    'tx-checksumming: on',
    '\ttx-checksum-ipv4: off [fixed]',
    'tcp-segmentation-offload: on',
    '\ttx-tcp-segmentation: on',
    'generic-receive-offload: on [requested off]',
  ].join('\n');
  t.deepEqual(parseEthtoolFeatures(text), {
    'rx-checksumming': 'off',
    'tx-checksumming': 'on',
    'tcp-segmentation-offload': 'on',
    'generic-receive-offload': 'on',
  });
});

test('the comparators build cache lives outside the checkout: PIM_BENCH_CACHE, else XDG_CACHE_HOME, else ~/.cache', (t) => {
  t.is(cacheDir({ PIM_BENCH_CACHE: '/var/cache/x' }), '/var/cache/x');
  t.is(cacheDir({ XDG_CACHE_HOME: '/c' }), '/c/pim-bench');
  t.regex(cacheDir({}), /\/\.cache\/pim-bench$/);
});
