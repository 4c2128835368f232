//! Abstract commands: Access Register (GPRs, FPRs, CSRs including `dcsr`/`dpc`; 32- and
//! 64-bit; transfer, write, `aarpostincrement`, `postexec`) and the program buffer, which the
//! hart executes in debug mode.
//!
//! Register access: 32-bit writes zero-extend (FPRs: NaN-box, as `flw` would); CSRs behave as
//! for a `csrrw` in M-mode except that the FP CSRs and FPRs are accessible whatever
//! `mstatus.FS` says (and writing them leaves `mstatus` alone), and `mcycle`/`minstret` take
//! exactly the value written. A register that does not exist, or a write to a read-only CSR,
//! fails with `cmderr` 3. Quick Access and Access Memory are not supported (`cmderr` 2).
//!
//! The program buffer lives at [`PROGBUF_BASE`] (only while it executes: it is not in the
//! memory map, so `auipc`-relative accesses fault), followed by the implicit `ebreak`. Any
//! instruction the hart implements runs there, with interrupts masked and triggers off;
//! `ebreak` ends the program, `wfi` is a `nop`, `ecall`/`mret` and control transfers out of
//! the buffer are illegal. An exception ends the program with `cmderr` 3 and changes no
//! hart register (`dpc`, `mcause`, ... stay as they were). With `dcsr.stopcount` clear each
//! instruction counts in `mcycle`/`minstret`; `mtime` does not advance (`stoptime` is 1).
//! A program runs up to [`SLICE`] instructions when its command starts; one that runs longer
//! keeps `abstractcs.busy` set and runs another slice at every later DMI access, so an
//! endless loop is busy forever (until a hart reset or `dmactive` = 0 abandons it).
//!
//! This module executes commands; decoding DM registers (`dm`) and moving the hart in or
//! out of debug mode (`mode`) are not its business.

use rvflash_backend::isa::csr as n;
use rvflash_backend::isa::decode::decode_bits;
use rvflash_backend::isa::{Inst, Op};

use crate::Reg;
use crate::csr::is_read_only;
use crate::machine::Machine;
use crate::trap::Trap;

use super::dm::cmderr;

/// Where the program buffer is while it executes (QEMU `virt`'s debug area starts at 0).
pub(crate) const PROGBUF_BASE: u64 = 0;
/// Instructions a program buffer program runs per slice.
pub(crate) const SLICE: u32 = 1024;
const EBREAK: u32 = 0x0010_0073;
const NAN_BOX: u64 = 0xffff_ffff_0000_0000;

const AARSIZE_SHIFT: u32 = 20;
const AARPOSTINCREMENT: u32 = 1 << 19;
const POSTEXEC: u32 = 1 << 18;
const TRANSFER: u32 = 1 << 17;
const WRITE: u32 = 1 << 16;

impl Machine {
    /// Executes `command` (the caller checked that `cmderr` is 0 and nothing is running).
    pub(crate) fn execute_command(&mut self) {
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        if d.dm.cmderr != 0 {
            return;
        }
        if d.dm.busy() {
            d.dm.set_cmderr(cmderr::BUSY);
            return;
        }
        let cmd = d.dm.command;
        let result = match cmd >> 24 {
            0 => self.access_register(cmd),
            _ => Err(cmderr::NOT_SUPPORTED),
        };
        if let (Err(e), Some(d)) = (result, self.debug.as_deref_mut()) {
            d.dm.set_cmderr(e);
        }
    }

    fn access_register(&mut self, cmd: u32) -> Result<(), u8> {
        let Some(d) = self.debug.as_deref() else {
            return Ok(());
        };
        let aarsize = (cmd >> AARSIZE_SHIFT) & 7;
        let transfer = cmd & TRANSFER != 0;
        let postexec = cmd & POSTEXEC != 0;
        let regno = cmd as u16;
        // "Not supported" comes first: it holds whatever state the hart is in.
        if transfer && aarsize != 2 && aarsize != 3 {
            return Err(cmderr::NOT_SUPPORTED);
        }
        if postexec && d.dm.progbuf.is_empty() {
            return Err(cmderr::NOT_SUPPORTED);
        }
        if !d.mode.halted || d.dm.hart_in_reset() {
            return Err(cmderr::HALT_RESUME);
        }
        if transfer {
            let wide = aarsize == 3;
            let [lo, hi] = d.dm.data;
            if cmd & WRITE != 0 {
                let v = if wide {
                    (hi as u64) << 32 | lo as u64
                } else {
                    lo as u64
                };
                if !self.write_abstract_reg(regno, v, wide) {
                    return Err(cmderr::EXCEPTION);
                }
            } else {
                let v = self.read_abstract_reg(regno).ok_or(cmderr::EXCEPTION)?;
                let Some(d) = self.debug.as_deref_mut() else {
                    return Ok(());
                };
                d.dm.data[0] = v as u32;
                if wide {
                    d.dm.data[1] = (v >> 32) as u32;
                }
            }
            if cmd & AARPOSTINCREMENT != 0
                && let Some(d) = self.debug.as_deref_mut()
            {
                d.dm.command = cmd & !0xffff | regno.wrapping_add(1) as u32;
            }
        }
        if postexec && let Some(d) = self.debug.as_deref_mut() {
            d.dm.running = Some(PROGBUF_BASE);
            self.progbuf_continue();
        }
        Ok(())
    }

    fn read_abstract_reg(&self, regno: u16) -> Option<u64> {
        match regno {
            0x1000..=0x101f => Some(self.hart.x[(regno - 0x1000) as usize]),
            0x1020..=0x103f => Some(self.hart.f[(regno - 0x1020) as usize]),
            0..=0xfff => self.try_reg(Reg::Csr(regno)),
            _ => None,
        }
    }

    /// Writes a register; `false` if it does not exist or is read-only.
    fn write_abstract_reg(&mut self, regno: u16, v: u64, wide: bool) -> bool {
        let v = if wide { v } else { v & 0xffff_ffff };
        match regno {
            0x1000..=0x101f => self.hart.set_x((regno - 0x1000) as u8, v),
            0x1020..=0x103f => {
                self.hart.f[(regno - 0x1020) as usize] = if wide { v } else { NAN_BOX | v }
            }
            0..=0xfff => {
                if is_read_only(regno) || self.try_reg(Reg::Csr(regno)).is_none() {
                    return false;
                }
                match regno {
                    // No instruction retires around this write: the counter takes `v`.
                    n::MCYCLE => self.hart.mcycle_offset = v.wrapping_sub(self.stats.cycles),
                    n::MINSTRET => {
                        self.hart.minstret_offset = v.wrapping_sub(self.stats.instructions)
                    }
                    _ => self.set_reg(Reg::Csr(regno), v),
                }
            }
            _ => return false,
        }
        true
    }

    /// Runs one more slice of the program buffer program in progress, if any, and ends its
    /// command when the program ends.
    pub(crate) fn progbuf_continue(&mut self) {
        let Some(mut pc) = self.debug.as_deref().and_then(|d| d.dm.running) else {
            return;
        };
        let mut outcome = None;
        for _ in 0..SLICE {
            match self.progbuf_step(pc) {
                Ok(Some(next)) => pc = next,
                Ok(None) => {
                    outcome = Some(Ok(()));
                    break;
                }
                Err(()) => {
                    outcome = Some(Err(()));
                    break;
                }
            }
        }
        let Some(d) = self.debug.as_deref_mut() else {
            return;
        };
        match outcome {
            None => d.dm.running = Some(pc),
            Some(result) => {
                d.dm.running = None;
                if result.is_err() {
                    d.dm.set_cmderr(cmderr::EXCEPTION);
                }
            }
        }
    }

    /// The 16-bit parcel at byte offset `off` of the program buffer (the implicit `ebreak`
    /// follows the last word).
    fn progbuf_parcel(&self, off: u64) -> Option<u16> {
        let words = &self.debug.as_deref()?.dm.progbuf;
        if !off.is_multiple_of(2) || off >= 4 * (words.len() as u64 + 1) {
            return None;
        }
        let word = words.get((off / 4) as usize).copied().unwrap_or(EBREAK);
        Some((word >> (8 * (off % 4))) as u16)
    }

    fn progbuf_len(&self) -> u64 {
        self.debug
            .as_deref()
            .map_or(0, |d| 4 * (d.dm.progbuf.len() as u64 + 1))
    }

    /// Executes the program buffer instruction at `pc`: `Ok(Some(next))` to continue,
    /// `Ok(None)` when it was the ending `ebreak`, `Err(())` for an exception.
    fn progbuf_step(&mut self, pc: u64) -> Result<Option<u64>, ()> {
        let off = pc.wrapping_sub(PROGBUF_BASE);
        let low = self.progbuf_parcel(off).ok_or(())? as u32;
        let (bits, len) = if low & 3 != 3 {
            (low, 2)
        } else {
            let high = self.progbuf_parcel(off + 2).ok_or(())? as u32;
            (low | high << 16, 4)
        };
        let inst: Inst = decode_bits(bits).map_err(|_| ())?.expand();
        let size = self.progbuf_len();
        let inside = |a: u64| a.wrapping_sub(PROGBUF_BASE) < size;
        let next = pc.wrapping_add(len);
        let imm = inst.imm as i64 as u64;
        match inst.op {
            Op::Ebreak => return Ok(None),
            Op::Wfi => return Ok(Some(next)),
            Op::Ecall | Op::Mret | Op::Sret => return Err(()),
            // Jumps out of the buffer are illegal; checked before they write `rd`.
            Op::Jal if !inside(pc.wrapping_add(imm)) => return Err(()),
            Op::Jalr if !inside(self.hart.xr(inst.rs1).wrapping_add(imm) & !1) => return Err(()),
            _ => {}
        }
        let target = match self.execute(&inst, pc, len) {
            Ok(target) => target,
            Err(Trap::StopAfter(stop, target)) => {
                // The finisher was written: report it from the next `run`.
                self.bus.event = Some(stop);
                target
            }
            Err(_) => return Err(()),
        };
        if !inside(target) {
            return Err(());
        }
        self.count_progbuf_instruction(&inst);
        Ok(Some(target))
    }

    /// `mcycle`/`minstret` for a program buffer instruction that completed: with
    /// `stopcount` clear it counts like any instruction; with it set the counters stay, but
    /// a CSR write to them must then not lose the increment `csr_write` anticipates.
    fn count_progbuf_instruction(&mut self, inst: &Inst) {
        let Some(d) = self.debug.as_deref() else {
            return;
        };
        let h = &mut self.hart;
        if !d.mode.stopcount {
            h.mcycle_offset = h.mcycle_offset.wrapping_add(1);
            h.minstret_offset = h.minstret_offset.wrapping_add(1);
            return;
        }
        use Op::*;
        let writes = match inst.op {
            Csrrw | Csrrwi => true,
            Csrrs | Csrrc | Csrrsi | Csrrci => inst.rs1 != 0,
            _ => false,
        };
        match inst.imm as u16 & 0xfff {
            n::MCYCLE if writes => h.mcycle_offset = h.mcycle_offset.wrapping_add(1),
            n::MINSTRET if writes => h.minstret_offset = h.minstret_offset.wrapping_add(1),
            _ => {}
        }
    }
}
