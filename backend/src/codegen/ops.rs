//! Instruction selection of the arithmetic, comparison, conversion and copy instructions
//! (the part of [`super::isel`] that maps one IR operation to RV64 instructions).
//!
//! Keeps isel's invariant: a `w` result is left sign-extended in its register.

use alloc::format;

use super::Error;
use super::abi;
use super::isel::{Isel, const_int, fits12};
use super::mir::{Addr, Base, Callee, MInst, Reg, VReg};
use crate::ir::{BaseTy, Cond, Op, Value};
use crate::isa::{Op as I, rm};

impl Isel<'_> {
    pub(super) fn branch_cond(
        &mut self,
        c: Cond,
        ty: BaseTy,
        a: &Value,
        b: &Value,
    ) -> Result<(I, Reg, Reg), Error> {
        let (op, swap) = match c {
            Cond::Eq => (I::Beq, false),
            Cond::Ne => (I::Bne, false),
            Cond::Slt => (I::Blt, false),
            Cond::Sge => (I::Bge, false),
            Cond::Sgt => (I::Blt, true),
            Cond::Sle => (I::Bge, true),
            Cond::Ult => (I::Bltu, false),
            Cond::Uge => (I::Bgeu, false),
            Cond::Ugt => (I::Bltu, true),
            Cond::Ule => (I::Bgeu, true),
            _ => return Err(Error::new(self.pos, "float condition in an integer branch")),
        };
        let x = self.reg(a, ty)?;
        let y = self.reg(b, ty)?;
        Ok(if swap { (op, y, x) } else { (op, x, y) })
    }

    /// Extension `op` of register `a` into `rd`.
    pub fn extend(&mut self, rd: VReg, op: Op, a: VReg) {
        let a = Reg::V(a);
        let (shift, right) = match op {
            Op::Extsw => return self.alu_to(rd, I::Addiw, a, Reg::Zero, 0, 0),
            Op::Extub => return self.alu_to(rd, I::Andi, a, Reg::Zero, 255, 0),
            Op::Extuw => (32, I::Srli),
            Op::Extsh => (48, I::Srai),
            Op::Extuh => (48, I::Srli),
            _ => (56, I::Srai),
        };
        let t = self.alu(BaseTy::L, I::Slli, a, Reg::Zero, shift, 0);
        self.alu_to(rd, right, Reg::V(t), Reg::Zero, shift, 0);
    }

    pub(super) fn int_bin(
        &mut self,
        rd: VReg,
        ty: BaseTy,
        op: Op,
        args: &[Value],
    ) -> Result<(), Error> {
        let w = ty == BaseTy::W;
        // (register form, immediate form, commutative)
        let (rop, iop, comm) = match (op, w) {
            (Op::Add, true) => (I::Addw, Some(I::Addiw), true),
            (Op::Add, false) => (I::Add, Some(I::Addi), true),
            (Op::Sub, true) => (I::Subw, None, false),
            (Op::Sub, false) => (I::Sub, None, false),
            (Op::Mul, true) => (I::Mulw, None, true),
            (Op::Mul, false) => (I::Mul, None, true),
            (Op::Div, true) => (I::Divw, None, false),
            (Op::Div, false) => (I::Div, None, false),
            (Op::Udiv, true) => (I::Divuw, None, false),
            (Op::Udiv, false) => (I::Divu, None, false),
            (Op::Rem, true) => (I::Remw, None, false),
            (Op::Rem, false) => (I::Rem, None, false),
            (Op::Urem, true) => (I::Remuw, None, false),
            (Op::Urem, false) => (I::Remu, None, false),
            (Op::Or, _) => (I::Or, Some(I::Ori), true),
            (Op::Xor, _) => (I::Xor, Some(I::Xori), true),
            (Op::And, _) => (I::And, Some(I::Andi), true),
            (Op::Shl, true) => (I::Sllw, Some(I::Slliw), false),
            (Op::Shl, false) => (I::Sll, Some(I::Slli), false),
            (Op::Shr, true) => (I::Srlw, Some(I::Srliw), false),
            (Op::Shr, false) => (I::Srl, Some(I::Srli), false),
            (Op::Sar, true) => (I::Sraw, Some(I::Sraiw), false),
            _ => (I::Sra, Some(I::Srai), false),
        };
        let shift = matches!(op, Op::Shl | Op::Shr | Op::Sar);
        let aty = if shift { BaseTy::W } else { ty };
        let (mut a, mut b) = (&args[0], &args[1]);
        if comm && const_int(a, ty).is_some() && const_int(b, ty).is_none() {
            core::mem::swap(&mut a, &mut b);
        }
        if shift && let Some(c) = const_int(b, BaseTy::W) {
            let mask = if w { 31 } else { 63 };
            let x = Reg::V(self.val(a, ty)?);
            self.alu_to(rd, iop.unwrap_or(rop), x, Reg::Zero, (c & mask) as i32, 0);
            return Ok(());
        }
        if !shift {
            let imm = match (op, const_int(b, ty)) {
                (Op::Sub, Some(c)) if fits12(c.wrapping_neg()) => {
                    Some((if w { I::Addiw } else { I::Addi }, c.wrapping_neg()))
                }
                (_, Some(c)) if fits12(c) => iop.map(|i| (i, c)),
                _ => None,
            };
            if let Some((iop, c)) = imm {
                let x = self.reg(a, ty)?;
                self.alu_to(rd, iop, x, Reg::Zero, c as i32, 0);
                return Ok(());
            }
        }
        let x = self.reg(a, ty)?;
        let y = self.reg(b, aty)?;
        self.alu_to(rd, rop, x, y, 0, 0);
        Ok(())
    }

    pub(super) fn float_bin(
        &mut self,
        rd: VReg,
        ty: BaseTy,
        op: Op,
        args: &[Value],
    ) -> Result<(), Error> {
        let s = ty == BaseTy::S;
        let mop = match (op, s) {
            (Op::Add, true) => I::FaddS,
            (Op::Add, false) => I::FaddD,
            (Op::Sub, true) => I::FsubS,
            (Op::Sub, false) => I::FsubD,
            (Op::Mul, true) => I::FmulS,
            (Op::Mul, false) => I::FmulD,
            (Op::Div, true) => I::FdivS,
            (Op::Div, false) => I::FdivD,
            _ => {
                return Err(Error::new(
                    self.pos,
                    format!("{op} is not defined on floats"),
                ));
            }
        };
        let a = Reg::V(self.val(&args[0], ty)?);
        let b = Reg::V(self.val(&args[1], ty)?);
        self.alu_to(rd, mop, a, b, 0, rm::DYN);
        Ok(())
    }

    pub(super) fn cmp_int(
        &mut self,
        rd: VReg,
        c: Cond,
        ty: BaseTy,
        a: &Value,
        b: &Value,
    ) -> Result<(), Error> {
        let l = BaseTy::L;
        match c {
            Cond::Eq | Cond::Ne => {
                let x = self.reg(a, ty)?;
                let diff = match const_int(b, ty) {
                    Some(0) => x,
                    Some(k) if fits12(k) => Reg::V(self.alu(l, I::Xori, x, Reg::Zero, k as i32, 0)),
                    _ => {
                        let y = self.reg(b, ty)?;
                        Reg::V(self.alu(l, I::Xor, x, y, 0, 0))
                    }
                };
                if c == Cond::Eq {
                    self.alu_to(rd, I::Sltiu, diff, Reg::Zero, 1, 0);
                } else {
                    self.alu_to(rd, I::Sltu, Reg::Zero, diff, 0, 0);
                }
            }
            _ => {
                let unsigned = matches!(c, Cond::Ult | Cond::Ule | Cond::Ugt | Cond::Uge);
                let (rop, iop) = if unsigned {
                    (I::Sltu, I::Sltiu)
                } else {
                    (I::Slt, I::Slti)
                };
                // x < y, optionally swapped and/or negated.
                let (swap, negate) = match c {
                    Cond::Slt | Cond::Ult => (false, false),
                    Cond::Sge | Cond::Uge => (false, true),
                    Cond::Sgt | Cond::Ugt => (true, false),
                    _ => (true, true),
                };
                let dst = if negate { self.new_vreg(l) } else { rd };
                match const_int(b, ty) {
                    Some(k) if !swap && fits12(k) => {
                        let x = self.reg(a, ty)?;
                        self.alu_to(dst, iop, x, Reg::Zero, k as i32, 0);
                    }
                    _ => {
                        let x = self.reg(a, ty)?;
                        let y = self.reg(b, ty)?;
                        let (x, y) = if swap { (y, x) } else { (x, y) };
                        self.alu_to(dst, rop, x, y, 0, 0);
                    }
                }
                if negate {
                    self.alu_to(rd, I::Xori, Reg::V(dst), Reg::Zero, 1, 0);
                }
            }
        }
        Ok(())
    }

    pub(super) fn cmp_float(
        &mut self,
        rd: VReg,
        c: Cond,
        ty: BaseTy,
        a: &Value,
        b: &Value,
    ) -> Result<(), Error> {
        let s = ty == BaseTy::S;
        let (feq, flt, fle) = if s {
            (I::FeqS, I::FltS, I::FleS)
        } else {
            (I::FeqD, I::FltD, I::FleD)
        };
        let x = Reg::V(self.val(a, ty)?);
        let y = Reg::V(self.val(b, ty)?);
        let l = BaseTy::L;
        match c {
            Cond::Eq => self.alu_to(rd, feq, x, y, 0, 0),
            Cond::Ne => {
                let t = self.alu(l, feq, x, y, 0, 0);
                self.alu_to(rd, I::Xori, Reg::V(t), Reg::Zero, 1, 0);
            }
            Cond::Lt => self.alu_to(rd, flt, x, y, 0, 0),
            Cond::Le => self.alu_to(rd, fle, x, y, 0, 0),
            Cond::Gt => self.alu_to(rd, flt, y, x, 0, 0),
            Cond::Ge => self.alu_to(rd, fle, y, x, 0, 0),
            Cond::O | Cond::Uo => {
                let t1 = self.alu(l, feq, x, x, 0, 0);
                let t2 = self.alu(l, feq, y, y, 0, 0);
                if c == Cond::O {
                    self.alu_to(rd, I::And, Reg::V(t1), Reg::V(t2), 0, 0);
                } else {
                    let t3 = self.alu(l, I::And, Reg::V(t1), Reg::V(t2), 0, 0);
                    self.alu_to(rd, I::Xori, Reg::V(t3), Reg::Zero, 1, 0);
                }
            }
            _ => return Err(Error::new(self.pos, "integer condition on floats")),
        }
        Ok(())
    }

    /// `blit src, dst, n`: up to 2048 bytes an unrolled copy, 8 bytes at a time when both
    /// ends are frame slots (slot alignment known), else byte by byte; larger: `memcpy`.
    pub(super) fn blit(&mut self, src: &Value, dst: &Value, n: &Value) -> Result<(), Error> {
        let n = match const_int(n, BaseTy::W) {
            Some(n) if (0..=2048).contains(&n) => n,
            Some(n) if n > 0 => {
                // Large copies call `memcpy(dst, src, n)`, as C compilers do.
                let d = self.val(dst, BaseTy::L)?;
                let s = self.val(src, BaseTy::L)?;
                let len = self.new_vreg(BaseTy::L);
                self.push(MInst::Li { rd: len, imm: n });
                let uses = alloc::vec![(d, abi::x(10)), (s, abi::x(11)), (len, abi::x(12))];
                self.push(MInst::Call {
                    callee: Callee::Sym("memcpy".into()),
                    uses,
                    defs: alloc::vec::Vec::new(),
                });
                self.makes_calls = true;
                return Ok(());
            }
            _ => {
                return Err(Error::new(
                    self.pos,
                    "blit size must be a non-negative constant",
                ));
            }
        };
        let s = self.addr_reg(src)?;
        let d = self.addr_reg(dst)?;
        let wide = |x: &Addr, me: &Self| match x.base {
            Base::Slot(i) => me.slots[i as usize].align >= 8 && x.off % 8 == 0,
            _ => false,
        };
        let step = if wide(&s, self) && wide(&d, self) {
            8
        } else {
            1
        };
        let mut off = 0;
        while off < n {
            let (w, lop, sop) = if step == 8 && n - off >= 8 {
                (8, I::Ld, I::Sd)
            } else {
                (1, I::Lbu, I::Sb)
            };
            let t = self.new_vreg(BaseTy::L);
            let at = |a: &Addr| Addr {
                base: a.base,
                off: a.off + off,
            };
            self.push(MInst::Load {
                op: lop,
                rd: t,
                addr: at(&s),
            });
            self.push(MInst::Store {
                op: sop,
                src: t,
                addr: at(&d),
            });
            off += w;
        }
        Ok(())
    }

    /// An address with a zero offset when register-based (so offsets up to 2047 fit).
    pub(super) fn addr_reg(&mut self, v: &Value) -> Result<Addr, Error> {
        let a = self.addr(v)?;
        match a.base {
            Base::V(r) if a.off != 0 => {
                let t = self.alu(BaseTy::L, I::Addi, Reg::V(r), Reg::Zero, a.off as i32, 0);
                Ok(Addr {
                    base: Base::V(t),
                    off: 0,
                })
            }
            _ => Ok(a),
        }
    }
}

/// The conversion instruction for `op` with result type `ty`: (op, rounding mode, arg type).
pub(super) fn conv(op: Op, ty: BaseTy) -> (I, u8, BaseTy) {
    use BaseTy::{D, L, S, W};
    let (d, s, w, l) = (ty == D, ty == S, ty == W, ty == L);
    let _ = l;
    match op {
        Op::Exts => (I::FcvtDS, rm::RNE, S),
        Op::Truncd => (I::FcvtSD, rm::DYN, D),
        Op::Stosi => (if w { I::FcvtWS } else { I::FcvtLS }, rm::RTZ, S),
        Op::Stoui => (if w { I::FcvtWuS } else { I::FcvtLuS }, rm::RTZ, S),
        Op::Dtosi => (if w { I::FcvtWD } else { I::FcvtLD }, rm::RTZ, D),
        Op::Dtoui => (if w { I::FcvtWuD } else { I::FcvtLuD }, rm::RTZ, D),
        Op::Swtof if d => (I::FcvtDW, rm::RNE, W),
        Op::Swtof => (I::FcvtSW, rm::DYN, W),
        Op::Uwtof if d => (I::FcvtDWu, rm::RNE, W),
        Op::Uwtof => (I::FcvtSWu, rm::DYN, W),
        Op::Sltof if d => (I::FcvtDL, rm::DYN, L),
        Op::Sltof => (I::FcvtSL, rm::DYN, L),
        Op::Ultof if d => (I::FcvtDLu, rm::DYN, L),
        Op::Ultof => (I::FcvtSLu, rm::DYN, L),
        // Cast.
        _ if w => (I::FmvXW, 0, S),
        _ if s => (I::FmvWX, 0, W),
        _ if d => (I::FmvDX, 0, L),
        _ => (I::FmvXD, 0, D),
    }
}
