// Which local subnets the kill-switch exempts (ts/routing/local-networks.ts):
// only those wholly inside private, shared, link-local or benchmarking space.

import test from 'ava';
import { splitLocalSubnets } from '../ts/routing/local-networks.js';

const cases: Array<[rule: string, subnet: string, exempt: boolean]> = [
  ['a home LAN', '192.168.1.0/24', true],
  ['all of 192.168/16', '192.168.0.0/16', true],
  ['a corporate /8', '10.0.0.0/8', true],
  ['inside 172.16/12', '172.20.5.0/24', true],
  ['just past 172.16/12', '172.32.0.0/24', false],
  ['carrier-grade NAT space', '100.64.3.0/24', true],
  ['link-local', '169.254.0.0/16', true],
  ['benchmarking space', '198.19.4.0/24', true],
  ['a host route in private space (ip route omits /32)', '192.168.1.1', true],
  ['a public /24 (the LocalNet attack)', '93.184.216.0/24', false],
  ['a documentation range is not private', '203.0.113.0/24', false],
  ['half the internet', '0.0.0.0/1', false],
  ['a private range widened past its bounds', '10.0.0.0/7', false],
  ['a public host route', '8.8.8.8', false],
  ['not a subnet at all', 'default', false],
];

for (const [rule, subnet, exempt] of cases) {
  test(`splitLocalSubnets: ${rule} (${subnet}) is ${exempt ? 'exempt' : 'refused'}`, (t) => {
    t.deepEqual(splitLocalSubnets([subnet]), exempt ? { exempt: [subnet], refused: [] } : { exempt: [], refused: [subnet] });
  });
}

test('splitLocalSubnets keeps the order within each list', (t) => {
  t.deepEqual(splitLocalSubnets(['10.1.0.0/16', '198.51.100.0/24', '192.168.7.0/24', '8.8.8.8']), {
    exempt: ['10.1.0.0/16', '192.168.7.0/24'],
    refused: ['198.51.100.0/24', '8.8.8.8'],
  });
});
