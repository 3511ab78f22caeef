// A parser of classic pcap files (what `tcpdump -w` writes), pure: bytes in,
// frames out. Tests use it to check what really crossed a wire, e.g. that no
// plaintext pattern appears between two daemons.
//
// File layout: a 24-byte global header (magic, version, snaplen, link type),
// then records of a 16-byte header (seconds, fraction, captured length, wire
// length) followed by the captured bytes. The magic's byte order is the file's.

export const LINKTYPE = { EN10MB: 1, RAW: 101, LINUX_SLL: 113, LINUX_SLL2: 276 } as const;

export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, IPV6: 0x86dd } as const;

export interface IpPacket {
  version: 4 | 6;
  src: string;
  dst: string;
  /** IPv4 protocol, or IPv6 next header (extension headers are not followed). */
  protocol: number;
  /** What follows the IP header, cut to the length the header claims. */
  payload: Buffer;
}

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export interface Frame {
  /** Seconds since the epoch; a double keeps about a microsecond of a nanosecond file's precision. */
  ts: number;
  linkType: number;
  /** The captured bytes, link-layer header included. */
  data: Buffer;
  /** From the Ethernet or Linux cooked header; absent for RAW frames. */
  ethertype?: number;
  ip?: IpPacket;
  udp?: UdpDatagram;
}

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
const IP_PROTO_UDP = 17;

export function parsePcap(file: Buffer): Frame[] {
  if (file.length < GLOBAL_HEADER) {
    throw new Error(`not a pcap file: ${file.length} bytes is shorter than the ${GLOBAL_HEADER}-byte pcap header`);
  }
  const { littleEndian, fractionsPerSecond } = readMagic(file);
  const u32 = (offset: number): number => (littleEndian ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  // The upper bits of the link-type field may carry FCS information.
  const linkType = u32(20) & 0xffff;

  const frames: Frame[] = [];
  let offset = GLOBAL_HEADER;
  // A record cut short (tcpdump killed mid-write) ends the list rather than failing it.
  while (offset + RECORD_HEADER <= file.length) {
    const capturedLength = u32(offset + 8);
    const start = offset + RECORD_HEADER;
    if (start + capturedLength > file.length) break;
    const ts = u32(offset) + u32(offset + 4) / fractionsPerSecond;
    frames.push(decodeFrame(ts, linkType, file.subarray(start, start + capturedLength)));
    offset = start + capturedLength;
  }
  return frames;
}

/** Whether the needle appears anywhere in the captured bytes, headers included. */
export function containsBytes(frame: Frame, needle: Buffer): boolean {
  return frame.data.includes(needle);
}

function readMagic(file: Buffer): { littleEndian: boolean; fractionsPerSecond: number } {
  for (const littleEndian of [true, false]) {
    const magic = littleEndian ? file.readUInt32LE(0) : file.readUInt32BE(0);
    if (magic === MAGIC_MICRO) return { littleEndian, fractionsPerSecond: 1e6 };
    if (magic === MAGIC_NANO) return { littleEndian, fractionsPerSecond: 1e9 };
  }
  if (file.readUInt32BE(0) === MAGIC_PCAPNG) {
    throw new Error('this is a pcapng file; only classic pcap is supported (tcpdump -w writes classic pcap)');
  }
  throw new Error(`not a pcap file: unknown magic 0x${file.readUInt32BE(0).toString(16).padStart(8, '0')}`);
}

function decodeFrame(ts: number, linkType: number, data: Buffer): Frame {
  const frame: Frame = { ts, linkType, data };
  const link = linkLayer(linkType, data);
  if (!link) return frame;
  if (link.ethertype !== undefined) frame.ethertype = link.ethertype;
  const ip = decodeIp(link.ethertype, link.network);
  if (!ip) return frame;
  frame.ip = ip.packet;
  if (ip.packet.protocol === IP_PROTO_UDP && ip.firstFragment) {
    const udp = decodeUdp(ip.packet.payload);
    if (udp) frame.udp = udp;
  }
  return frame;
}

/** Where the network layer starts, and what the link layer says it is. */
function linkLayer(linkType: number, data: Buffer): { ethertype?: number; network: Buffer } | undefined {
  switch (linkType) {
    case LINKTYPE.EN10MB:
      // dst MAC (6), src MAC (6), ethertype (2)
      return data.length < 14 ? undefined : { ethertype: data.readUInt16BE(12), network: data.subarray(14) };
    case LINKTYPE.LINUX_SLL:
      // packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2)
      return data.length < 16 ? undefined : { ethertype: data.readUInt16BE(14), network: data.subarray(16) };
    case LINKTYPE.LINUX_SLL2:
      // protocol (2), reserved (2), ifindex (4), ARPHRD type (2), packet type (1), address length (1), address (8)
      return data.length < 20 ? undefined : { ethertype: data.readUInt16BE(0), network: data.subarray(20) };
    case LINKTYPE.RAW:
      return { network: data };
    default:
      return undefined;
  }
}

function decodeIp(ethertype: number | undefined, bytes: Buffer): { packet: IpPacket; firstFragment: boolean } | undefined {
  if (bytes.length < 1) return undefined;
  const version = bytes[0]! >> 4;
  // RAW frames have no ethertype: the version nibble alone says which IP it is.
  if (version === 4 && (ethertype === undefined || ethertype === ETHERTYPE.IPV4)) return decodeIpv4(bytes);
  if (version === 6 && (ethertype === undefined || ethertype === ETHERTYPE.IPV6)) return decodeIpv6(bytes);
  return undefined;
}

function decodeIpv4(bytes: Buffer): { packet: IpPacket; firstFragment: boolean } | undefined {
  if (bytes.length < 20) return undefined;
  const headerLength = (bytes[0]! & 0x0f) * 4;
  const totalLength = bytes.readUInt16BE(2);
  if (headerLength < 20 || totalLength < headerLength || bytes.length < headerLength) return undefined;
  const fragmentOffset = bytes.readUInt16BE(6) & 0x1fff;
  return {
    packet: {
      version: 4,
      src: bytes.subarray(12, 16).join('.'),
      dst: bytes.subarray(16, 20).join('.'),
      protocol: bytes[9]!,
      // Ethernet pads short frames to 60 bytes; the total length excludes the padding.
      payload: bytes.subarray(headerLength, Math.min(totalLength, bytes.length)),
    },
    firstFragment: fragmentOffset === 0,
  };
}

function decodeIpv6(bytes: Buffer): { packet: IpPacket; firstFragment: boolean } | undefined {
  if (bytes.length < 40) return undefined;
  const payloadLength = bytes.readUInt16BE(4);
  return {
    packet: {
      version: 6,
      src: formatIpv6(bytes.subarray(8, 24)),
      dst: formatIpv6(bytes.subarray(24, 40)),
      protocol: bytes[6]!,
      payload: bytes.subarray(40, Math.min(40 + payloadLength, bytes.length)),
    },
    firstFragment: true,
  };
}

function decodeUdp(bytes: Buffer): UdpDatagram | undefined {
  if (bytes.length < 8) return undefined;
  const length = bytes.readUInt16BE(4);
  if (length < 8) return undefined;
  return {
    srcPort: bytes.readUInt16BE(0),
    dstPort: bytes.readUInt16BE(2),
    payload: bytes.subarray(8, Math.min(length, bytes.length)),
  };
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run of two or more zero groups as "::". */
function formatIpv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const text = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  return bestStart < 0 ? text(0, 8) : `${text(0, bestStart)}::${text(bestStart + bestLength, 8)}`;
}
