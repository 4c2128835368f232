//! The A extension: LR/SC with a reservation, and the AMOs (aq/rl are accepted; with one
//! hart every access is already sequentially consistent). RAM only: atomics on devices
//! raise access faults; misaligned ones raise address-misaligned exceptions.

use rvflash_backend::isa::{Inst, Op};

use crate::machine::Machine;
use crate::trap::{Trap, cause};

impl Machine {
    pub(crate) fn execute_atomic(&mut self, i: &Inst, next: u64) -> Result<u64, Trap> {
        use Op::*;
        let addr = self.hart.xr(i.rs1);
        let src = self.hart.xr(i.rs2);
        let word = matches!(
            i.op,
            LrW | ScW
                | AmoswapW
                | AmoaddW
                | AmoxorW
                | AmoandW
                | AmoorW
                | AmominW
                | AmomaxW
                | AmominuW
                | AmomaxuW
        );
        let size = if word { 4 } else { 8 };
        let sext = |v: u64| {
            if word {
                v as u32 as i32 as i64 as u64
            } else {
                v
            }
        };
        let now = self.stats.cycles;
        match i.op {
            LrW | LrD => {
                if !addr.is_multiple_of(size) {
                    return Err(Trap::exception(cause::LOAD_MISALIGNED, addr));
                }
                if self.bus.ram_offset(addr, size).is_none() {
                    return Err(Trap::exception(cause::LOAD_ACCESS, addr));
                }
                let v = self.load_data(addr, size)?;
                self.hart.reservation = Some((addr, v));
                self.hart.set_x(i.rd, sext(v));
            }
            ScW | ScD => {
                // As QEMU: succeed when the address matches and memory still holds the value
                // LR loaded; the reservation is consumed either way.
                let ok = match self.hart.reservation.take() {
                    Some((a, v)) if a == addr => self.bus.load(addr, size, now) == Ok(v),
                    _ => false,
                };
                if ok {
                    self.store_data(addr, size, src, next)?;
                }
                self.hart.set_x(i.rd, !ok as u64);
            }
            _ => {
                if !addr.is_multiple_of(size) {
                    return Err(Trap::exception(cause::STORE_MISALIGNED, addr));
                }
                if self.bus.ram_offset(addr, size).is_none() {
                    return Err(Trap::exception(cause::STORE_ACCESS, addr));
                }
                let old = self.load_data(addr, size)?;
                let (s_old, s_src) = (sext(old) as i64, sext(src) as i64);
                let (u_old, u_src) = if word {
                    (old & 0xffff_ffff, src & 0xffff_ffff)
                } else {
                    (old, src)
                };
                let new = match i.op {
                    AmoswapW | AmoswapD => src,
                    AmoaddW | AmoaddD => old.wrapping_add(src),
                    AmoxorW | AmoxorD => old ^ src,
                    AmoandW | AmoandD => old & src,
                    AmoorW | AmoorD => old | src,
                    AmominW | AmominD => s_old.min(s_src) as u64,
                    AmomaxW | AmomaxD => s_old.max(s_src) as u64,
                    AmominuW | AmominuD => u_old.min(u_src),
                    _ => u_old.max(u_src),
                };
                self.store_data(addr, size, new, next)?;
                self.hart.set_x(i.rd, sext(old));
            }
        }
        Ok(next)
    }
}
