//! Debug mode in the hart: its state (`dcsr`, `dscratch0/1`; `dpc` is the hart's `pc`, which
//! does not move while halted), entering and leaving it, resets as the hart sees them, and the
//! debug CSRs (`dcsr`, `dpc`, `dscratch*` exist only in debug mode; the trigger CSRs always).
//!
//! Deciding *when* to halt (halt requests, steps, ebreaks, triggers) belongs to `dm` and
//! `run`; this module only performs the transitions.

use rvflash_backend::isa::reg::A0;

use crate::Stop;
use crate::hart::Hart;
use crate::machine::Machine;

/// `dcsr.cause` values.
pub(crate) mod cause {
    pub const EBREAK: u8 = 1;
    pub const TRIGGER: u8 = 2;
    pub const HALTREQ: u8 = 3;
    pub const STEP: u8 = 4;
    pub const RESETHALTREQ: u8 = 5;
}

const DCSR: u16 = 0x7b0;
const DPC: u16 = 0x7b1;
const DSCRATCH0: u16 = 0x7b2;
const DSCRATCH1: u16 = 0x7b3;

const XDEBUGVER: u64 = 4 << 28;
const EBREAKM: u64 = 1 << 15;
const STEPIE: u64 = 1 << 11;
const STOPCOUNT: u64 = 1 << 10;
const STOPTIME: u64 = 1 << 9;
const STEP: u64 = 1 << 2;
const PRV_M: u64 = 3;

/// The hart's debug state. Reset with the hart.
#[derive(Clone, Debug)]
pub(crate) struct HartDebug {
    pub halted: bool,
    pub cause: u8,
    pub ebreakm: bool,
    pub stepie: bool,
    pub stopcount: bool,
    pub step: bool,
    pub dscratch: [u64; 2],
    /// The hart is stopped in a `wfi` that nothing can end (the run loop returned
    /// [`Stop::Idle`]); a halt request completes the `wfi` first.
    pub wfi_stalled: bool,
}

impl HartDebug {
    pub fn new() -> HartDebug {
        HartDebug {
            halted: false,
            cause: 0,
            ebreakm: false,
            stepie: false,
            // Counters stop in debug mode by default (the spec's preferred setting).
            stopcount: true,
            step: false,
            dscratch: [0; 2],
            wfi_stalled: false,
        }
    }

    /// `dcsr`: xdebugver 4, `stoptime` hard-wired to 1 (time only passes when the hart
    /// executes), `prv` = M, `nmip` = 0 (the board has no NMI), no S/U `ebreak` bits.
    pub fn dcsr(&self) -> u64 {
        XDEBUGVER
            | if self.ebreakm { EBREAKM } else { 0 }
            | if self.stepie { STEPIE } else { 0 }
            | if self.stopcount { STOPCOUNT } else { 0 }
            | STOPTIME
            | (self.cause as u64) << 6
            | if self.step { STEP } else { 0 }
            | PRV_M
    }

    fn write_dcsr(&mut self, v: u64) {
        self.ebreakm = v & EBREAKM != 0;
        self.stepie = v & STEPIE != 0;
        self.stopcount = v & STOPCOUNT != 0;
        self.step = v & STEP != 0;
    }
}

impl Machine {
    /// The debug spec's CSRs: the trigger CSRs (0x7a0..=0x7a4) always, `dcsr`/`dpc`/
    /// `dscratch0..1` only in debug mode. `None` without a debug module (as before it existed).
    pub(crate) fn debug_csr_read(&self, csr: u16) -> Option<u64> {
        let d = self.debug.as_deref()?;
        let halted = d.mode.halted;
        match csr {
            DCSR if halted => Some(d.mode.dcsr()),
            DPC if halted => Some(self.hart.pc),
            DSCRATCH0 | DSCRATCH1 if halted => Some(d.mode.dscratch[(csr - DSCRATCH0) as usize]),
            _ => d.triggers.read(csr),
        }
    }

    /// Writes a CSR [`Machine::debug_csr_read`] said exists.
    pub(crate) fn debug_csr_write(&mut self, csr: u16, v: u64) {
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        match csr {
            DCSR => d.mode.write_dcsr(v),
            DPC => self.hart.pc = v & !1,
            DSCRATCH0 | DSCRATCH1 => d.mode.dscratch[(csr - DSCRATCH0) as usize] = v,
            _ => d.triggers.write(csr, v, d.mode.halted),
        }
    }

    /// Enters debug mode with `cause`; `dpc` is the current `pc`.
    pub(crate) fn enter_debug(&mut self, cause: u8) -> Stop {
        if let Some(d) = self.debug.as_deref_mut() {
            d.mode.halted = true;
            d.mode.cause = cause;
            d.mode.wfi_stalled = false;
        }
        Stop::DebugHalted
    }

    /// A halt request reaching a running hart (between two instructions: the simulator only
    /// executes inside `run`). A `wfi` that stalled the hart completes first.
    pub(crate) fn halt_running_hart(&mut self) {
        if self.debug.as_deref().is_some_and(|d| d.mode.wfi_stalled) {
            self.hart.pc = self.hart.pc.wrapping_add(4);
        }
        self.enter_debug(cause::HALTREQ);
    }

    /// Leaves debug mode: the hart continues at `dpc` with the next `run`.
    pub(crate) fn leave_debug(&mut self) {
        if let Some(d) = self.debug.as_deref_mut() {
            d.mode.halted = false;
            d.dm.resumeack = true;
        }
        self.next_irq_check = 0;
    }

    /// Resets the hart alone (`dmcontrol.hartreset`): registers and `pc` as at power-up;
    /// devices and RAM are untouched.
    pub(crate) fn reset_hart_only(&mut self) {
        self.hart = Hart::new();
        self.hart.pc = self.config.reset_pc;
        self.hart.x[A0 as usize] = self.config.hart_id;
        self.next_irq_check = 0;
        self.debug_after_reset();
    }

    /// What a reset of the hart (for any reason) does to its debug state: `havereset` is
    /// set, `dcsr` goes back to its reset value, debug mode is left, an abstract command in
    /// progress is abandoned (`cmderr` 4); triggers are kept. If the hart is not held in
    /// reset, it then comes out of it.
    pub(crate) fn debug_after_reset(&mut self) {
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        d.mode = HartDebug::new();
        d.dm.havereset = true;
        d.dm.abandon_command();
        if !d.dm.hart_in_reset() {
            self.debug_out_of_reset();
        }
    }

    /// The hart leaves reset: it halts before its first instruction if the halt request or
    /// the halt-on-reset request is set.
    pub(crate) fn debug_out_of_reset(&mut self) {
        let Some(d) = self.debug.as_deref() else {
            return;
        };
        if d.dm.resethaltreq {
            self.enter_debug(cause::RESETHALTREQ);
        } else if d.dm.haltreq {
            self.enter_debug(cause::HALTREQ);
        }
    }
}
