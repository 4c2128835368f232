//! ABI lowering in instruction selection: incoming parameters, calls, returns, `vastart`
//! and `vaarg` (LP64D; see [`super::abi`] for the register assignment).
//!
//! Values cross the call boundary as regalloc2 fixed-register operands: the entry's
//! [`MInst::Args`] defines the argument registers, a [`MInst::Call`] uses and defines
//! fixed registers, [`MInst::Ret`] uses `a0`/`a1`/`fa0`; `env` travels in `t5`. Stack arguments are plain loads and
//! stores relative to the CFA ([`Base::In`]) or the outgoing area ([`Base::Out`]).
//!
//! Aggregates by value (an aggregate temporary holds its address): integer-class ones of up
//! to 16 bytes travel as one or two 8-byte words (the receiver stores them into a frame slot
//! of its own); larger ones by reference to a copy the caller makes in its frame; a
//! returned one over 16 bytes goes through a hidden pointer in `a0` to a caller slot.
//! Structs of one or two scalar fields with at least one float use the LP64D FP
//! convention (each field in its own FP or integer register) while registers last (named
//! arguments; returns in `fa0`/`fa1`/`a0`); unions always use the integer convention.
//!
//! Variadic callee model (the interpreter's): the prologue stores the unnamed argument
//! registers into the 64-byte save area just below the CFA, so that it continues into the
//! caller's stack arguments; a `va_list` is one pointer walking 8-byte slots.

use alloc::vec::Vec;

use super::Error;
use super::abi::{self, ArgClass, ArgLoc};
use super::isel::Isel;
use super::mir::{Addr, Base, Callee, MInst, Reg, VReg};
use crate::ir::{BaseTy, Call, Const, Op, Value};
use crate::isa::Op as I;

use super::agg::{Pass, field_ty};

impl Isel<'_> {
    fn param_passes(&self) -> Result<(Vec<Pass>, Option<Pass>), Error> {
        let ps = self
            .f
            .params
            .iter()
            .map(|p| self.pass(p.ty))
            .collect::<Result<Vec<_>, _>>()?;
        let r = self.f.ret.map(|r| self.pass(r)).transpose()?;
        Ok((ps, r))
    }

    /// The entry block's prologue: argument registers and stack arguments into param vregs.
    pub(super) fn params(&mut self) -> Result<(), Error> {
        let f = self.f;
        self.pos = f.pos;
        let (passes, ret) = self.param_passes()?;
        let classes: Vec<ArgClass> = passes.iter().map(|p| p.class()).collect();
        let first_x = matches!(ret, Some(Pass::Ref(_))) as u8;
        let fixed = f.variadic.then_some(classes.len());
        let cl = abi::classify(&classes, fixed, first_x);
        let mut defs = Vec::new();
        let mut after = Vec::new();
        let mut used_x = [false; 8];
        if let Some(e) = f.env {
            defs.push((self.temp(e)?.0, abi::x(abi::ENV)));
        }
        if first_x == 1 {
            let v = self.new_vreg(BaseTy::L);
            defs.push((v, abi::x(10)));
            used_x[0] = true;
            self.sret = Some(v);
        }
        for (i, (p, pass)) in f.params.iter().zip(&passes).enumerate() {
            let (v, _) = self.temp(p.temp)?;
            // The register (or stack slot) each word arrives in.
            let mut word = |me: &mut Self, loc: ArgLoc, rd: VReg, ty: BaseTy| match loc {
                ArgLoc::F(n) => defs.push((rd, abi::f(n))),
                ArgLoc::X(n) if ty.is_float() => {
                    used_x[n as usize - 10] = true;
                    let t = me.new_vreg(BaseTy::L);
                    defs.push((t, abi::x(n)));
                    let op = if ty == BaseTy::S { I::FmvWX } else { I::FmvDX };
                    after.push(MInst::Alu {
                        op,
                        rd,
                        rs1: Reg::V(t),
                        rs2: Reg::Zero,
                        imm: 0,
                        rm: 0,
                    });
                }
                ArgLoc::X(n) => {
                    used_x[n as usize - 10] = true;
                    defs.push((rd, abi::x(n)));
                }
                ArgLoc::Stack(off) => {
                    let addr = Addr {
                        base: Base::In,
                        off: off as i64,
                    };
                    after.push(MInst::Load {
                        op: load_op(ty),
                        rd,
                        addr,
                    });
                }
            };
            match pass.resolve(cl.fp[i]) {
                Pass::FpAgg(fs, _, l) => {
                    let mut vals = Vec::new();
                    let locs = [Some(cl.locs[i]), cl.second[i]].into_iter().flatten();
                    for ((e, _), loc) in fs.into_iter().flatten().zip(locs) {
                        let t = self.new_vreg(field_ty(e));
                        word(self, loc, t, field_ty(e));
                        vals.push(t);
                    }
                    let cur = core::mem::take(&mut self.cur);
                    let s = self.spill_fields(&vals, fs, l);
                    let addr = Addr {
                        base: Base::Slot(s),
                        off: 0,
                    };
                    self.push(MInst::Lea { rd: v, addr });
                    after.extend(core::mem::replace(&mut self.cur, cur));
                    self.set_slot(p.temp, s);
                }
                Pass::Scalar(ty, _) => word(self, cl.locs[i], v, ty),
                Pass::Ref(_) => word(self, cl.locs[i], v, BaseTy::L),
                Pass::Words(n, l) => {
                    let mut ws = Vec::new();
                    for loc in [Some(cl.locs[i]), cl.second[i]].into_iter().flatten() {
                        let t = self.new_vreg(BaseTy::L);
                        word(self, loc, t, BaseTy::L);
                        ws.push(t);
                    }
                    debug_assert_eq!(ws.len(), n as usize);
                    // Stores and the address go after the argument moves.
                    let cur = core::mem::take(&mut self.cur);
                    let s = self.spill_words(&ws, l);
                    let addr = Addr {
                        base: Base::Slot(s),
                        off: 0,
                    };
                    self.push(MInst::Lea { rd: v, addr });
                    after.extend(core::mem::replace(&mut self.cur, cur));
                    self.set_slot(p.temp, s);
                }
            }
        }
        if f.variadic {
            for (i, used) in used_x.iter().enumerate() {
                if !used {
                    let t = self.new_vreg(BaseTy::L);
                    defs.push((t, abi::x(10 + i as u8)));
                    let addr = Addr {
                        base: Base::VaArea,
                        off: 8 * i as i64,
                    };
                    after.push(MInst::Store {
                        op: I::Sd,
                        src: t,
                        addr,
                    });
                }
            }
        }
        self.push(MInst::Args { defs });
        after.into_iter().for_each(|i| self.push(i));
        Ok(())
    }

    pub(super) fn call(&mut self, c: &Call) -> Result<(), Error> {
        let passes = c
            .args
            .iter()
            .map(|(t, _)| self.pass(*t))
            .collect::<Result<Vec<_>, _>>()?;
        let ret = c.dest.map(|(_, t)| self.pass(t)).transpose()?;
        let classes: Vec<ArgClass> = passes.iter().map(|p| p.class()).collect();
        let first_x = matches!(ret, Some(Pass::Ref(_))) as u8;
        let cl = abi::classify(&classes, c.variadic, first_x);
        let mut uses = Vec::new();
        if let Some(e) = &c.env {
            let r = self.val(e, BaseTy::L)?;
            uses.push((r, abi::x(abi::ENV)));
        }
        let mut ret_slot = None;
        if let Some(Pass::Ref(l)) = ret {
            let s = self.new_slot(l.size, l.align);
            let p = self.new_vreg(BaseTy::L);
            let addr = Addr {
                base: Base::Slot(s),
                off: 0,
            };
            self.push(MInst::Lea { rd: p, addr });
            uses.push((p, abi::x(10)));
            ret_slot = Some(s);
        }
        for (i, ((_, v), pass)) in c.args.iter().zip(&passes).enumerate() {
            let words: Vec<(VReg, BaseTy)> = match pass.resolve(cl.fp[i]) {
                Pass::FpAgg(fs, _, _) => self.load_fields(v, fs)?,
                Pass::Scalar(ty, ext) => {
                    let mut r = self.val(v, ty)?;
                    if let Some(e) = ext {
                        let t = self.new_vreg(BaseTy::W);
                        self.extend(t, e, r);
                        r = t;
                    }
                    alloc::vec![(r, ty)]
                }
                Pass::Words(n, l) => self
                    .load_words(v, n, l)?
                    .into_iter()
                    .map(|w| (w, BaseTy::L))
                    .collect(),
                Pass::Ref(l) => {
                    let s = self.new_slot(l.size, l.align);
                    let dst = Addr {
                        base: Base::Slot(s),
                        off: 0,
                    };
                    let src = self.addr_reg(v)?;
                    self.copy_mem(dst, src, l);
                    let p = self.new_vreg(BaseTy::L);
                    self.push(MInst::Lea { rd: p, addr: dst });
                    alloc::vec![(p, BaseTy::L)]
                }
            };
            let locs = [Some(cl.locs[i]), cl.second[i]].into_iter().flatten();
            for ((r, ty), loc) in words.into_iter().zip(locs) {
                match loc {
                    ArgLoc::F(n) => uses.push((r, abi::f(n))),
                    ArgLoc::X(n) if ty.is_float() => {
                        let op = if ty == BaseTy::S { I::FmvXW } else { I::FmvXD };
                        let t = self.alu(BaseTy::L, op, Reg::V(r), Reg::Zero, 0, 0);
                        uses.push((t, abi::x(n)));
                    }
                    ArgLoc::X(n) => uses.push((r, abi::x(n))),
                    ArgLoc::Stack(off) => {
                        let op = match ty {
                            BaseTy::S => I::Fsw,
                            BaseTy::D => I::Fsd,
                            _ => I::Sd,
                        };
                        let addr = Addr {
                            base: Base::Out,
                            off: off as i64,
                        };
                        self.push(MInst::Store { op, src: r, addr });
                    }
                }
            }
        }
        let callee = match &c.callee {
            Value::Const(Const::Addr(s)) => Callee::Sym(s.clone()),
            Value::Temp(_) => Callee::Reg(self.val(&c.callee, BaseTy::L)?),
            _ => return Err(Error::unsupported(self.pos, "calls to this kind of callee")),
        };
        self.out_size = self.out_size.max(cl.stack_size);
        self.makes_calls = true;
        let mut defs = Vec::new();
        let mut post: Option<(VReg, Op, VReg)> = None;
        let mut words = Vec::new();
        if let (Some((t, _)), Some(pass)) = (c.dest, ret) {
            let (v, ty) = self.temp(t)?;
            match pass {
                Pass::Scalar(_, Some(e)) => {
                    let r = self.new_vreg(ty);
                    defs.push((r, abi::ret_reg(ty)));
                    post = Some((v, e, r));
                }
                Pass::Scalar(..) => defs.push((v, abi::ret_reg(ty))),
                Pass::Words(n, _) => {
                    for k in 0..n {
                        let r = self.new_vreg(BaseTy::L);
                        defs.push((r, abi::x(10 + k)));
                        words.push(r);
                    }
                }
                Pass::FpAgg(fs, _, _) => {
                    for ((e, _), loc) in fs.into_iter().flatten().zip(Self::ret_locs(pass)) {
                        let r = self.new_vreg(field_ty(e));
                        let p = match loc {
                            ArgLoc::F(n) => abi::f(n),
                            ArgLoc::X(n) => abi::x(n),
                            ArgLoc::Stack(_) => abi::x(10),
                        };
                        defs.push((r, p));
                        words.push(r);
                    }
                }
                Pass::Ref(_) => {}
            }
        }
        self.push(MInst::Call { callee, uses, defs });
        if let Some((v, e, r)) = post {
            self.extend(v, e, r);
        }
        if let (Some((t, _)), Some(pass)) = (c.dest, ret) {
            let (v, _) = self.temp(t)?;
            let s = match pass {
                Pass::Words(_, l) => Some(self.spill_words(&words, l)),
                Pass::FpAgg(fs, _, l) => Some(self.spill_fields(&words, fs, l)),
                Pass::Ref(_) => ret_slot,
                Pass::Scalar(..) => None,
            };
            if let Some(s) = s {
                let addr = Addr {
                    base: Base::Slot(s),
                    off: 0,
                };
                self.push(MInst::Lea { rd: v, addr });
                self.set_slot(t, s);
            }
        }
        Ok(())
    }

    pub(super) fn ret(&mut self, v: Option<&Value>) -> Result<(), Error> {
        let mut uses = Vec::new();
        if let (Some(v), Some(rt)) = (v, self.f.ret) {
            match self.pass(rt)? {
                Pass::Scalar(ty, ext) => {
                    let mut r = self.val(v, ty)?;
                    if let Some(e) = ext {
                        let t = self.new_vreg(ty);
                        self.extend(t, e, r);
                        r = t;
                    }
                    uses.push((r, abi::ret_reg(ty)));
                }
                Pass::Words(n, l) => {
                    for (k, w) in self.load_words(v, n, l)?.into_iter().enumerate() {
                        uses.push((w, abi::x(10 + k as u8)));
                    }
                }
                pass @ Pass::FpAgg(fs, _, _) => {
                    let vals = self.load_fields(v, fs)?;
                    for ((r, _), loc) in vals.into_iter().zip(Self::ret_locs(pass)) {
                        let p = match loc {
                            ArgLoc::F(n) => abi::f(n),
                            ArgLoc::X(n) => abi::x(n),
                            ArgLoc::Stack(_) => abi::x(10),
                        };
                        uses.push((r, p));
                    }
                }
                Pass::Ref(l) => {
                    let sret = self
                        .sret
                        .ok_or_else(|| Error::new(self.pos, "internal: no return pointer"))?;
                    let src = self.addr_reg(v)?;
                    let dst = Addr {
                        base: Base::V(sret),
                        off: 0,
                    };
                    self.copy_mem(dst, src, l);
                    uses.push((sret, abi::x(10)));
                }
            }
        }
        self.push(MInst::Ret { uses });
        Ok(())
    }

    /// `vastart %ap`: the first unnamed slot's address into `*ap`.
    pub(super) fn vastart(&mut self, ap: &Value) -> Result<(), Error> {
        if !self.f.variadic {
            return Err(Error::new(
                self.pos,
                "vastart in a function that is not variadic",
            ));
        }
        let (passes, ret) = self.param_passes()?;
        let classes: Vec<ArgClass> = passes.iter().map(|p| p.class()).collect();
        let first_x = matches!(ret, Some(Pass::Ref(_))) as u8;
        let cl = abi::classify(&classes, Some(classes.len()), first_x);
        let p = self.new_vreg(BaseTy::L);
        let addr = Addr {
            base: Base::VaArea,
            off: 8 * cl.int_slots as i64,
        };
        self.push(MInst::Lea { rd: p, addr });
        let addr = self.addr(ap)?;
        self.push(MInst::Store {
            op: I::Sd,
            src: p,
            addr,
        });
        Ok(())
    }

    /// `%d =ty vaarg %ap`: load the slot `*ap` points at, advance `*ap` by 8.
    pub(super) fn vaarg(&mut self, rd: VReg, ty: BaseTy, ap: &Value) -> Result<(), Error> {
        let a = self.addr(ap)?;
        let p = self.new_vreg(BaseTy::L);
        self.push(MInst::Load {
            op: I::Ld,
            rd: p,
            addr: a,
        });
        let at = Addr {
            base: Base::V(p),
            off: 0,
        };
        self.push(MInst::Load {
            op: load_op(ty),
            rd,
            addr: at,
        });
        let next = self.alu(BaseTy::L, I::Addi, Reg::V(p), Reg::Zero, 8, 0);
        self.push(MInst::Store {
            op: I::Sd,
            src: next,
            addr: a,
        });
        Ok(())
    }
}

fn load_op(ty: BaseTy) -> I {
    match ty {
        BaseTy::W => I::Lw,
        BaseTy::L => I::Ld,
        BaseTy::S => I::Flw,
        BaseTy::D => I::Fld,
    }
}
