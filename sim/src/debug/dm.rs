//! The Debug Module's register file as seen over the DMI: `dmcontrol` (run control, resets,
//! hart selection), `dmstatus`, `hartinfo`, the halt summaries, `abstractcs`, `command`,
//! `abstractauto`, `data0..1`, `progbuf0..N`, `authdata`, and the dispatch of the System Bus
//! Access registers to `sba`.
//!
//! Every operation takes effect at once: a halt request halts the (running) hart before the
//! DMI write returns, a resume request resumes it, an abstract command completes before the
//! write returns unless its program buffer runs longer than one slice (see `command`).
//! Abstract command execution lives in `command`, the hart-side transitions in `mode`; this
//! module decodes registers and sequences them.

use crate::machine::Machine;

pub(crate) const DATA0: u8 = 0x04;
/// `datacount`: two data registers, enough for 64-bit arguments.
pub(crate) const DATACOUNT: u8 = 2;
pub(crate) const DMCONTROL: u8 = 0x10;
pub(crate) const DMSTATUS: u8 = 0x11;
pub(crate) const HARTINFO: u8 = 0x12;
pub(crate) const HALTSUM1: u8 = 0x13;
pub(crate) const ABSTRACTCS: u8 = 0x16;
pub(crate) const COMMAND: u8 = 0x17;
pub(crate) const ABSTRACTAUTO: u8 = 0x18;
pub(crate) const PROGBUF0: u8 = 0x20;
pub(crate) const HALTSUM2: u8 = 0x34;
pub(crate) const HALTSUM3: u8 = 0x35;
pub(crate) const SBADDRESS3: u8 = 0x37;
pub(crate) const SBDATA3: u8 = 0x3f;
pub(crate) const HALTSUM0: u8 = 0x40;

/// `cmderr` values.
pub(crate) mod cmderr {
    pub const BUSY: u8 = 1;
    pub const NOT_SUPPORTED: u8 = 2;
    pub const EXCEPTION: u8 = 3;
    pub const HALT_RESUME: u8 = 4;
}

const HALTREQ: u32 = 1 << 31;
const RESUMEREQ: u32 = 1 << 30;
const HARTRESET: u32 = 1 << 29;
const ACKHAVERESET: u32 = 1 << 28;
const SETRESETHALTREQ: u32 = 1 << 3;
const CLRRESETHALTREQ: u32 = 1 << 2;
const NDMRESET: u32 = 1 << 1;
const DMACTIVE: u32 = 1;

/// `dmstatus` bits that do not depend on the hart: impebreak (set with a program buffer),
/// authenticated, hasresethaltreq, version 2 (0.13).
const AUTHENTICATED: u32 = 1 << 7;
const HASRESETHALTREQ: u32 = 1 << 5;
const VERSION: u32 = 2;
const IMPEBREAK: u32 = 1 << 22;
/// `hartinfo.nscratch`: `dscratch0` and `dscratch1`.
const HARTINFO_VALUE: u32 = 2 << 20;

/// Most program-buffer words the spec allows (`abstractcs.progbufsize` is 0..=16).
pub const MAX_PROGBUF: usize = 16;

/// The Debug Module's state (the per-hart bits are hart 0's: the only hart).
pub(crate) struct Dm {
    pub active: bool,
    hartsel: u32,
    pub haltreq: bool,
    pub hartreset: bool,
    pub ndmreset: bool,
    pub resethaltreq: bool,
    pub resumeack: bool,
    pub havereset: bool,
    pub cmderr: u8,
    pub command: u32,
    pub abstractauto: u32,
    pub data: [u32; DATACOUNT as usize],
    pub progbuf: heapless::Vec<u32, MAX_PROGBUF>,
    /// `pc` of the program buffer program an abstract command is running (`busy`).
    pub running: Option<u64>,
}

impl Dm {
    pub fn new(progbuf_size: usize) -> Dm {
        Dm {
            active: false,
            hartsel: 0,
            haltreq: false,
            hartreset: false,
            ndmreset: false,
            resethaltreq: false,
            resumeack: false,
            havereset: false,
            cmderr: 0,
            command: 0,
            abstractauto: 0,
            data: [0; DATACOUNT as usize],
            progbuf: core::iter::repeat_n(0, progbuf_size.min(MAX_PROGBUF)).collect(),
            running: None,
        }
    }

    /// `dmactive` = 0: every register back to its reset value (`havereset` is the hart's
    /// and is kept), the halt and halt-on-reset requests cleared, resets released, a command
    /// in progress abandoned.
    fn reset(&mut self) {
        let (havereset, size) = (self.havereset, self.progbuf.len());
        *self = Dm::new(size);
        self.havereset = havereset;
    }

    pub fn hart_in_reset(&self) -> bool {
        self.hartreset || self.ndmreset
    }

    pub fn busy(&self) -> bool {
        self.running.is_some()
    }

    /// `cmderr` only records the first error until it is cleared.
    pub fn set_cmderr(&mut self, e: u8) {
        if self.cmderr == 0 {
            self.cmderr = e;
        }
    }

    /// The hart reset under a running command: it ends with `cmderr` 4.
    pub fn abandon_command(&mut self) {
        if self.running.take().is_some() {
            self.set_cmderr(cmderr::HALT_RESUME);
        }
    }

    /// Whether `hartsel` names an existing hart (only hart 0 exists).
    fn selected(&self) -> bool {
        self.hartsel == 0
    }

    fn abstractcs(&self) -> u32 {
        (self.progbuf.len() as u32) << 24
            | (self.busy() as u32) << 12
            | (self.cmderr as u32) << 8
            | DATACOUNT as u32
    }

    /// The `abstractauto` bits that exist: one per data and progbuf register.
    fn abstractauto_mask(&self) -> u32 {
        let progbuf = (1u32 << self.progbuf.len()) - 1;
        progbuf << 16 | ((1 << DATACOUNT) - 1)
    }
}

impl Machine {
    /// One DMI access (what an Update-DR of `dmi` does): `Some(value)` writes, `None` reads.
    /// Returns the data a following Capture-DR reports (the value read, or written). A
    /// program buffer program still running from an earlier command first runs one more
    /// slice.
    pub(crate) fn dmi_access(&mut self, addr: u8, write: Option<u32>) -> u32 {
        if self.debug.is_none() {
            return 0;
        }
        self.progbuf_continue();
        let addr = addr & 0x7f;
        match write {
            Some(v) => {
                self.dm_write(addr, v);
                v
            }
            None => self.dm_read(addr),
        }
    }

    fn dm_read(&mut self, addr: u8) -> u32 {
        let Some(d) = self.debug.as_deref_mut() else {
            return 0;
        };
        let dm = &d.dm;
        let halted = d.mode.halted && !dm.hart_in_reset();
        let progbufs = dm.progbuf.len() as u8;
        match addr {
            DMCONTROL => {
                let flag = |b: bool, bit: u32| if b { bit } else { 0 };
                flag(dm.hartreset && dm.selected(), HARTRESET)
                    | (dm.hartsel & 0x3ff) << 16
                    | (dm.hartsel >> 10) << 6
                    | flag(dm.ndmreset, NDMRESET)
                    | flag(dm.active, DMACTIVE)
            }
            DMSTATUS => self.dmstatus(),
            HARTINFO if dm.selected() => HARTINFO_VALUE,
            HALTSUM0 => (halted && dm.hartsel >> 5 == 0) as u32,
            HALTSUM1 => (halted && dm.hartsel >> 10 == 0) as u32,
            HALTSUM2 => (halted && dm.hartsel >> 15 == 0) as u32,
            HALTSUM3 => halted as u32,
            ABSTRACTCS => dm.abstractcs(),
            ABSTRACTAUTO => dm.abstractauto,
            a if (DATA0..DATA0 + DATACOUNT).contains(&a) => {
                let i = (a - DATA0) as usize;
                let v = dm.data[i];
                self.autoexec(i as u32);
                v
            }
            a if (PROGBUF0..PROGBUF0 + progbufs).contains(&a) => {
                let i = (a - PROGBUF0) as usize;
                let v = dm.progbuf[i];
                self.autoexec(16 + i as u32);
                v
            }
            a if (SBADDRESS3..=SBDATA3).contains(&a) => self.sba_read(a),
            // command and authdata read 0 (there is no authentication); hawindow*, the
            // configuration string pointers and nextdm are not implemented.
            _ => 0,
        }
    }

    fn dm_write(&mut self, addr: u8, v: u32) {
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        if addr == DMCONTROL {
            self.write_dmcontrol(v);
            return;
        }
        let dm = &mut d.dm;
        // While the DM is held in reset only dmcontrol can be written.
        if !dm.active {
            return;
        }
        let progbufs = dm.progbuf.len() as u8;
        match addr {
            ABSTRACTCS if dm.busy() => dm.set_cmderr(cmderr::BUSY),
            ABSTRACTCS => dm.cmderr &= !((v >> 8) & 7) as u8,
            COMMAND if dm.busy() => dm.set_cmderr(cmderr::BUSY),
            // A command written while cmderr is set is ignored altogether.
            COMMAND if dm.cmderr == 0 => {
                dm.command = v;
                self.execute_command();
            }
            COMMAND => {}
            ABSTRACTAUTO if dm.busy() => dm.set_cmderr(cmderr::BUSY),
            ABSTRACTAUTO => dm.abstractauto = v & dm.abstractauto_mask(),
            a if (DATA0..DATA0 + DATACOUNT).contains(&a) => {
                let i = (a - DATA0) as usize;
                if !dm.busy() {
                    dm.data[i] = v;
                }
                self.autoexec(i as u32);
            }
            a if (PROGBUF0..PROGBUF0 + progbufs).contains(&a) => {
                let i = (a - PROGBUF0) as usize;
                if !dm.busy() {
                    dm.progbuf[i] = v;
                }
                self.autoexec(16 + i as u32);
            }
            a if (SBADDRESS3..=SBDATA3).contains(&a) => self.sba_write(a, v),
            _ => {}
        }
    }

    /// An access to a data (bit < 12) or progbuf (bit 16 + n) register: `cmderr` 1 while a
    /// command runs, else the command runs again if `abstractauto` says so.
    fn autoexec(&mut self, bit: u32) {
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        if !d.dm.active {
            return;
        }
        if d.dm.busy() {
            d.dm.set_cmderr(cmderr::BUSY);
        } else if d.dm.abstractauto >> bit & 1 != 0 {
            self.execute_command();
        }
    }

    fn dmstatus(&self) -> u32 {
        let Some(d) = self.debug.as_deref() else {
            return 0;
        };
        let dm = &d.dm;
        let global = AUTHENTICATED
            | HASRESETHALTREQ
            | VERSION
            | if dm.progbuf.is_empty() { 0 } else { IMPEBREAK };
        if !dm.selected() {
            // allnonexistent | anynonexistent
            return global | 3 << 14;
        }
        // Each "all"/"any" pair is equal with a single hart: bit n+1 and bit n.
        let pair = |b: bool, n: u32| (b as u32 * 3) << n;
        let unavail = dm.hart_in_reset();
        let halted = d.mode.halted && !unavail;
        global
            | pair(dm.havereset, 18)
            | pair(dm.resumeack, 16)
            | pair(unavail, 12)
            | pair(!halted && !unavail, 10)
            | pair(halted, 8)
    }

    fn write_dmcontrol(&mut self, v: u32) {
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        let dm = &mut d.dm;
        if v & DMACTIVE == 0 {
            // Resetting the DM releases the resets it holds.
            let was_in_reset = dm.hart_in_reset();
            let ndm = dm.ndmreset;
            dm.reset();
            d.sba.reset();
            if ndm {
                self.bus_out_of_reset();
            }
            if was_in_reset {
                self.debug_out_of_reset();
            }
            return;
        }
        dm.active = true;
        dm.hartsel = (v >> 16) & 0x3ff | ((v >> 6) & 0x3ff) << 10;
        let was_in_reset = dm.hart_in_reset();
        let (old_ndm, old_hart) = (dm.ndmreset, dm.hartreset);
        dm.ndmreset = v & NDMRESET != 0;
        if dm.selected() {
            dm.haltreq = v & HALTREQ != 0;
            if v & ACKHAVERESET != 0 {
                dm.havereset = false;
            }
            if v & CLRRESETHALTREQ != 0 {
                dm.resethaltreq = false;
            } else if v & SETRESETHALTREQ != 0 {
                dm.resethaltreq = true;
            }
            dm.hartreset = v & HARTRESET != 0;
        }
        let (ndm, hart) = (dm.ndmreset, dm.hartreset);
        let in_reset = dm.hart_in_reset();
        // Asserting a reset resets now; the hart stays unavailable until it is released.
        if ndm && !old_ndm {
            self.reset();
        } else if hart && !old_hart {
            self.reset_hart_only();
        }
        if old_ndm && !ndm {
            self.bus_out_of_reset();
        }
        if was_in_reset && !in_reset {
            self.debug_out_of_reset();
        }
        self.run_control(v);
    }

    /// The halt and resume requests of a `dmcontrol` write (after its resets).
    fn run_control(&mut self, v: u32) {
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        let dm = &mut d.dm;
        if !dm.selected() || dm.hart_in_reset() {
            return;
        }
        if v & HALTREQ != 0 {
            if !d.mode.halted {
                self.halt_running_hart();
            }
        } else if v & RESUMEREQ != 0 {
            dm.resumeack = false;
            // A hart cannot leave debug mode while it runs the program buffer.
            if d.mode.halted && !dm.busy() {
                self.leave_debug();
            }
        }
    }
}
