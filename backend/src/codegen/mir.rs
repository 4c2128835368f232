//! MIR: RV64 machine instructions over virtual registers, and its `regalloc2` view.
//!
//! Instruction selection ([`super::isel`]) produces one [`MFunc`] per IR function: blocks of
//! [`MInst`]s in final layout order, each ending in one terminator, with block parameters
//! standing for the IR's phis (passed by [`MInst::Jump`]). The register allocator reads it
//! through the [`regalloc2::Function`] impl below; the emitter reads it again together with
//! the allocation.
//!
//! Invariants isel must keep (regalloc2 relies on them): SSA (every vreg defined once,
//! definitions dominate uses), no critical edges (a [`MInst::Branch`] never passes block
//! arguments; its targets have one predecessor or no parameters), every block reachable and
//! ending in exactly one terminator. This module must not know about frames or encodings.

use alloc::string::String;
use alloc::vec::Vec;

use regalloc2::{self as ra, Operand, PRegSet};
pub use regalloc2::{Block as MBlock, PReg, RegClass, VReg};

use super::abi;
use crate::isa::Op;

/// A register operand: a virtual register or `x0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    V(VReg),
    Zero,
}

/// What a memory operand's offset is relative to; everything but [`Base::V`] is `sp`-based
/// and resolved once the frame is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// A register (the offset must fit 12 bits).
    V(VReg),
    /// A local slot (`alloc*` in the entry block), by index into [`MFunc::slots`].
    Slot(u32),
    /// The outgoing argument area at the bottom of the frame.
    Out,
    /// The caller's outgoing argument area (our incoming stack arguments), at the CFA.
    In,
    /// The variadic register save area just below the CFA (64 bytes: a0..a7).
    VaArea,
    /// A global symbol, by index into [`MFunc::syms`] (`auipc` + `%pcrel_lo` access).
    Sym(u32),
}

/// A memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    pub base: Base,
    pub off: i64,
}

/// The target of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Callee {
    Sym(String),
    Reg(VReg),
}

/// One machine instruction (or a pseudo the emitter expands).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MInst {
    /// A register/immediate instruction `op rd, rs1, rs2|imm` with rounding mode `rm`.
    Alu {
        op: Op,
        rd: VReg,
        rs1: Reg,
        rs2: Reg,
        imm: i32,
        rm: u8,
    },
    /// Load a 64-bit constant (`lui`/`addi(w)`/`slli` chain).
    Li {
        rd: VReg,
        imm: i64,
    },
    /// Address of `sym + addend` (`auipc` + `addi` with PCREL relocations).
    La {
        rd: VReg,
        sym: String,
        addend: i64,
    },
    /// Address of thread-local `sym` (local-exec: `lui`/`add tp`/`addi` with TPREL).
    TlsAddr {
        rd: VReg,
        sym: String,
    },
    /// Address of a frame location.
    Lea {
        rd: VReg,
        addr: Addr,
    },
    Load {
        op: Op,
        rd: VReg,
        addr: Addr,
    },
    Store {
        op: Op,
        src: VReg,
        addr: Addr,
    },
    /// Dynamic `alloc`: `sp -= align16(size)`; `rd` = the new block (above the outgoing
    /// argument area).
    DynAlloc {
        rd: VReg,
        size: VReg,
    },
    /// Entry: defines the incoming argument registers.
    Args {
        defs: Vec<(VReg, PReg)>,
    },
    /// A call: argument registers used, result registers defined, caller-saved clobbered.
    Call {
        callee: Callee,
        uses: Vec<(VReg, PReg)>,
        defs: Vec<(VReg, PReg)>,
    },
    /// Unconditional jump passing block arguments.
    Jump {
        target: MBlock,
        args: Vec<VReg>,
    },
    /// `op rs1, rs2, taken`, else fall to `not_taken`.
    Branch {
        op: Op,
        rs1: Reg,
        rs2: Reg,
        taken: MBlock,
        not_taken: MBlock,
    },
    /// Return with the values in fixed registers.
    Ret {
        uses: Vec<(VReg, PReg)>,
    },
    /// `hlt`: trap (`ebreak`).
    Hlt,
}

impl MInst {
    /// The regalloc operands, in the order the emitter reads allocations back.
    fn operands(&self, out: &mut Vec<Operand>) {
        let reg = |r: &Reg, out: &mut Vec<Operand>| {
            if let Reg::V(v) = r {
                out.push(Operand::reg_use(*v));
            }
        };
        let addr = |a: &Addr, out: &mut Vec<Operand>| {
            if let Base::V(v) = a.base {
                out.push(Operand::reg_use(v));
            }
        };
        match self {
            MInst::Alu { rd, rs1, rs2, .. } => {
                reg(rs1, out);
                reg(rs2, out);
                out.push(Operand::reg_def(*rd));
            }
            MInst::Li { rd, .. }
            | MInst::La { rd, .. }
            | MInst::TlsAddr { rd, .. }
            | MInst::Lea { rd, .. } => out.push(Operand::reg_def(*rd)),
            MInst::Load { rd, addr: a, .. } => {
                addr(a, out);
                out.push(Operand::reg_def(*rd));
            }
            MInst::Store { src, addr: a, .. } => {
                out.push(Operand::reg_use(*src));
                addr(a, out);
            }
            MInst::DynAlloc { rd, size } => {
                out.push(Operand::reg_use(*size));
                out.push(Operand::reg_def(*rd));
            }
            MInst::Args { defs } => {
                for (v, p) in defs {
                    out.push(Operand::reg_fixed_def(*v, *p));
                }
            }
            MInst::Call { callee, uses, defs } => {
                if let Callee::Reg(v) = callee {
                    out.push(Operand::reg_use(*v));
                }
                for (v, p) in uses {
                    out.push(Operand::reg_fixed_use(*v, *p));
                }
                for (v, p) in defs {
                    out.push(Operand::reg_fixed_def(*v, *p));
                }
            }
            MInst::Branch { rs1, rs2, .. } => {
                reg(rs1, out);
                reg(rs2, out);
            }
            MInst::Ret { uses } => {
                for (v, p) in uses {
                    out.push(Operand::reg_fixed_use(*v, *p));
                }
            }
            MInst::Jump { .. } | MInst::Hlt => {}
        }
    }
}

/// A local stack slot (`alloc4/8/16` with a constant size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub size: u64,
    pub align: u64,
}

/// Per-block data.
#[derive(Clone, Debug, Default)]
pub struct BlockData {
    pub start: u32,
    pub end: u32,
    pub succs: Vec<MBlock>,
    pub preds: Vec<MBlock>,
    pub params: Vec<VReg>,
}

/// A function in MIR form. See the [module docs](self).
#[derive(Clone, Debug, Default)]
pub struct MFunc {
    pub insts: Vec<MInst>,
    pub blocks: Vec<BlockData>,
    pub num_vregs: usize,
    pub slots: Vec<Slot>,
    /// Symbols addressed through [`Base::Sym`].
    pub syms: Vec<String>,
    /// Bytes of outgoing stack arguments needed by the largest call.
    pub out_size: u64,
    /// Whether the function calls anything (and so must save `ra`).
    pub makes_calls: bool,
    /// Whether the function has a dynamic `alloc` (then `s0` is the frame pointer).
    pub dyn_alloc: bool,
    /// Whether the function is variadic (needs the a0..a7 save area).
    pub variadic: bool,
    operands: Vec<Operand>,
    op_ranges: Vec<(u32, u32)>,
    clobbers: PRegSet,
}

impl MFunc {
    /// Builds the function from per-block instruction lists (in layout order, block 0 the
    /// entry) and block parameters; computes successors, predecessors and operands.
    pub fn new(blocks: Vec<(Vec<VReg>, Vec<MInst>)>, num_vregs: usize) -> MFunc {
        let mut f = MFunc {
            num_vregs,
            clobbers: abi::caller_saved(),
            ..MFunc::default()
        };
        for (params, insts) in blocks {
            let start = f.insts.len() as u32;
            let succs = match insts.last() {
                Some(MInst::Jump { target, .. }) => alloc::vec![*target],
                Some(MInst::Branch {
                    taken, not_taken, ..
                }) => alloc::vec![*taken, *not_taken],
                _ => Vec::new(),
            };
            f.insts.extend(insts);
            f.blocks.push(BlockData {
                start,
                end: f.insts.len() as u32,
                succs,
                preds: Vec::new(),
                params,
            });
        }
        for b in 0..f.blocks.len() {
            for s in f.blocks[b].succs.clone() {
                f.blocks[s.index()].preds.push(MBlock::new(b));
            }
        }
        for i in &f.insts {
            let start = f.operands.len() as u32;
            i.operands(&mut f.operands);
            f.op_ranges.push((start, f.operands.len() as u32));
        }
        f
    }
}

impl ra::Function for MFunc {
    fn num_insts(&self) -> usize {
        self.insts.len()
    }
    fn num_blocks(&self) -> usize {
        self.blocks.len()
    }
    fn entry_block(&self) -> MBlock {
        MBlock::new(0)
    }
    fn block_insns(&self, block: MBlock) -> ra::InstRange {
        let b = &self.blocks[block.index()];
        ra::InstRange::new(
            ra::Inst::new(b.start as usize),
            ra::Inst::new(b.end as usize),
        )
    }
    fn block_succs(&self, block: MBlock) -> &[MBlock] {
        &self.blocks[block.index()].succs
    }
    fn block_preds(&self, block: MBlock) -> &[MBlock] {
        &self.blocks[block.index()].preds
    }
    fn block_params(&self, block: MBlock) -> &[VReg] {
        &self.blocks[block.index()].params
    }
    fn is_ret(&self, insn: ra::Inst) -> bool {
        matches!(self.insts[insn.index()], MInst::Ret { .. } | MInst::Hlt)
    }
    fn is_branch(&self, insn: ra::Inst) -> bool {
        matches!(
            self.insts[insn.index()],
            MInst::Jump { .. } | MInst::Branch { .. }
        )
    }
    fn branch_blockparams(&self, _block: MBlock, insn: ra::Inst, _succ: usize) -> &[VReg] {
        match &self.insts[insn.index()] {
            MInst::Jump { args, .. } => args,
            _ => &[],
        }
    }
    fn inst_operands(&self, insn: ra::Inst) -> &[Operand] {
        let (a, b) = self.op_ranges[insn.index()];
        &self.operands[a as usize..b as usize]
    }
    fn inst_clobbers(&self, insn: ra::Inst) -> PRegSet {
        match &self.insts[insn.index()] {
            MInst::Call { defs, .. } => {
                let mut c = self.clobbers;
                for (_, p) in defs {
                    c.remove(*p);
                }
                c
            }
            _ => PRegSet::empty(),
        }
    }
    fn num_vregs(&self) -> usize {
        self.num_vregs
    }
    fn spillslot_size(&self, _class: RegClass) -> usize {
        1
    }
}
