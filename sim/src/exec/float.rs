//! The F and D extensions: register plumbing (NaN-boxing, `fflags` accrual, `mstatus.FS`,
//! rounding-mode resolution) around the arithmetic in `softfloat`.
//!
//! Every F/D instruction is illegal while `mstatus.FS` is Off; a dynamic rounding mode
//! with `frm` holding a reserved value (5..=7) is illegal too.

use rustc_apfloat::Round;
use rustc_apfloat::ieee::{Double, Single};
use rvflash_backend::isa::{Format, Inst, Op, rm};

use crate::machine::Machine;
use crate::softfloat::{self as sf, BinOp, Cmp};
use crate::trap::Trap;

const SIGN_S: u64 = 1 << 31;
const SIGN_D: u64 = 1 << 63;

impl Machine {
    pub(crate) fn execute_float(&mut self, i: &Inst, pc: u64, next: u64) -> Result<u64, Trap> {
        use Op::*;
        if !self.hart.fp_enabled() {
            return Err(self.illegal(pc));
        }
        let round = if matches!(i.op.format(), Format::RRm | Format::R1Rm | Format::R4) {
            let mode = if i.rm == rm::DYN {
                self.hart.frm as u8
            } else {
                i.rm
            };
            if mode > rm::RMM {
                return Err(self.illegal(pc));
            }
            sf::rounding(mode as u64)
        } else {
            Round::NearestTiesToEven
        };
        let d = is_double(i.op);
        let h = &self.hart;
        let (a, b, c) = (h.f_of(i.rs1, d), h.f_of(i.rs2, d), h.f_of(i.rs3, d));
        let x = h.xr(i.rs1);
        // Results: (value, to an f register?, flags).
        let (v, to_f, fl) = match i.op {
            Flw | Fld => {
                let size = if d { 8 } else { 4 };
                let v = self.load_data(x.wrapping_add(i.imm as i64 as u64), size)?;
                (v, true, 0)
            }
            Fsw | Fsd => {
                // fsw stores the low 32 bits as they are (no NaN-box check).
                let (size, v) = (if d { 8 } else { 4 }, h.f[i.rs2 as usize]);
                self.store_data(x.wrapping_add(i.imm as i64 as u64), size, v, next)?;
                return Ok(next);
            }
            FmaddS | FmsubS | FnmsubS | FnmaddS | FmaddD | FmsubD | FnmsubD | FnmaddD => {
                let neg_prod = matches!(i.op, FnmsubS | FnmaddS | FnmsubD | FnmaddD);
                let neg_add = matches!(i.op, FmsubS | FnmaddS | FmsubD | FnmaddD);
                let (v, f) = if d {
                    sf::fma::<Double>(a, b, c, neg_prod, neg_add, round)
                } else {
                    sf::fma::<Single>(a, b, c, neg_prod, neg_add, round)
                };
                (v, true, f)
            }
            FaddS | FsubS | FmulS | FdivS | FaddD | FsubD | FmulD | FdivD => {
                let op = match i.op {
                    FaddS | FaddD => BinOp::Add,
                    FsubS | FsubD => BinOp::Sub,
                    FmulS | FmulD => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let (v, f) = if d {
                    sf::binop::<Double>(op, a, b, round)
                } else {
                    sf::binop::<Single>(op, a, b, round)
                };
                (v, true, f)
            }
            FsqrtS | FsqrtD => {
                let (v, f) = if d {
                    sf::sqrt::<Double>(a, round)
                } else {
                    sf::sqrt::<Single>(a, round)
                };
                (v, true, f)
            }
            FsgnjS | FsgnjnS | FsgnjxS | FsgnjD | FsgnjnD | FsgnjxD => {
                let sign = if d { SIGN_D } else { SIGN_S };
                let s = match i.op {
                    FsgnjS | FsgnjD => b & sign,
                    FsgnjnS | FsgnjnD => !b & sign,
                    _ => (a ^ b) & sign,
                };
                ((a & !sign) | s, true, 0)
            }
            FminS | FmaxS | FminD | FmaxD => {
                let max = matches!(i.op, FmaxS | FmaxD);
                let (v, f) = if d {
                    sf::minmax::<Double>(a, b, max)
                } else {
                    sf::minmax::<Single>(a, b, max)
                };
                (v, true, f)
            }
            FcvtWS | FcvtWuS | FcvtLS | FcvtLuS | FcvtWD | FcvtWuD | FcvtLD | FcvtLuD => {
                let signed = matches!(i.op, FcvtWS | FcvtLS | FcvtWD | FcvtLD);
                let width = if matches!(i.op, FcvtWS | FcvtWuS | FcvtWD | FcvtWuD) {
                    32
                } else {
                    64
                };
                let (v, f) = if d {
                    sf::to_int::<Double>(a, round, signed, width)
                } else {
                    sf::to_int::<Single>(a, round, signed, width)
                };
                (v, false, f)
            }
            FmvXW => (h.f[i.rs1 as usize] as u32 as i32 as i64 as u64, false, 0),
            FmvXD => (h.f[i.rs1 as usize], false, 0),
            FclassS => (sf::class::<Single>(a), false, 0),
            FclassD => (sf::class::<Double>(a), false, 0),
            FeqS | FltS | FleS | FeqD | FltD | FleD => {
                let cmp = match i.op {
                    FeqS | FeqD => Cmp::Eq,
                    FltS | FltD => Cmp::Lt,
                    _ => Cmp::Le,
                };
                let (v, f) = if d {
                    sf::compare::<Double>(a, b, cmp)
                } else {
                    sf::compare::<Single>(a, b, cmp)
                };
                (v, false, f)
            }
            FcvtSW | FcvtSWu | FcvtSL | FcvtSLu | FcvtDW | FcvtDWu | FcvtDL | FcvtDLu => {
                let n: i128 = match i.op {
                    FcvtSW | FcvtDW => x as i32 as i128,
                    FcvtSWu | FcvtDWu => x as u32 as i128,
                    FcvtSL | FcvtDL => x as i64 as i128,
                    _ => x as i128,
                };
                let (v, f) = if d {
                    sf::from_int::<Double>(n, round)
                } else {
                    sf::from_int::<Single>(n, round)
                };
                (v, true, f)
            }
            FmvWX | FmvDX => (x, true, 0),
            FcvtSD => {
                let (v, f) = sf::convert::<Double, Single>(h.f[i.rs1 as usize], round);
                self.hart.set_f(i.rd, v, false);
                self.hart.accrue(f);
                return Ok(next);
            }
            FcvtDS => {
                let (v, f) = sf::convert::<Single, Double>(h.f32_of(i.rs1), round);
                (v, true, f)
            }
            _ => return Err(self.illegal(pc)),
        };
        if to_f {
            self.hart.set_f(i.rd, v, d);
        } else {
            self.hart.set_x(i.rd, v);
        }
        self.hart.accrue(fl);
        Ok(next)
    }
}

/// Whether an op's main operands (and f-register result) are doubles.
fn is_double(op: Op) -> bool {
    use rvflash_backend::isa::Ext;
    // fcvt.s.d and fcvt.d.s read and write different precisions; they are handled apart.
    op.desc().ext == Ext::D
}
