//! Instruction selection: one IR function → [`MFunc`] (machine instructions on vregs).
//!
//! Choices made here, for the rest of the pipeline to rely on:
//!
//! - every `w` value lives sign-extended in its 64-bit register (as RV64's `*w`
//!   instructions leave it); an `l` temporary used where a `w` is expected is re-extended
//!   (`sext.w`) at the use, so `w` comparisons, branches and `slt(u)` see 32-bit values;
//! - 12-bit constants fold into I-type forms; other constants go through [`MInst::Li`];
//! - a `w`/`l` comparison used only by the `jnz` ending its block becomes one branch;
//! - `alloc*` with a variable size or outside the entry block is [`MInst::DynAlloc`];
//! - a global `$sym` (+ constant) used as an address folds into `auipc` + `%pcrel_lo`
//!   loads and stores;
//! - `add l base, const` feeding loads/stores folds into their offsets (and is not
//!   computed at all when nothing else uses it), and `alloc*` with a
//!   constant size in the entry block becomes a frame slot addressed from `sp`;
//! - phis become block parameters; a `jnz` target with phis or several predecessors gets
//!   an edge block (regalloc2 wants no critical edges);
//! - an unused result of an instruction without effects is not computed (light DCE);
//! - calls, parameters, returns and varargs are in [`super::call`]; arithmetic,
//!   comparisons and conversions in [`super::ops`].
//!
//! It must never produce wrong code for something it does not handle: that is an
//! [`Error`] "not supported yet: ..." with the instruction's position.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::Error;
use super::mir::{Addr, Base, MBlock, MFunc, MInst, Reg, RegClass, Slot, VReg};
use super::ops::conv;
use crate::ir::{
    BaseTy, BlockId, Cond, Const, Function, Inst, InstKind, Jump, Layout, Module, Op, Pos,
};
use crate::ir::{Temp, Value};
use crate::isa::Op as I;

/// Selects instructions for `f`.
pub fn select(m: &Module, f: &Function) -> Result<MFunc, Error> {
    let mut s = Isel::new(m, f)?;
    s.run()?;
    let blocks = core::mem::take(&mut s.blocks);
    let mut mf = MFunc::new(blocks, s.nv);
    mf.slots = s.slots;
    mf.syms = s.syms;
    mf.out_size = s.out_size;
    mf.makes_calls = s.makes_calls;
    mf.dyn_alloc = s.dyn_alloc;
    mf.variadic = f.variadic;
    Ok(mf)
}

pub(super) struct Isel<'a> {
    pub m: &'a Module,
    /// Layout of each aggregate type of the module.
    pub layouts: Vec<Layout>,
    pub f: &'a Function,
    /// Temp → its vreg (and type), for every temp defined in reachable code.
    vregs: Vec<Option<(VReg, BaseTy)>>,
    /// Temp → defining instruction (block, index), to fold address arithmetic.
    defs: Vec<Option<(BlockId, usize)>>,
    /// Temp → number of uses.
    uses: Vec<u32>,
    /// Temp → number of uses as the address of a load or store.
    addr_uses: Vec<u32>,
    /// Temps defined by an `add l x, const` whose every use folds it into an address
    /// (not computed where defined; see [`Isel::add_now`]).
    skipped: Vec<bool>,
    /// Temp → frame slot, for `alloc*` results.
    slot_of: Vec<Option<u32>>,
    pub slots: Vec<Slot>,
    /// Symbols addressed directly by loads and stores ([`Base::Sym`]).
    pub syms: Vec<String>,
    pub nv: usize,
    /// Instructions of the block being selected.
    pub cur: Vec<MInst>,
    pub blocks: Vec<(Vec<VReg>, Vec<MInst>)>,
    /// IR block → MIR block (None: unreachable).
    bmap: Vec<Option<MBlock>>,
    /// IR block → MIR edge blocks for its `jnz` targets.
    edges: Vec<[Option<MBlock>; 2]>,
    pub pos: Pos,
    pub out_size: u64,
    pub makes_calls: bool,
    /// A dynamic `alloc` was selected.
    pub dyn_alloc: bool,
    /// The hidden pointer to the caller's buffer for a returned aggregate over 16 bytes.
    pub sret: Option<VReg>,
}

impl<'a> Isel<'a> {
    fn new(m: &'a Module, f: &'a Function) -> Result<Isel<'a>, Error> {
        let n = f.temps.len();
        let layouts = crate::ir::types::layouts(&m.types)
            .map_err(|i| Error::new(m.types[i].pos, "invalid aggregate type"))?;
        let mut s = Isel {
            m,
            layouts,
            f,
            vregs: vec![None; n],
            defs: vec![None; n],
            uses: vec![0; n],
            addr_uses: vec![0; n],
            skipped: vec![false; n],
            slot_of: vec![None; n],
            slots: Vec::new(),
            syms: Vec::new(),
            nv: 0,
            cur: Vec::new(),
            blocks: Vec::new(),
            bmap: vec![None; f.blocks.len()],
            edges: vec![[None, None]; f.blocks.len()],
            pos: f.pos,
            out_size: 0,
            makes_calls: false,
            dyn_alloc: false,
            sret: None,
        };
        s.scan()?;
        Ok(s)
    }

    /// Reachability, block numbering (with edge blocks), temp types, defs and use counts.
    fn scan(&mut self) -> Result<(), Error> {
        let f = self.f;
        if f.blocks.is_empty() {
            return Err(Error::new(f.pos, "function has no blocks"));
        }
        let mut reach = vec![false; f.blocks.len()];
        let mut stack = vec![BlockId(0)];
        reach[0] = true;
        while let Some(b) = stack.pop() {
            for s in f.block(b).successors() {
                if !reach[s.index()] {
                    reach[s.index()] = true;
                    stack.push(s);
                }
            }
        }
        let mut npreds = vec![0u32; f.blocks.len()];
        for b in f.block_ids().filter(|b| reach[b.index()]) {
            for s in f.block(b).successors() {
                npreds[s.index()] += 1;
            }
        }
        let mut next = 0usize;
        for b in f.block_ids().filter(|b| reach[b.index()]) {
            self.bmap[b.index()] = Some(MBlock::new(next));
            next += 1;
            if let Some(Jump::Jnz(_, t, e)) = &f.block(b).jump {
                for (k, x) in [*t, *e].into_iter().enumerate() {
                    if npreds[x.index()] > 1 || !f.block(x).phis.is_empty() {
                        self.edges[b.index()][k] = Some(MBlock::new(next));
                        next += 1;
                    }
                }
            }
        }
        let set = |s: &mut Self, t: Temp, ty: BaseTy| {
            let v = s.new_vreg(ty);
            if let Some(slot) = s.vregs.get_mut(t.index()) {
                *slot = Some((v, ty));
            }
        };
        if let Some(e) = f.env {
            set(self, e, BaseTy::L);
        }
        for p in &f.params {
            set(self, p.temp, p.ty.base());
        }
        for b in f.block_ids().filter(|b| reach[b.index()]) {
            let blk = f.block(b);
            for p in &blk.phis {
                set(self, p.to, p.ty);
                for (_, v) in &p.args {
                    self.count_use(v);
                }
            }
            for (i, inst) in blk.insts.iter().enumerate() {
                if let (Some(d), Some(ty)) = (inst.dest(), inst.dest_ty()) {
                    set(self, d, ty);
                    self.defs[d.index()] = Some((b, i));
                }
                inst.for_each_arg(|v| self.count_use(v));
                if let InstKind::Op { op, args, .. } = &inst.kind {
                    let a = match op {
                        op if is_load(*op) => args.first(),
                        Op::Stored
                        | Op::Stores
                        | Op::Storel
                        | Op::Storew
                        | Op::Storeh
                        | Op::Storeb => args.get(1),
                        _ => None,
                    };
                    if let Some(Value::Temp(t)) = a
                        && let Some(u) = self.addr_uses.get_mut(t.index())
                    {
                        *u += 1;
                    }
                }
            }
            if let Some(v) = blk.jump.as_ref().and_then(|j| j.arg()) {
                self.count_use(v);
            }
        }
        Ok(())
    }

    fn count_use(&mut self, v: &Value) {
        if let Value::Temp(t) = v
            && let Some(u) = self.uses.get_mut(t.index())
        {
            *u += 1;
        }
    }

    pub fn new_vreg(&mut self, ty: BaseTy) -> VReg {
        let class = if ty.is_float() {
            RegClass::Float
        } else {
            RegClass::Int
        };
        self.nv += 1;
        VReg::new(self.nv - 1, class)
    }

    /// The vreg and type of temp `t`.
    pub fn temp(&self, t: Temp) -> Result<(VReg, BaseTy), Error> {
        self.vregs.get(t.index()).copied().flatten().ok_or_else(|| {
            Error::new(
                self.pos,
                format!("temporary %{} has no definition", self.f.temp_name(t)),
            )
        })
    }

    /// The index of `sym` in the symbol table of [`Base::Sym`].
    fn sym(&mut self, sym: &str) -> u32 {
        match self.syms.iter().position(|s| s == sym) {
            Some(i) => i as u32,
            None => {
                self.syms.push(sym.into());
                self.syms.len() as u32 - 1
            }
        }
    }

    /// A new frame slot.
    pub fn new_slot(&mut self, size: u64, align: u64) -> u32 {
        self.slots.push(Slot { size, align });
        self.slots.len() as u32 - 1
    }

    /// Records that temp `t` holds the address of slot `s` (loads and stores fold it).
    pub fn set_slot(&mut self, t: Temp, s: u32) {
        if let Some(x) = self.slot_of.get_mut(t.index()) {
            *x = Some(s);
        }
    }

    pub fn push(&mut self, i: MInst) {
        self.cur.push(i);
    }

    /// `op rd, rs1, rs2` into a new vreg of type `ty`.
    pub fn alu(&mut self, ty: BaseTy, op: I, rs1: Reg, rs2: Reg, imm: i32, rm: u8) -> VReg {
        let rd = self.new_vreg(ty);
        self.push(MInst::Alu {
            op,
            rd,
            rs1,
            rs2,
            imm,
            rm,
        });
        rd
    }

    pub(super) fn alu_to(&mut self, rd: VReg, op: I, rs1: Reg, rs2: Reg, imm: i32, rm: u8) {
        self.push(MInst::Alu {
            op,
            rd,
            rs1,
            rs2,
            imm,
            rm,
        });
    }

    /// A register holding `v` as a value of type `ty` (a `w` value sign-extended).
    pub fn val(&mut self, v: &Value, ty: BaseTy) -> Result<VReg, Error> {
        match v {
            Value::Temp(t) if self.skipped.get(t.index()).copied().unwrap_or(false) => {
                self.add_now(*t)
            }
            Value::Temp(t) => {
                let (r, tty) = self.temp(*t)?;
                if ty == BaseTy::W && tty == BaseTy::L {
                    return Ok(self.alu(ty, I::Addiw, Reg::V(r), Reg::Zero, 0, 0));
                }
                Ok(r)
            }
            Value::Const(c) => {
                let rd = self.new_vreg(ty);
                self.const_to(rd, c, ty)?;
                Ok(rd)
            }
        }
    }

    /// `(base, constant)` when `t` is defined by `add l base, constant` with `base` a
    /// temporary or a symbol.
    fn offset_add(&self, t: Temp) -> Option<(Value, i64)> {
        let (b, i) = self.defs.get(t.index()).copied().flatten()?;
        let InstKind::Op {
            op: Op::Add,
            ty: BaseTy::L,
            args,
            ..
        } = &self.f.block(b).insts[i].kind
        else {
            return None;
        };
        match (&args[0], &args[1]) {
            (x @ (Value::Temp(_) | Value::Const(Const::Addr(_))), c)
            | (c, x @ (Value::Temp(_) | Value::Const(Const::Addr(_)))) => {
                Some((x.clone(), const_int(c, BaseTy::L)?))
            }
            _ => None,
        }
    }

    /// Computes a skipped `add` at a use that could not fold it (into a fresh vreg, so
    /// several such uses keep SSA).
    fn add_now(&mut self, t: Temp) -> Result<VReg, Error> {
        let (x, c) = self
            .offset_add(t)
            .ok_or_else(|| Error::new(self.pos, "internal: skipped add"))?;
        let r = Reg::V(self.val(&x, BaseTy::L)?);
        if fits12(c) {
            return Ok(self.alu(BaseTy::L, I::Addi, r, Reg::Zero, c as i32, 0));
        }
        let k = self.new_vreg(BaseTy::L);
        self.push(MInst::Li { rd: k, imm: c });
        Ok(self.alu(BaseTy::L, I::Add, r, Reg::V(k), 0, 0))
    }

    /// `val`, but a zero integer constant is `x0`.
    pub(super) fn reg(&mut self, v: &Value, ty: BaseTy) -> Result<Reg, Error> {
        if ty.is_int() && const_int(v, ty) == Some(0) {
            return Ok(Reg::Zero);
        }
        Ok(Reg::V(self.val(v, ty)?))
    }

    /// Materialises constant `c` of type `ty` into `rd`.
    fn const_to(&mut self, rd: VReg, c: &Const, ty: BaseTy) -> Result<(), Error> {
        match c {
            Const::Addr(sym) => self.push(MInst::La {
                rd,
                sym: sym.clone(),
                addend: 0,
            }),
            Const::ThreadAddr(sym) => self.push(MInst::TlsAddr {
                rd,
                sym: sym.clone(),
            }),
            _ => {
                let bits = c.bits().unwrap_or(0);
                match ty {
                    BaseTy::W => self.push(MInst::Li {
                        rd,
                        imm: bits as i32 as i64,
                    }),
                    BaseTy::L => self.push(MInst::Li {
                        rd,
                        imm: bits as i64,
                    }),
                    BaseTy::S | BaseTy::D => {
                        let (mv, imm) = match ty {
                            BaseTy::S => (I::FmvWX, bits as u32 as i32 as i64),
                            _ => (I::FmvDX, bits as i64),
                        };
                        let src = if imm == 0 {
                            Reg::Zero
                        } else {
                            let t = self.new_vreg(BaseTy::L);
                            self.push(MInst::Li { rd: t, imm });
                            Reg::V(t)
                        };
                        self.alu_to(rd, mv, src, Reg::Zero, 0, 0);
                    }
                }
            }
        }
        Ok(())
    }

    /// A copy of `v` (type `ty`) into `rd`.
    pub fn copy_to(&mut self, rd: VReg, v: &Value, ty: BaseTy) -> Result<(), Error> {
        if let Value::Const(c) = v {
            return self.const_to(rd, c, ty);
        }
        let r = Reg::V(self.val(v, ty)?);
        if ty.is_float() {
            self.alu_to(rd, I::FsgnjD, r, r, 0, 0);
        } else {
            self.alu_to(rd, I::Addi, r, Reg::Zero, 0, 0);
        }
        Ok(())
    }

    /// The memory operand for address value `v`.
    pub fn addr(&mut self, v: &Value) -> Result<Addr, Error> {
        self.addr_in(v, 16)
    }

    /// [`Isel::addr`], folding at most `depth` levels of `add` (bounded recursion).
    fn addr_in(&mut self, v: &Value, depth: u32) -> Result<Addr, Error> {
        if let Value::Const(Const::Addr(sym)) = v {
            return Ok(Addr {
                base: Base::Sym(self.sym(sym)),
                off: 0,
            });
        }
        if let Value::Temp(t) = v
            && depth > 0
        {
            if let Some(s) = self.slot_of.get(t.index()).copied().flatten() {
                return Ok(Addr {
                    base: Base::Slot(s),
                    off: 0,
                });
            }
            if let Some((base, c)) = self.offset_add(*t) {
                let mut a = self.addr_in(&base, depth - 1)?;
                a.off = a.off.wrapping_add(c);
                let fits = fits12(a.off) || !matches!(a.base, Base::V(_));
                if fits && a.off.unsigned_abs() < 1 << 31 {
                    return Ok(a);
                }
            }
        }
        let r = self.val(v, BaseTy::L)?;
        Ok(Addr {
            base: Base::V(r),
            off: 0,
        })
    }

    fn run(&mut self) -> Result<(), Error> {
        let f = self.f;
        for b in f.block_ids() {
            let Some(mb) = self.bmap[b.index()] else {
                continue;
            };
            debug_assert_eq!(mb.index(), self.blocks.len());
            let blk = f.block(b);
            let params = blk
                .phis
                .iter()
                .map(|p| self.temp(p.to).map(|t| t.0))
                .collect::<Result<Vec<_>, _>>()?;
            if b.index() == 0 {
                self.params()?;
            }
            for (i, inst) in blk.insts.iter().enumerate() {
                self.pos = inst.pos;
                self.inst(b, i, inst)?;
            }
            self.pos = blk.jump_pos;
            self.jump(b)?;
            let insts = core::mem::take(&mut self.cur);
            self.blocks.push((params, insts));
            for k in 0..2 {
                if let Some(e) = self.edges[b.index()][k] {
                    debug_assert_eq!(e.index(), self.blocks.len());
                    let Some(Jump::Jnz(_, t, el)) = &blk.jump else {
                        continue;
                    };
                    let target = if k == 0 { *t } else { *el };
                    self.goto(b, target)?;
                    let insts = core::mem::take(&mut self.cur);
                    self.blocks.push((Vec::new(), insts));
                }
            }
        }
        Ok(())
    }

    /// A jump from IR block `from` to `to`, passing `to`'s phi arguments.
    fn goto(&mut self, from: BlockId, to: BlockId) -> Result<(), Error> {
        let mut args = Vec::new();
        for p in &self.f.block(to).phis {
            let v = p
                .args
                .iter()
                .find(|(b, _)| *b == from)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| Error::new(p.pos, "phi has no argument for a predecessor"))?;
            // A fresh copy: the same value may feed two parameters, and regalloc2 wants
            // each argument to be a distinct live value it can move.
            let rd = self.new_vreg(p.ty);
            self.copy_to(rd, &v, p.ty)?;
            args.push(rd);
        }
        let target = self.mblock(to)?;
        self.push(MInst::Jump { target, args });
        Ok(())
    }

    fn mblock(&self, b: BlockId) -> Result<MBlock, Error> {
        self.bmap[b.index()].ok_or_else(|| Error::new(self.pos, "jump to an unreachable block"))
    }

    fn jump(&mut self, b: BlockId) -> Result<(), Error> {
        let Some(j) = &self.f.block(b).jump else {
            return Err(Error::new(self.pos, "block without a jump"));
        };
        match j {
            Jump::Jmp(t) => self.goto(b, *t),
            Jump::Jnz(v, t, e) => {
                let taken = match self.edges[b.index()][0] {
                    Some(x) => x,
                    None => self.mblock(*t)?,
                };
                let not_taken = match self.edges[b.index()][1] {
                    Some(x) => x,
                    None => self.mblock(*e)?,
                };
                let (op, rs1, rs2) = match self.fused_cmp(b, v) {
                    Some((cond, ty, x, y)) => self.branch_cond(cond, ty, &x, &y)?,
                    None => (I::Bne, self.reg(v, BaseTy::W)?, Reg::Zero),
                };
                self.push(MInst::Branch {
                    op,
                    rs1,
                    rs2,
                    taken,
                    not_taken,
                });
                Ok(())
            }
            Jump::Ret(v) => self.ret(v.as_ref()),
            Jump::Hlt => {
                self.push(MInst::Hlt);
                Ok(())
            }
        }
    }

    /// The integer comparison defining `v` when it can fuse into the block's branch.
    fn fused_cmp(&self, b: BlockId, v: &Value) -> Option<(Cond, BaseTy, Value, Value)> {
        let t = v.as_temp()?;
        let (db, i) = self.defs.get(t.index()).copied().flatten()?;
        if db != b || self.uses[t.index()] != 1 {
            return None;
        }
        match &self.f.block(db).insts[i].kind {
            InstKind::Op {
                op: Op::Cmp(c, ty),
                args,
                ..
            } if ty.is_int() => Some((*c, *ty, args[0].clone(), args[1].clone())),
            _ => None,
        }
    }

    fn inst(&mut self, b: BlockId, idx: usize, inst: &Inst) -> Result<(), Error> {
        match &inst.kind {
            InstKind::DbgLoc { .. } => Ok(()),
            InstKind::Call(c) => self.call(c),
            InstKind::Op { dest, ty, op, args } => {
                let d = match dest {
                    Some(t) => Some(self.temp(*t)?.0),
                    None => None,
                };
                if let (Some(t), Op::Cmp(..)) = (dest, op)
                    && self.fused_cmp(b, &Value::Temp(*t)).is_some()
                    && matches!(self.f.block(b).jump, Some(Jump::Jnz(Value::Temp(j), ..)) if j == *t)
                {
                    return Ok(()); // emitted as the block's branch
                }
                if let Some(t) = dest
                    && self.uses[t.index()] == 0
                    && is_pure(*op)
                {
                    return Ok(()); // dead: nothing reads it and it has no effect
                }
                if let Some(t) = dest
                    && self.uses[t.index()] == self.addr_uses[t.index()]
                    && self.offset_add(*t).is_some()
                {
                    self.skipped[t.index()] = true;
                    return Ok(()); // folded into every load/store using it
                }
                self.op(b, idx, d, *ty, *op, args)
            }
        }
    }

    fn op(
        &mut self,
        b: BlockId,
        idx: usize,
        d: Option<VReg>,
        ty: BaseTy,
        op: Op,
        args: &[Value],
    ) -> Result<(), Error> {
        let pos = self.pos;
        let need = || Error::new(pos, "instruction needs a result");
        use BaseTy::{D, L, S, W};
        match op {
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Udiv
            | Op::Rem
            | Op::Urem
            | Op::Or
            | Op::Xor
            | Op::And
            | Op::Sar
            | Op::Shr
            | Op::Shl => {
                let rd = d.ok_or_else(need)?;
                if ty.is_float() {
                    self.float_bin(rd, ty, op, args)
                } else {
                    self.int_bin(rd, ty, op, args)
                }
            }
            Op::Neg => {
                let rd = d.ok_or_else(need)?;
                let a = Reg::V(self.val(&args[0], ty)?);
                let (op, rs1, rs2) = match ty {
                    W => (I::Subw, Reg::Zero, a),
                    L => (I::Sub, Reg::Zero, a),
                    S => (I::FsgnjnS, a, a),
                    D => (I::FsgnjnD, a, a),
                };
                self.alu_to(rd, op, rs1, rs2, 0, 0);
                Ok(())
            }
            Op::Copy => self.copy_to(d.ok_or_else(need)?, &args[0], ty),
            Op::Loadd
            | Op::Loads
            | Op::Loadl
            | Op::Loadsw
            | Op::Loaduw
            | Op::Loadsh
            | Op::Loaduh
            | Op::Loadsb
            | Op::Loadub => {
                let rd = d.ok_or_else(need)?;
                let mop = match op {
                    Op::Loadd => I::Fld,
                    Op::Loads => I::Flw,
                    Op::Loadl => I::Ld,
                    Op::Loadsw => I::Lw,
                    Op::Loaduw if ty == W => I::Lw,
                    Op::Loaduw => I::Lwu,
                    Op::Loadsh => I::Lh,
                    Op::Loaduh => I::Lhu,
                    Op::Loadsb => I::Lb,
                    _ => I::Lbu,
                };
                let addr = self.addr(&args[0])?;
                self.push(MInst::Load { op: mop, rd, addr });
                Ok(())
            }
            Op::Stored | Op::Stores | Op::Storel | Op::Storew | Op::Storeh | Op::Storeb => {
                let (mop, vty) = match op {
                    Op::Stored => (I::Fsd, D),
                    Op::Stores => (I::Fsw, S),
                    Op::Storel => (I::Sd, L),
                    Op::Storew => (I::Sw, W),
                    Op::Storeh => (I::Sh, W),
                    _ => (I::Sb, W),
                };
                // The stored value's upper bits do not matter: no re-extension needed.
                let src = match &args[0] {
                    Value::Temp(t) => self.temp(*t)?.0,
                    v => self.val(v, vty)?,
                };
                let addr = self.addr(&args[1])?;
                self.push(MInst::Store { op: mop, src, addr });
                Ok(())
            }
            Op::Alloc4 | Op::Alloc8 | Op::Alloc16 => {
                let rd = d.ok_or_else(need)?;
                let size = match const_int(&args[0], L) {
                    Some(n) if b.index() == 0 && (0..1 << 30).contains(&n) => n as u64,
                    _ => {
                        // Dynamic: carved off the stack below the frame (sp moves, so
                        // the frame is then addressed from the frame pointer s0).
                        let size = self.val(&args[0], L)?;
                        self.push(MInst::DynAlloc { rd, size });
                        self.dyn_alloc = true;
                        return Ok(());
                    }
                };
                let align = match op {
                    Op::Alloc4 => 4,
                    Op::Alloc8 => 8,
                    _ => 16,
                };
                let s = self.slots.len() as u32;
                self.slots.push(Slot { size, align });
                if let Some(InstKind::Op { dest: Some(t), .. }) =
                    self.f.block(b).insts.get(idx).map(|i| &i.kind)
                {
                    self.slot_of[t.index()] = Some(s);
                }
                self.push(MInst::Lea {
                    rd,
                    addr: Addr {
                        base: Base::Slot(s),
                        off: 0,
                    },
                });
                Ok(())
            }
            Op::Cmp(c, cty) => {
                let rd = d.ok_or_else(need)?;
                if cty.is_int() {
                    self.cmp_int(rd, c, cty, &args[0], &args[1])
                } else {
                    self.cmp_float(rd, c, cty, &args[0], &args[1])
                }
            }
            Op::Extsw | Op::Extuw | Op::Extsh | Op::Extuh | Op::Extsb | Op::Extub => {
                let rd = d.ok_or_else(need)?;
                let a = match &args[0] {
                    Value::Temp(t) => self.temp(*t)?.0,
                    v => self.val(v, W)?,
                };
                self.extend(rd, op, a);
                Ok(())
            }
            Op::Exts
            | Op::Truncd
            | Op::Stosi
            | Op::Stoui
            | Op::Dtosi
            | Op::Dtoui
            | Op::Swtof
            | Op::Uwtof
            | Op::Sltof
            | Op::Ultof
            | Op::Cast => {
                let rd = d.ok_or_else(need)?;
                let (mop, r, aty) = conv(op, ty);
                let a = self.val(&args[0], aty)?;
                self.alu_to(rd, mop, Reg::V(a), Reg::Zero, 0, r);
                Ok(())
            }
            Op::Blit => self.blit(&args[0], &args[1], &args[2]),
            Op::Vastart => self.vastart(&args[0]),
            Op::Vaarg => self.vaarg(d.ok_or_else(need)?, ty, &args[0]),
        }
    }
}

fn is_load(op: Op) -> bool {
    matches!(
        op,
        Op::Loadd
            | Op::Loads
            | Op::Loadl
            | Op::Loadsw
            | Op::Loaduw
            | Op::Loadsh
            | Op::Loaduh
            | Op::Loadsb
            | Op::Loadub
    )
}

/// Can an unused result of `op` be dropped? (Loads are kept: they may trap.)
fn is_pure(op: Op) -> bool {
    !matches!(
        op,
        Op::Stored
            | Op::Stores
            | Op::Storel
            | Op::Storew
            | Op::Storeh
            | Op::Storeb
            | Op::Loadd
            | Op::Loads
            | Op::Loadl
            | Op::Loadsw
            | Op::Loaduw
            | Op::Loadsh
            | Op::Loaduh
            | Op::Loadsb
            | Op::Loadub
            | Op::Blit
            | Op::Alloc4
            | Op::Alloc8
            | Op::Alloc16
            | Op::Vastart
            | Op::Vaarg
    )
}

/// An integer constant as seen by an instruction of type `ty` (`w`: sign-extended low half).
pub fn const_int(v: &Value, ty: BaseTy) -> Option<i64> {
    match v {
        Value::Const(Const::Int(i)) if ty == BaseTy::W => Some(*i as i32 as i64),
        Value::Const(Const::Int(i)) => Some(*i),
        _ => None,
    }
}

pub fn fits12(v: i64) -> bool {
    (-2048..=2047).contains(&v)
}
