//! Exceptions and interrupts: cause numbers, trap entry (`mepc`/`mcause`/`mtval`/`mstatus`,
//! direct or vectored `mtvec`), `mret`, and deciding which interrupt, if any, is taken.
//!
//! Instruction semantics do not live here; they report an exception by returning
//! [`Trap`], and the run loop (`machine`) decides whether to stop or to vector.

use crate::Stop;
use crate::hart::{irq, mstatus};
use crate::machine::Machine;

/// `mcause` values (exception codes; interrupts have bit 63 set).
pub mod cause {
    pub const INSTRUCTION_MISALIGNED: u64 = 0;
    pub const INSTRUCTION_ACCESS: u64 = 1;
    pub const ILLEGAL_INSTRUCTION: u64 = 2;
    pub const BREAKPOINT: u64 = 3;
    pub const LOAD_MISALIGNED: u64 = 4;
    pub const LOAD_ACCESS: u64 = 5;
    pub const STORE_MISALIGNED: u64 = 6;
    pub const STORE_ACCESS: u64 = 7;
    pub const ECALL_M: u64 = 11;
    /// Bit set in `mcause` for interrupts.
    pub const INTERRUPT: u64 = 1 << 63;
    pub const MACHINE_SOFTWARE: u64 = INTERRUPT | 3;
    pub const MACHINE_TIMER: u64 = INTERRUPT | 7;
    pub const MACHINE_EXTERNAL: u64 = INTERRUPT | 11;
}

/// Why an instruction did not simply complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trap {
    /// A synchronous exception; the instruction did not retire.
    Exception { cause: u64, tval: u64 },
    /// Stop before the instruction retires (`pc` stays at it).
    Stop(Stop),
    /// The instruction retired (next `pc` given), then stop.
    StopAfter(Stop, u64),
}

impl Trap {
    #[inline]
    pub fn exception(cause: u64, tval: u64) -> Trap {
        Trap::Exception { cause, tval }
    }
}

impl Machine {
    /// Enters the trap handler for `cause` (bit 63 set for interrupts) from `pc`.
    pub(crate) fn enter_trap(&mut self, cause: u64, tval: u64) {
        let h = &mut self.hart;
        h.mepc = h.pc;
        h.mcause = cause;
        h.mtval = tval;
        let mie = h.mstatus & mstatus::MIE != 0;
        h.mstatus &= !(mstatus::MIE | mstatus::MPIE);
        if mie {
            h.mstatus |= mstatus::MPIE;
        }
        let base = h.mtvec & !3;
        h.pc = if h.mtvec & 3 == 1 && cause & cause::INTERRUPT != 0 {
            base.wrapping_add(4 * (cause & !cause::INTERRUPT))
        } else {
            base
        };
        self.next_irq_check = 0;
    }

    /// `mret`: restores MIE from MPIE and returns to `mepc`.
    pub(crate) fn mret(&mut self) -> u64 {
        let h = &mut self.hart;
        let mpie = h.mstatus & mstatus::MPIE != 0;
        h.mstatus = (h.mstatus & !mstatus::MIE) | mstatus::MPIE;
        if mpie {
            h.mstatus |= mstatus::MIE;
        }
        self.next_irq_check = 0;
        h.mepc
    }

    /// `mip` as software sees it.
    pub(crate) fn mip(&self) -> u64 {
        let now = self.stats.cycles;
        let mut mip = 0;
        if self.bus.clint.msip {
            mip |= irq::MSI;
        }
        if self.bus.clint.mtip(now) {
            mip |= irq::MTI;
        }
        mip
    }

    /// The interrupt to take now, if any (priority MEI > MSI > MTI), and schedules the next
    /// check.
    pub(crate) fn pending_interrupt(&mut self) -> Option<u64> {
        let pending = self.mip() & self.hart.mie;
        let now = self.stats.cycles;
        // Nothing changes until the timer fires or software changes state (which resets
        // `next_irq_check`).
        self.next_irq_check = if self.bus.clint.mtip(now) {
            u64::MAX
        } else {
            self.bus.clint.deadline(now).unwrap_or(u64::MAX)
        };
        if pending == 0 || self.hart.mstatus & mstatus::MIE == 0 {
            if pending != 0 {
                // Enabled but globally masked: re-check once MIE may have changed.
                self.next_irq_check = u64::MAX;
            }
            return None;
        }
        self.next_irq_check = 0;
        Some(if pending & irq::MEI != 0 {
            cause::MACHINE_EXTERNAL
        } else if pending & irq::MSI != 0 {
            cause::MACHINE_SOFTWARE
        } else {
            cause::MACHINE_TIMER
        })
    }

    /// `wfi`: completes if an enabled interrupt is pending (whatever `mstatus.MIE`), else
    /// skips time to the timer deadline when the timer interrupt is enabled, else deadlock.
    pub(crate) fn wfi(&mut self, next: u64) -> Result<u64, Trap> {
        if self.mip() & self.hart.mie != 0 {
            return Ok(next);
        }
        if self.hart.mie & irq::MTI != 0
            && let Some(deadline) = self.bus.clint.deadline(self.stats.cycles)
        {
            // Retiring the wfi takes one more cycle; arrive at the deadline with it.
            self.stats.cycles = self.stats.cycles.max(deadline.saturating_sub(1));
            self.next_irq_check = 0;
            return Ok(next);
        }
        Err(Trap::Stop(Stop::Idle))
    }
}
