//! The scalar LP64D calling convention and the register model.
//!
//! - Registers: which physical registers the allocator may use (caller-saved preferred,
//!   callee-saved as a fallback), which are reserved (`zero ra sp gp tp`, `t6` = the
//!   emitter's scratch for large offsets, `t4`/`ft11` = regalloc2's move scratch); `env`
//!   travels in `t5`.
//! - Argument classification: integers in `a0..a7`; floats in `fa0..fa7`, then in integer
//!   registers when those run out, then on the stack; variadic arguments (after the `...`)
//!   never use FP registers; every stack argument takes one 8-byte slot.
//!
//! - Aggregates (integer class only): up to 16 bytes in one or two integer registers or
//!   stack slots; larger ones by reference (a pointer to a copy the caller makes).
//!
//! This module must not emit code.

use alloc::vec::Vec;

use regalloc2::{MachineEnv, PReg, PRegSet, RegClass};

use crate::ir::BaseTy;

/// The emitter's own scratch register (`t6`): never allocated, used to materialise large
/// frame offsets and addresses inside one expanded instruction.
pub const SCRATCH: u8 = 31;
/// regalloc2's scratch registers for cyclic moves (`t4`, `ft11`).
const RA_SCRATCH: u8 = 29;
const RA_FSCRATCH: u8 = 31;
/// The register of a call's `env` argument (`t5`, as QBE's rv64 ABI has it).
pub const ENV: u8 = 30;

/// Integer register `n` as a regalloc2 register.
pub fn x(n: u8) -> PReg {
    PReg::new(n as usize, RegClass::Int)
}

/// Floating-point register `n`.
pub fn f(n: u8) -> PReg {
    PReg::new(n as usize, RegClass::Float)
}

const X_CALLER: [u8; 13] = [5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 28, 30];
const CALLEE: [u8; 12] = [8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27];
const F_CALLER: [u8; 19] = [
    0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 28, 29, 30,
];

/// The allocatable caller-saved registers (what a call clobbers).
pub fn caller_saved() -> PRegSet {
    let mut s = PRegSet::empty();
    X_CALLER.iter().for_each(|&n| s.add(x(n)));
    F_CALLER.iter().for_each(|&n| s.add(f(n)));
    s
}

/// Is `p` a callee-saved register the prologue must save when used?
pub fn is_callee_saved(p: PReg) -> bool {
    CALLEE.contains(&(p.hw_enc() as u8))
}

/// The frame pointer (`s0`), reserved in functions with a dynamic `alloc`.
pub const FP: u8 = 8;

/// The allocator's view of the machine; `fp`: keep `s0` out of allocation.
pub fn machine_env(fp: bool) -> MachineEnv {
    let set = |regs: &[u8], cls: RegClass| {
        let mut s = PRegSet::empty();
        regs.iter().for_each(|&n| s.add(PReg::new(n as usize, cls)));
        s
    };
    MachineEnv {
        preferred_regs_by_class: [
            set(&X_CALLER, RegClass::Int),
            set(&F_CALLER, RegClass::Float),
            PRegSet::empty(),
        ],
        non_preferred_regs_by_class: [
            set(&CALLEE[fp as usize..], RegClass::Int),
            set(&CALLEE, RegClass::Float),
            PRegSet::empty(),
        ],
        scratch_by_class: [Some(x(RA_SCRATCH)), Some(f(RA_FSCRATCH)), None],
        fixed_stack_slots: Vec::new(),
    }
}

/// Where one argument travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgLoc {
    /// Integer register `x<n>`.
    X(u8),
    /// Floating-point register `f<n>`.
    F(u8),
    /// Stack slot at this byte offset from the start of the argument area.
    Stack(u64),
}

/// How one argument is passed, before registers are assigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgClass {
    /// An integer (or a pointer: an aggregate passed by reference).
    Int,
    Float,
    /// An integer-class aggregate of 1 or 2 eight-byte words, in integer registers/slots;
    /// `align16`: a variadic 2-word argument then starts at an even register.
    Words {
        n: u8,
        align16: bool,
    },
    /// An aggregate eligible for the FP convention: its (at most two) scalar fields in
    /// order, `true` = floating point; falls back to `Words { n, .. }` when the registers
    /// run out or the argument is variadic.
    FpAgg {
        fields: [Option<bool>; 2],
        n: u8,
        align16: bool,
    },
}

/// The locations of a call's (or a function's) arguments.
#[derive(Clone, Debug, Default)]
pub struct Classified {
    /// The location of each argument (of its first word).
    pub locs: Vec<ArgLoc>,
    /// The location of the second word of a 2-word aggregate (or the second field of an
    /// aggregate passed by the FP convention).
    pub second: Vec<Option<ArgLoc>>,
    /// Whether an `FpAgg` argument got the FP convention (field by field).
    pub fp: Vec<bool>,
    /// Bytes of stack arguments (a multiple of 16).
    pub stack_size: u64,
    /// Integer registers plus stack slots used (where `va_start` begins).
    pub int_slots: u64,
}

/// Classifies arguments; `fixed` is the number of named arguments of a variadic call or
/// function (`None`: not variadic). `first_x` is the first integer register (`a1` when a
/// hidden return pointer takes `a0`).
pub fn classify(classes: &[ArgClass], fixed: Option<usize>, first_x: u8) -> Classified {
    let (mut ng, mut nf, mut stack) = (first_x, 0u8, 0u64);
    let mut int_loc = |ng: &mut u8| {
        if *ng < 8 {
            *ng += 1;
            ArgLoc::X(10 + *ng - 1)
        } else {
            stack += 8;
            ArgLoc::Stack(stack - 8)
        }
    };
    let mut locs_out = Vec::with_capacity(classes.len());
    let mut second = Vec::with_capacity(classes.len());
    let mut fp = Vec::with_capacity(classes.len());
    for (i, c) in classes.iter().enumerate() {
        let named = fixed.is_none_or(|n| i < n);
        let mut c = *c;
        if let ArgClass::FpAgg { fields, n, align16 } = c {
            let nfl = fields.iter().flatten().filter(|f| **f).count() as u8;
            let nin = fields.iter().flatten().filter(|f| !**f).count() as u8;
            if named && nf + nfl <= 8 && ng + nin <= 8 {
                let mut locs = fields.iter().flatten().map(|is_f| {
                    if *is_f {
                        nf += 1;
                        ArgLoc::F(10 + nf - 1)
                    } else {
                        ng += 1;
                        ArgLoc::X(10 + ng - 1)
                    }
                });
                let a = locs.next().unwrap_or(ArgLoc::X(10));
                let b = locs.next();
                locs_push(&mut locs_out, &mut second, &mut fp, a, b, true);
                continue;
            }
            c = ArgClass::Words { n, align16 };
        }
        let (a, b) = match c {
            ArgClass::Float if named && nf < 8 => {
                nf += 1;
                (ArgLoc::F(10 + nf - 1), None)
            }
            ArgClass::Int | ArgClass::Float => (int_loc(&mut ng), None),
            ArgClass::FpAgg { .. } => (int_loc(&mut ng), None), // unreachable: rewritten above
            ArgClass::Words { n, align16 } => {
                if !named && align16 && n == 2 && ng < 8 && ng % 2 == 1 {
                    ng += 1;
                }
                let a = int_loc(&mut ng);
                (a, (n == 2).then(|| int_loc(&mut ng)))
            }
        };
        locs_push(&mut locs_out, &mut second, &mut fp, a, b, false);
    }
    Classified {
        locs: locs_out,
        second,
        fp,
        stack_size: stack.next_multiple_of(16),
        int_slots: ng as u64 + stack / 8,
    }
}

fn locs_push(
    locs: &mut Vec<ArgLoc>,
    second: &mut Vec<Option<ArgLoc>>,
    fp: &mut Vec<bool>,
    a: ArgLoc,
    b: Option<ArgLoc>,
    is_fp: bool,
) {
    locs.push(a);
    second.push(b);
    fp.push(is_fp);
}

/// The register a value of type `ty` is returned in.
pub fn ret_reg(ty: BaseTy) -> PReg {
    if ty.is_float() { f(10) } else { x(10) }
}
