import * as os from 'node:os';
import * as path from 'node:path';
import { dataDir, defaultSocketPath, type PathEnv } from './paths.js';

// The parsed config mirrors the TOML file, so its keys stay snake_case.
// Every file path in it is absolute by the time a Config exists.

export const TRUST_MODES = ['tofu', 'allow_list', 'allow_all'] as const;
export type TrustMode = (typeof TRUST_MODES)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** At most this many [route] dns resolvers: glibc's resolver reads no more nameserver lines. */
export const MAX_DNS_SERVERS = 3;

/**
 * A gateway does not route its own internet via the mesh: with routing on, the
 * kill-switch lets forwarded traffic leave only into the tunnel, so the gateway
 * would silently stop carrying its clients (and would send them back into the
 * mesh). Refused in the config and by `route.set_split_default` / `gateway.enable`.
 */
export const ROLE_CONFLICT_MESSAGE =
  'a gateway cannot route its own internet via the mesh (its kill-switch would block what it forwards for its clients)';

export interface PeerConfig {
  address: string;
  public_key: string;
  label: string | null;
}

export interface Config {
  node: { name: string };
  security: { key_file: string };
  interface: { name: string; mtu: number; mesh_ipv4_prefix: string; address: string | null };
  transport: { listen_port: number; bind: string };
  discovery: { enabled: boolean; port: number; interval_s: number };
  trust: { mode: TrustMode; allow_list: string[]; store: string };
  peers: PeerConfig[];
  gateway: { enabled: boolean; nat_interface: string | null; allow_lan: boolean };
  route: { internet_via_mesh: boolean; lockdown: boolean; dns: string[] };
  rpc: { socket: string };
  log: { level: LogLevel };
}

/** The config a file with no keys at all stands for; also the source of the known key names. */
export function buildDefaults(pe: PathEnv, hostname: string = os.hostname()): Config {
  const data = dataDir(pe);
  return {
    node: { name: hostname },
    security: { key_file: path.join(data, 'node.key') },
    interface: { name: 'pim0', mtu: 1420, mesh_ipv4_prefix: '10.77.0.0/16', address: null },
    transport: { listen_port: 9100, bind: '0.0.0.0' },
    discovery: { enabled: true, port: 9101, interval_s: 5 },
    trust: { mode: 'tofu', allow_list: [], store: path.join(data, 'trust.json') },
    peers: [],
    gateway: { enabled: false, nat_interface: null, allow_lan: false },
    route: { internet_via_mesh: false, lockdown: false, dns: [] },
    rpc: { socket: defaultSocketPath(pe) },
    log: { level: 'info' },
  };
}
