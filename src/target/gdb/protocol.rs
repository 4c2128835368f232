//! The GDB remote serial protocol's encodings, as pure functions: packet framing and
//! checksums, binary escapes and run-length decoding, hex, stop replies and GDB's CRC-32.
//!
//! This file must not do I/O (`client` does) nor know about targets (`target` does).

use anyhow::{Result, anyhow, bail};

/// Why the target stopped, as told by a stop reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReply {
    /// `S`/`T` packet: stopped with this signal (5 = SIGTRAP for breakpoints and steps, 2 =
    /// SIGINT after an interrupt request); `pc` when a `T` packet carried register 32.
    Signal { signal: u8, pc: Option<u64> },
    /// `W` packet: the process exited with this status.
    Exited(u8),
    /// `X` packet: the process was terminated by this signal.
    Terminated(u8),
}

/// SIGINT: what servers report after an interrupt request.
pub const SIGINT: u8 = 2;
/// SIGTRAP: breakpoints, steps, `ebreak`s.
pub const SIGTRAP: u8 = 5;

/// GDB's register number of `pc` on RISC-V (x0..x31 are 0..31).
pub const PC_REGNUM: u32 = 32;

/// A framed packet: `$payload#checksum`.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let checksum = checksum(payload);
    let mut frame = Vec::with_capacity(payload.len() + 4);
    frame.push(b'$');
    frame.extend_from_slice(payload);
    frame.extend_from_slice(format!("#{checksum:02x}").as_bytes());
    frame
}

/// The modulo-256 sum of a payload's bytes.
pub fn checksum(payload: &[u8]) -> u8 {
    payload.iter().fold(0u8, |s, b| s.wrapping_add(*b))
}

/// Parses `S`, `T`, `W` and `X` packets; other packets give `None`.
pub fn parse_stop_reply(packet: &[u8]) -> Result<Option<StopReply>> {
    let Some((&kind, rest)) = packet.split_first() else {
        return Ok(None);
    };
    let malformed = || anyhow!("malformed stop reply `{}`", printable(packet));
    let code = || -> Result<u8> {
        let digits = rest.get(..2).ok_or_else(malformed)?;
        let text = std::str::from_utf8(digits).map_err(|_| malformed())?;
        u8::from_str_radix(text, 16).map_err(|_| malformed())
    };
    Ok(match kind {
        b'S' => Some(StopReply::Signal {
            signal: code()?,
            pc: None,
        }),
        b'T' => Some(StopReply::Signal {
            signal: code()?,
            pc: t_packet_pc(&rest[2.min(rest.len())..]),
        }),
        b'W' => Some(StopReply::Exited(code()?)),
        b'X' => Some(StopReply::Terminated(code()?)),
        _ => None,
    })
}

/// The pc in a `T` packet's `n:r;` pairs (register 0x20, little-endian hex), if present.
fn t_packet_pc(pairs: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(pairs).ok()?;
    text.split(';').find_map(|pair| {
        let (n, value) = pair.split_once(':')?;
        let n = u32::from_str_radix(n, 16).ok()?;
        if n != PC_REGNUM {
            return None;
        }
        let bytes = hex_decode(value.as_bytes()).ok()?;
        (!bytes.is_empty()).then(|| le_u64(&bytes))
    })
}

/// Undoes binary escaping (`}` + byte ^ 0x20) and run-length encoding (`X*n`).
pub fn decode_payload(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'}' if i + 1 < raw.len() => {
                out.push(raw[i + 1] ^ 0x20);
                i += 2;
            }
            b'*' if i + 1 < raw.len() && !out.is_empty() => {
                let count = raw[i + 1].saturating_sub(29) as usize;
                let last = *out.last().unwrap_or(&0);
                out.extend(std::iter::repeat_n(last, count));
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Whether a byte must be escaped in binary data (`X`, `vFlashWrite`): the framing
/// characters, the escape itself and `*`, which some servers take for run-length encoding.
pub fn needs_escape(b: u8) -> bool {
    matches!(b, b'#' | b'$' | b'}' | b'*')
}

/// Appends `data`, escaped for a binary packet, to `out`.
pub fn escape_into(data: &[u8], out: &mut Vec<u8>) {
    for &b in data {
        if needs_escape(b) {
            out.push(b'}');
            out.push(b ^ 0x20);
        } else {
            out.push(b);
        }
    }
}

/// How many leading bytes of `data` fit in `budget` bytes once escaped (at least one).
pub fn escaped_prefix(data: &[u8], budget: usize) -> usize {
    let mut used = 0;
    for (i, &b) in data.iter().enumerate() {
        used += if needs_escape(b) { 2 } else { 1 };
        if used > budget {
            return i.max(1);
        }
    }
    data.len()
}

/// Hex text to bytes; `xx` (an unavailable register) reads as zero.
pub fn hex_decode(text: &[u8]) -> Result<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        bail!("odd-length hex `{}`", printable(text));
    }
    text.chunks(2)
        .map(|pair| {
            if pair == b"xx" {
                return Ok(0);
            }
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| anyhow!("bad hex `{}`", printable(text)))
        })
        .collect()
}

/// Bytes to lower-case hex text.
pub fn hex_encode(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(s, "{b:02x}").ok();
    }
    s
}

/// Up to 8 little-endian bytes as a u64.
pub fn le_u64(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(word)
}

/// GDB's CRC-32 for `qCRC` (polynomial 0x04c11db7, most significant bit first, initial value
/// 0xffffffff, no final inversion), continuing from `crc`.
pub fn crc32(crc: u32, data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (i, entry) in table.iter_mut().enumerate() {
            let mut c = (i as u32) << 24;
            for _ in 0..8 {
                c = if c & 0x8000_0000 != 0 {
                    (c << 1) ^ 0x04c1_1db7
                } else {
                    c << 1
                };
            }
            *entry = c;
        }
        table
    });
    data.iter().fold(crc, |crc, &b| {
        (crc << 8) ^ table[(((crc >> 24) as u8) ^ b) as usize]
    })
}

/// A payload for messages: printable ASCII as is, other bytes as `\xNN`, cut at 60 bytes.
pub fn printable(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes.iter().take(60) {
        if (0x20..0x7f).contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    if bytes.len() > 60 {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_checksums() {
        assert_eq!(frame(b"OK"), b"$OK#9a");
        assert_eq!(frame(b""), b"$#00");
    }

    #[test]
    fn stop_replies() {
        assert_eq!(
            parse_stop_reply(b"T05thread:01;").unwrap(),
            Some(StopReply::Signal {
                signal: 5,
                pc: None
            })
        );
        assert_eq!(
            parse_stop_reply(b"T0520:0000008000000000;thread:1;").unwrap(),
            Some(StopReply::Signal {
                signal: 5,
                pc: Some(0x8000_0000)
            })
        );
        assert_eq!(
            parse_stop_reply(b"S02").unwrap(),
            Some(StopReply::Signal {
                signal: 2,
                pc: None
            })
        );
        assert_eq!(
            parse_stop_reply(b"W2a").unwrap(),
            Some(StopReply::Exited(42))
        );
        assert_eq!(
            parse_stop_reply(b"X09").unwrap(),
            Some(StopReply::Terminated(9))
        );
        assert_eq!(parse_stop_reply(b"OK").unwrap(), None);
        assert!(parse_stop_reply(b"Wzz").is_err());
        assert!(parse_stop_reply(b"T").is_err());
    }

    #[test]
    fn run_length_and_escapes() {
        assert_eq!(decode_payload(b"0* "), b"0000");
        assert_eq!(decode_payload(b"a}\x03b"), b"a#b");
        let mut out = Vec::new();
        escape_into(b"a#$}*b", &mut out);
        assert_eq!(out, b"a}\x03}\x04}\x5d}\x0ab");
        assert_eq!(decode_payload(&out), b"a#$}*b");
    }

    #[test]
    fn escaped_prefixes_fit_the_budget() {
        assert_eq!(escaped_prefix(b"abcdef", 4), 4);
        assert_eq!(escaped_prefix(b"a##b", 4), 2);
        assert_eq!(escaped_prefix(b"a##b", 3), 2);
        assert_eq!(escaped_prefix(b"a##b", 2), 1);
        assert_eq!(escaped_prefix(b"##", 1), 1);
        assert_eq!(escaped_prefix(b"ab", 10), 2);
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex_decode(b"00ff").unwrap(), vec![0, 255]);
        assert_eq!(hex_decode(b"xx01").unwrap(), vec![0, 1]);
        assert_eq!(hex_encode(&[0xab, 1]), "ab01");
        assert!(hex_decode(b"0").is_err());
        assert!(hex_decode(b"zz").is_err());
    }

    #[test]
    fn crc_matches_gdb() {
        // GDB's crc32 ("xcrc32" in libiberty) of "123456789" from 0xffffffff: CRC-32/MPEG-2.
        assert_eq!(crc32(0xffff_ffff, b"123456789"), 0x0376_e6e7);
        assert_eq!(crc32(0xffff_ffff, b""), 0xffff_ffff);
        let whole = crc32(0xffff_ffff, b"hello world");
        assert_eq!(crc32(crc32(0xffff_ffff, b"hello "), b"world"), whole);
    }

    #[test]
    fn printable_payloads() {
        assert_eq!(printable(b"OK\x01"), "OK\\x01");
        assert!(printable(&[b'a'; 100]).ends_with("..."));
    }
}
