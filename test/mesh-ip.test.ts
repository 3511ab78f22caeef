import test from 'ava';
import { meshIpFor, meshIpTextFor } from '../ts/identity/mesh-ip.js';
import { parseCidr } from '../ts/net/ipv4.js';

// Expected addresses are worked out by hand from the rule
//   host = 1 + (h mod (2^(32−L) − 2)),  h = node_id[0..4] big-endian
// and written as literal text, so the table does not reuse the code under test.
const rest = '000000000000000000000000'; // node_id bytes 4..15, which the rule ignores
const vectors: Array<[string, string, string, string]> = [
  // [first 8 hex of node_id, prefix, expected, working]
  ['00000000', '10.77.0.0/16', '10.77.0.1', 'h=0 → host 1'],
  ['0000fffe', '10.77.0.0/16', '10.77.0.1', 'h=65534 = size−2 → 0 → host 1'],
  ['0000fffd', '10.77.0.0/16', '10.77.255.254', 'h=65533 → host 65534 (last usable)'],
  ['0000ffff', '10.77.0.0/16', '10.77.0.2', 'h=65535 mod 65534 = 1 → host 2'],
  ['00000100', '10.77.0.0/16', '10.77.1.1', 'h=256 → host 257'],
  ['ffffffff', '10.77.0.0/16', '10.77.0.4', '4294967295 = 65534·65538 + 3 → host 4'],
  ['deadbeef', '10.77.0.0/16', '10.77.124.78', '3735928559 = 65534·57007 + 31821 → host 31822 = 124·256 + 78'],
  ['00000000', '192.168.50.0/24', '192.168.50.1', 'h=0 → host 1'],
  ['000000fd', '192.168.50.0/24', '192.168.50.254', 'h=253 → host 254'],
  ['000000fe', '192.168.50.0/24', '192.168.50.1', 'h=254 = size−2 → host 1'],
  ['12345678', '192.168.50.0/24', '192.168.50.137', '305419896 = 254·1202440 + 136 → host 137'],
  ['00000000', '10.0.0.0/30', '10.0.0.1', 'size 4, h mod 2 = 0 → host 1'],
  ['00000001', '10.0.0.4/30', '10.0.0.6', 'h mod 2 = 1 → host 2'],
  ['ffffffff', '10.0.0.4/30', '10.0.0.6', 'odd → host 2'],
  ['00000000', '10.0.0.0/8', '10.0.0.1', 'h=0 → host 1'],
  ['00fffffd', '10.0.0.0/8', '10.255.255.254', 'h=16777213 → host 16777214 (last usable)'],
  ['01000000', '10.0.0.0/8', '10.0.0.3', '16777216 mod 16777214 = 2 → host 3'],
  ['ffffffff', '240.0.0.0/8', '240.0.2.0', '4294967295 = 16777214·256 + 511 → host 512 = 2·256 (a .0 inside a /8 is a host)'],
];

for (const [head, cidr, expected, working] of vectors) {
  test(`meshIpFor ${head}… in ${cidr} → ${expected} (${working})`, (t) => {
    const prefix = parseCidr(cidr)!;
    t.is(meshIpTextFor(head + rest, prefix), expected);
  });
}

test('meshIpFor reads only the first 4 bytes of the node_id', (t) => {
  const prefix = parseCidr('10.77.0.0/16')!;
  t.is(meshIpFor('0000fffd' + 'f'.repeat(24), prefix), meshIpFor('0000fffd' + rest, prefix));
});

test('meshIpFor never yields the network or broadcast address', (t) => {
  for (const cidr of ['10.0.0.0/30', '10.0.0.0/29', '192.168.1.0/24']) {
    const { network, prefixLen } = parseCidr(cidr)!;
    const size = 2 ** (32 - prefixLen);
    for (let h = 0; h < 4 * size; h++) {
      const ip = meshIpFor(h.toString(16).padStart(8, '0') + rest, { network, prefixLen });
      t.true(ip > network && ip < network + size - 1, `${cidr} h=${h}`);
    }
  }
});

test('meshIpFor returns an unsigned number for prefixes in the upper half', (t) => {
  t.is(meshIpFor('00000000' + rest, parseCidr('200.0.0.0/8')!), 0xc8000001);
});

test('meshIpFor rejects bad input instead of guessing', (t) => {
  const prefix = parseCidr('10.77.0.0/16')!;
  t.throws(() => meshIpFor('ABCDEF01' + rest, prefix), { instanceOf: RangeError });
  t.throws(() => meshIpFor('abcdef01', prefix), { instanceOf: RangeError });
  t.throws(() => meshIpFor('00000000' + rest, parseCidr('10.0.0.0/7')!), { instanceOf: RangeError });
  t.throws(() => meshIpFor('00000000' + rest, parseCidr('10.0.0.0/31')!), { instanceOf: RangeError });
  t.throws(() => meshIpFor('00000000' + rest, { network: parseCidr('10.77.3.9/16')!.address, prefixLen: 16 }), {
    instanceOf: RangeError,
  });
});
