import * as path from 'node:path';
import { isLowOrderPublicKey, LOW_ORDER_MESSAGE } from '../identity/low-order.js';
import { MAX_MESH_PREFIX_LEN, MIN_MESH_PREFIX_LEN } from '../identity/mesh-ip.js';
import { NODE_ID_HEX_LEN } from '../identity/node-id.js';
import { interfaceNameProblem } from '../net/ifname.js';
import { formatIpv4, inPrefix, parseCidr, parseHostPort, parseIpv4, prefixMask } from '../net/ipv4.js';
import { formatPath, indexKeys, locate, type KeyIndex, type Segment } from './locate.js';
import type { PathEnv } from './paths.js';
import { buildDefaults, LOG_LEVELS, MAX_DNS_SERVERS, ROLE_CONFLICT_MESSAGE, TRUST_MODES, type Config, type PeerConfig } from './schema.js';

// Text → Config, or every problem in it. Nothing stops at the first problem:
// a user fixing a file wants the whole list, each with file:line:col.

import { parse, TomlError } from './toml.js';

export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

export interface ValidationResult {
  /** null whenever there is at least one issue. */
  config: Config | null;
  /** Sorted by position in the file. */
  issues: ConfigIssue[];
}

type Table = Record<string, unknown>;
type Path = readonly Segment[];
type Reader<T> = (c: Checker, value: unknown, p: Path) => T | undefined;
type Check = (s: string) => string | null;
type Section = Exclude<keyof Config, 'peers'>;

const PEER_KEYS = ['address', 'public_key', 'label'];
const PUBLIC_KEY_HEX_LEN = 64;
const LABEL_MAX_CHARS = 64;
// sun_path is 108 bytes on Linux, one of them the terminating NUL.
const SOCKET_PATH_MAX_BYTES = 107;

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.path}: ${issue.message}`;
}

/** `file` positions the issues and anchors relative paths; it is not read. */
export function validateConfigText(text: string, file: string, pe: PathEnv): ValidationResult {
  let root: Table;
  try {
    // Integers as bigint so that `mtu = 1420.0` can be told apart from `mtu = 1420`.
    root = parse(text, { integersAsBigInt: true });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // The rest of smol-toml's message quotes the source; line and column already point there.
    const reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    return { config: null, issues: [{ file, line: err.line, column: err.column, path: '(toml)', message: `invalid TOML: ${reason}` }] };
  }
  const c = new Checker(file, indexKeys(text));
  const config = readConfig(c, root, buildDefaults(pe), path.dirname(file));
  if (config.gateway.enabled && config.route.internet_via_mesh) c.fail(['route', 'internet_via_mesh'], `${ROLE_CONFLICT_MESSAGE}; set [gateway] enabled or this to false`);
  const issues = c.sortedIssues();
  return { config: issues.length === 0 ? config : null, issues };
}

class Checker {
  private readonly issues: ConfigIssue[] = [];

  constructor(
    private readonly file: string,
    private readonly index: KeyIndex,
  ) {}

  fail(p: Path, message: string): undefined {
    const at = formatPath(p);
    this.issues.push({ file: this.file, ...locate(this.index, at), path: at, message });
    return undefined;
  }

  wrongType(p: Path, expected: string, value: unknown): undefined {
    return this.fail(p, `expected ${expected}, got ${describe(value)}`);
  }

  sortedIssues(): ConfigIssue[] {
    return [...this.issues].sort((a, b) => a.line - b.line || a.column - b.column);
  }
}

function readConfig(c: Checker, root: Table, d: Config, baseDir: string): Config {
  checkKeys(c, root, [], Object.keys(d), 'the top level');
  const tables = new Map<Section, Table | undefined>();
  for (const name of Object.keys(d) as (keyof Config)[]) {
    if (name !== 'peers') tables.set(name, table(c, root[name], [name], Object.keys(d[name]), `[${name}]`));
  }
  const get = <T>(name: Section, key: string, read: Reader<T>): T | undefined => field(c, tables.get(name), [name, key], read);

  // undefined when the file's prefix is invalid: that is reported once, on its
  // own line, and addresses then get only a syntax check instead of a second report.
  const meshGiven = tables.get('interface')?.['mesh_ipv4_prefix'] !== undefined;
  const meshPrefix = meshGiven ? get('interface', 'mesh_ipv4_prefix', string(checkMeshPrefix)) : d.interface.mesh_ipv4_prefix;
  const socket = get('rpc', 'socket', socketPath(baseDir));
  return {
    node: { name: get('node', 'name', string(checkLabel('the node name'))) ?? d.node.name },
    security: { key_file: get('security', 'key_file', filePath(baseDir, d.security.key_file)) ?? d.security.key_file },
    interface: {
      name: get('interface', 'name', string(checkInterfaceName)) ?? d.interface.name,
      mtu: get('interface', 'mtu', integer(576, 9000, { advice: '1420 suits most links' })) ?? d.interface.mtu,
      mesh_ipv4_prefix: meshPrefix ?? d.interface.mesh_ipv4_prefix,
      address: get('interface', 'address', string((s) => checkAddress(s, meshPrefix))) ?? null,
    },
    transport: {
      listen_port: get('transport', 'listen_port', integer(0, 65535, { advice: '0 picks any free port' })) ?? d.transport.listen_port,
      bind: get('transport', 'bind', string(checkBind)) ?? d.transport.bind,
    },
    discovery: {
      enabled: get('discovery', 'enabled', boolean) ?? d.discovery.enabled,
      port: get('discovery', 'port', integer(1, 65535)) ?? d.discovery.port,
      interval_s: get('discovery', 'interval_s', integer(1, 3600, { unit: ' seconds' })) ?? d.discovery.interval_s,
    },
    trust: {
      mode: get('trust', 'mode', oneOf(TRUST_MODES)) ?? d.trust.mode,
      allow_list: get('trust', 'allow_list', readAllowList) ?? d.trust.allow_list,
      store: get('trust', 'store', filePath(baseDir, d.trust.store)) ?? d.trust.store,
    },
    peers: readPeers(c, root['peers']),
    gateway: {
      enabled: get('gateway', 'enabled', boolean) ?? d.gateway.enabled,
      nat_interface: get('gateway', 'nat_interface', string(checkInterfaceName)) ?? null,
      allow_lan: get('gateway', 'allow_lan', boolean) ?? d.gateway.allow_lan,
    },
    route: {
      internet_via_mesh: get('route', 'internet_via_mesh', boolean) ?? d.route.internet_via_mesh,
      lockdown: get('route', 'lockdown', boolean) ?? d.route.lockdown,
      dns: get('route', 'dns', readResolvers) ?? d.route.dns,
    },
    rpc: { socket: socket === undefined || socket === '' ? d.rpc.socket : socket },
    log: { level: get('log', 'level', oneOf(LOG_LEVELS)) ?? d.log.level },
  };
}

function readPeers(c: Checker, value: unknown): PeerConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every(isTable)) {
    c.wrongType(['peers'], '[[peers]] tables (note the double brackets)', value);
    return [];
  }
  const hex = checkHex(PUBLIC_KEY_HEX_LEN, 'a public key', 'the x25519_pubkey that `pim id` prints on that peer');
  const readPublicKey = string((s) => hex(s) ?? (isLowOrderPublicKey(Buffer.from(s, 'hex')) ? `${s.slice(0, 8)}… ${LOW_ORDER_MESSAGE}` : null));
  const byKey = new Map<string, number>();
  const byLabel = new Map<string, number>();
  return value.map((entry: Table, n) => {
    const p = ['peers', n];
    checkKeys(c, entry, p, PEER_KEYS, 'a [[peers]] entry');
    const address = required(c, entry, p, 'address', string(checkEndpoint), 'host:port, e.g. "192.0.2.7:9100"');
    const publicKey = required(c, entry, p, 'public_key', readPublicKey, 'the peer\'s x25519_pubkey from `pim id`');
    const label = field(c, entry, [...p, 'label'], string(checkLabel('a label'))) ?? null;
    unique(c, byKey, publicKey, n, [...p, 'public_key'], (first) => `peers[${first}] has the same public_key; list each peer once`);
    unique(c, byLabel, label, n, [...p, 'label'], (first) => `peers[${first}] has the same label; labels must be unique`);
    return { address: address ?? '', public_key: publicKey ?? '', label };
  });
}

function readAllowList(c: Checker, value: unknown, p: Path): string[] | undefined {
  if (!Array.isArray(value)) return c.wrongType(p, 'an array of node_ids', value);
  const seen = new Map<string, number>();
  const read = string(checkHex(NODE_ID_HEX_LEN, 'a node_id', 'as `pim id` prints it on that node'));
  return value.map((entry: unknown, n) => {
    const id = read(c, entry, [...p, n]);
    unique(c, seen, id, n, [...p, n], (first) => `duplicate node_id, already listed as ${formatPath([...p, first])}`);
    return id ?? '';
  });
}

function readResolvers(c: Checker, value: unknown, p: Path): string[] | undefined {
  if (!Array.isArray(value)) return c.wrongType(p, 'an array of IPv4 addresses, e.g. ["9.9.9.9"]', value);
  if (value.length > MAX_DNS_SERVERS) return c.fail(p, `at most ${MAX_DNS_SERVERS} resolvers (the system resolver reads no more), got ${value.length}`);
  const seen = new Map<string, number>();
  const read = string(checkResolver);
  return value.map((entry: unknown, n) => {
    const ip = read(c, entry, [...p, n]);
    unique(c, seen, ip, n, [...p, n], (first) => `duplicate resolver, already listed as ${formatPath([...p, first])}`);
    return ip ?? '';
  });
}

// ── structure ────────────────────────────────────────────────────────────────

function table(c: Checker, value: unknown, p: Path, known: readonly string[], owner: string): Table | undefined {
  if (value === undefined) return undefined;
  if (!isTable(value)) return c.wrongType(p, `a table (${owner})`, value);
  checkKeys(c, value, p, known, owner);
  return value;
}

function checkKeys(c: Checker, t: Table, p: Path, known: readonly string[], owner: string): void {
  for (const key of Object.keys(t)) {
    if (!known.includes(key)) c.fail([...p, key], `unknown key "${key}"; ${owner} accepts: ${known.join(', ')}`);
  }
}

function field<T>(c: Checker, t: Table | undefined, p: Path, read: Reader<T>): T | undefined {
  const value = t?.[p[p.length - 1] as string];
  return value === undefined ? undefined : read(c, value, p);
}

function required<T>(c: Checker, t: Table, p: Path, key: string, read: Reader<T>, what: string): T | undefined {
  if (t[key] === undefined) return c.fail([...p, key], `missing required key "${key}" (${what})`);
  return field(c, t, [...p, key], read);
}

function unique<K>(c: Checker, seen: Map<K, number>, key: K | null | undefined, n: number, p: Path, message: (first: number) => string): void {
  if (key === null || key === undefined) return;
  const first = seen.get(key);
  if (first === undefined) seen.set(key, n);
  else c.fail(p, message(first));
}

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `a string (${JSON.stringify(value)})`;
  if (typeof value === 'bigint') return `an integer (${value})`;
  // 1420.0 would print as "1420"; keep the point so the user sees what makes it a float.
  if (typeof value === 'number') return `a float (${Number.isInteger(value) ? value.toFixed(1) : value})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (value instanceof Date) return 'a date-time';
  if (Array.isArray(value)) return 'an array';
  return 'a table';
}

// ── readers ──────────────────────────────────────────────────────────────────

function string(check: Check = () => null): Reader<string> {
  return (c, value, p) => {
    if (typeof value !== 'string') return c.wrongType(p, 'a string', value);
    const problem = check(value);
    return problem === null ? value : c.fail(p, problem);
  };
}

function integer(min: number, max: number, words: { unit?: string; advice?: string } = {}): Reader<number> {
  const { unit = '', advice } = words;
  return (c, value, p) => {
    if (typeof value !== 'bigint') return c.wrongType(p, 'an integer', value);
    if (value < BigInt(min) || value > BigInt(max)) {
      return c.fail(p, `must be between ${min} and ${max}${unit}, got ${value}${advice === undefined ? '' : ` (${advice})`}`);
    }
    return Number(value);
  };
}

const boolean: Reader<boolean> = (c, value, p) => (typeof value === 'boolean' ? value : c.wrongType(p, 'true or false', value));

function oneOf<T extends string>(choices: readonly T[]): Reader<T> {
  const read = string((s) => (choices.includes(s as T) ? null : `must be one of ${choices.map((x) => `"${x}"`).join(', ')}, got "${s}"`));
  return (c, value, p) => read(c, value, p) as T | undefined;
}

/** An absolute path, relative ones taken from the config file's directory. */
function filePath(baseDir: string, fallback: string): Reader<string> {
  const read = string((s) => (s === '' ? `must not be empty; remove the line to use the default (${fallback})` : null));
  return (c, value, p) => {
    const s = read(c, value, p);
    return s === undefined ? undefined : path.resolve(baseDir, s);
  };
}

/** Like filePath, except that "" passes through: it means the default socket. */
function socketPath(baseDir: string): Reader<string> {
  const read = string((s) => {
    const bytes = s === '' ? 0 : Buffer.byteLength(path.resolve(baseDir, s));
    return bytes > SOCKET_PATH_MAX_BYTES ? `the socket path is ${bytes} bytes long; a Unix socket path may have at most ${SOCKET_PATH_MAX_BYTES}` : null;
  });
  return (c, value, p) => {
    const s = read(c, value, p);
    return s === undefined || s === '' ? s : path.resolve(baseDir, s);
  };
}

// ── value checks: null when fine, else what to fix ─────────────────────────

function checkMeshPrefix(s: string): string | null {
  const cidr = parseCidr(s);
  if (cidr === null) return `expected an IPv4 prefix like "10.77.0.0/16", got "${s}"`;
  if (cidr.prefixLen < MIN_MESH_PREFIX_LEN || cidr.prefixLen > MAX_MESH_PREFIX_LEN) {
    return `prefix length must be between /${MIN_MESH_PREFIX_LEN} and /${MAX_MESH_PREFIX_LEN}, got /${cidr.prefixLen}`;
  }
  if (cidr.address !== cidr.network) return `host bits are set; did you mean "${formatIpv4(cidr.network)}/${cidr.prefixLen}"?`;
  return null;
}

/** `mesh` is undefined when the mesh prefix itself is invalid; then only the syntax is checked. */
function checkAddress(s: string, mesh: string | undefined): string | null {
  const a = parseCidr(s);
  if (a === null) return `expected an IPv4 address with prefix length like "10.77.3.9/16", got "${s}"`;
  const m = mesh === undefined ? null : parseCidr(mesh);
  if (m === null) return null;
  const ip = formatIpv4(a.address);
  if (!inPrefix(a.address, m.network, m.prefixLen)) return `${ip} is outside mesh_ipv4_prefix ${mesh}`;
  if (a.prefixLen !== m.prefixLen) return `prefix length must equal that of mesh_ipv4_prefix ${mesh}; write "${ip}/${m.prefixLen}"`;
  if (a.address === m.network) return `${ip} is the network address of ${mesh}; choose a host address`;
  if (a.address === (m.network | ~prefixMask(m.prefixLen)) >>> 0) return `${ip} is the broadcast address of ${mesh}; choose a host address`;
  return null;
}

const checkInterfaceName = interfaceNameProblem;

function checkBind(s: string): string | null {
  return parseIpv4(s) === null ? `expected an IPv4 address like "0.0.0.0" (all interfaces), got "${s}"` : null;
}

function checkResolver(s: string): string | null {
  if (parseIpv4(s) !== null) return null;
  if (s.includes(':')) return `"${s}" is an IPv6 address; IPv6 is blocked while routing via the mesh, so list IPv4 resolvers`;
  return `expected an IPv4 address like "9.9.9.9", got "${s}"`;
}

function checkEndpoint(s: string): string | null {
  if (parseHostPort(s) !== null) return null;
  const colon = s.lastIndexOf(':');
  if (colon < 0) return `expected host:port like "192.0.2.7:9100" or "gw.example.net:9100", got "${s}"`;
  if (s.startsWith('[') || s.indexOf(':') !== colon) return 'IPv6 endpoints are not supported; use an IPv4 address or a DNS name';
  const host = s.slice(0, colon);
  const port = s.slice(colon + 1);
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) return `the port must be a number from 1 to 65535, got "${port}"`;
  if (/^[0-9.]+$/.test(host)) return `"${host}" is not a valid IPv4 address`;
  return `"${host}" is neither an IPv4 address nor a valid DNS name`;
}

function checkHex(length: number, what: string, source: string): Check {
  return (s) => {
    if (s.length === length && /^[0-9a-f]*$/.test(s)) return null;
    if (s.length === length && /^[0-9a-fA-F]*$/.test(s)) return `${what} must be lowercase hex; write "${s.toLowerCase()}"`;
    const got = s.length === length ? 'characters that are not hex digits' : `${s.length} character${s.length === 1 ? '' : 's'}`;
    return `expected ${what} of ${length} lowercase hex characters (${source}), got ${got}`;
  };
}

function checkLabel(what: string): Check {
  return (s) => {
    const chars = [...s].length;
    if (chars === 0) return `${what} must not be empty`;
    if (chars > LABEL_MAX_CHARS) return `${what} must be at most ${LABEL_MAX_CHARS} characters, got ${chars}`;
    if (/\p{C}/u.test(s)) return `${what} may contain only printable characters (no tabs, newlines or control characters)`;
    return null;
  };
}
