//! The final instruction stream of one function ([`Item`]s on physical registers) and
//! branch relaxation.
//!
//! Items are what both the object writer ([`super::write`]) and the assembly listing
//! ([`super::asm`]) consume, so the two always describe the same bytes. Block labels are
//! resolved here: a conditional branch whose target is beyond the B-type range (±4 KiB)
//! becomes the inverted branch over a `jal` (±1 MiB); a `jal` out of range is an error.
//! Relaxation only ever grows items, so the loop reaches a fixed point.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::isa::{Inst, Op};

/// One element of the final stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The start of block `n` (no bytes).
    Label(u32),
    /// An ordinary instruction.
    Inst(Inst),
    /// `op rs1, rs2, label`; `long`: `!op rs1, rs2, +8; jal zero, label`.
    Branch {
        op: Op,
        rs1: u8,
        rs2: u8,
        target: u32,
        long: bool,
    },
    /// `jal zero, label`.
    Jump { target: u32 },
    /// `call sym`: `auipc ra, 0; jalr ra, 0(ra)` with `R_RISCV_CALL_PLT`.
    Call { sym: String },
    /// `auipc rd, %pcrel_hi(sym+addend); addi rd, rd, %pcrel_lo(..)`.
    La { rd: u8, sym: String, addend: i64 },
    /// `auipc t6, %pcrel_hi(sym+addend); op reg, %pcrel_lo(..)(t6)` (a load or store).
    PcMem {
        op: Op,
        reg: u8,
        sym: String,
        addend: i64,
    },
    /// `lui rd, %tprel_hi(sym); add rd, rd, tp, %tprel_add(sym); addi rd, rd, %tprel_lo(sym)`.
    Tls { rd: u8, sym: String },
}

impl Item {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        match self {
            Item::Label(_) => 0,
            Item::Inst(i) => i.len() as u64,
            Item::Branch { long: true, .. }
            | Item::Call { .. }
            | Item::La { .. }
            | Item::PcMem { .. } => 8,
            Item::Branch { .. } | Item::Jump { .. } => 4,
            Item::Tls { .. } => 12,
        }
    }
}

/// A function's final, relaxed code: items with their offsets and the labels' offsets.
#[derive(Clone, Debug, Default)]
pub struct Code {
    pub items: Vec<Item>,
    pub offs: Vec<u64>,
    pub labels: Vec<u64>,
}

/// Relaxes `items` and returns them laid out.
pub fn lay_out(mut items: Vec<Item>, nlabels: usize) -> Result<Code, String> {
    let (offs, labels) = relax(&mut items, nlabels)?;
    Ok(Code {
        items,
        offs,
        labels,
    })
}

/// The branch with the opposite condition.
pub fn invert(op: Op) -> Op {
    match op {
        Op::Beq => Op::Bne,
        Op::Bne => Op::Beq,
        Op::Blt => Op::Bge,
        Op::Bge => Op::Blt,
        Op::Bltu => Op::Bgeu,
        _ => Op::Bltu,
    }
}

/// Relaxes branches in place; returns each item's offset and each label's offset.
pub fn relax(items: &mut [Item], nlabels: usize) -> Result<(Vec<u64>, Vec<u64>), String> {
    loop {
        let (offs, labels) = offsets(items, nlabels);
        let mut changed = false;
        for (it, &at) in items.iter_mut().zip(&offs) {
            if let Item::Branch { target, long, .. } = it
                && !*long
            {
                let d = labels[*target as usize] as i64 - at as i64;
                if !(-4096..=4094).contains(&d) {
                    *long = true;
                    changed = true;
                }
            }
        }
        if !changed {
            for (it, &at) in items.iter().zip(&offs) {
                let (target, at) = match it {
                    Item::Jump { target } => (*target, at),
                    Item::Branch {
                        target, long: true, ..
                    } => (*target, at + 4),
                    _ => continue,
                };
                let d = labels[target as usize] as i64 - at as i64;
                if !(-(1 << 20)..(1 << 20)).contains(&d) {
                    return Err("not supported yet: a function larger than 1 MiB".into());
                }
            }
            return Ok((offs, labels));
        }
    }
}

fn offsets(items: &[Item], nlabels: usize) -> (Vec<u64>, Vec<u64>) {
    let mut offs = Vec::with_capacity(items.len());
    let mut labels = vec![0u64; nlabels];
    let mut at = 0u64;
    for it in items {
        offs.push(at);
        if let Item::Label(n) = it {
            labels[*n as usize] = at;
        }
        at += it.size();
    }
    (offs, labels)
}
