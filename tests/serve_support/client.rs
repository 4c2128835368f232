//! A small JTAG client for `rvflash serve`'s tests and benchmark: a RISC-V Debug Transport
//! Module (IDCODE, `dtmcs`, `dmi`) driven through either wire protocol — OpenOCD's
//! remote_bitbang or the Black Magic Probe remote protocol — over any byte stream (a TCP
//! socket, or the in-memory transport of the unit tests).
//!
//! It is deliberately independent of the server's code: it follows the protocols' and the
//! debug spec's text, so it checks the server rather than mirroring it. It is not a debugger
//! (OpenOCD and probe-rs are the real ones, in their own tests).

#![allow(dead_code)] // each user takes the parts it needs

use std::io::{self, Read, Write};

/// A way to clock the TAP: one TCK cycle per `(tms, tdi)`, returning TDO as sampled before
/// each rising edge.
pub trait Wire {
    fn shift(&mut self, bits: &[(bool, bool)]) -> io::Result<Vec<bool>>;
}

fn protocol_error(text: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, text)
}

/// OpenOCD's remote_bitbang, as its bitbang driver drives it: write(0, tms, tdi), `R`,
/// write(1, tms, tdi) per bit; all in one write, then the replies.
pub struct Rbb<S> {
    pub stream: S,
}

impl<S: Read + Write> Wire for Rbb<S> {
    fn shift(&mut self, bits: &[(bool, bool)]) -> io::Result<Vec<bool>> {
        let mut out = Vec::with_capacity(bits.len() * 3);
        for &(tms, tdi) in bits {
            let pins = (tms as u8) << 1 | tdi as u8;
            out.extend_from_slice(&[b'0' + pins, b'R', b'4' + pins]);
        }
        self.stream.write_all(&out)?;
        self.stream.flush()?;
        let mut replies = vec![0u8; bits.len()];
        self.stream.read_exact(&mut replies)?;
        replies
            .iter()
            .map(|&b| match b {
                b'0' => Ok(false),
                b'1' => Ok(true),
                other => Err(protocol_error(format!("remote_bitbang replied {other:#x}"))),
            })
            .collect()
    }
}

/// The Black Magic Probe remote protocol: `!Jd`/`!JD` packets of up to 64 bits (TMS high
/// only on a packet's last bit), all of one shift in one write, then the replies.
pub struct Bmp<S> {
    pub stream: S,
}

impl<S: Read + Write> Bmp<S> {
    /// Sends one packet and reads its reply's value (`&K<hex>#`).
    pub fn command(&mut self, packet: &str) -> io::Result<String> {
        self.stream.write_all(packet.as_bytes())?;
        self.stream.flush()?;
        self.reply()
    }

    /// Reads one reply; its text when it is `&K...#`.
    pub fn reply(&mut self) -> io::Result<String> {
        let mut byte = [0u8];
        loop {
            self.stream.read_exact(&mut byte)?;
            if byte[0] == b'&' {
                break;
            }
        }
        let mut text = Vec::new();
        loop {
            self.stream.read_exact(&mut byte)?;
            if byte[0] == b'#' {
                break;
            }
            text.push(byte[0]);
            if text.len() > 2048 {
                return Err(protocol_error("endless BMP reply".into()));
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        match text.strip_prefix('K') {
            Some(value) => Ok(value.to_owned()),
            None => Err(protocol_error(format!("BMP error reply &{text}#"))),
        }
    }
}

impl<S: Read + Write> Wire for Bmp<S> {
    fn shift(&mut self, bits: &[(bool, bool)]) -> io::Result<Vec<bool>> {
        // Cut into packets: a packet ends after 64 bits or at a bit with TMS high.
        let mut packets: Vec<(usize, bool)> = Vec::new(); // (length, TMS on the last bit)
        let mut len = 0;
        for &(tms, _) in bits {
            len += 1;
            if tms || len == 64 {
                packets.push((len, tms));
                len = 0;
            }
        }
        if len > 0 {
            packets.push((len, false));
        }
        let mut text = String::new();
        let mut at = 0;
        for &(len, tms) in &packets {
            let data = bits[at..at + len]
                .iter()
                .enumerate()
                .fold(0u64, |acc, (i, &(_, tdi))| acc | (tdi as u64) << i);
            let kind = if tms { 'D' } else { 'd' };
            text.push_str(&format!("!J{kind}{len:02x}{data:x}#"));
            at += len;
        }
        self.stream.write_all(text.as_bytes())?;
        self.stream.flush()?;
        let mut tdo = Vec::with_capacity(bits.len());
        for &(len, _) in &packets {
            let value = self.reply()?;
            let value = u64::from_str_radix(&value, 16)
                .map_err(|_| protocol_error(format!("BMP scan reply {value:?}")))?;
            tdo.extend((0..len).map(|i| value >> i & 1 != 0));
        }
        Ok(tdo)
    }
}

/// A TAP navigated from Run-Test/Idle.
pub struct Tap<W> {
    pub wire: W,
}

impl<W: Wire> Tap<W> {
    /// Test-Logic-Reset, then Run-Test/Idle.
    pub fn reset(&mut self) -> io::Result<()> {
        self.wire.shift(&[
            (true, false),
            (true, false),
            (true, false),
            (true, false),
            (true, false),
            (false, false),
        ])?;
        Ok(())
    }

    /// Shifts `bits` (LSB first) through IR (`ir`) or DR, from and back to Run-Test/Idle
    /// followed by `idle` more cycles there; returns the bits shifted out.
    pub fn scan(&mut self, ir: bool, bits: &[bool], idle: usize) -> io::Result<Vec<bool>> {
        let mut seq = vec![(true, false)]; // Select-DR-Scan
        if ir {
            seq.push((true, false)); // Select-IR-Scan
        }
        seq.extend([(false, false), (false, false)]); // Capture, Shift
        let first = seq.len();
        for (i, &bit) in bits.iter().enumerate() {
            seq.push((i + 1 == bits.len(), bit)); // the last bit moves to Exit1
        }
        seq.extend([(true, false), (false, false)]); // Update, Run-Test/Idle
        seq.extend(std::iter::repeat_n((false, false), idle));
        let tdo = self.wire.shift(&seq)?;
        Ok(tdo[first..first + bits.len()].to_vec())
    }

    /// Scans a value of `len` ≤ 64 bits.
    pub fn scan_value(&mut self, ir: bool, value: u64, len: usize, idle: usize) -> io::Result<u64> {
        let bits: Vec<bool> = (0..len).map(|i| value >> i & 1 != 0).collect();
        let out = self.scan(ir, &bits, idle)?;
        Ok(out
            .iter()
            .enumerate()
            .fold(0, |acc, (i, &b)| acc | (b as u64) << i))
    }
}

/// JTAG instructions of the RISC-V debug spec's DTM (5-bit IR).
pub mod ir {
    pub const IDCODE: u64 = 0x01;
    pub const DTMCS: u64 = 0x10;
    pub const DMI: u64 = 0x11;
    pub const BYPASS: u64 = 0x1f;
}

/// Debug Module registers (DMI addresses).
pub mod dm {
    pub const DATA0: u8 = 0x04;
    pub const DATA1: u8 = 0x05;
    pub const DMCONTROL: u8 = 0x10;
    pub const DMSTATUS: u8 = 0x11;
    pub const HARTINFO: u8 = 0x12;
    pub const ABSTRACTCS: u8 = 0x16;
    pub const COMMAND: u8 = 0x17;
    pub const PROGBUF0: u8 = 0x20;
    pub const SBCS: u8 = 0x38;
    pub const SBADDRESS0: u8 = 0x39;
    pub const SBADDRESS1: u8 = 0x3a;
    pub const SBDATA0: u8 = 0x3c;
    pub const SBDATA1: u8 = 0x3d;
}

/// The Debug Transport Module: DMI reads and writes through the `dmi` register.
pub struct Dtm<W> {
    pub tap: Tap<W>,
    pub idcode: u32,
    pub abits: usize,
    /// Run-Test/Idle cycles after each DMI scan.
    pub idle: usize,
    /// DMI scans made.
    pub scans: u64,
}

impl<W: Wire> Dtm<W> {
    /// Resets the TAP, reads IDCODE and `dtmcs`, resets the DMI and selects it.
    pub fn connect(wire: W) -> io::Result<Dtm<W>> {
        let mut tap = Tap { wire };
        tap.reset()?;
        // After Test-Logic-Reset, IR holds IDCODE.
        let idcode = tap.scan_value(false, 0, 32, 0)? as u32;
        tap.scan_value(true, ir::DTMCS, 5, 0)?;
        let dtmcs = tap.scan_value(false, 1 << 16, 32, 0)? as u32; // dmireset
        let version = dtmcs & 0xf;
        if version != 1 {
            return Err(protocol_error(format!(
                "dtmcs {dtmcs:#x}: DTM version {version}, not 1 (0.13)"
            )));
        }
        let abits = (dtmcs >> 4 & 0x3f) as usize;
        let idle = (dtmcs >> 12 & 7) as usize;
        tap.scan_value(true, ir::DMI, 5, 0)?;
        Ok(Dtm {
            tap,
            idcode,
            abits,
            idle,
            scans: 0,
        })
    }

    /// One DMI scan: sends (op, addr, data), returns (op status, data) of the previous op.
    fn dmi_scan(&mut self, op: u64, addr: u8, data: u32) -> io::Result<(u64, u32)> {
        let len = self.abits + 34;
        let value = op | (data as u64) << 2 | (addr as u64) << 34;
        let out = self.tap.scan_value(false, value, len, self.idle)?;
        self.scans += 1;
        Ok((out & 3, (out >> 2) as u32))
    }

    /// Clears a sticky busy/failed DMI status.
    fn dmi_reset(&mut self) -> io::Result<()> {
        self.tap.scan_value(true, ir::DTMCS, 5, 0)?;
        self.tap.scan_value(false, 1 << 16, 32, 0)?;
        self.tap.scan_value(true, ir::DMI, 5, 0)?;
        Ok(())
    }

    /// Does one DMI op to completion (retrying with more idle cycles while busy); returns the
    /// data read.
    fn op(&mut self, op: u64, addr: u8, data: u32) -> io::Result<u32> {
        for _ in 0..16 {
            self.dmi_scan(op, addr, data)?;
            let (status, value) = self.dmi_scan(0, 0, 0)?;
            match status {
                0 => return Ok(value),
                3 => {
                    self.idle += 1;
                    self.dmi_reset()?;
                }
                _ => return Err(protocol_error(format!("DMI op failed (status {status})"))),
            }
        }
        Err(protocol_error("DMI stays busy".into()))
    }

    pub fn read(&mut self, addr: u8) -> io::Result<u32> {
        self.op(1, addr, 0)
    }

    pub fn write(&mut self, addr: u8, value: u32) -> io::Result<()> {
        self.op(2, addr, value).map(drop)
    }

    /// `count` reads of `addr`, pipelined: each scan starts a read and returns the previous
    /// one's result (one scan per op while nothing is busy).
    pub fn read_many(&mut self, addr: u8, count: usize) -> io::Result<()> {
        self.dmi_scan(1, addr, 0)?;
        for _ in 1..count {
            let (status, _) = self.dmi_scan(1, addr, 0)?;
            if status != 0 {
                return Err(protocol_error(format!(
                    "DMI status {status} while pipelining"
                )));
            }
        }
        self.dmi_scan(0, 0, 0).map(drop)
    }

    /// Halts the hart (dmcontrol.haltreq) and waits for dmstatus.allhalted.
    pub fn halt(&mut self) -> io::Result<()> {
        self.write(dm::DMCONTROL, 1 << 31 | 1)?;
        for _ in 0..100 {
            if self.read(dm::DMSTATUS)? & (1 << 9) != 0 {
                return self.write(dm::DMCONTROL, 1);
            }
        }
        Err(protocol_error("the hart did not halt".into()))
    }

    /// Resumes the hart (dmcontrol.resumereq) and waits for dmstatus.allresumeack.
    pub fn resume(&mut self) -> io::Result<()> {
        self.write(dm::DMCONTROL, 1 << 30 | 1)?;
        for _ in 0..100 {
            if self.read(dm::DMSTATUS)? & (1 << 17) != 0 {
                return self.write(dm::DMCONTROL, 1);
            }
        }
        Err(protocol_error("the hart did not resume".into()))
    }

    /// Writes 32-bit words to memory by System Bus Access, auto-incrementing the address.
    pub fn sba_write32(&mut self, addr: u64, words: &[u32]) -> io::Result<()> {
        // sbaccess = 2 (32-bit), sbautoincrement.
        self.write(dm::SBCS, 2 << 17 | 1 << 16)?;
        self.write(dm::SBADDRESS1, (addr >> 32) as u32)?;
        self.write(dm::SBADDRESS0, addr as u32)?;
        for &w in words {
            let (status, _) = self.dmi_scan(2, dm::SBDATA0, w)?;
            if status != 0 {
                return Err(protocol_error(format!(
                    "DMI status {status} during SBA writes"
                )));
            }
        }
        // Collect the last write's status, then check sbcs for errors.
        let (status, _) = self.dmi_scan(0, 0, 0)?;
        if status != 0 {
            return Err(protocol_error(format!(
                "DMI status {status} during SBA writes"
            )));
        }
        let sbcs = self.read(dm::SBCS)?;
        if sbcs & (1 << 22 | 7 << 12) != 0 {
            return Err(protocol_error(format!("SBA error, sbcs {sbcs:#x}")));
        }
        Ok(())
    }

    /// Reads 32-bit words from memory by System Bus Access.
    pub fn sba_read32(&mut self, addr: u64, count: usize) -> io::Result<Vec<u32>> {
        // sbaccess = 2, sbautoincrement, sbreadondata, sbreadonaddr.
        self.write(dm::SBCS, 1 << 20 | 2 << 17 | 1 << 16 | 1 << 15)?;
        self.write(dm::SBADDRESS1, (addr >> 32) as u32)?;
        self.write(dm::SBADDRESS0, addr as u32)?;
        (0..count).map(|_| self.read(dm::SBDATA0)).collect()
    }
}
