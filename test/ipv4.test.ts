import test from 'ava';
import { formatIpv4, inPrefix, parseCidr, parseHostPort, parseIpv4, prefixMask } from '../ts/net/ipv4.js';

const validAddresses: Array<[string, number]> = [
  ['0.0.0.0', 0],
  ['10.77.0.1', 0x0a4d0001],
  ['192.0.2.7', 0xc0000207],
  ['255.255.255.255', 0xffffffff],
  ['128.0.0.0', 0x80000000],
];

for (const [text, n] of validAddresses) {
  test(`parseIpv4 and formatIpv4 round-trip ${text}`, (t) => {
    t.is(parseIpv4(text), n);
    t.is(formatIpv4(n), text);
  });
}

for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1.2.3.04', '1.2.3.-4', '1..2.3', ' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', '1.2.3.4e0', '١.2.3.4', '::1']) {
  test(`parseIpv4 rejects ${JSON.stringify(bad)}`, (t) => {
    t.is(parseIpv4(bad), null);
  });
}

test('formatIpv4 rejects values that are not 32-bit unsigned', (t) => {
  for (const bad of [-1, 0x100000000, 1.5, Number.NaN]) {
    t.throws(() => formatIpv4(bad), { instanceOf: RangeError });
  }
});

test('prefixMask covers /0 and /32 and keeps the top bit unsigned', (t) => {
  t.is(prefixMask(0), 0);
  t.is(prefixMask(1), 0x80000000);
  t.is(prefixMask(8), 0xff000000);
  t.is(prefixMask(16), 0xffff0000);
  t.is(prefixMask(30), 0xfffffffc);
  t.is(prefixMask(32), 0xffffffff);
  t.throws(() => prefixMask(33), { instanceOf: RangeError });
  t.throws(() => prefixMask(-1), { instanceOf: RangeError });
});

test('parseCidr keeps the written address and masks the network', (t) => {
  t.deepEqual(parseCidr('10.77.3.9/16'), { network: 0x0a4d0000, prefixLen: 16, address: 0x0a4d0309 });
  t.deepEqual(parseCidr('0.0.0.0/0'), { network: 0, prefixLen: 0, address: 0 });
  t.deepEqual(parseCidr('128.0.0.0/1'), { network: 0x80000000, prefixLen: 1, address: 0x80000000 });
  t.deepEqual(parseCidr('255.255.255.255/32'), { network: 0xffffffff, prefixLen: 32, address: 0xffffffff });
  t.deepEqual(parseCidr('200.1.2.3/8'), { network: 0xc8000000, prefixLen: 8, address: 0xc8010203 });
});

for (const bad of ['10.77.0.0', '10.77.0.0/', '10.77.0.0/33', '10.77.0.0/016', '10.77.0.0/-1', '10.77.0.0/1/2', '10.77.0/16', '/16', '10.77.0.0/ 16']) {
  test(`parseCidr rejects ${JSON.stringify(bad)}`, (t) => {
    t.is(parseCidr(bad), null);
  });
}

test('inPrefix', (t) => {
  const net = parseCidr('10.77.0.0/16')!;
  t.true(inPrefix(parseIpv4('10.77.255.254')!, net.network, net.prefixLen));
  t.false(inPrefix(parseIpv4('10.78.0.1')!, net.network, net.prefixLen));
  t.true(inPrefix(parseIpv4('200.1.1.1')!, 0x80000000, 1));
  t.false(inPrefix(parseIpv4('127.255.255.255')!, 0x80000000, 1));
  t.true(inPrefix(0xffffffff, 0, 0));
  t.true(inPrefix(0xc0000207, 0xc0000207, 32));
  t.false(inPrefix(0xc0000208, 0xc0000207, 32));
});

const hostPorts: Array<[string, { host: string; port: number } | null]> = [
  ['192.0.2.7:9100', { host: '192.0.2.7', port: 9100 }],
  ['home.example.net:1', { host: 'home.example.net', port: 1 }],
  ['gw:65535', { host: 'gw', port: 65535 }],
  ['my-host.local:9100', { host: 'my-host.local', port: 9100 }],
  ['192.0.2.7', null],
  ['192.0.2.7:', null],
  ['192.0.2.7:0', null],
  ['192.0.2.7:65536', null],
  ['192.0.2.7:09100', null],
  ['192.0.2.7:91a0', null],
  [':9100', null],
  ['256.0.0.1:9100', null],
  ['10.1:9100', null],
  ['[::1]:9100', null],
  ['::1:9100', null],
  ['fe80::1', null],
  ['-bad.example:9100', null],
  ['bad-.example:9100', null],
  ['under_score.example:9100', null],
  ['two..dots:9100', null],
  ['host name:9100', null],
  [`${'a'.repeat(64)}.example:9100`, null],
];

for (const [input, expected] of hostPorts) {
  test(`parseHostPort(${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)})`, (t) => {
    t.deepEqual(parseHostPort(input), expected);
  });
}
