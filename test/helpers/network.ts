// The OS network (routes, kill-switch, DNS, NAT, IP forwarding) as a daemon under
// test sees it: every change recorded, nothing on the host touched.

import type { OsNetwork } from '../../ts/routing/os-network.js';
import type { KillSwitchRules } from '../../ts/routing/os-killswitch.js';
import type { GatewayGuard } from '../../ts/routing/os-routes.js';

/** Stands in for the OS routing and firewall: records what the daemon asks for, changes nothing on the host. */
export class FakeNetwork implements OsNetwork {
  readonly calls: string[] = [];
  nft = true;
  forwarding = false;
  /** The host's addresses and subnets outside the mesh (what a gateway keeps the mesh from); a test may change them. */
  hosts = ['192.0.2.10/32', '192.0.2.0/24'];
  private record(name: string, ...args: unknown[]): void {
    this.calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
  }
  async installSplitDefault(tun: string): Promise<void> {
    this.record('installSplitDefault', tun);
  }
  async removeSplitDefault(): Promise<void> {
    this.record('removeSplitDefault');
  }
  async localSubnets(): Promise<string[]> {
    return ['192.0.2.0/24'];
  }
  async installKillSwitch(tun: string, rules: KillSwitchRules): Promise<void> {
    this.record('installKillSwitch', tun, rules);
  }
  async setResolvers(tun: string, servers: readonly string[]): Promise<void> {
    this.record('setResolvers', tun, servers);
  }
  async restoreResolvers(tun: string): Promise<void> {
    this.record('restoreResolvers', tun);
  }
  async removeKillSwitch(): Promise<void> {
    this.record('removeKillSwitch');
  }
  async installGatewayNat(tun: string, natIf: string, meshPrefix: string, guard: GatewayGuard): Promise<void> {
    this.record('installGatewayNat', tun, natIf, meshPrefix, guard);
  }
  async hostNetworks(tun: string): Promise<string[]> {
    this.record('hostNetworks', tun);
    return [...this.hosts];
  }
  async removeGatewayNat(): Promise<void> {
    this.record('removeGatewayNat');
  }
  ipForwarding(): boolean {
    return this.forwarding;
  }
  setIpForwarding(on: boolean): void {
    this.record('setIpForwarding', on);
    this.forwarding = on;
  }
  canSetIpForwarding(): boolean {
    return true;
  }
  async nftAvailable(): Promise<boolean> {
    return this.nft;
  }
  interfaceExists(name: string): boolean {
    return name === 'ethfake0';
  }
  async defaultRouteInterfaces(): Promise<string[]> {
    return ['ethfake0'];
  }
}
