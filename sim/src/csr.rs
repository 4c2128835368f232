//! Control and status registers: which exist, what they read as, which bits writes keep.
//!
//! [`Machine::csr_read`] answers `None` for CSRs that do not exist (or that the FPU state
//! makes inaccessible); the `csr*` instructions (`exec::system`) turn that, and writes to
//! read-only CSRs, into illegal-instruction exceptions, as QEMU does in M-mode. The debug
//! spec's CSRs (triggers, `dcsr`, `dpc`, `dscratch*`) are answered by `debug::mode`. Nothing
//! here traps or decodes.

use rvflash_backend::isa::csr as n;

use crate::hart::{irq, mstatus};
use crate::machine::Machine;

/// `misa`: MXL = 64, extensions A, C, D, F, I, M.
pub(crate) const MISA: u64 = 2 << 62 | 1 | 1 << 2 | 1 << 3 | 1 << 5 | 1 << 8 | 1 << 12;

const MCOUNTINHIBIT: u16 = 0x320;
const MVENDORID: u16 = 0xf11;
const MARCHID: u16 = 0xf12;
const MIMPID: u16 = 0xf13;
const MCONFIGPTR: u16 = 0xf15;

/// Whether a write to `csr` is forbidden by its number (bits 11:10 = 3: read-only).
pub(crate) fn is_read_only(csr: u16) -> bool {
    csr >> 10 == 3
}

/// CSRs that exist and read as zero, ignoring writes (performance counters and events
/// beyond cycle/instret, PMP with zero entries, `mcountinhibit`, `mconfigptr`, the ID CSRs).
fn is_zero_csr(csr: u16) -> bool {
    matches!(csr,
        0xc03..=0xc1f | 0xb03..=0xb1f | 0x323..=0x33f | 0x3b0..=0x3ef
        | MCOUNTINHIBIT | MVENDORID | MARCHID | MIMPID | MCONFIGPTR)
        || (0x3a0..=0x3af).contains(&csr) && csr.is_multiple_of(2)
}

impl Machine {
    /// The value of `csr`, or `None` if it does not exist / is not accessible now.
    pub(crate) fn csr_read(&self, csr: u16) -> Option<u64> {
        let h = &self.hart;
        let fp = h.fp_enabled();
        Some(match csr {
            n::FFLAGS if fp => h.fflags,
            n::FRM if fp => h.frm,
            n::FCSR if fp => h.frm << 5 | h.fflags,
            n::CYCLE | n::MCYCLE => self.stats.cycles.wrapping_add(h.mcycle_offset),
            n::INSTRET | n::MINSTRET => self.stats.instructions.wrapping_add(h.minstret_offset),
            n::TIME => self.bus.clint.mtime(self.stats.cycles),
            n::MSTATUS => {
                let s = h.mstatus | mstatus::MPP;
                if s & mstatus::FS == mstatus::FS_DIRTY {
                    s | mstatus::SD
                } else {
                    s
                }
            }
            n::MISA => MISA,
            n::MIE => h.mie,
            n::MTVEC => h.mtvec,
            n::MSCRATCH => h.mscratch,
            n::MEPC => h.mepc,
            n::MCAUSE => h.mcause,
            n::MTVAL => h.mtval,
            n::MIP => self.mip(),
            n::MHARTID => self.config.hart_id,
            c if is_zero_csr(c) => 0,
            // Triggers and debug-mode CSRs: only with a debug module.
            0x7a0..=0x7bf => return self.debug_csr_read(csr),
            _ => return None,
        })
    }

    /// Writes `csr` (which exists), keeping only the bits that are writable (WARL).
    pub(crate) fn csr_write(&mut self, csr: u16, v: u64) {
        let h = &mut self.hart;
        match csr {
            n::FFLAGS => h.fflags = v & 0x1f,
            n::FRM => h.frm = v & 7,
            n::FCSR => {
                h.fflags = v & 0x1f;
                h.frm = (v >> 5) & 7;
            }
            n::MCYCLE => h.mcycle_offset = v.wrapping_sub(self.stats.cycles.wrapping_add(1)),
            n::MINSTRET => {
                h.minstret_offset = v.wrapping_sub(self.stats.instructions.wrapping_add(1))
            }
            n::MSTATUS => h.mstatus = v & mstatus::WRITABLE,
            n::MIE => h.mie = v & irq::ALL,
            n::MTVEC if v & 3 < 2 => h.mtvec = v,
            n::MSCRATCH => h.mscratch = v,
            n::MEPC => h.mepc = v & !1,
            n::MCAUSE => h.mcause = v,
            n::MTVAL => h.mtval = v,
            0x7a0..=0x7bf => return self.debug_csr_write(csr, v),
            _ => {}
        }
        if matches!(csr, n::FFLAGS | n::FRM | n::FCSR) {
            h.fs_dirty();
        }
        if matches!(csr, n::MSTATUS | n::MIE) {
            self.next_irq_check = 0;
        }
    }
}
