// IPv4 addresses as unsigned 32-bit numbers. JavaScript bitwise operators work
// on signed 32-bit integers, so every result that may have the top bit set is
// brought back to the unsigned range with `>>> 0`.

export interface Cidr {
  /** The address with its host bits cleared. */
  network: number;
  prefixLen: number;
  /** The address exactly as written, host bits included ("10.77.3.9/16"). */
  address: number;
}

export interface HostPort {
  host: string;
  port: number;
}

// No leading zeros: "010" is octal to inet_aton and decimal to humans, so it is
// refused rather than guessed.
const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const PREFIX_LEN = /^(0|[1-9][0-9]?)$/;
const PORT = /^[1-9][0-9]{0,4}$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A strict dotted quad ("192.0.2.7"), or null. */
export function parseIpv4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIpv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`not an IPv4 address as a 32-bit unsigned integer: ${n}`);
  }
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

/** The netmask of a prefix length, e.g. 24 → 0xffffff00. */
export function prefixMask(len: number): number {
  if (!Number.isInteger(len) || len < 0 || len > 32) {
    throw new RangeError(`prefix length must be an integer 0..32, got ${len}`);
  }
  // A shift count of 32 is taken mod 32 in JavaScript, so /0 needs its own case.
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function inPrefix(addr: number, network: number, len: number): boolean {
  const mask = prefixMask(len);
  return (addr & mask) >>> 0 === (network & mask) >>> 0;
}

/** "a.b.c.d/len", or null. */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const address = parseIpv4(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (address === null || !PREFIX_LEN.test(lenText)) return null;
  const prefixLen = Number(lenText);
  if (prefixLen > 32) return null;
  return { network: (address & prefixMask(prefixLen)) >>> 0, prefixLen, address };
}

/**
 * "host:port" where host is an IPv4 literal or a DNS name and port is 1..65535.
 * IPv6 ("[::1]:9100", "::1") is refused for now: the transport binds IPv4 only.
 */
export function parseHostPort(s: string): HostPort | null {
  const colon = s.lastIndexOf(':');
  if (colon < 0) return null;
  const host = s.slice(0, colon);
  const portText = s.slice(colon + 1);
  if (!PORT.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  if (!isIpv4OrDnsName(host)) return null;
  return { host, port };
}

function isIpv4OrDnsName(host: string): boolean {
  if (parseIpv4(host) !== null) return true;
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split('.');
  if (!labels.every((label) => DNS_LABEL.test(label))) return false;
  // An all-numeric last label means a mistyped address ("10.0.0.256", "10.1"),
  // not a name: no top-level domain is numeric.
  return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}
