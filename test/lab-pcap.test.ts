import test from 'ava';
import { ETHERTYPE, LINKTYPE, containsBytes, parsePcap } from '../ts/lab/pcap.js';

// Builders for the files and frames the parser must read, written from the
// format descriptions rather than from the parser's code.

interface PcapRecord {
  sec: number;
  frac: number;
  data: Buffer;
}

function pcapFile(opts: { littleEndian: boolean; nano: boolean; linkType: number; records: PcapRecord[] }): Buffer {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    if (opts.littleEndian) b.writeUInt32LE(n);
    else b.writeUInt32BE(n);
    return b;
  };
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    if (opts.littleEndian) b.writeUInt16LE(n);
    else b.writeUInt16BE(n);
    return b;
  };
  const parts = [u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(262144), u32(opts.linkType)];
  for (const r of opts.records) parts.push(u32(r.sec), u32(r.frac), u32(r.data.length), u32(r.data.length), r.data);
  return Buffer.concat(parts);
}

const MAC_A = Buffer.from('020000000001', 'hex');
const MAC_B = Buffer.from('020000000002', 'hex');

function ethernet(ethertype: number, payload: Buffer): Buffer {
  const type = Buffer.alloc(2);
  type.writeUInt16BE(ethertype);
  const frame = Buffer.concat([MAC_B, MAC_A, type, payload]);
  // Ethernet pads frames to its 60-byte minimum (FCS not captured).
  return frame.length >= 60 ? frame : Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
}

function ipv4(opts: { src: string; dst: string; protocol: number; payload: Buffer; options?: Buffer; fragmentOffset?: number }): Buffer {
  const options = opts.options ?? Buffer.alloc(0);
  const header = Buffer.alloc(20);
  header[0] = 0x40 | ((20 + options.length) / 4);
  header.writeUInt16BE(20 + options.length + opts.payload.length, 2);
  header.writeUInt16BE(opts.fragmentOffset ?? 0, 6);
  header[8] = 64;
  header[9] = opts.protocol;
  Buffer.from(opts.src.split('.').map(Number)).copy(header, 12);
  Buffer.from(opts.dst.split('.').map(Number)).copy(header, 16);
  return Buffer.concat([header, options, opts.payload]);
}

function ipv6(src: Buffer, dst: Buffer, nextHeader: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = 0x60;
  header.writeUInt16BE(payload.length, 4);
  header[6] = nextHeader;
  header[7] = 64;
  return Buffer.concat([header, src, dst, payload]);
}

function udp(srcPort: number, dstPort: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(srcPort, 0);
  header.writeUInt16BE(dstPort, 2);
  header.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([header, payload]);
}

function arpRequest(): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // Ethernet
  arp.writeUInt16BE(ETHERTYPE.IPV4, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6); // request
  MAC_A.copy(arp, 8);
  Buffer.from([198, 18, 1, 1]).copy(arp, 14);
  Buffer.from([198, 18, 1, 2]).copy(arp, 24);
  return arp;
}

function sll(protocol: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0, 0); // sent to us
  header.writeUInt16BE(1, 2); // ARPHRD_ETHER
  header.writeUInt16BE(6, 4);
  MAC_A.copy(header, 6);
  header.writeUInt16BE(protocol, 14);
  return Buffer.concat([header, payload]);
}

function sll2(protocol: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(protocol, 0);
  header.writeUInt32BE(3, 4); // ifindex
  header.writeUInt16BE(1, 8); // ARPHRD_ETHER
  header[10] = 4; // outgoing
  header[11] = 6;
  MAC_A.copy(header, 12);
  return Buffer.concat([header, payload]);
}

const SECRET = Buffer.from('pim-plaintext-marker');
const udpPacket = ipv4({ src: '198.18.1.1', dst: '198.18.1.2', protocol: 17, payload: udp(40000, 51820, SECRET) });

for (const littleEndian of [true, false]) {
  for (const nano of [false, true]) {
    const name = `${littleEndian ? 'little' : 'big'}-endian ${nano ? 'nanosecond' : 'microsecond'}`;
    test(`a ${name} file gives the same frames and its own timestamp unit`, (t) => {
      const frac = nano ? 250_000_000 : 250_000;
      const data = ethernet(ETHERTYPE.IPV4, udpPacket);
      const frames = parsePcap(pcapFile({ littleEndian, nano, linkType: LINKTYPE.EN10MB, records: [{ sec: 1_700_000_000, frac, data }] }));
      t.is(frames.length, 1);
      const [frame] = frames;
      t.is(frame!.ts, 1_700_000_000.25);
      t.is(frame!.linkType, LINKTYPE.EN10MB);
      t.deepEqual(frame!.data, data);
      t.is(frame!.ethertype, ETHERTYPE.IPV4);
      t.like(frame!.ip, { version: 4, src: '198.18.1.1', dst: '198.18.1.2', protocol: 17 });
      t.like(frame!.udp, { srcPort: 40000, dstPort: 51820 });
      t.deepEqual(frame!.udp!.payload, SECRET);
    });
  }
}

test('a nanosecond fraction keeps sub-millisecond precision', (t) => {
  const file = pcapFile({ littleEndian: true, nano: true, linkType: LINKTYPE.RAW, records: [{ sec: 1_700_000_000, frac: 123_456_789, data: udpPacket }] });
  const ts = parsePcap(file)[0]!.ts;
  t.true(Math.abs(ts - 1_700_000_000.123456789) < 1e-6, String(ts));
});

test('Ethernet ARP has an ethertype and no IP layer', (t) => {
  const [frame] = parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.EN10MB, records: [{ sec: 1, frac: 0, data: ethernet(ETHERTYPE.ARP, arpRequest()) }] }));
  t.is(frame!.ethertype, ETHERTYPE.ARP);
  t.is(frame!.ip, undefined);
  t.is(frame!.udp, undefined);
});

test('Ethernet padding is not part of the IP or UDP payload', (t) => {
  const short = ipv4({ src: '198.18.1.1', dst: '198.18.1.2', protocol: 17, payload: udp(1, 2, Buffer.from('hi')) });
  const data = ethernet(ETHERTYPE.IPV4, short);
  t.is(data.length, 60);
  const [frame] = parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.EN10MB, records: [{ sec: 1, frac: 0, data }] }));
  t.is(frame!.ip!.payload.length, 10);
  t.deepEqual(frame!.udp!.payload, Buffer.from('hi'));
});

test('IPv4 options (IHL > 5) are skipped to find the UDP header', (t) => {
  const options = Buffer.from([0x94, 0x04, 0x00, 0x00]); // router alert
  const packet = ipv4({ src: '10.77.0.1', dst: '10.77.0.2', protocol: 17, payload: udp(5353, 5354, SECRET), options });
  const [frame] = parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.EN10MB, records: [{ sec: 1, frac: 0, data: ethernet(ETHERTYPE.IPV4, packet) }] }));
  t.like(frame!.ip, { src: '10.77.0.1', dst: '10.77.0.2', protocol: 17 });
  t.like(frame!.udp, { srcPort: 5353, dstPort: 5354 });
  t.deepEqual(frame!.udp!.payload, SECRET);
});

test('a non-first IPv4 fragment has no UDP header to decode', (t) => {
  const fragment = ipv4({ src: '198.18.1.1', dst: '198.18.1.2', protocol: 17, payload: Buffer.alloc(16, 0xab), fragmentOffset: 185 });
  const [frame] = parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.RAW, records: [{ sec: 1, frac: 0, data: fragment }] }));
  t.is(frame!.ip!.protocol, 17);
  t.is(frame!.udp, undefined);
});

test('Linux cooked (SLL) frames give the protocol as ethertype', (t) => {
  const [frame] = parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.LINUX_SLL, records: [{ sec: 1, frac: 0, data: sll(ETHERTYPE.IPV4, udpPacket) }] }));
  t.is(frame!.ethertype, ETHERTYPE.IPV4);
  t.like(frame!.udp, { srcPort: 40000, dstPort: 51820 });
  t.deepEqual(frame!.udp!.payload, SECRET);
});

test('Linux cooked v2 (SLL2) frames give the protocol as ethertype', (t) => {
  const [frame] = parsePcap(pcapFile({ littleEndian: false, nano: false, linkType: LINKTYPE.LINUX_SLL2, records: [{ sec: 1, frac: 0, data: sll2(ETHERTYPE.IPV4, udpPacket) }] }));
  t.is(frame!.ethertype, ETHERTYPE.IPV4);
  t.like(frame!.ip, { src: '198.18.1.1', dst: '198.18.1.2' });
  t.deepEqual(frame!.udp!.payload, SECRET);
});

test('RAW frames are IP from the first byte, with no ethertype', (t) => {
  const [frame] = parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.RAW, records: [{ sec: 1, frac: 0, data: udpPacket }] }));
  t.is(frame!.ethertype, undefined);
  t.like(frame!.ip, { version: 4, protocol: 17 });
  t.deepEqual(frame!.udp!.payload, SECRET);
});

test('IPv6 addresses are written in RFC 5952 form', (t) => {
  const src = Buffer.from('fe800000000000000000000000000001', 'hex');
  const dst = Buffer.from('20010db8000000000001000000000001', 'hex');
  const packet = ipv6(src, dst, 17, udp(546, 547, SECRET));
  const [frame] = parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.EN10MB, records: [{ sec: 1, frac: 0, data: ethernet(ETHERTYPE.IPV6, packet) }] }));
  t.like(frame!.ip, { version: 6, src: 'fe80::1', dst: '2001:db8::1:0:0:1', protocol: 17 });
  t.like(frame!.udp, { srcPort: 546, dstPort: 547 });
});

for (const [where, cut] of [['record data', 5], ['record header', 16 + 5]] as const) {
  test(`a last record cut in its ${where} is ignored`, (t) => {
    const data = ethernet(ETHERTYPE.IPV4, udpPacket);
    const whole = pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.EN10MB, records: [{ sec: 1, frac: 0, data }, { sec: 2, frac: 0, data }] });
    const frames = parsePcap(whole.subarray(0, whole.length - cut));
    t.is(frames.length, 1);
    t.is(frames[0]!.ts, 1);
  });
}

test('a file with only the global header has no frames', (t) => {
  t.deepEqual(parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.EN10MB, records: [] })), []);
});

test('files that are not classic pcap are refused with what they are', (t) => {
  t.throws(() => parsePcap(Buffer.alloc(10)), { message: /shorter than the 24-byte pcap header/ });
  const pcapng = Buffer.alloc(28);
  pcapng.writeUInt32BE(0x0a0d0d0a);
  t.throws(() => parsePcap(pcapng), { message: /pcapng/ });
  t.throws(() => parsePcap(Buffer.alloc(24, 0x42)), { message: /unknown magic 0x42424242/ });
});

test('containsBytes searches the whole frame, headers included', (t) => {
  const [frame] = parsePcap(pcapFile({ littleEndian: true, nano: false, linkType: LINKTYPE.EN10MB, records: [{ sec: 1, frac: 0, data: ethernet(ETHERTYPE.IPV4, udpPacket) }] }));
  t.true(containsBytes(frame!, SECRET));
  t.true(containsBytes(frame!, MAC_A));
  t.true(containsBytes(frame!, Buffer.from([198, 18, 1, 2])));
  t.false(containsBytes(frame!, Buffer.from('not-in-there')));
});
