// Fan-out of daemon events to the connections that subscribed to them.
//
// The hub only decides who receives a notification; each connection owns a
// bounded outgoing queue (see connection.ts) that drops its oldest
// notifications when its client stops reading, so a burst of events costs
// at most that bound per connection.

export const TOPICS = ['status', 'peers', 'gateway', 'logs'] as const;
export type Topic = (typeof TOPICS)[number];

/** Notifications a connection holds for a client that is not reading, beyond the socket's own buffer. */
export const NOTIFICATION_QUEUE_LIMIT = 1024;

/** A connection as the hub sees it: something that takes whole notification lines. */
export interface Subscriber {
  readonly id: string;
  deliver(line: string): void;
}

/** The JSON-RPC notification line (without newline) for an event on a topic. */
export function notificationLine(topic: Topic, params: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: '2.0', method: `${topic}.event`, params });
}

export class EventHub {
  private readonly topics = new Map<Topic, Map<Subscriber, Set<string>>>(TOPICS.map((t) => [t, new Map()]));
  private nextId = 1;

  /** Subscribes a connection and returns the subscription id (unique for the hub's lifetime). */
  subscribe(conn: Subscriber, topic: Topic): string {
    const subscribers = this.subscribersOf(topic);
    const id = `${topic}-${this.nextId++}`;
    const ids = subscribers.get(conn);
    if (ids === undefined) subscribers.set(conn, new Set([id]));
    else ids.add(id);
    return id;
  }

  /**
   * Drops one of the connection's subscriptions to the topic, or all of them
   * when `subscriptionId` is null. Returns whether anything was dropped; a
   * connection can never drop another connection's subscriptions.
   */
  unsubscribe(conn: Subscriber, topic: Topic, subscriptionId: string | null): boolean {
    const subscribers = this.subscribersOf(topic);
    const ids = subscribers.get(conn);
    if (ids === undefined) return false;
    if (subscriptionId === null) {
      subscribers.delete(conn);
      return true;
    }
    const dropped = ids.delete(subscriptionId);
    if (ids.size === 0) subscribers.delete(conn);
    return dropped;
  }

  /** Forgets a closed connection on every topic. */
  remove(conn: Subscriber): void {
    for (const subscribers of this.topics.values()) subscribers.delete(conn);
  }

  /**
   * Sends `<topic>.event` with these params, once, to every connection with at
   * least one subscription to the topic. The params go out as given: callers
   * add `at` themselves.
   */
  publish(topic: Topic, params: Record<string, unknown>): void {
    const subscribers = this.subscribersOf(topic);
    if (subscribers.size === 0) return;
    const line = notificationLine(topic, params);
    for (const conn of subscribers.keys()) conn.deliver(line);
  }

  private subscribersOf(topic: Topic): Map<Subscriber, Set<string>> {
    const subscribers = this.topics.get(topic);
    // Topics reach the hub from typed code only; an unknown one is a programming error.
    if (subscribers === undefined) throw new Error(`unknown event topic '${topic}'`);
    return subscribers;
  }
}
