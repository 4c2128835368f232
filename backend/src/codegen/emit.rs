//! Emission, part 1: MIR + allocation + frame → the [`Item`] stream on physical registers.
//!
//! Expands the pseudos (`li` chains, frame addresses, prologue/epilogue, spills and the
//! allocator's moves), resolves frame offsets (through the scratch register `t6` when they
//! do not fit 12 bits) and elides jumps to the next block. Label numbers are MIR block
//! indices. Encoding and relocations are [`super::write`]'s job.

use alloc::format;
use alloc::vec::Vec;

use regalloc2::{Allocation, Edit, InstOrEdit, Output, RegClass};

use super::Error;
use super::abi::{FP, SCRATCH};
use super::frame::Frame;
use super::isel::fits12;
use super::mir::{Addr, Base, Callee, MBlock, MFunc, MInst, Reg};
use super::relax::{Item, invert};
use crate::ir::Pos;
use crate::isa::{Inst, Op};

const SP: u8 = 2;
const RA: u8 = 1;

struct Emitter<'a> {
    frame: &'a Frame,
    syms: &'a [alloc::string::String],
    items: Vec<Item>,
    pos: Pos,
}

/// Lowers `f` to items.
pub fn lower(f: &MFunc, out: &Output, frame: &Frame, pos: Pos) -> Result<Vec<Item>, Error> {
    let mut e = Emitter {
        frame,
        syms: &f.syms,
        items: Vec::new(),
        pos,
    };
    for b in 0..f.blocks.len() {
        e.items.push(Item::Label(b as u32));
        if b == 0 {
            e.prologue();
        }
        let next = (b + 1 < f.blocks.len()).then(|| MBlock::new(b + 1));
        for ie in out.block_insts_and_edits(f, MBlock::new(b)) {
            match ie {
                InstOrEdit::Edit(Edit::Move { from, to }) => e.mov(*from, *to)?,
                InstOrEdit::Inst(i) => {
                    let allocs = out.inst_allocs(i);
                    e.inst(&f.insts[i.index()], allocs, next)?;
                }
            }
        }
    }
    Ok(e.items)
}

/// The register of an allocation (every operand is register-constrained).
fn preg(a: Option<&Allocation>, pos: Pos) -> Result<u8, Error> {
    a.and_then(|a| a.as_reg())
        .map(|p| p.hw_enc() as u8)
        .ok_or_else(|| Error::new(pos, "internal: operand without a register"))
}

impl Emitter<'_> {
    fn push(&mut self, i: Inst) {
        self.items.push(Item::Inst(i));
    }

    /// `li rd, v` as the shortest `lui`/`addi(w)`/`slli` chain.
    fn li(&mut self, rd: u8, v: i64) {
        let lo = (v << 52) >> 52;
        if v as i32 as i64 == v {
            let hi = ((v.wrapping_sub(lo) >> 12) as i32) << 12 >> 12;
            if hi == 0 {
                self.push(Inst::i(Op::Addi, rd, 0, lo as i32));
            } else {
                self.push(Inst::u(Op::Lui, rd, hi));
                if lo != 0 {
                    self.push(Inst::i(Op::Addiw, rd, rd, lo as i32));
                }
            }
            return;
        }
        let mut hi = v.wrapping_sub(lo) >> 12;
        let sh = hi.trailing_zeros();
        hi >>= sh;
        self.li(rd, hi);
        self.push(Inst::i(Op::Slli, rd, rd, 12 + sh as i32));
        if lo != 0 {
            self.push(Inst::i(Op::Addi, rd, rd, lo as i32));
        }
    }

    /// `op reg, off(base)` (load or store) for any offset.
    fn mem(&mut self, op: Op, reg: u8, base: u8, off: i64) {
        let store = matches!(op, Op::Sb | Op::Sh | Op::Sw | Op::Sd | Op::Fsw | Op::Fsd);
        let (base, off) = if fits12(off) {
            (base, off)
        } else {
            self.li(SCRATCH, off);
            self.push(Inst::r(Op::Add, SCRATCH, SCRATCH, base));
            (SCRATCH, 0)
        };
        if store {
            self.push(Inst::s(op, base, reg, off as i32));
        } else {
            self.push(Inst::i(op, reg, base, off as i32));
        }
    }

    /// `rd = base + off` for any offset.
    fn add_imm(&mut self, rd: u8, base: u8, off: i64) {
        if fits12(off) {
            if off != 0 || rd != base {
                self.push(Inst::i(Op::Addi, rd, base, off as i32));
            }
        } else {
            self.li(SCRATCH, off);
            self.push(Inst::r(Op::Add, rd, base, SCRATCH));
        }
    }

    fn prologue(&mut self) {
        let size = self.frame.size as i64;
        self.add_imm(SP, SP, -size);
        for (p, off) in self.frame.saves.clone() {
            let op = if p.class() == RegClass::Float {
                Op::Fsd
            } else {
                Op::Sd
            };
            self.mem(op, p.hw_enc() as u8, SP, off as i64);
        }
        if self.frame.fp {
            self.add_imm(FP, SP, size);
        }
    }

    fn epilogue(&mut self) {
        if self.frame.fp {
            self.add_imm(SP, FP, -(self.frame.size as i64));
        }
        for (p, off) in self.frame.saves.clone() {
            let op = if p.class() == RegClass::Float {
                Op::Fld
            } else {
                Op::Ld
            };
            self.mem(op, p.hw_enc() as u8, SP, off as i64);
        }
        self.add_imm(SP, SP, self.frame.size as i64);
    }

    /// A move between allocations (never stack to stack).
    fn mov(&mut self, from: Allocation, to: Allocation) -> Result<(), Error> {
        match (from.as_reg(), to.as_reg(), from.as_stack(), to.as_stack()) {
            (Some(a), Some(b), _, _) => {
                let (a, b2) = (a.hw_enc() as u8, b.hw_enc() as u8);
                if a != b2 {
                    if b.class() == RegClass::Float {
                        self.push(Inst::r(Op::FsgnjD, b2, a, a));
                    } else {
                        self.push(Inst::i(Op::Addi, b2, a, 0));
                    }
                }
            }
            (Some(a), None, _, Some(s)) => {
                let op = if a.class() == RegClass::Float {
                    Op::Fsd
                } else {
                    Op::Sd
                };
                let (base, off) = self.frame.rebase(true, self.frame.spill(s.index()));
                self.mem(op, a.hw_enc() as u8, base, off);
            }
            (None, Some(b), Some(s), _) => {
                let op = if b.class() == RegClass::Float {
                    Op::Fld
                } else {
                    Op::Ld
                };
                let (base, off) = self.frame.rebase(true, self.frame.spill(s.index()));
                self.mem(op, b.hw_enc() as u8, base, off);
            }
            _ => return Err(Error::new(self.pos, "internal: unexpected move")),
        }
        Ok(())
    }

    fn sym(&self, a: &Addr) -> Result<alloc::string::String, Error> {
        match a.base {
            Base::Sym(i) => self
                .syms
                .get(i as usize)
                .cloned()
                .ok_or_else(|| Error::new(self.pos, "internal: unknown symbol index")),
            _ => Err(Error::new(self.pos, "internal: not a symbol address")),
        }
    }

    /// A load or store at a symbol address.
    fn pc_mem(&mut self, op: Op, reg: u8, a: &Addr) -> Result<(), Error> {
        let sym = self.sym(a)?;
        self.items.push(Item::PcMem {
            op,
            reg,
            sym,
            addend: a.off,
        });
        Ok(())
    }

    /// Base register and offset of a memory operand.
    fn addr(&mut self, a: &Addr, base: Option<u8>) -> Result<(u8, i64), Error> {
        match (a.base, base) {
            (Base::V(_), Some(r)) => Ok((r, a.off)),
            (Base::V(_), None) => Err(Error::new(self.pos, "internal: address without a register")),
            (b, _) => self
                .frame
                .locate(b, a.off)
                .ok_or_else(|| Error::new(self.pos, "internal: not a frame address")),
        }
    }

    fn inst(
        &mut self,
        i: &MInst,
        allocs: &[Allocation],
        next: Option<MBlock>,
    ) -> Result<(), Error> {
        let pos = self.pos;
        let mut k = allocs.iter();
        let reg = |r: &Reg, k: &mut core::slice::Iter<Allocation>| match r {
            Reg::V(_) => preg(k.next(), pos),
            Reg::Zero => Ok(0),
        };
        match i {
            MInst::Alu {
                op,
                rs1,
                rs2,
                imm,
                rm,
                ..
            } => {
                let r1 = reg(rs1, &mut k)?;
                let r2 = reg(rs2, &mut k)?;
                let rd = preg(k.next(), pos)?;
                let is_mv = (*op == Op::Addi && *imm == 0 && rs2 == &Reg::Zero)
                    || (*op == Op::FsgnjD && r1 == r2);
                if is_mv && rd == r1 {
                    return Ok(());
                }
                let inst = Inst {
                    op: *op,
                    rd,
                    rs1: r1,
                    rs2: r2,
                    rs3: 0,
                    rm: *rm,
                    aqrl: 0,
                    imm: *imm,
                };
                self.push(inst);
            }
            MInst::Li { imm, .. } => {
                let rd = preg(k.next(), pos)?;
                self.li(rd, *imm);
            }
            MInst::La { sym, addend, .. } => {
                let rd = preg(k.next(), pos)?;
                self.items.push(Item::La {
                    rd,
                    sym: sym.clone(),
                    addend: *addend,
                });
            }
            MInst::TlsAddr { sym, .. } => {
                let rd = preg(k.next(), pos)?;
                self.items.push(Item::Tls {
                    rd,
                    sym: sym.clone(),
                });
            }
            MInst::Lea { addr, .. } if matches!(addr.base, Base::Sym(_)) => {
                let rd = preg(k.next(), pos)?;
                let sym = self.sym(addr)?;
                self.items.push(Item::La {
                    rd,
                    sym,
                    addend: addr.off,
                });
            }
            MInst::Lea { addr, .. } => {
                let rd = preg(k.next(), pos)?;
                let (base, off) = self.addr(addr, None)?;
                self.add_imm(rd, base, off);
            }
            MInst::Load { op, addr, .. } if matches!(addr.base, Base::Sym(_)) => {
                let reg = preg(k.next(), pos)?;
                self.pc_mem(*op, reg, addr)?;
            }
            MInst::Store { op, addr, .. } if matches!(addr.base, Base::Sym(_)) => {
                let reg = preg(k.next(), pos)?;
                self.pc_mem(*op, reg, addr)?;
            }
            MInst::Load { op, addr, .. } => {
                let b = match addr.base {
                    Base::V(_) => Some(preg(k.next(), pos)?),
                    _ => None,
                };
                let rd = preg(k.next(), pos)?;
                let (base, off) = self.addr(addr, b)?;
                self.mem(*op, rd, base, off);
            }
            MInst::Store { op, addr, .. } => {
                let src = preg(k.next(), pos)?;
                let b = match addr.base {
                    Base::V(_) => Some(preg(k.next(), pos)?),
                    _ => None,
                };
                let (base, off) = self.addr(addr, b)?;
                self.mem(*op, src, base, off);
            }
            MInst::DynAlloc { .. } => {
                let size = preg(k.next(), pos)?;
                let rd = preg(k.next(), pos)?;
                // sp -= (size + 15) & -16; rd = sp + outgoing area.
                self.push(Inst::i(Op::Addi, SCRATCH, size, 15));
                self.push(Inst::i(Op::Andi, SCRATCH, SCRATCH, -16));
                self.push(Inst::r(Op::Sub, SP, SP, SCRATCH));
                let out = self.frame.out_size as i64;
                self.add_imm(rd, SP, out);
            }
            MInst::Args { .. } => {}
            MInst::Call { callee, .. } => match callee {
                Callee::Sym(s) => self.items.push(Item::Call { sym: s.clone() }),
                Callee::Reg(_) => {
                    let r = preg(k.next(), pos)?;
                    self.push(Inst::i(Op::Jalr, RA, r, 0));
                }
            },
            MInst::Jump { target, .. } => {
                if Some(*target) != next {
                    self.items.push(Item::Jump {
                        target: target.index() as u32,
                    });
                }
            }
            MInst::Branch {
                op,
                rs1,
                rs2,
                taken,
                not_taken,
            } => {
                let r1 = reg(rs1, &mut k)?;
                let r2 = reg(rs2, &mut k)?;
                let (op, target, other) = if Some(*taken) == next {
                    (invert(*op), *not_taken, *taken)
                } else {
                    (*op, *taken, *not_taken)
                };
                let target = target.index() as u32;
                self.items.push(Item::Branch {
                    op,
                    rs1: r1,
                    rs2: r2,
                    target,
                    long: false,
                });
                if Some(other) != next {
                    self.items.push(Item::Jump {
                        target: other.index() as u32,
                    });
                }
            }
            MInst::Ret { .. } => {
                self.epilogue();
                self.push(Inst::i(Op::Jalr, 0, RA, 0));
            }
            MInst::Hlt => self.push(Inst::new(Op::Ebreak)),
        }
        Ok(())
    }
}

/// An error message with a function name, for the writer.
pub fn internal(pos: Pos, what: impl core::fmt::Display) -> Error {
    Error::new(pos, format!("internal: {what}"))
}
