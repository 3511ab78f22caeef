// Notifications: the hub decides which connections receive an event, and
// each connection's Outbox queues what its client has not read yet, dropping
// the oldest notifications beyond a bound, so a burst of events costs at most
// that bound per connection however slow the client.

import type * as net from 'node:net';

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

/** Which notifications of its topic a subscription wants; none: all of them. */
export type Filter = (params: Record<string, unknown>) => boolean;

export class EventHub {
  private readonly topics = new Map<Topic, Map<Subscriber, Map<string, Filter | null>>>(TOPICS.map((t) => [t, new Map()]));
  private nextId = 1;

  /** Subscribes a connection (to what `accepts` lets through) and returns the subscription id (unique for the hub's lifetime). */
  subscribe(conn: Subscriber, topic: Topic, accepts: Filter | null = null): string {
    const subscribers = this.subscribersOf(topic);
    const id = `${topic}-${this.nextId++}`;
    const subscriptions = subscribers.get(conn);
    if (subscriptions === undefined) subscribers.set(conn, new Map([[id, accepts]]));
    else subscriptions.set(id, accepts);
    return id;
  }

  /**
   * Drops one of the connection's subscriptions to the topic. Returns
   * whether anything was dropped; a connection can never drop another
   * connection's subscriptions.
   */
  unsubscribe(conn: Subscriber, topic: Topic, subscriptionId: string): boolean {
    const subscribers = this.subscribersOf(topic);
    const subscriptions = subscribers.get(conn);
    if (subscriptions === undefined) return false;
    const dropped = subscriptions.delete(subscriptionId);
    if (subscriptions.size === 0) subscribers.delete(conn);
    return dropped;
  }

  /** Forgets a closed connection on every topic. */
  remove(conn: Subscriber): void {
    for (const subscribers of this.topics.values()) subscribers.delete(conn);
  }

  /** Whether one of the connection's subscriptions to the topic lets these params through. */
  receives(conn: Subscriber, topic: Topic, params: Record<string, unknown>): boolean {
    const subscriptions = this.subscribersOf(topic).get(conn);
    if (subscriptions === undefined) return false;
    for (const accepts of subscriptions.values()) if (accepts === null || accepts(params)) return true;
    return false;
  }

  /**
   * Sends `<topic>.event` with these params, once, to every connection with
   * a subscription to one of the `audience` topics (the topic itself unless
   * told otherwise) that lets them through. The params go out as given:
   * callers add `at` themselves.
   */
  publish(topic: Topic, params: Record<string, unknown>, audience: readonly Topic[] = [topic]): void {
    const receivers = new Set<Subscriber>();
    for (const t of audience) {
      for (const conn of this.subscribersOf(t).keys()) if (!receivers.has(conn) && this.receives(conn, t, params)) receivers.add(conn);
    }
    if (receivers.size === 0) return;
    const line = notificationLine(topic, params);
    for (const conn of receivers) conn.deliver(line);
  }

  private subscribersOf(topic: Topic): Map<Subscriber, Map<string, Filter | null>> {
    const subscribers = this.topics.get(topic);
    // Topics reach the hub from typed code only; an unknown one is a programming error.
    if (subscribers === undefined) throw new Error(`unknown event topic '${topic}'`);
    return subscribers;
  }
}

/**
 * The single writer of a connection. Lines go to the socket whole, in order;
 * while the socket is full they wait here, and waiting notifications are
 * capped at NOTIFICATION_QUEUE_LIMIT by dropping the oldest. Responses are
 * never dropped: they are bounded by the requests read, and reading pauses
 * while the socket is full.
 */
export class Outbox {
  private readonly queue: { line: string; notification: boolean }[] = [];
  private notifications = 0;
  /** Notifications kept back while a call that subscribed or notified is being answered. */
  private held: string[] = [];
  private holds = 0;
  private ending = false;
  blocked = false;
  dropped = 0;

  constructor(
    private readonly socket: net.Socket,
    private readonly onBlockedChange: () => void,
  ) {
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
      this.onBlockedChange();
    });
  }

  get queuedNotifications(): number {
    return this.notifications + this.held.length;
  }

  /** False once the connection is ending or gone: nothing more can be sent. */
  get open(): boolean {
    return !this.ending && this.socket.writable;
  }

  send(line: string, notification: boolean): void {
    if (!this.open) return;
    if (notification) {
      if (this.queuedNotifications >= NOTIFICATION_QUEUE_LIMIT) this.dropOldestNotification();
      if (this.holds > 0) {
        this.held.push(line);
        return;
      }
      this.notifications++;
    }
    this.queue.push({ line, notification });
    this.flush();
  }

  /** Until the matching release(), notifications wait; responses still go. */
  hold(): void {
    this.holds++;
  }

  release(): void {
    if (--this.holds > 0) return;
    for (const line of this.held) this.queue.push({ line, notification: true });
    this.notifications += this.held.length;
    this.held = [];
    this.flush();
  }

  /** Sends what is queued, then ends the socket's write side. */
  end(): void {
    this.ending = true;
    this.flush();
  }

  private dropOldestNotification(): void {
    this.dropped++;
    // Held notifications are all newer than queued ones.
    if (this.notifications === 0) {
      this.held.shift();
      return;
    }
    // The oldest queued notification sits near the head: everything ahead of
    // it is a response, and few responses wait while reading is paused.
    this.queue.splice(this.queue.findIndex((item) => item.notification), 1);
    this.notifications--;
  }

  private flush(): void {
    while (!this.blocked && this.queue.length > 0 && this.socket.writable) {
      const item = this.queue.shift()!;
      if (item.notification) this.notifications--;
      if (!this.socket.write(`${item.line}\n`)) {
        this.blocked = true;
        this.onBlockedChange();
      }
    }
    if (this.ending && this.queue.length === 0 && this.socket.writable) this.socket.end();
  }
}
