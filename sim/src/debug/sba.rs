//! System Bus Access (`sbcs`, `sbaddress0..1`, `sbdata0..1`): the Debug Module's own bus
//! master, usable whether the hart runs or not. sbversion 1, 64-bit addresses, 8/16/32/64-bit
//! accesses to the same physical address space the hart sees (RAM and devices, with their
//! side effects; RAM writes keep the decode cache coherent).
//!
//! Timing model: an access completes within the DMI operation that starts it, so `sbbusy`
//! is only ever seen while `ndmreset` holds the system (bus included) in reset: an access
//! started then waits for the release, and starting another one meanwhile sets
//! `sbbusyerror`. Errors: 2 for an address nothing answers at, 3 for a misaligned access a
//! device refuses (RAM takes misaligned accesses), 4 for an unsupported `sbaccess`. Like
//! spike and spec 1.0, `sbaddress` auto-increments only after a successful access. The bus
//! master never involves the hart (no halting, no trap, no CSR).

use crate::machine::Machine;

const SBCS: u8 = 0x38;
const SBADDRESS0: u8 = 0x39;
const SBADDRESS1: u8 = 0x3a;
const SBDATA0: u8 = 0x3c;
const SBDATA1: u8 = 0x3d;

const SBVERSION: u32 = 1 << 29;
const SBBUSYERROR: u32 = 1 << 22;
const SBBUSY: u32 = 1 << 21;
const SBREADONADDR: u32 = 1 << 20;
const SBAUTOINCREMENT: u32 = 1 << 16;
const SBREADONDATA: u32 = 1 << 15;
const SBASIZE: u32 = 64 << 5;
/// sbaccess64, sbaccess32, sbaccess16, sbaccess8.
const SBACCESS_SIZES: u32 = 0xf;

/// `sberror` values.
const ERR_BAD_ADDRESS: u8 = 2;
const ERR_ALIGNMENT: u8 = 3;
const ERR_SIZE: u8 = 4;

pub(crate) struct Sba {
    readonaddr: bool,
    /// `sbaccess`: log2 of the access size in bytes.
    access: u8,
    autoincrement: bool,
    readondata: bool,
    error: u8,
    busyerror: bool,
    address: u64,
    data: u64,
    /// An access waiting for the bus to leave reset: `true` for a write.
    pending: Option<bool>,
}

impl Sba {
    pub fn new() -> Sba {
        Sba {
            readonaddr: false,
            access: 2,
            autoincrement: false,
            readondata: false,
            error: 0,
            busyerror: false,
            address: 0,
            data: 0,
            pending: None,
        }
    }

    pub fn reset(&mut self) {
        *self = Sba::new();
    }

    fn sbcs(&self) -> u32 {
        let flag = |b: bool, bit: u32| if b { bit } else { 0 };
        SBVERSION
            | flag(self.busyerror, SBBUSYERROR)
            | flag(self.pending.is_some(), SBBUSY)
            | flag(self.readonaddr, SBREADONADDR)
            | (self.access as u32) << 17
            | flag(self.autoincrement, SBAUTOINCREMENT)
            | flag(self.readondata, SBREADONDATA)
            | (self.error as u32) << 12
            | SBASIZE
            | SBACCESS_SIZES
    }

    /// Whether a new access may start (no error is pending).
    fn clear(&self) -> bool {
        self.error == 0 && !self.busyerror
    }
}

impl Machine {
    pub(crate) fn sba_read(&mut self, addr: u8) -> u32 {
        let Some(s) = self.debug.as_deref_mut().map(|d| &mut d.sba) else {
            return 0;
        };
        let busy = s.pending.is_some();
        match addr {
            SBCS => s.sbcs(),
            SBADDRESS0 => s.address as u32,
            SBADDRESS1 => (s.address >> 32) as u32,
            SBDATA0 | SBDATA1 if busy => {
                s.busyerror = true;
                (s.data >> (32 * (addr - SBDATA0))) as u32
            }
            SBDATA0 => {
                let v = s.data as u32;
                if s.clear() && s.readondata {
                    self.sba_start(false);
                }
                v
            }
            SBDATA1 => (s.data >> 32) as u32,
            // sbaddress2/3 and sbdata2/3 do not exist with 64-bit addresses and data.
            _ => 0,
        }
    }

    pub(crate) fn sba_write(&mut self, addr: u8, v: u32) {
        let Some(s) = self.debug.as_deref_mut().map(|d| &mut d.sba) else {
            return;
        };
        if addr == SBCS {
            s.readonaddr = v & SBREADONADDR != 0;
            s.access = ((v >> 17) & 7) as u8;
            s.autoincrement = v & SBAUTOINCREMENT != 0;
            s.readondata = v & SBREADONDATA != 0;
            s.error &= !((v >> 12) & 7) as u8;
            if v & SBBUSYERROR != 0 {
                s.busyerror = false;
            }
            return;
        }
        // sbaddress2/3 and sbdata2/3 do not exist.
        if !matches!(addr, SBADDRESS0 | SBADDRESS1 | SBDATA0 | SBDATA1) {
            return;
        }
        if s.pending.is_some() {
            s.busyerror = true;
            return;
        }
        match addr {
            SBADDRESS0 => {
                s.address = s.address & !0xffff_ffff | v as u64;
                if s.clear() && s.readonaddr {
                    self.sba_start(false);
                }
            }
            SBADDRESS1 => s.address = s.address & 0xffff_ffff | (v as u64) << 32,
            SBDATA0 => {
                s.data = s.data & !0xffff_ffff | v as u64;
                if s.clear() {
                    self.sba_start(true);
                }
            }
            SBDATA1 => s.data = s.data & 0xffff_ffff | (v as u64) << 32,
            _ => {}
        }
    }

    /// Starts a bus access with the current `sbaccess`, `sbaddress` and `sbdata`.
    fn sba_start(&mut self, write: bool) {
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        if d.sba.access > 3 {
            d.sba.error = ERR_SIZE;
        } else if d.dm.ndmreset {
            d.sba.pending = Some(write);
        } else {
            self.sba_access(write);
        }
    }

    /// Performs the access (the bus is out of reset).
    fn sba_access(&mut self, write: bool) {
        let Some(s) = self.debug.as_deref_mut().map(|d| &mut d.sba) else {
            return;
        };
        // Checked again: sbcs may have changed while an access waited for the bus.
        if s.access > 3 {
            s.error = ERR_SIZE;
            return;
        }
        let (addr, size, data) = (s.address, 1u64 << s.access, s.data);
        let now = self.stats.cycles;
        let result = if write {
            let r = self.bus.store(addr, size, data, now);
            // A device write may change msip or mtimecmp; the finisher's request stays in
            // `bus.event` for the next `run` to report.
            self.next_irq_check = 0;
            r.map(|_| data)
        } else {
            self.bus.load(addr, size, now)
        };
        let Some(s) = self.debug.as_deref_mut().map(|d| &mut d.sba) else {
            return;
        };
        match result {
            Ok(v) => {
                s.data = v;
                if s.autoincrement {
                    s.address = s.address.wrapping_add(size);
                }
            }
            Err(_) if !addr.is_multiple_of(size) => s.error = ERR_ALIGNMENT,
            Err(_) => s.error = ERR_BAD_ADDRESS,
        }
    }

    /// `ndmreset` was released: an access that waited for the bus completes.
    pub(crate) fn bus_out_of_reset(&mut self) {
        if let Some(write) = self.debug.as_deref_mut().and_then(|d| d.sba.pending.take()) {
            self.sba_access(write);
        }
    }
}
