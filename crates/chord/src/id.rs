//! Identifiers on the Chord circle, and the modular arithmetic Chord routes by.
//!
//! Every node and every key gets an m-bit identifier: the SHA-1 digest of its address or
//! of its key text, cut to the top m bits. Identifiers live on a circle modulo 2^m, and all
//! of Chord's reasoning is about *clockwise intervals* on that circle (ToN §IV-B):
//!
//! - `x ∈ (a, b)`  — [`Ring::in_open`]: strictly after `a` and strictly before `b`;
//! - `x ∈ (a, b]`  — [`Ring::in_half_open`]: after `a`, up to and including `b`.
//!
//! Both wrap around zero: on a 6-bit ring, 62 ∈ (56, 1) and 0 ∈ (56, 8]. When `a == b` the
//! interval is the whole circle (without `a` itself for the open one), which is what makes a
//! ring of one node answer for every key.
//!
//! [`Id`] stores the value as 20 big-endian bytes whatever m is; [`Ring`] knows m and does
//! the arithmetic modulo 2^m.

use std::fmt;
use std::net::SocketAddr;

use sha1::{Digest, Sha1};

use crate::M;

/// Bytes in an identifier: SHA-1's 160 bits.
pub const ID_BYTES: usize = 20;

/// A point on the identifier circle: an unsigned integer below 2^m, big-endian.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Id([u8; ID_BYTES]);

/// Ids order as the integers they are. Comparing the two machine words of [`Words`] gives
/// the same order as comparing the big-endian bytes, without a byte loop.
impl Ord for Id {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        Words::of(*self).cmp(&Words::of(*other))
    }
}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A 160-bit value as two machine words: the top 32 bits and the low 128. Chord's
/// arithmetic runs on these (a subtraction is two instructions and a borrow) rather than on
/// 20 separate bytes; [`Id`] keeps the bytes, which are what the wire and hashes speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Words {
    hi: u32,
    lo: u128,
}

impl Words {
    const ZERO: Words = Words { hi: 0, lo: 0 };

    fn of(id: Id) -> Self {
        let mut hi = [0u8; 4];
        let mut lo = [0u8; 16];
        hi.copy_from_slice(&id.0[..4]);
        lo.copy_from_slice(&id.0[4..]);
        Words {
            hi: u32::from_be_bytes(hi),
            lo: u128::from_be_bytes(lo),
        }
    }

    fn id(self) -> Id {
        let mut out = [0u8; ID_BYTES];
        out[..4].copy_from_slice(&self.hi.to_be_bytes());
        out[4..].copy_from_slice(&self.lo.to_be_bytes());
        Id(out)
    }

    /// `self + other mod 2^160`.
    fn wrapping_add(self, other: Words) -> Words {
        let (lo, carry) = self.lo.overflowing_add(other.lo);
        Words {
            hi: self
                .hi
                .wrapping_add(other.hi)
                .wrapping_add(u32::from(carry)),
            lo,
        }
    }

    /// `self - other mod 2^160`.
    fn wrapping_sub(self, other: Words) -> Words {
        let (lo, borrow) = self.lo.overflowing_sub(other.lo);
        Words {
            hi: self
                .hi
                .wrapping_sub(other.hi)
                .wrapping_sub(u32::from(borrow)),
            lo,
        }
    }

    /// `2^k`, for `k` < 160; zero beyond.
    fn pow2(k: u32) -> Words {
        match k {
            0..128 => Words { hi: 0, lo: 1 << k },
            128..M => Words {
                hi: 1 << (k - 128),
                lo: 0,
            },
            _ => Words::ZERO,
        }
    }

    /// The number of significant bits: 0 for zero, `k + 1` for `2^k ..= 2^(k+1) - 1`.
    fn bit_len(self) -> u32 {
        if self.hi != 0 {
            M - self.hi.leading_zeros()
        } else {
            128 - self.lo.leading_zeros()
        }
    }

    fn and(self, mask: Words) -> Words {
        Words {
            hi: self.hi & mask.hi,
            lo: self.lo & mask.lo,
        }
    }
}

impl Id {
    /// The identifier 0.
    pub const ZERO: Id = Id([0; ID_BYTES]);

    /// The identifier with these big-endian bytes.
    pub const fn from_bytes(bytes: [u8; ID_BYTES]) -> Self {
        Id(bytes)
    }

    /// The big-endian bytes.
    pub const fn as_bytes(&self) -> &[u8; ID_BYTES] {
        &self.0
    }

    /// A small identifier, as the paper's 6-bit examples use.
    pub fn from_u64(value: u64) -> Self {
        let mut bytes = [0; ID_BYTES];
        bytes[ID_BYTES - 8..].copy_from_slice(&value.to_be_bytes());
        Id(bytes)
    }

    /// The low 64 bits (the whole value on rings of up to 64 bits).
    pub fn low_u64(&self) -> u64 {
        let mut low = [0; 8];
        low.copy_from_slice(&self.0[ID_BYTES - 8..]);
        u64::from_be_bytes(low)
    }

    /// The top `bits` bits of SHA-1(`bytes`), as a value below 2^`bits`.
    pub fn hash(bytes: &[u8], bits: u32) -> Self {
        Id::from_digest(Sha1::digest(bytes).into(), bits)
    }

    /// The top `bits` bits of a SHA-1 digest.
    fn from_digest(digest: [u8; ID_BYTES], bits: u32) -> Self {
        Id(digest).shr(M - Ring::new(bits).bits())
    }

    /// A node's identifier: the hash of its listen address written as `ip:port`.
    ///
    /// Every node reference that arrives is checked against this hash, so it is on the path
    /// of every message: an IPv4 address is fed to SHA-1 piece by piece, digits written by
    /// `itoa`, without building the string.
    pub fn of_addr(addr: SocketAddr, bits: u32) -> Self {
        let SocketAddr::V4(v4) = addr else {
            return Id::hash(addr.to_string().as_bytes(), bits);
        };
        let mut digits = itoa::Buffer::new();
        let mut sha = Sha1::new();
        for (i, octet) in v4.ip().octets().into_iter().enumerate() {
            if i > 0 {
                sha.update(b".");
            }
            sha.update(digits.format(octet).as_bytes());
        }
        sha.update(b":");
        sha.update(digits.format(v4.port()).as_bytes());
        Id::from_digest(sha.finalize().into(), bits)
    }

    /// The ring width on which `id` is the hash of `addr`, if there is one. A reference
    /// that is not genuine on our ring but is on another comes from a peer run with other
    /// `--id-bits`; one that is genuine on no ring is forged. (Where two widths give the
    /// same value, as 0 does on every ring whose hash begins with zeros, the smallest is
    /// told.)
    pub fn width_of_addr(addr: SocketAddr, id: Id) -> Option<u32> {
        let full = Id::of_addr(addr, M);
        (1..=M).find(|bits| full.shr(M - bits) == id)
    }

    /// A key's identifier: the hash of the key text (a normalised name or a keyword).
    pub fn of_key(key: &str, bits: u32) -> Self {
        Id::hash(key.as_bytes(), bits)
    }

    /// Shifts right by `s` bits (`s` < 160).
    fn shr(self, s: u32) -> Self {
        let bytes = (s / 8) as usize;
        let bits = s % 8;
        let mut out = [0u8; ID_BYTES];
        for i in (bytes..ID_BYTES).rev() {
            let hi = self.0[i - bytes];
            let lo_carry = if bits > 0 && i > bytes {
                self.0[i - bytes - 1] << (8 - bits)
            } else {
                0
            };
            out[i] = (hi >> bits) | lo_carry;
        }
        Id(out)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({self})")
    }
}

/// Lower-case hex without leading zero bytes (`0x38` for 56); `0x0` for zero.
impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.0.iter().position(|b| *b != 0).unwrap_or(ID_BYTES - 1);
        write!(f, "0x{:x}", self.0[first])?;
        for b in &self.0[first + 1..] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The identifier circle of one network: arithmetic modulo 2^m.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    bits: u32,
    /// 2^m - 1: the values of this circle, as words (derived from `bits`).
    mask: Words,
}

impl Ring {
    /// The circle of 2^`bits` identifiers; `bits` is clamped to 1..=[`M`].
    pub fn new(bits: u32) -> Self {
        let bits = bits.clamp(1, M);
        let mask = if bits > 128 {
            Words {
                hi: u32::MAX >> (M - bits),
                lo: u128::MAX,
            }
        } else {
            Words {
                hi: 0,
                lo: u128::MAX >> (128 - bits),
            }
        };
        Ring { bits, mask }
    }

    /// m, the number of bits in an identifier.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// True when `id` is a value of this circle (below 2^m).
    pub fn contains(&self, id: Id) -> bool {
        self.mask(id) == id
    }

    /// `n + 2^k mod 2^m`: the start of finger `k + 1` of node `n` (ToN Table I).
    pub fn add_pow2(&self, n: Id, k: u32) -> Id {
        Words::of(n)
            .wrapping_add(Words::pow2(k))
            .and(self.mask)
            .id()
    }

    /// How many fingers, from finger `i` (1-based) on, have their start within `reach` of
    /// finger i's start: those share finger i's successor when a node sits `reach` past it.
    ///
    /// Finger j starts `2^(j-1) - 2^(i-1)` past finger i (ToN Table I), so finger j is
    /// within reach while `2^(j-1) <= reach + 2^(i-1)`: the fingers up to the bit length of
    /// that sum, or all of them to m when the sum is past the circle.
    pub fn fingers_within(&self, i: u32, reach: Id) -> u32 {
        let first = i.clamp(1, self.bits) - 1;
        let reach = Words::of(reach).and(self.mask);
        let sum = reach.wrapping_add(Words::pow2(first));
        if sum < reach || sum.and(self.mask) != sum {
            return self.bits - first;
        }
        sum.bit_len() - first
    }

    /// The clockwise distance from `from` to `to`: `(to - from) mod 2^m`.
    pub fn distance(&self, from: Id, to: Id) -> Id {
        self.words_between(Words::of(from), Words::of(to)).id()
    }

    /// `x ∈ (a, b)` clockwise; the whole circle but `a` when `a == b`.
    pub fn in_open(&self, x: Id, a: Id, b: Id) -> bool {
        let wa = Words::of(a);
        let dx = self.words_between(wa, Words::of(x));
        dx != Words::ZERO && (a == b || dx < self.words_between(wa, Words::of(b)))
    }

    /// `x ∈ (a, b]` clockwise; the whole circle when `a == b`.
    pub fn in_half_open(&self, x: Id, a: Id, b: Id) -> bool {
        if a == b {
            return true;
        }
        let wa = Words::of(a);
        let dx = self.words_between(wa, Words::of(x));
        dx != Words::ZERO && dx <= self.words_between(wa, Words::of(b))
    }

    /// `(to - from) mod 2^m`, in words.
    fn words_between(&self, from: Words, to: Words) -> Words {
        to.wrapping_sub(from).and(self.mask)
    }

    /// Keeps the low m bits.
    fn mask(&self, id: Id) -> Id {
        Words::of(id).and(self.mask).id()
    }
}

/// `a + b mod 2^160`.
#[cfg(test)]
fn add(a: Id, b: Id) -> Id {
    Words::of(a).wrapping_add(Words::of(b)).id()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(v: u64) -> Id {
        Id::from_u64(v)
    }

    #[test]
    fn the_papers_six_bit_intervals_wrap_around_zero() {
        let r = Ring::new(6);
        assert!(r.in_open(id(62), id(56), id(1)));
        assert!(r.in_half_open(id(0), id(56), id(8)));
        assert!(r.in_half_open(id(8), id(56), id(8)));
        assert!(!r.in_open(id(8), id(56), id(8)));
        assert!(!r.in_half_open(id(56), id(56), id(8)));
        assert!(
            r.in_half_open(id(56), id(56), id(56)),
            "a ring of one owns all"
        );
        assert!(!r.in_open(id(56), id(56), id(56)));
        assert_eq!(r.add_pow2(id(8), 5), id(40));
        assert_eq!(r.add_pow2(id(56), 5), id(24), "56 + 32 mod 64");
        assert_eq!(r.distance(id(60), id(2)), id(6));
    }

    #[test]
    fn hashing_keeps_the_top_bits_of_sha1() {
        // SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d
        let full = Id::hash(b"abc", 160);
        assert_eq!(
            full.to_string(),
            "0xa9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(Id::hash(b"abc", 8), id(0xa9));
        assert_eq!(Id::hash(b"abc", 6), id(0xa9 >> 2));
        assert_eq!(Id::hash(b"abc", 12), id(0xa99));
        assert!(Ring::new(6).contains(Id::hash(b"abc", 6)));
    }

    #[test]
    fn an_id_from_another_ring_tells_its_width() {
        let addr: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        for bits in [16, 40, 160] {
            let id = Id::of_addr(addr, bits);
            assert_eq!(Id::width_of_addr(addr, id), Some(bits));
        }
        let other: SocketAddr = "127.0.0.1:7001".parse().unwrap();
        assert_eq!(Id::width_of_addr(addr, Id::of_addr(other, 160)), None);
    }

    #[test]
    fn a_node_id_hashes_its_address_as_ip_colon_port() {
        for text in [
            "10.0.0.1:6346",
            "0.0.0.0:0",
            "127.0.0.1:80",
            "192.168.100.9:40001",
            "255.255.255.255:65535",
            "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535",
        ] {
            let addr: SocketAddr = text.parse().unwrap();
            assert_eq!(addr.to_string(), text);
            assert_eq!(Id::of_addr(addr, 160), Id::hash(text.as_bytes(), 160));
        }
    }

    #[test]
    fn full_width_arithmetic_wraps_at_two_to_the_160() {
        let r = Ring::new(160);
        let top = Id::from_bytes([0xff; ID_BYTES]);
        assert_eq!(r.add_pow2(top, 0), Id::ZERO);
        assert_eq!(r.distance(top, Id::ZERO), id(1));
        let mut half = [0u8; ID_BYTES];
        half[0] = 0x80;
        assert_eq!(r.add_pow2(Id::ZERO, 159), Id::from_bytes(half));
        assert!(r.in_open(Id::ZERO, top, id(1)));
    }

    /// The same intervals computed the obvious way on u64, for m up to 63.
    fn model_open(x: u64, a: u64, b: u64) -> bool {
        if a < b {
            a < x && x < b
        } else {
            x > a || x < b
        }
    }

    fn model_half_open(x: u64, a: u64, b: u64) -> bool {
        if a < b {
            a < x && x <= b
        } else {
            x > a || x <= b
        }
    }

    proptest! {
        #[test]
        fn intervals_match_the_integer_model(bits in 1u32..=63, x: u64, a: u64, b: u64) {
            let r = Ring::new(bits);
            let m = (1u64 << bits) - 1;
            let (x, a, b) = (x & m, a & m, b & m);
            prop_assert_eq!(r.in_open(id(x), id(a), id(b)), model_open(x, a, b) && !(a == b && x == a));
            prop_assert_eq!(r.in_half_open(id(x), id(a), id(b)), model_half_open(x, a, b) || a == b);
        }

        #[test]
        fn adding_powers_of_two_is_modular(bits in 1u32..=63, n: u64, k in 0u32..63) {
            let r = Ring::new(bits);
            let m = (1u64 << bits) - 1;
            let n = n & m;
            let want = if k < bits { n.wrapping_add(1 << k) & m } else { n };
            prop_assert_eq!(r.add_pow2(id(n), k), id(want));
        }

        #[test]
        fn any_ipv4_address_hashes_as_its_text(ip: [u8; 4], port: u16, bits in 1u32..=160) {
            let addr = SocketAddr::from((ip, port));
            prop_assert_eq!(Id::of_addr(addr, bits), Id::hash(addr.to_string().as_bytes(), bits));
        }

        #[test]
        fn distances_go_round_the_circle(a: [u8; 20], b: [u8; 20], bits in 1u32..=160) {
            let r = Ring::new(bits);
            let (a, b) = (r.mask(Id(a)), r.mask(Id(b)));
            let there = r.distance(a, b);
            let back = r.distance(b, a);
            prop_assert!(r.contains(there));
            prop_assert_eq!(r.mask(add(there, back)), Id::ZERO);
            // Every point other than a and b is in exactly one of (a, b) and (b, a).
            if a != b {
                let x = r.mask(add(a, Id::from_u64(1)));
                if x != b {
                    prop_assert!(r.in_open(x, a, b) != r.in_open(x, b, a));
                }
            }
        }
    }
}
