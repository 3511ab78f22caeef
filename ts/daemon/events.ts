// What happened in the daemon, as typed camelCase domain events. Parts of
// the daemon emit them through an EventSink; one subscriber writes the log
// line (event-log.ts), another turns them into control-socket notifications
// (rpc/notify.ts). Neither the emitters nor the events know about JSON-RPC.

import type { DiscoveredNode } from '../discovery/discovery.js';
import type { PairFailedReason } from '../peers/failures.js';
import type { PeerView } from '../peers/view.js';
import type { NodeRole } from './roles.js';

/** A peer as an event can describe it: its full view, or what is known (key and/or address). */
export type EventPeer = { view: PeerView } | { publicKey: string | null; endpoint: string | null };

export type PeerEventKind = 'connected' | 'disconnected' | 'state_changed' | 'pair_failed';

export type DaemonEvent =
  | { type: 'interface_up'; name: string }
  | { type: 'interface_down'; name: string }
  | { type: 'route_on' }
  | { type: 'route_off' }
  | { type: 'gateway_selected'; nodeId: string }
  | { type: 'gateway_lost'; nodeId: string }
  /** `initial`: the state at `route on`, reported but not news worth a log line when not blocking. */
  | { type: 'kill_switch'; engaged: boolean; reason: string | null; initial: boolean }
  | { type: 'role_changed'; roles: NodeRole[] }
  | { type: 'gateway_enabled'; natInterface: string }
  | { type: 'gateway_disabled'; natInterface: string | null }
  | { type: 'peer_connected'; peer: EventPeer; endpoint: string; meshIp: string }
  | { type: 'peer_disconnected'; peer: EventPeer }
  | { type: 'peer_roamed'; peer: EventPeer; endpoint: string }
  | { type: 'pair_failed'; peer: EventPeer; endpoint: string | null; reason: PairFailedReason }
  | { type: 'peer_revoked'; peer: EventPeer }
  | { type: 'peer_discovered'; node: DiscoveredNode };

export interface EventSink {
  emit(event: DaemonEvent): void;
}

/** Fans each event out to every subscriber, in subscription order; a failing subscriber harms no other. */
export class EventBus implements EventSink {
  private readonly subscribers: ((e: DaemonEvent) => void)[] = [];

  constructor(private readonly onError: (err: unknown, event: DaemonEvent) => void) {}

  subscribe(fn: (e: DaemonEvent) => void): void {
    this.subscribers.push(fn);
  }

  emit(event: DaemonEvent): void {
    for (const fn of this.subscribers) {
      try {
        fn(event);
      } catch (err) {
        this.onError(err, event);
      }
    }
  }
}
