// The LAN as LAN discovery sees it, played by the test.

import type { DiscoveryTransport } from '../../ts/discovery/transport.js';

export type LanSender = { address: string; port: number };

/** A discovery transport that sends nowhere: the test delivers announcements by hand through `deliver`, once discovery has opened it. */
export class FakeLan implements DiscoveryTransport {
  deliver: ((msg: Buffer, from: LanSender) => void) | undefined;
  async open(_port: number, onMessage: (msg: Buffer, from: LanSender) => void): Promise<void> {
    this.deliver = onMessage;
  }
  broadcast(): void {}
  close(): void {}
}
