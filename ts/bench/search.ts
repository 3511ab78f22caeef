// The UDP rate search: the highest offered bitrate whose delivery loses less
// than 1 % of the packets. Pure over a `probe` callback, so tests drive it
// with a fake link.
//
// Start at the TCP throughput. While every probe passes, the bracket grows
// (double the rate); once one fails, bisect between the best passing and the
// lowest failing rate. If nothing passed after `steps` probes, keep halving
// (up to `maxSteps`) so a result always has a passing rate when one exists.

export interface Probe {
  /** Offered bitrate, bit/s. */
  rateBps: number;
  /** Percentage of packets lost, 0..100. */
  lossPercent: number;
  /** Packets per second that arrived. */
  deliveredPps: number;
}

export interface SearchResult {
  best: Probe | undefined;
  probes: Probe[];
}

export interface SearchOptions {
  startBps: number;
  steps: number;
  maxSteps: number;
  /** Loss below this passes (percent). */
  maxLossPercent: number;
  /** Never probe below this. */
  floorBps: number;
}

export async function searchUdpRate(opts: SearchOptions, probe: (rateBps: number) => Promise<Probe>): Promise<SearchResult> {
  const probes: Probe[] = [];
  let best: Probe | undefined;
  let failing: number | undefined;
  let rate = Math.max(opts.startBps, opts.floorBps);
  for (let step = 0; step < opts.maxSteps; step++) {
    if (step >= opts.steps && best) break;
    const p = await probe(Math.round(rate));
    probes.push(p);
    if (p.lossPercent < opts.maxLossPercent) {
      if (!best || p.deliveredPps > best.deliveredPps) best = p;
    } else if (failing === undefined || p.rateBps < failing) {
      failing = p.rateBps;
    }
    const low = best?.rateBps ?? 0;
    const next = failing === undefined ? low * 2 : (low + failing) / 2;
    if (next <= opts.floorBps) {
      if (rate <= opts.floorBps) break;
      rate = opts.floorBps;
    } else {
      rate = next;
    }
  }
  return { best, probes };
}
