// Engine events → a domain event, which its two subscribers turn into a JSON
// log line and a `peers.event` notification, and the pairing-failure record;
// the three pair_failed reasons are exactly the security model's strings.

import test from 'ava';
import { handleEngineEvent, type EventTargets } from '../ts/daemon/engine-events.js';
import { logEvent } from '../ts/daemon/event-log.js';
import { EventBus } from '../ts/daemon/events.js';
import { notificationFor } from '../ts/rpc/notify.js';
import { createLogger } from '../ts/log/logger.js';
import type { EngineEvent } from '../ts/native/engine.js';
import { PAIR_FAILED_REASONS, PairFailures, type PairFailedReason } from '../ts/peers/failures.js';
import { newIdentity } from './helpers/keys.js';

type Json = Record<string, unknown>;
type Published = { kind: string; peer: { publicKey?: string; endpoint?: string }; reason?: PairFailedReason };

const PEER = newIdentity();
const OTHER = newIdentity();
const NOW = new Date('2024-05-06T07:08:09.000Z');

/** Targets that record everything: log lines parsed from an in-memory pino destination. */
function recorder(known: Record<string, string> = {}) {
  const lines: Json[] = [];
  const published: Published[] = [];
  const fatals: string[] = [];
  const peerAtCalls: string[] = [];
  const connected: [string, string][] = [];
  const refused: [string, string][] = [];
  const failures = new PairFailures();
  const logger = createLogger('trace', { write: (s: string) => void lines.push(JSON.parse(s) as Json) });
  const events = new EventBus((err) => {
    throw err;
  });
  events.subscribe((e) => logEvent(logger, e));
  events.subscribe((e) => {
    const { topic, params } = notificationFor(e, NOW.getTime());
    if (topic !== 'peers') return;
    const summary = params['peer'] as Json;
    const peer = {
      ...(summary['x25519_pubkey'] === null ? {} : { publicKey: summary['x25519_pubkey'] as string }),
      ...(summary['endpoint'] === null ? {} : { endpoint: summary['endpoint'] as string }),
    };
    const reason = params['reason'] as PairFailedReason | undefined;
    published.push(reason === undefined ? { kind: params['kind'] as string, peer } : { kind: params['kind'] as string, peer, reason });
  });
  const targets: EventTargets = {
    events,
    log: logger,
    failures,
    peerAt: (source) => {
      peerAtCalls.push(source);
      return known[source];
    },
    onConnected: (publicKey, endpoint) => void connected.push([publicKey, endpoint]),
    onRefused: (publicKey, source) => void refused.push([publicKey, source]),
    onControl: () => undefined,
    onDisconnected: () => undefined,
    onProbeReply: () => undefined,
    viewOf: () => undefined,
    fatal: (message) => void fatals.push(message),
  };
  return { targets, lines, published, fatals, failures, peerAtCalls, connected, refused };
}

type Case = {
  rule: string;
  event: EngineEvent;
  /** Which configured peer sits at which endpoint (for peerAt). */
  known?: Record<string, string>;
  log: { level: string; event: string; fields: Json } | null;
  publish: Published | null;
  /** The failure recorded for a public key, if any. */
  failure?: { publicKey: string; reason: PairFailedReason };
};

const cases: Case[] = [
  {
    rule: 'connected → info peer_connected and peers.event connected',
    event: { kind: 'connected', publicKey: PEER.publicKeyHex, endpoint: '192.0.2.7:9100', meshIp: '10.77.3.9' },
    log: { level: 'info', event: 'peer_connected', fields: { peer_id: PEER.nodeId, endpoint: '192.0.2.7:9100', mesh_ip: '10.77.3.9' } },
    publish: { kind: 'connected', peer: { publicKey: PEER.publicKeyHex } },
  },
  {
    rule: 'disconnected → warn peer_disconnected and peers.event disconnected',
    event: { kind: 'disconnected', publicKey: PEER.publicKeyHex },
    log: { level: 'warn', event: 'peer_disconnected', fields: { peer_id: PEER.nodeId } },
    publish: { kind: 'disconnected', peer: { publicKey: PEER.publicKeyHex } },
  },
  {
    rule: 'endpoint_changed → info peer_roamed and peers.event state_changed',
    event: { kind: 'endpoint_changed', publicKey: PEER.publicKeyHex, endpoint: '198.51.100.1:4000' },
    log: { level: 'info', event: 'peer_roamed', fields: { peer_id: PEER.nodeId, endpoint: '198.51.100.1:4000' } },
    publish: { kind: 'state_changed', peer: { publicKey: PEER.publicKeyHex } },
  },
  {
    rule: "handshake_timeout → pair_failed 'timeout'",
    event: { kind: 'handshake_timeout', publicKey: PEER.publicKeyHex },
    log: { level: 'warn', event: 'pair_failed', fields: { reason: 'timeout', peer_id: PEER.nodeId } },
    publish: { kind: 'pair_failed', peer: { publicKey: PEER.publicKeyHex }, reason: 'timeout' },
    failure: { publicKey: PEER.publicKeyHex, reason: 'timeout' },
  },
  {
    rule: "untrusted → pair_failed 'untrusted peer ID' with the source endpoint",
    event: { kind: 'untrusted', publicKey: PEER.publicKeyHex, source: '203.0.113.5:9100' },
    log: { level: 'warn', event: 'pair_failed', fields: { reason: 'untrusted peer ID', peer_id: PEER.nodeId, endpoint: '203.0.113.5:9100' } },
    publish: { kind: 'pair_failed', peer: { publicKey: PEER.publicKeyHex, endpoint: '203.0.113.5:9100' }, reason: 'untrusted peer ID' },
    failure: { publicKey: PEER.publicKeyHex, reason: 'untrusted peer ID' },
  },
  {
    rule: "handshake_rejected from a configured peer's endpoint → pair_failed 'noise handshake rejected' attributed to that peer",
    event: { kind: 'handshake_rejected', source: '192.0.2.7:9100' },
    known: { '192.0.2.7:9100': PEER.publicKeyHex, '192.0.2.8:9100': OTHER.publicKeyHex },
    log: { level: 'warn', event: 'pair_failed', fields: { reason: 'noise handshake rejected', peer_id: PEER.nodeId, endpoint: '192.0.2.7:9100' } },
    publish: { kind: 'pair_failed', peer: { publicKey: PEER.publicKeyHex, endpoint: '192.0.2.7:9100' }, reason: 'noise handshake rejected' },
    failure: { publicKey: PEER.publicKeyHex, reason: 'noise handshake rejected' },
  },
  {
    rule: "handshake_rejected from an unknown endpoint → pair_failed 'noise handshake rejected' with only the endpoint",
    event: { kind: 'handshake_rejected', source: '203.0.113.9:1234' },
    known: { '192.0.2.7:9100': PEER.publicKeyHex },
    log: { level: 'warn', event: 'pair_failed', fields: { reason: 'noise handshake rejected', endpoint: '203.0.113.9:1234' } },
    publish: { kind: 'pair_failed', peer: { endpoint: '203.0.113.9:1234' }, reason: 'noise handshake rejected' },
  },
  {
    rule: 'revoked → warn peer_revoked and peers.event disconnected',
    event: { kind: 'revoked', publicKey: PEER.publicKeyHex },
    log: { level: 'warn', event: 'peer_revoked', fields: { peer_id: PEER.nodeId } },
    publish: { kind: 'disconnected', peer: { publicKey: PEER.publicKeyHex } },
  },
  {
    rule: 'limit_reached → warn limit_reached, no peers.event',
    event: { kind: 'limit_reached', limit: 'dynamic_peers', detail: '1024 dynamic peers' },
    log: { level: 'warn', event: 'limit_reached', fields: { limit: 'dynamic_peers' } },
    publish: null,
  },
  {
    rule: 'mesh_ip_conflict → error mesh_ip_conflict, no peers.event',
    event: { kind: 'mesh_ip_conflict', publicKey: PEER.publicKeyHex, meshIp: '10.77.0.1' },
    log: { level: 'error', event: 'mesh_ip_conflict', fields: { peer_id: PEER.nodeId, mesh_ip: '10.77.0.1' } },
    publish: null,
  },
];

for (const c of cases) {
  test(`handleEngineEvent: ${c.rule}`, (t) => {
    const r = recorder(c.known);
    handleEngineEvent(c.event, r.targets, NOW);
    if (c.log === null) {
      t.deepEqual(r.lines, []);
    } else {
      t.is(r.lines.length, 1, JSON.stringify(r.lines));
      const line = r.lines[0]!;
      t.is(line['level'], c.log.level);
      t.is(line['event'], c.log.event);
      t.is(line['source'], 'pim-daemon');
      t.is(typeof line['msg'], 'string');
      for (const [k, v] of Object.entries(c.log.fields)) t.is(line[k], v, k);
      if (!('peer_id' in c.log.fields)) t.false('peer_id' in line, 'no peer_id for a peer nobody knows');
    }
    t.deepEqual(r.published, c.publish === null ? [] : [c.publish]);
    const recorded = [...r.failures.all.entries()];
    t.deepEqual(recorded, c.failure === undefined ? [] : [[c.failure.publicKey, { reason: c.failure.reason, at: NOW }]]);
    t.deepEqual(r.fatals, []);
  });
}

test('handleEngineEvent: the pair_failed reasons are exactly the three of the security model', (t) => {
  t.deepEqual([...PAIR_FAILED_REASONS].sort(), ['noise handshake rejected', 'timeout', 'untrusted peer ID']);
  const seen = new Set<string>();
  for (const c of cases) if (c.publish?.reason !== undefined) seen.add(c.publish.reason);
  t.deepEqual([...seen].sort(), [...PAIR_FAILED_REASONS].sort());
});

test('handleEngineEvent: handshake_rejected asks peerAt about the packet source', (t) => {
  const r = recorder();
  handleEngineEvent({ kind: 'handshake_rejected', source: '203.0.113.9:1234' }, r.targets, NOW);
  t.deepEqual(r.peerAtCalls, ['203.0.113.9:1234']);
});

test('handleEngineEvent: connected clears the recorded pairing failure', (t) => {
  const r = recorder();
  handleEngineEvent({ kind: 'handshake_timeout', publicKey: PEER.publicKeyHex }, r.targets, NOW);
  handleEngineEvent({ kind: 'untrusted', publicKey: OTHER.publicKeyHex, source: '192.0.2.8:9100' }, r.targets, NOW);
  t.is(r.failures.all.get(PEER.publicKeyHex)?.reason, 'timeout');
  handleEngineEvent({ kind: 'connected', publicKey: PEER.publicKeyHex, endpoint: '192.0.2.7:9100', meshIp: '10.77.3.9' }, r.targets, NOW);
  t.false(r.failures.all.has(PEER.publicKeyHex));
  t.is(r.failures.all.get(OTHER.publicKeyHex)?.reason, 'untrusted peer ID', "another peer's failure stays");
});

test('handleEngineEvent: a later failure replaces the earlier one', (t) => {
  const r = recorder({ '192.0.2.7:9100': PEER.publicKeyHex });
  const later = new Date(NOW.getTime() + 5000);
  handleEngineEvent({ kind: 'handshake_timeout', publicKey: PEER.publicKeyHex }, r.targets, NOW);
  handleEngineEvent({ kind: 'handshake_rejected', source: '192.0.2.7:9100' }, r.targets, later);
  t.deepEqual(r.failures.all.get(PEER.publicKeyHex), { reason: 'noise handshake rejected', at: later });
});

test('handleEngineEvent: disconnected keeps a recorded failure (only connected clears it)', (t) => {
  const r = recorder();
  handleEngineEvent({ kind: 'handshake_timeout', publicKey: PEER.publicKeyHex }, r.targets, NOW);
  handleEngineEvent({ kind: 'disconnected', publicKey: PEER.publicKeyHex }, r.targets, NOW);
  t.is(r.failures.all.get(PEER.publicKeyHex)?.reason, 'timeout');
});

test('handleEngineEvent: fault calls fatal with the message and publishes nothing', (t) => {
  const r = recorder();
  handleEngineEvent({ kind: 'fault', message: 'TUN device vanished' }, r.targets, NOW);
  t.deepEqual(r.fatals, ['TUN device vanished']);
  t.deepEqual(r.published, []);
  t.deepEqual([...r.failures.all], []);
});

test('handleEngineEvent: connected hands the peer to onConnected, where TOFU pins are recorded', (t) => {
  const r = recorder();
  handleEngineEvent({ kind: 'connected', publicKey: PEER.publicKeyHex, endpoint: '198.18.0.2:9100', meshIp: '10.77.0.2' }, r.targets, NOW);
  t.deepEqual(r.connected, [[PEER.publicKeyHex, '198.18.0.2:9100']]);
});

test('handleEngineEvent: untrusted records the refused key and marks the peer pinned at that address as failed', (t) => {
  const r = recorder({ '198.18.0.2:9100': OTHER.publicKeyHex });
  handleEngineEvent({ kind: 'untrusted', publicKey: PEER.publicKeyHex, source: '198.18.0.2:9100' }, r.targets, NOW);
  t.deepEqual(r.refused, [[PEER.publicKeyHex, '198.18.0.2:9100']]);
  t.is(r.failures.all.get(OTHER.publicKeyHex)?.reason, 'untrusted peer ID');
  t.is(r.failures.all.get(PEER.publicKeyHex)?.reason, 'untrusted peer ID');
});
