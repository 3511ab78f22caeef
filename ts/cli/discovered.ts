// `pim peers` lists the nodes LAN discovery heard that are not peers yet,
// so the short id `pim peers pair` needs is on screen. They take the
// PeerSummary shape (state "discovered"), with what an announcement cannot
// tell (mesh IP, traffic, latency) left null or zero.

type Json = Record<string, unknown>;

export function withDiscovered(peers: readonly Json[], discovered: readonly Json[]): Json[] {
  const known = new Set(peers.map((p) => p.node_id));
  const heard = discovered
    .filter((d) => typeof d.node_id === 'string' && !known.has(d.node_id))
    .map((d) => ({
      node_id: d.node_id,
      node_id_short: (d.node_id as string).slice(0, 8),
      label: d.label_announced ?? null,
      mesh_ip: null,
      endpoint: d.address ?? null,
      transport: 'udp',
      state: 'discovered',
      path: null,
      route_hops: null,
      last_handshake_s: null,
      last_seen_s: d.last_seen_s ?? null,
      rx_bytes: 0,
      tx_bytes: 0,
      latency_ms: null,
      is_gateway: d.is_gateway === true,
      static: false,
      x25519_pubkey: d.x25519_pubkey ?? null,
      last_error: null,
    }));
  return [...peers, ...heard];
}
