//! The Internet checksum (RFC 1071): the one's-complement sum of 16-bit
//! big-endian words. Summed 32 bits at a time in the host's byte order into
//! a 64-bit accumulator and converted once at the end (the sum does not
//! depend on byte order, RFC 1071 §2(B)), which the compiler vectorises.

/// The folded one's-complement sum of `data` (an odd last byte is padded
/// with zero), not complemented. Sums of pieces combine with `add` only when
/// every piece but the last has an even length.
pub fn sum(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_ne_bytes(c.try_into().expect("8 bytes"));
        acc += (w & 0xffff_ffff) + (w >> 32);
    }
    let rest = chunks.remainder();
    let mut tail = [0u8; 8];
    tail[..rest.len()].copy_from_slice(rest);
    let w = u64::from_ne_bytes(tail);
    acc += (w & 0xffff_ffff) + (w >> 32);
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    u16::from_be_bytes((acc as u16).to_ne_bytes())
}

/// One's-complement addition of two folded sums.
pub fn add(a: u16, b: u16) -> u16 {
    let s = u32::from(a) + u32::from(b);
    ((s & 0xffff) + (s >> 16)) as u16
}

/// The sum of the IPv4 pseudo header (RFC 793, RFC 768) for a transport
/// segment of `len` bytes between `src` and `dst`.
pub fn pseudo_header_v4(src: [u8; 4], dst: [u8; 4], proto: u8, len: u16) -> u16 {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&src);
    b[4..8].copy_from_slice(&dst);
    b[9] = proto;
    b[10..12].copy_from_slice(&len.to_be_bytes());
    sum(&b)
}

/// The IPv4 header checksum of `header` (its checksum field zeroed first).
pub fn ipv4_header(header: &mut [u8]) {
    header[10] = 0;
    header[11] = 0;
    let c = !sum(header);
    header[10..12].copy_from_slice(&c.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 done the obvious way: big-endian words one at a time.
    fn reference(data: &[u8]) -> u16 {
        let mut s: u32 = 0;
        for c in data.chunks(2) {
            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn matches_the_reference_for_every_length_and_alignment() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for len in (0..80).chain([1379, 1380, 1381, 2999, 3000]) {
            for start in 0..3 {
                let d = &data[start..start + len.min(data.len() - start)];
                assert_eq!(sum(d), reference(d), "len {len} start {start}");
            }
        }
        assert_eq!(sum(&[0xff; 64]), reference(&[0xff; 64]), "carries fold");
    }

    #[test]
    fn rfc_1071_example_and_piecewise_sums() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&d), 0xddf2);
        assert_eq!(add(sum(&d[..2]), sum(&d[2..])), 0xddf2);
    }

    #[test]
    fn an_ipv4_header_checksum_verifies() {
        let mut h = [
            0x45, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 64, 1, 0xaa, 0xbb, 10, 77, 0, 1, 10, 77, 0, 2,
        ];
        ipv4_header(&mut h);
        assert_eq!(sum(&h), 0xffff, "a correct header sums to all ones");
    }
}
