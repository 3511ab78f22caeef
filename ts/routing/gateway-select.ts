// Which gateway a client routes its internet traffic through. Pure. Among
// reachable nodes that advertise the gateway role, the lowest latency wins
// (unmeasured ones after, fewest hops first); a selected gateway is kept
// while it stays reachable (no flapping between two similar ones), and
// replaced only when it is lost.

export interface GatewayCandidate {
  publicKey: string;
  /** The session is up (state active). */
  reachable: boolean;
  latencyMs: number | null;
  /** Hops away (1 = a neighbour). */
  hops: number;
}

export function selectGateway(candidates: readonly GatewayCandidate[], current: string | null): string | null {
  const reachable = candidates.filter((c) => c.reachable);
  if (current !== null && reachable.some((c) => c.publicKey === current)) return current;
  const ranked = [...reachable].sort(
    (a, b) => (a.latencyMs ?? Infinity) - (b.latencyMs ?? Infinity) || a.hops - b.hops || a.publicKey.localeCompare(b.publicKey),
  );
  return ranked[0]?.publicKey ?? null;
}
