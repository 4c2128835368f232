//! The Black Magic Probe remote protocol, server side: what probe-rs (0.32,
//! `probe-rs/src/probe/blackmagic/`) sends to a BMP reached over TCP (selector
//! `1d50:6018:HOST:PORT`), answered as the BMP firmware's `src/remote.c` answers it.
//!
//! Framing: a packet is `!` + text + `#`; bytes between packets (`+`, `#`, spaces) are
//! ignored, and a `!` inside a packet restarts it (all as in the firmware's
//! `consume_remote_packet`). Every complete packet gets exactly one reply, in one write with
//! the others of its batch: `&K<value>#` (success; the value is lower-case hex without leading
//! zeros, or text for `!GA#`/`!GV#`), `&E<code>#` (1 = unrecognised command, 2 = wrong length
//! or malformed parameter), or `&N0#` (not supported: target power, as on a BMP without a
//! power switch). Departing from the firmware, which drops a packet longer than its 1024-byte
//! buffer and says nothing, an oversized packet is answered `&E2#` at its `#`, so that a
//! client waiting for a reply is not left hanging.
//!
//! Commands (the firmware's letters):
//!
//! | packet | meaning | reply |
//! |---|---|---|
//! | `!GA#` | identity | text |
//! | `!GV#` | target voltage | text (`3.3V`) |
//! | `!GZ<0/1>#` `!Gz#` | set / get nRST (the board's reset line) | `K0` / `K<0/1>` |
//! | `!GF<hex>#` `!Gf#` | set / get the clock frequency in Hz | `K0` / the 4 bytes little-endian, hex |
//! | `!GE<0/1>#` | target clock output enable | `K0` |
//! | `!GP<0/1>#` `!Gp#` | target power | `N0` |
//! | `!HC#` | remote protocol version | `K0` (no high-level acceleration) |
//! | `!HJ<6 × 2 hex><8 hex>#` | describe a JTAG device (chain position, IR length) | `K0` |
//! | `!HA#` `!Ha#` `!HF#` | accelerators / architectures / families | `K0` (none) |
//! | `!JS#` | JTAG init: the TAP to Test-Logic-Reset | `K0` |
//! | `!JR#` | JTAG reset: TMS 1,1,1,1,1,0 (Test-Logic-Reset, then Run-Test/Idle) | `K0` |
//! | `!JT<nn><bits>#` | `nn` (hex, 1..=32) TMS bits, LSB first, TDI low | `K0` |
//! | `!JC<tms><tdi><count>#` | `count` (hex, ≤ 65536) cycles with fixed TMS/TDI | `K0` |
//! | `!Jd<nn><bits>#` `!JD<nn><bits>#` | `nn` (hex, 1..=64) TDI bits LSB first, TMS low; `D`: TMS high on the last bit | `K<TDO bits>` |
//! | `!JN<tms><tdi>#` | one cycle | `K<TDO>` |
//!
//! Everything else (SWD, ADIv5, RISC-V DMI acceleration, SPI) is `&E1#`: the simulated board
//! has one RISC-V TAP on JTAG.
//!
//! This file must not touch sockets (`net` does) or the simulator (it only sees [`Pins`]).

use std::fmt::Write as _;

use super::device::Pins;

/// Most bytes between `!` and `#` (the firmware's `GDB_PACKET_BUFFER_SIZE`).
pub const MAX_PACKET: usize = 1024;
/// The remote protocol version `!HC#` reports: 0, no high-level (ADIv5) acceleration.
pub const PROTOCOL_VERSION: u64 = 0;
/// Most cycles one `!JC#` may ask for, so a packet cannot stall the server.
pub const MAX_CYCLES: u64 = 1 << 16;
/// The clock frequency reported until a client sets one (a BMP's default, 4 MHz).
const DEFAULT_FREQUENCY: u32 = 4_000_000;

/// Error code: the command is not recognised.
const E_UNRECOGNISED: u64 = 1;
/// Error code: wrong length or a malformed parameter.
const E_WRONGLEN: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Between packets: everything but `!` is ignored.
    Between,
    /// Inside a packet.
    Packet,
    /// Inside a packet longer than [`MAX_PACKET`]: discarded up to its `#`.
    Overflow,
}

/// The state of one Black Magic Probe remote-protocol connection.
#[derive(Debug)]
pub struct BlackMagic {
    framing: Framing,
    packet: Vec<u8>,
    frequency: u32,
    ident: String,
    /// Packets answered with an error, for the report when the connection ends.
    errors: u64,
}

impl BlackMagic {
    /// A connection to the board called `board` (named in the identity string).
    pub fn new(board: &str) -> BlackMagic {
        BlackMagic {
            framing: Framing::Between,
            packet: Vec::with_capacity(64),
            frequency: DEFAULT_FREQUENCY,
            ident: format!(
                "Black Magic Probe (rvflash {} serve, simulated board {board})",
                env!("CARGO_PKG_VERSION")
            ),
            errors: 0,
        }
    }

    /// Packets answered with an error so far.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Executes the complete packets in a batch of bytes; replies are appended to `out`.
    /// A packet split across batches is kept until its end arrives.
    pub fn feed(&mut self, input: &[u8], pins: &mut dyn Pins, out: &mut Vec<u8>) {
        for &byte in input {
            match (self.framing, byte) {
                (_, b'!') => {
                    self.framing = Framing::Packet;
                    self.packet.clear();
                }
                (Framing::Between, _) => {}
                (Framing::Packet, b'#') => {
                    self.framing = Framing::Between;
                    let packet = std::mem::take(&mut self.packet);
                    let before = out.len();
                    self.execute(&packet, pins, out);
                    if out.get(before + 1) != Some(&b'K') {
                        self.errors += 1;
                    }
                    self.packet = packet;
                    self.packet.clear();
                }
                (Framing::Packet, _) if self.packet.len() < MAX_PACKET => self.packet.push(byte),
                (Framing::Packet, _) => {
                    self.framing = Framing::Overflow;
                    self.packet.clear();
                }
                (Framing::Overflow, b'#') => {
                    self.framing = Framing::Between;
                    self.errors += 1;
                    reply(out, 'E', E_WRONGLEN);
                }
                (Framing::Overflow, _) => {}
            }
        }
    }

    fn execute(&mut self, packet: &[u8], pins: &mut dyn Pins, out: &mut Vec<u8>) {
        let (kind, command, args) = match packet {
            [kind, command, args @ ..] => (*kind, *command, args),
            _ => return reply(out, 'E', E_WRONGLEN),
        };
        match kind {
            b'G' => self.general(command, args, pins, out),
            b'H' => high_level(command, args, out),
            b'J' => jtag(command, args, pins, out),
            _ => reply(out, 'E', E_UNRECOGNISED),
        }
    }

    fn general(&mut self, command: u8, args: &[u8], pins: &mut dyn Pins, out: &mut Vec<u8>) {
        match (command, args) {
            (b'A', []) => reply_text(out, &self.ident),
            (b'V', []) => reply_text(out, "3.3V"),
            (b'Z', [level]) => match bit(*level) {
                Some(asserted) => {
                    pins.set_srst(asserted);
                    reply(out, 'K', 0);
                }
                None => reply(out, 'E', E_WRONGLEN),
            },
            (b'z', []) => reply(out, 'K', pins.srst() as u64),
            (b'F', hz) => match hex(hz, 8) {
                Some(hz) => {
                    self.frequency = hz as u32;
                    reply(out, 'K', 0);
                }
                None => reply(out, 'E', E_WRONGLEN),
            },
            (b'f', []) => {
                // The firmware sends the u32's bytes as they lie in memory (little-endian).
                let mut text = String::from("&K");
                for b in self.frequency.to_le_bytes() {
                    let _ = write!(text, "{b:02x}");
                }
                text.push('#');
                out.extend_from_slice(text.as_bytes());
            }
            (b'E', [level]) if bit(*level).is_some() => reply(out, 'K', 0),
            (b'P', [level]) if bit(*level).is_some() => reply(out, 'N', 0),
            (b'p', []) => reply(out, 'N', 0),
            (b'A' | b'V' | b'Z' | b'z' | b'f' | b'E' | b'P' | b'p', _) => {
                reply(out, 'E', E_WRONGLEN)
            }
            _ => reply(out, 'E', E_UNRECOGNISED),
        }
    }
}

fn high_level(command: u8, args: &[u8], out: &mut Vec<u8>) {
    match (command, args) {
        (b'C', []) => reply(out, 'K', PROTOCOL_VERSION),
        // index, DR prescan, DR postscan, IR length, IR prescan, IR postscan (2 hex digits
        // each), current IR (8): only used by high-level commands, which this server has none of.
        (b'J', args) if args.len() == 20 && args.iter().all(u8::is_ascii_hexdigit) => {
            reply(out, 'K', 0)
        }
        (b'J', _) => reply(out, 'E', E_WRONGLEN),
        (b'A' | b'a' | b'F', []) => reply(out, 'K', 0),
        _ => reply(out, 'E', E_UNRECOGNISED),
    }
}

fn jtag(command: u8, args: &[u8], pins: &mut dyn Pins, out: &mut Vec<u8>) {
    match (command, args) {
        (b'S', []) => {
            // The firmware's init ends in Test-Logic-Reset after long runs of TMS high.
            for _ in 0..8 {
                pins.clock(true, false);
            }
            reply(out, 'K', 0);
        }
        (b'R', []) => {
            // jtagtap_soft_reset(): TMS sequence 0x1f over 6 cycles.
            for tms in [true, true, true, true, true, false] {
                pins.clock(tms, false);
            }
            reply(out, 'K', 0);
        }
        (b'T', args) => match count_and_bits(args, 32, 8) {
            Some((count, bits)) => {
                for i in 0..count {
                    pins.clock(bits >> i & 1 != 0, false);
                }
                reply(out, 'K', 0);
            }
            None => reply(out, 'E', E_WRONGLEN),
        },
        (b'C', [tms, tdi, count @ ..]) => match (bit(*tms), bit(*tdi), hex(count, 8)) {
            (Some(tms), Some(tdi), Some(count)) if count <= MAX_CYCLES => {
                for _ in 0..count {
                    pins.clock(tms, tdi);
                }
                reply(out, 'K', 0);
            }
            _ => reply(out, 'E', E_WRONGLEN),
        },
        (b'd' | b'D', args) => match count_and_bits(args, 64, 16) {
            Some((count, bits)) => {
                let mut tdo = 0u64;
                for i in 0..count {
                    let tms = command == b'D' && i + 1 == count;
                    if pins.clock(tms, bits >> i & 1 != 0) {
                        tdo |= 1 << i;
                    }
                }
                reply(out, 'K', tdo);
            }
            None => reply(out, 'E', E_WRONGLEN),
        },
        (b'N', [tms, tdi]) => match (bit(*tms), bit(*tdi)) {
            (Some(tms), Some(tdi)) => {
                let tdo = pins.clock(tms, tdi);
                reply(out, 'K', tdo as u64);
            }
            _ => reply(out, 'E', E_WRONGLEN),
        },
        (b'S' | b'R' | b'C' | b'N', _) => reply(out, 'E', E_WRONGLEN),
        _ => reply(out, 'E', E_UNRECOGNISED),
    }
}

/// `nn` (two hex digits, 1..=`max_count`) followed by 1..=`max_digits` hex digits.
fn count_and_bits(args: &[u8], max_count: u64, max_digits: usize) -> Option<(u32, u64)> {
    if args.len() < 3 {
        return None;
    }
    let count = hex(&args[..2], 2)?;
    let bits = hex(&args[2..], max_digits)?;
    (1..=max_count)
        .contains(&count)
        .then_some((count as u32, bits))
}

/// `0` or `1`.
fn bit(byte: u8) -> Option<bool> {
    match byte {
        b'0' => Some(false),
        b'1' => Some(true),
        _ => None,
    }
}

/// 1..=`max_digits` hex digits (either case), nothing else.
fn hex(digits: &[u8], max_digits: usize) -> Option<u64> {
    if digits.is_empty() || digits.len() > max_digits {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        let v = (d as char).to_digit(16)?;
        Some(acc << 4 | v as u64)
    })
}

/// `&<code><value in hex>#`.
fn reply(out: &mut Vec<u8>, code: char, value: u64) {
    let mut text = String::with_capacity(20);
    let _ = write!(text, "&{code}{value:x}#");
    out.extend_from_slice(text.as_bytes());
}

/// `&K<text>#`, with the protocol's own characters replaced by spaces (as the firmware does).
fn reply_text(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"&K");
    out.extend(text.bytes().map(|b| match b {
        b'$' | b'!' | b'#' | b'&' => b' ',
        b => b,
    }));
    out.push(b'#');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins with a one-bit shift register between TDI and TDO, that records TMS.
    #[derive(Default)]
    struct Loopback {
        last_tdi: bool,
        tms: Vec<bool>,
        srst: bool,
    }

    impl Pins for Loopback {
        fn clock(&mut self, tms: bool, tdi: bool) -> bool {
            self.tms.push(tms);
            std::mem::replace(&mut self.last_tdi, tdi)
        }
        fn tdo(&self) -> bool {
            self.last_tdi
        }
        fn set_trst(&mut self, _: bool) {}
        fn set_srst(&mut self, asserted: bool) {
            self.srst = asserted;
        }
        fn srst(&self) -> bool {
            self.srst
        }
    }

    fn talk(input: &str) -> (String, Loopback) {
        let (mut bmp, mut pins, mut out) = (BlackMagic::new("b"), Loopback::default(), vec![]);
        bmp.feed(input.as_bytes(), &mut pins, &mut out);
        (String::from_utf8(out).unwrap(), pins)
    }

    #[test]
    fn probe_rs_handshake() {
        // What probe-rs 0.32 sends when it opens a BMP, in order.
        let (out, _) = talk("+#!GA#!HC#!GZ0# !GV#!GF003d0900#!Gf#+#!JS#+#!JR#");
        assert_eq!(
            out,
            format!(
                "&KBlack Magic Probe (rvflash {} serve, simulated board b)#&K0#&K0#&K3.3V#&K0#\
                 &K00093d00#&K0#&K0#",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn scans_shift_lsb_first_and_raise_tms_on_the_last_bit() {
        // The loopback returns the previous TDI: the reply is the data shifted by one.
        let (out, pins) = talk("!Jd08a5#!JD04f#!JN11#!JN00#");
        assert_eq!(out, "&K4a#&Kf#&K1#&K1#");
        let tms: Vec<bool> = pins.tms;
        assert_eq!(tms[..8], [false; 8]);
        assert_eq!(tms[8..12], [false, false, false, true]);
        assert_eq!(tms[12..], [true, false]);
        let (out, _) = talk("!Jd40ffffffffffffffff#");
        assert_eq!(out, "&Kfffffffffffffffe#");
    }

    #[test]
    fn tms_sequences_and_cycles() {
        let (out, pins) = talk("!JT0513#!JC1000000003#!JR#");
        assert_eq!(out, "&K0#&K0#&K0#");
        assert_eq!(
            pins.tms,
            [
                true, true, false, false, true, true, true, true, true, true, true, true, true,
                false
            ]
        );
    }

    #[test]
    fn reset_line() {
        let (out, pins) = talk("!GZ1#!Gz#");
        assert_eq!(out, "&K0#&K1#");
        assert!(pins.srst);
    }

    #[test]
    fn bad_packets_get_one_error_each() {
        for bad in [
            "!#",
            "!J#",
            "!X#",
            "!JN2#",
            "!JN012#",
            "!JNx1#",
            "!Jd00ff#",
            "!Jd41ff#",
            "!Jd08#",
            "!Jd08xyz#",
            "!Jd0811112222333344445#",
            "!JT2100000000#",
            "!JC11ffffffff#",
            "!JS0#",
            "!GZ#",
            "!GZ2#",
            "!GFnothex#",
            "!GF123456789#",
            "!HJ01#",
            "!SS#",
            "!HL00000000000000000#",
            "!Gq#",
            "!G\u{7f}#",
        ] {
            let (out, _) = talk(bad);
            assert!(
                out.starts_with("&E") && out.matches('#').count() == 1,
                "{bad}: {out}"
            );
        }
    }

    #[test]
    fn framing() {
        // A `!` restarts a packet; bytes between packets are ignored; a split packet waits.
        let (mut bmp, mut pins, mut out) = (BlackMagic::new("b"), Loopback::default(), vec![]);
        bmp.feed(b"junk#+!JN1!HC# x!H", &mut pins, &mut out);
        assert_eq!(out, b"&K0#");
        bmp.feed(b"C#", &mut pins, &mut out);
        assert_eq!(out, b"&K0#&K0#");
        // An oversized packet gets one error at its end, then the stream is in sync again.
        let mut big = b"!J".to_vec();
        big.extend(std::iter::repeat_n(b'0', MAX_PACKET * 3));
        big.extend_from_slice(b"#!HC#");
        out.clear();
        bmp.feed(&big, &mut pins, &mut out);
        assert_eq!(out, b"&E2#&K0#");
        assert_eq!(bmp.errors(), 1);
    }
}
