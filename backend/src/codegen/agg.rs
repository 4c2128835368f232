//! Aggregates by value in ABI lowering: how an aggregate type travels ([`Pass`]: integer
//! words, the LP64D FP convention for one- or two-field structs with a float, or by
//! reference), and the loads, stores and copies that move aggregates between memory and
//! argument registers. Used by [`super::call`]; it must not decide register assignment
//! (that is [`super::abi::classify`]).

use alloc::vec::Vec;

use super::Error;
use super::abi::{self, ArgClass, ArgLoc};
use super::isel::Isel;
use super::mir::{Addr, Base, MInst, Reg, VReg};
use crate::ir::{AbiTy, BaseTy, ExtTy, FieldTy, Layout, Op, TypeBody, TypeId, Value};
use crate::isa::Op as I;

/// How a value of some ABI type is passed.
#[derive(Clone, Copy, Debug)]
pub(super) enum Pass {
    /// A scalar, with the extension a sub-word type asks for.
    Scalar(BaseTy, Option<Op>),
    /// An aggregate in `n` words.
    Words(u8, Layout),
    /// An aggregate by reference.
    Ref(Layout),
    /// An aggregate eligible for the FP convention: its one or two scalar fields (type,
    /// offset), its word count (for the integer fallback) and layout.
    FpAgg([Option<(ExtTy, u64)>; 2], u8, Layout),
}

impl Pass {
    pub(super) fn class(self) -> ArgClass {
        match self {
            Pass::Scalar(t, _) if t.is_float() => ArgClass::Float,
            Pass::Scalar(..) | Pass::Ref(_) => ArgClass::Int,
            Pass::Words(n, l) => ArgClass::Words {
                n,
                align16: l.align >= 16,
            },
            Pass::FpAgg(fs, n, l) => ArgClass::FpAgg {
                fields: fs.map(|f| f.map(|(e, _)| matches!(e, ExtTy::S | ExtTy::D))),
                n,
                align16: l.align >= 16,
            },
        }
    }

    /// An `FpAgg` that did not get FP registers travels as integer words.
    pub(super) fn resolve(self, fp: bool) -> Pass {
        match self {
            Pass::FpAgg(_, n, l) if !fp => Pass::Words(n, l),
            p => p,
        }
    }
}

/// The base type a field travels as in a register.
pub(super) fn field_ty(e: ExtTy) -> BaseTy {
    match e {
        ExtTy::S => BaseTy::S,
        ExtTy::D => BaseTy::D,
        _ => BaseTy::L,
    }
}

pub(super) fn field_load(e: ExtTy) -> I {
    match e {
        ExtTy::B => I::Lbu,
        ExtTy::H => I::Lhu,
        ExtTy::W => I::Lw,
        ExtTy::L => I::Ld,
        ExtTy::S => I::Flw,
        ExtTy::D => I::Fld,
    }
}

pub(super) fn field_store(e: ExtTy) -> I {
    match e {
        ExtTy::B => I::Sb,
        ExtTy::H => I::Sh,
        ExtTy::W => I::Sw,
        ExtTy::L => I::Sd,
        ExtTy::S => I::Fsw,
        ExtTy::D => I::Fsd,
    }
}

pub(super) fn sub_word(t: AbiTy) -> Option<Op> {
    match t {
        AbiTy::Sb => Some(Op::Extsb),
        AbiTy::Ub => Some(Op::Extub),
        AbiTy::Sh => Some(Op::Extsh),
        AbiTy::Uh => Some(Op::Extuh),
        _ => None,
    }
}

/// Largest aggregate copied inline (register-based offsets must fit 12 bits).
pub(super) const MAX_COPY: u64 = 2048;

impl Isel<'_> {
    pub(super) fn pass(&self, t: AbiTy) -> Result<Pass, Error> {
        let AbiTy::Agg(id) = t else {
            return Ok(Pass::Scalar(t.base(), sub_word(t)));
        };
        let l = self
            .layouts
            .get(id.index())
            .copied()
            .ok_or_else(|| Error::new(self.pos, "unknown aggregate type"))?;
        if l.size > 16 {
            if l.size > MAX_COPY {
                return Err(Error::unsupported(
                    self.pos,
                    "aggregates over 2048 bytes passed by value",
                ));
            }
            Ok(Pass::Ref(l))
        } else {
            let n = l.size.div_ceil(8).max(1) as u8;
            let mut fs = Vec::new();
            let flat = self.flatten(id, 0, &mut fs);
            let has_fp = fs.iter().any(|(e, _)| matches!(e, ExtTy::S | ExtTy::D));
            if flat && has_fp && (1..=2).contains(&fs.len()) {
                Ok(Pass::FpAgg([fs.first().copied(), fs.get(1).copied()], n, l))
            } else {
                Ok(Pass::Words(n, l))
            }
        }
    }

    /// The scalar fields of a struct (nested structs and arrays flattened) with their
    /// offsets; `false` when there are more than two or a union/opaque type is involved
    /// (those use the integer convention).
    pub(super) fn flatten(&self, id: TypeId, base: u64, out: &mut Vec<(ExtTy, u64)>) -> bool {
        let Some(t) = self.m.types.get(id.index()) else {
            return false;
        };
        let TypeBody::Struct(fields) = &t.body else {
            return false;
        };
        let mut off = 0u64;
        for f in fields {
            let (size, align) = match f.ty {
                FieldTy::Ext(e) => (e.size() as u64, e.size() as u64),
                FieldTy::Agg(inner) => match self.layouts.get(inner.index()) {
                    Some(l) if inner.index() < id.index() => (l.size, l.align),
                    _ => return false,
                },
            };
            off = off.next_multiple_of(align.max(1));
            for k in 0..f.count.min(3) {
                let at = base + off + k * size;
                match f.ty {
                    FieldTy::Ext(e) => out.push((e, at)),
                    FieldTy::Agg(inner) => {
                        if !self.flatten(inner, at, out) {
                            return false;
                        }
                    }
                }
                if out.len() > 2 {
                    return false;
                }
            }
            off += size * f.count;
        }
        true
    }

    /// A frame slot holding the fields `vals` of an FP-convention aggregate.
    pub(super) fn spill_fields(
        &mut self,
        vals: &[VReg],
        fs: [Option<(ExtTy, u64)>; 2],
        l: Layout,
    ) -> u32 {
        let s = self.new_slot(l.size.max(8), l.align.max(8));
        for (v, (e, off)) in vals.iter().zip(fs.into_iter().flatten()) {
            let addr = Addr {
                base: Base::Slot(s),
                off: off as i64,
            };
            self.push(MInst::Store {
                op: field_store(e),
                src: *v,
                addr,
            });
        }
        s
    }

    /// Loads the fields of an FP-convention aggregate at `v`.
    pub(super) fn load_fields(
        &mut self,
        v: &Value,
        fs: [Option<(ExtTy, u64)>; 2],
    ) -> Result<Vec<(VReg, BaseTy)>, Error> {
        let a = self.addr_reg(v)?;
        let mut out = Vec::new();
        for (e, off) in fs.into_iter().flatten() {
            let ty = field_ty(e);
            let rd = self.new_vreg(ty);
            let addr = Addr {
                base: a.base,
                off: a.off + off as i64,
            };
            self.push(MInst::Load {
                op: field_load(e),
                rd,
                addr,
            });
            out.push((rd, ty));
        }
        Ok(out)
    }

    /// Where an aggregate result of `pass` comes back: (pass, registers of its parts).
    pub(super) fn ret_locs(pass: Pass) -> Vec<ArgLoc> {
        let cl = abi::classify(&[pass.class()], None, 0);
        [Some(cl.locs[0]), cl.second[0]]
            .into_iter()
            .flatten()
            .collect()
    }

    /// Loads `len` (≤ 8) bytes at `a + off` into a new register, zero-extended.
    pub(super) fn load_part(&mut self, a: Addr, off: i64, len: u64, align: u64) -> VReg {
        let at = Addr {
            base: a.base,
            off: a.off + off,
        };
        let op = match (len, align) {
            (8.., 8..) => Some(I::Ld),
            (4, 4..) => Some(I::Lwu),
            (2, 2..) => Some(I::Lhu),
            (1, _) => Some(I::Lbu),
            _ => None,
        };
        let rd = self.new_vreg(BaseTy::L);
        if let Some(op) = op {
            self.push(MInst::Load { op, rd, addr: at });
            return rd;
        }
        // Unaligned or odd-sized tail: assemble it byte by byte.
        self.push(MInst::Load {
            op: I::Lbu,
            rd,
            addr: at,
        });
        let mut acc = rd;
        for j in 1..len.min(8) {
            let b = self.new_vreg(BaseTy::L);
            let addr = Addr {
                base: at.base,
                off: at.off + j as i64,
            };
            self.push(MInst::Load {
                op: I::Lbu,
                rd: b,
                addr,
            });
            let s = self.alu(BaseTy::L, I::Slli, Reg::V(b), Reg::Zero, 8 * j as i32, 0);
            acc = self.alu(BaseTy::L, I::Or, Reg::V(acc), Reg::V(s), 0, 0);
        }
        acc
    }

    /// The `n` words of the aggregate at `v`.
    pub(super) fn load_words(&mut self, v: &Value, n: u8, l: Layout) -> Result<Vec<VReg>, Error> {
        let a = self.addr_reg(v)?;
        Ok((0..n as u64)
            .map(|k| self.load_part(a, 8 * k as i64, l.size - 8 * k, l.align.min(8)))
            .collect())
    }

    /// Copies `l.size` bytes from `src` to `dst`, in the widest accesses the alignment allows.
    pub(super) fn copy_mem(&mut self, dst: Addr, src: Addr, l: Layout) {
        let mut off = 0u64;
        while off < l.size {
            let left = l.size - off;
            let w = [8u64, 4, 2, 1]
                .into_iter()
                .find(|w| *w <= l.align && *w <= left)
                .unwrap_or(1);
            let (lop, sop) = match w {
                8 => (I::Ld, I::Sd),
                4 => (I::Lw, I::Sw),
                2 => (I::Lh, I::Sh),
                _ => (I::Lb, I::Sb),
            };
            let t = self.new_vreg(BaseTy::L);
            let at = |a: Addr| Addr {
                base: a.base,
                off: a.off + off as i64,
            };
            self.push(MInst::Load {
                op: lop,
                rd: t,
                addr: at(src),
            });
            self.push(MInst::Store {
                op: sop,
                src: t,
                addr: at(dst),
            });
            off += w;
        }
    }

    /// A frame slot holding words `ws` (8 bytes each); returns the slot.
    pub(super) fn spill_words(&mut self, ws: &[VReg], l: Layout) -> u32 {
        let s = self.new_slot((8 * ws.len() as u64).max(l.size), l.align.max(8));
        for (k, w) in ws.iter().enumerate() {
            let addr = Addr {
                base: Base::Slot(s),
                off: 8 * k as i64,
            };
            self.push(MInst::Store {
                op: I::Sd,
                src: *w,
                addr,
            });
        }
        s
    }
}
