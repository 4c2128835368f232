//! Fences, `ecall`, `ebreak` (with semihosting detection), `mret`, `wfi`, `sret` (illegal:
//! there is no S-mode) and the Zicsr instructions.

use rvflash_backend::isa::{Inst, Op};

use crate::Stop;
use crate::csr::is_read_only;
use crate::machine::Machine;
use crate::trap::{Trap, cause};

/// `slli x0, x0, 0x1f`, `ebreak`, `srai x0, x0, 7`: the RISC-V semihosting sequence.
const SEMI_PRE: u32 = 0x01f0_1013;
const SEMI_EBREAK: u32 = 0x0010_0073;
const SEMI_POST: u32 = 0x4070_5013;

impl Machine {
    /// Everything but RV64I/M (called by `execute`).
    pub(crate) fn execute_other(&mut self, i: &Inst, pc: u64, next: u64) -> Result<u64, Trap> {
        use Op::*;
        match i.op {
            // Every store invalidates the decoded copies it overwrites, so instruction
            // fetch is always coherent and fence.i has nothing to do.
            Fence | FenceTso | FenceI => Ok(next),
            Ecall => Err(Trap::exception(cause::ECALL_M, 0)),
            Ebreak => {
                // dcsr.ebreakm: to the debugger, even for the semihosting sequence.
                if self.debug.as_deref().is_some_and(|d| d.ebreakm()) {
                    return Err(Trap::Stop(Stop::DebugHalted));
                }
                if next.wrapping_sub(pc) == 4 && self.config.semihosting && self.is_semihosting(pc)
                {
                    return Err(Trap::Stop(Stop::Semihosting));
                }
                // mtval 0, as QEMU (the reference board) leaves it; the spec allows 0 or pc.
                Err(Trap::exception(cause::BREAKPOINT, 0))
            }
            Mret => Ok(self.mret()),
            Wfi => self.wfi(next),
            Sret => Err(self.illegal(pc)),
            Csrrw | Csrrs | Csrrc | Csrrwi | Csrrsi | Csrrci => self.csr_op(i, pc, next),
            LrW | ScW | AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW
            | AmominuW | AmomaxuW | LrD | ScD | AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD
            | AmominD | AmomaxD | AmominuD | AmomaxuD => self.execute_atomic(i, next),
            _ => self.execute_float(i, pc, next),
        }
    }

    /// Whether the `ebreak` at `pc` sits between the semihosting marker instructions.
    fn is_semihosting(&self, pc: u64) -> bool {
        let word = |a: u64| {
            self.bus
                .ram_slice(a, 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        word(pc.wrapping_sub(4)) == Some(SEMI_PRE)
            && word(pc) == Some(SEMI_EBREAK)
            && word(pc.wrapping_add(4)) == Some(SEMI_POST)
    }

    fn csr_op(&mut self, i: &Inst, pc: u64, next: u64) -> Result<u64, Trap> {
        use Op::*;
        let csr = i.imm as u16;
        let src = match i.op {
            Csrrw | Csrrs | Csrrc => self.hart.xr(i.rs1),
            _ => i.rs1 as u64,
        };
        let writes = matches!(i.op, Csrrw | Csrrwi) || i.rs1 != 0;
        let Some(old) = self.csr_read(csr) else {
            return Err(self.illegal(pc));
        };
        if writes {
            if is_read_only(csr) {
                return Err(self.illegal(pc));
            }
            let new = match i.op {
                Csrrw | Csrrwi => src,
                Csrrs | Csrrsi => old | src,
                _ => old & !src,
            };
            self.csr_write(csr, new);
        }
        self.hart.set_x(i.rd, old);
        Ok(next)
    }
}
