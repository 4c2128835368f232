//! Frame layout, decided after register allocation.
//!
//! From `sp` upwards (the frame is 16-byte aligned and `sp` does not move in the body):
//!
//! ```text
//! sp + 0            outgoing stack arguments (largest call)
//!                   spill slots (8 bytes each)
//!                   local slots (alloc4/8/16, each at its alignment)
//!                   saved ra and callee-saved registers the allocation used
//! CFA - 64          variadic functions only: a0..a7 save area (contiguous with ...)
//! CFA = sp + size   ... the incoming stack arguments
//! ```
//!
//! With a dynamic `alloc`, `sp` moves down in the body: `s0` then holds the CFA and every
//! location but the outgoing arguments is addressed from it ([`Frame::fp`]).
//!
//! Offsets may exceed the 12-bit immediate range; the emitter materialises them. This
//! module only computes numbers.

use alloc::vec::Vec;

use regalloc2::{Allocation, Edit, Output, PReg};

use super::abi;
use super::mir::{Base, MFunc};

/// The computed frame of one function.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    /// Total size (multiple of 16); `sp` is lowered by this much.
    pub size: u64,
    /// Offset of spill slot 0.
    pub spill_base: u64,
    /// Offset of each local slot.
    pub slot_offs: Vec<u64>,
    /// Registers saved by the prologue (`ra` included when the function calls) and where.
    pub saves: Vec<(PReg, u64)>,
    /// Offset of the variadic save area.
    pub va_base: u64,
    /// `s0` is the frame pointer (= CFA = entry `sp` + `size`).
    pub fp: bool,
    /// Bytes of outgoing arguments.
    pub out_size: u64,
}

impl Frame {
    /// The base register and offset of a frame location (`None` for a register base).
    pub fn locate(&self, base: Base, off: i64) -> Option<(u8, i64)> {
        let o = self.offset(base, off)?;
        Some(self.rebase(base != Base::Out, o))
    }

    /// `sp + o` as seen from the register that addresses it (`s0` when there is a frame
    /// pointer and the location is not in the outgoing area).
    pub fn rebase(&self, frame: bool, o: i64) -> (u8, i64) {
        if self.fp && frame {
            (abi::FP, o - self.size as i64)
        } else {
            (2, o)
        }
    }

    /// The `sp`-relative offset (at entry) of a frame location (`None` for a register base).
    pub fn offset(&self, base: Base, off: i64) -> Option<i64> {
        let b = match base {
            Base::V(_) | Base::Sym(_) => return None,
            Base::Slot(s) => self.slot_offs[s as usize],
            Base::Out => 0,
            Base::In => self.size,
            Base::VaArea => self.va_base,
        };
        Some(b as i64 + off)
    }

    /// The offset of spill slot `i`.
    pub fn spill(&self, i: usize) -> i64 {
        (self.spill_base + 8 * i as u64) as i64
    }
}

/// Lays out the frame of `f` given its allocation.
pub fn layout(f: &MFunc, out: &Output) -> Frame {
    let mut used: Vec<PReg> = Vec::new();
    let mut note = |a: Allocation| {
        if let Some(p) = a.as_reg()
            && abi::is_callee_saved(p)
            && !used.contains(&p)
        {
            used.push(p);
        }
    };
    out.allocs.iter().for_each(|a| note(*a));
    for (_, e) in &out.edits {
        let Edit::Move { from, to } = e;
        note(*from);
        note(*to);
    }
    if f.dyn_alloc {
        used.push(abi::x(abi::FP));
    }
    used.sort_by_key(|p| (p.class() as u8, p.hw_enc()));
    let mut off = f.out_size.next_multiple_of(16);
    let spill_base = off;
    off += 8 * out.num_spillslots as u64;
    let mut slot_offs = Vec::with_capacity(f.slots.len());
    for s in &f.slots {
        off = off.next_multiple_of(s.align.max(1));
        slot_offs.push(off);
        off += s.size;
    }
    off = off.next_multiple_of(8);
    let mut saves = Vec::new();
    if f.makes_calls {
        saves.push((abi::x(1), off));
        off += 8;
    }
    for p in used {
        saves.push((p, off));
        off += 8;
    }
    off = off.next_multiple_of(16);
    let va_base = off;
    if f.variadic {
        off += 64;
    }
    Frame {
        size: off,
        spill_base,
        slot_offs,
        saves,
        va_base,
        fp: f.dyn_alloc,
        out_size: f.out_size.next_multiple_of(16),
    }
}
