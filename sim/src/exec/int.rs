//! RV64I and M, loads and stores, and the top-level dispatch to the other families.

use rvflash_backend::isa::{Inst, Op};

use crate::machine::Machine;
use crate::trap::{Trap, cause};

#[inline(always)]
fn sext32(v: u64) -> u64 {
    v as u32 as i32 as i64 as u64
}

impl Machine {
    /// Executes `i` (at `pc`, `len` bytes long); returns the next `pc`.
    // Not inlined into the run loop: measured faster (the loop keeps its registers).
    #[inline(never)]
    pub(crate) fn execute(&mut self, i: &Inst, pc: u64, len: u64) -> Result<u64, Trap> {
        use Op::*;
        let next = pc.wrapping_add(len);
        let h = &self.hart;
        let a = h.xr(i.rs1);
        let b = h.xr(i.rs2);
        let imm = i.imm as i64 as u64;
        let v = match i.op {
            Lui => imm << 12,
            Auipc => pc.wrapping_add(imm << 12),
            Jal => {
                self.hart.set_x(i.rd, next);
                return Ok(pc.wrapping_add(imm));
            }
            Jalr => {
                let target = a.wrapping_add(imm) & !1;
                self.hart.set_x(i.rd, next);
                return Ok(target);
            }
            Beq | Bne | Blt | Bge | Bltu | Bgeu => {
                let taken = match i.op {
                    Beq => a == b,
                    Bne => a != b,
                    Blt => (a as i64) < (b as i64),
                    Bge => (a as i64) >= (b as i64),
                    Bltu => a < b,
                    _ => a >= b,
                };
                return Ok(if taken { pc.wrapping_add(imm) } else { next });
            }
            Lb => self.load_data(a.wrapping_add(imm), 1)? as i8 as i64 as u64,
            Lh => self.load_data(a.wrapping_add(imm), 2)? as i16 as i64 as u64,
            Lw => self.load_data(a.wrapping_add(imm), 4)? as i32 as i64 as u64,
            Ld => self.load_data(a.wrapping_add(imm), 8)?,
            Lbu => self.load_data(a.wrapping_add(imm), 1)?,
            Lhu => self.load_data(a.wrapping_add(imm), 2)?,
            Lwu => self.load_data(a.wrapping_add(imm), 4)?,
            Sb | Sh | Sw | Sd => {
                let size = match i.op {
                    Sb => 1,
                    Sh => 2,
                    Sw => 4,
                    _ => 8,
                };
                self.store_data(a.wrapping_add(imm), size, b, next)?;
                return Ok(next);
            }
            Addi => a.wrapping_add(imm),
            Slti => ((a as i64) < (imm as i64)) as u64,
            Sltiu => (a < imm) as u64,
            Xori => a ^ imm,
            Ori => a | imm,
            Andi => a & imm,
            Slli => a << (imm & 63),
            Srli => a >> (imm & 63),
            Srai => ((a as i64) >> (imm & 63)) as u64,
            Add => a.wrapping_add(b),
            Sub => a.wrapping_sub(b),
            Sll => a << (b & 63),
            Slt => ((a as i64) < (b as i64)) as u64,
            Sltu => (a < b) as u64,
            Xor => a ^ b,
            Srl => a >> (b & 63),
            Sra => ((a as i64) >> (b & 63)) as u64,
            Or => a | b,
            And => a & b,
            Addiw => sext32(a.wrapping_add(imm)),
            Slliw => sext32(((a as u32) << (imm & 31)) as u64),
            Srliw => sext32(((a as u32) >> (imm & 31)) as u64),
            Sraiw => ((a as i32) >> (imm & 31)) as i64 as u64,
            Addw => sext32(a.wrapping_add(b)),
            Subw => sext32(a.wrapping_sub(b)),
            Sllw => sext32(((a as u32) << (b & 31)) as u64),
            Srlw => sext32(((a as u32) >> (b & 31)) as u64),
            Sraw => ((a as i32) >> (b & 31)) as i64 as u64,
            Mul => a.wrapping_mul(b),
            Mulh => ((a as i64 as i128).wrapping_mul(b as i64 as i128) >> 64) as u64,
            Mulhsu => ((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64,
            Mulhu => ((a as u128 * b as u128) >> 64) as u64,
            Div if b == 0 => u64::MAX,
            Div => (a as i64).wrapping_div(b as i64) as u64,
            Divu if b == 0 => u64::MAX,
            Divu => a / b,
            Rem if b == 0 => a,
            Rem => (a as i64).wrapping_rem(b as i64) as u64,
            Remu if b == 0 => a,
            Remu => a % b,
            Mulw => sext32(a.wrapping_mul(b)),
            Divw if b as u32 == 0 => u64::MAX,
            Divw => (a as i32).wrapping_div(b as i32) as i64 as u64,
            Divuw if b as u32 == 0 => u64::MAX,
            Divuw => sext32(((a as u32) / (b as u32)) as u64),
            Remw if b as u32 == 0 => sext32(a),
            Remw => (a as i32).wrapping_rem(b as i32) as i64 as u64,
            Remuw if b as u32 == 0 => sext32(a),
            Remuw => sext32(((a as u32) % (b as u32)) as u64),
            _ => return self.execute_other(i, pc, next),
        };
        self.hart.set_x(i.rd, v);
        Ok(next)
    }

    /// A data load (raw, zero-extended); faults are load access faults.
    #[inline(always)]
    pub(crate) fn load_data(&mut self, addr: u64, size: u64) -> Result<u64, Trap> {
        self.bus
            .load(addr, size, self.stats.cycles)
            .map_err(|_| Trap::exception(cause::LOAD_ACCESS, addr))
    }

    /// A data store; faults are store access faults. A device write that stops the machine
    /// (the finisher) stops it after this instruction, which continues at `next`.
    #[inline(always)]
    pub(crate) fn store_data(
        &mut self,
        addr: u64,
        size: u64,
        v: u64,
        next: u64,
    ) -> Result<(), Trap> {
        if self.bus.ram_offset(addr, size).is_some() {
            return self
                .bus
                .store(addr, size, v, self.stats.cycles)
                .map_err(|_| Trap::exception(cause::STORE_ACCESS, addr));
        }
        self.store_device(addr, size, v, next)
    }

    #[cold]
    fn store_device(&mut self, addr: u64, size: u64, v: u64, next: u64) -> Result<(), Trap> {
        self.bus
            .store(addr, size, v, self.stats.cycles)
            .map_err(|_| Trap::exception(cause::STORE_ACCESS, addr))?;
        // Device writes may change msip/mtimecmp/mtime.
        self.next_irq_check = 0;
        match self.bus.event.take() {
            Some(stop) => Err(Trap::StopAfter(stop, next)),
            None => Ok(()),
        }
    }
}
