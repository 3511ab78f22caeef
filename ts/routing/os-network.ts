// The daemon's access to the OS network configuration, as one interface:
// the real one (os-routes.ts, os-killswitch.ts, os-dns.ts) for `pim-daemon`,
// and `noNetwork` for daemons in tests that run beside the developer's own
// network and must not touch it.

import { PimError } from '../errors.js';
import * as dns from './os-dns.js';
import * as killSwitch from './os-killswitch.js';
import * as os from './os-routes.js';

export interface OsNetwork {
  installSplitDefault(tun: string): Promise<void>;
  removeSplitDefault(): Promise<void>;
  localSubnets(tun: string): Promise<string[]>;
  installKillSwitch(tun: string, rules: killSwitch.KillSwitchRules): Promise<void>;
  removeKillSwitch(): Promise<void>;
  setResolvers(tun: string, servers: readonly string[]): Promise<void>;
  restoreResolvers(tun: string): Promise<void>;
  installGatewayNat(tun: string, natIf: string, meshPrefix: string, guard: os.GatewayGuard): Promise<void>;
  hostNetworks(tun: string): Promise<string[]>;
  removeGatewayNat(): Promise<void>;
  ipForwarding(): boolean;
  setIpForwarding(on: boolean): void;
  canSetIpForwarding(): boolean;
  nftAvailable(): Promise<boolean>;
  interfaceExists(name: string): boolean;
  defaultRouteInterfaces(): Promise<string[]>;
}

export const systemNetwork: OsNetwork = { ...os, ...killSwitch, ...dns };

const refuse = (): never => {
  throw new PimError('io_failed', 'this daemon was started without access to the OS network configuration');
};

/** Changes refuse with a clear error; removals and queries find nothing. */
export const noNetwork: OsNetwork = {
  installSplitDefault: async () => refuse(),
  removeSplitDefault: async () => undefined,
  localSubnets: async () => [],
  installKillSwitch: async () => refuse(),
  removeKillSwitch: async () => undefined,
  setResolvers: async () => refuse(),
  restoreResolvers: async () => undefined,
  installGatewayNat: async () => refuse(),
  removeGatewayNat: async () => undefined,
  hostNetworks: async () => [],
  ipForwarding: () => false,
  setIpForwarding: () => refuse(),
  canSetIpForwarding: () => false,
  nftAvailable: async () => false,
  interfaceExists: () => false,
  defaultRouteInterfaces: async () => [],
};
