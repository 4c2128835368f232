//! OpenOCD's `remote_bitbang` protocol, server side (as OpenOCD 0.12's
//! `src/jtag/drivers/remote_bitbang.c` speaks it; spike's `riscv/remote_bitbang.cc` is the
//! other reference server).
//!
//! One byte per command, no framing:
//!
//! | byte | meaning | reply |
//! |---|---|---|
//! | `0`..`7` | set the pins: bit 2 = TCK, bit 1 = TMS, bit 0 = TDI; a TCK 0→1 edge clocks the TAP | none |
//! | `R` | sample TDO | `0` or `1` |
//! | `r` `s` `t` `u` | reset lines, `r` + (TRST ? 2 : 0) + (SRST ? 1 : 0): `r` releases both, `s` asserts SRST, `t` TRST, `u` both | none |
//! | `B` `b` | blink the LED on/off | none (ignored) |
//! | `Q` | quit: the client closes the connection | none |
//!
//! OpenOCD queues a batch of commands and then reads as many `R` replies as it asked for,
//! so the replies to one batch go out in one write. Bytes that are not commands have no
//! reply in this protocol: they are counted, ignored, and reported when the connection ends.
//!
//! This file must not touch sockets (`net` does) or the simulator (it only sees [`Pins`]).

use super::device::Pins;

/// What the connection should do after a batch of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Open,
    /// The client sent `Q`: close the connection (bytes after it are not executed).
    Quit,
}

/// The state of one remote_bitbang connection.
#[derive(Debug, Default)]
pub struct RemoteBitbang {
    /// TCK as last driven (a new connection starts with TCK low).
    tck: bool,
    /// Bytes that were not commands.
    unknown: u64,
    /// The first such byte, for the report.
    first_unknown: Option<u8>,
}

impl RemoteBitbang {
    pub fn new() -> RemoteBitbang {
        RemoteBitbang::default()
    }

    /// Executes a batch of bytes from the client; replies are appended to `out`.
    pub fn feed(&mut self, input: &[u8], pins: &mut dyn Pins, out: &mut Vec<u8>) -> Flow {
        for &byte in input {
            match byte {
                b'0'..=b'7' => {
                    let bits = byte - b'0';
                    let (tck, tms, tdi) = (bits & 4 != 0, bits & 2 != 0, bits & 1 != 0);
                    if tck && !self.tck {
                        pins.clock(tms, tdi);
                    }
                    self.tck = tck;
                }
                b'R' => out.push(if pins.tdo() { b'1' } else { b'0' }),
                b'r'..=b'u' => {
                    let lines = byte - b'r';
                    pins.set_trst(lines & 2 != 0);
                    pins.set_srst(lines & 1 != 0);
                }
                b'B' | b'b' => {}
                b'Q' => return Flow::Quit,
                other => {
                    self.unknown += 1;
                    self.first_unknown.get_or_insert(other);
                }
            }
        }
        Flow::Open
    }

    /// A description of the bytes that were not commands, if there were any.
    pub fn unknown_bytes(&self) -> Option<String> {
        let first = self.first_unknown?;
        Some(format!(
            "{} byte(s) that are not remote_bitbang commands were ignored (the first: {:?})",
            self.unknown,
            char::from(first)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins that record what the protocol did.
    #[derive(Default)]
    struct Recorder {
        cycles: Vec<(bool, bool)>,
        trst: bool,
        srst: bool,
        tdo: bool,
    }

    impl Pins for Recorder {
        fn clock(&mut self, tms: bool, tdi: bool) -> bool {
            self.cycles.push((tms, tdi));
            self.tdo
        }
        fn tdo(&self) -> bool {
            self.tdo
        }
        fn set_trst(&mut self, asserted: bool) {
            self.trst = asserted;
        }
        fn set_srst(&mut self, asserted: bool) {
            self.srst = asserted;
        }
        fn srst(&self) -> bool {
            self.srst
        }
    }

    #[test]
    fn clocks_on_rising_tck_only() {
        let (mut rbb, mut pins, mut out) = (RemoteBitbang::new(), Recorder::default(), vec![]);
        // OpenOCD's bitbang: write(0, tms, tdi), sample, write(1, tms, tdi).
        let flow = rbb.feed(b"2R63R7 7 5 0", &mut pins, &mut out);
        assert_eq!(flow, Flow::Open);
        assert_eq!(pins.cycles, vec![(true, false), (true, true)]);
        assert_eq!(out, b"00");
        assert!(rbb.unknown_bytes().unwrap().starts_with("3 byte(s)"));
    }

    #[test]
    fn reset_letters_drive_trst_and_srst() {
        let (mut rbb, mut pins, mut out) = (RemoteBitbang::new(), Recorder::default(), vec![]);
        for (letter, trst, srst) in [(b"t", true, false), (b"s", false, true), (b"u", true, true)] {
            rbb.feed(letter, &mut pins, &mut out);
            assert_eq!((pins.trst, pins.srst), (trst, srst));
        }
        rbb.feed(b"r", &mut pins, &mut out);
        assert_eq!((pins.trst, pins.srst), (false, false));
        assert!(out.is_empty() && rbb.unknown_bytes().is_none());
    }

    #[test]
    fn quit_stops_the_batch() {
        let (mut rbb, mut pins, mut out) = (RemoteBitbang::new(), Recorder::default(), vec![]);
        pins.tdo = true;
        assert_eq!(rbb.feed(b"RBbQR", &mut pins, &mut out), Flow::Quit);
        assert_eq!(out, b"1");
    }
}
