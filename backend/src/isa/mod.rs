//! RV64GC instructions: one table and everything derived from it.
//!
//! [`table`] lists every instruction the project emits or executes (RV64I, M, A, F, D, Zicsr,
//! Zifencei, the machine-mode `mret`/`sret`/`wfi`, and every RV64 compressed form) with its
//! fixed bits, its [`Format`] (where the operands live) and its register classes. Everything
//! else is derived from that table and contains no per-instruction code:
//!
//! - [`encode`]: [`Inst`] → bytes, checking every operand's range (never truncating);
//! - [`decode`]: bytes → [`Inst`], rejecting illegal and reserved encodings; no allocation,
//!   so the simulator can share it;
//! - [`disasm`]: [`Inst`] → text in GNU objdump's syntax, including its aliases.
//!
//! An [`Inst`] is a flat value: an [`Op`] plus the operand slots the op's format uses. Unused
//! slots are zero. A compressed instruction keeps the operands of the 32-bit instruction it
//! stands for (`c.addi a0,1` is `Inst { op: CAddi, rd: 10, rs1: 10, imm: 1, .. }`), so
//! [`Inst::expand`] only swaps the op — the simulator executes the expanded form.

pub mod csr;
pub mod decode;
pub mod disasm;
pub mod encode;
pub mod format;
pub mod reg;
pub mod table;

pub use decode::{DecodeError, decode};
pub use encode::{EncodeError, Encoded, encode};
pub use format::Format;
pub use table::{Ext, Op};

/// Floating-point rounding modes (the `rm` field).
pub mod rm {
    /// Round to nearest, ties to even.
    pub const RNE: u8 = 0;
    /// Round towards zero.
    pub const RTZ: u8 = 1;
    /// Round down (towards −∞).
    pub const RDN: u8 = 2;
    /// Round up (towards +∞).
    pub const RUP: u8 = 3;
    /// Round to nearest, ties to max magnitude.
    pub const RMM: u8 = 4;
    /// Use the dynamic rounding mode in `frm`.
    pub const DYN: u8 = 7;
    /// Whether `rm` names a rounding mode (5 and 6 are reserved).
    pub const fn is_valid(rm: u8) -> bool {
        rm <= RMM || rm == DYN
    }
}

/// Acquire/release bits of an atomic instruction (the `aqrl` slot).
pub mod aqrl {
    pub const AQ: u8 = 0b10;
    pub const RL: u8 = 0b01;
}

/// One instruction with its operands.
///
/// Register slots hold register numbers (0..=31), integer or floating-point as the op's
/// register classes say; `csrr*i` keep their 5-bit immediate in `rs1`, as the encoding does.
/// `imm` is the immediate in the op's own units: a byte offset for branches, jumps, loads and
/// stores; the 20-bit field for `lui`/`auipc`; the CSR number for `csr*`; `pred << 4 | succ`
/// for `fence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Inst {
    pub op: Op,
    pub rd: u8,
    pub rs1: u8,
    pub rs2: u8,
    pub rs3: u8,
    /// Rounding mode of an F/D instruction that has one (see [`rm`]).
    pub rm: u8,
    /// Acquire/release bits of an A instruction (see [`aqrl`]).
    pub aqrl: u8,
    pub imm: i32,
}

impl Inst {
    /// An instruction with every operand zero.
    pub const fn new(op: Op) -> Inst {
        Inst {
            op,
            rd: 0,
            rs1: 0,
            rs2: 0,
            rs3: 0,
            rm: 0,
            aqrl: 0,
            imm: 0,
        }
    }

    /// `op rd, rs1, rs2` (R-type and similar).
    pub const fn r(op: Op, rd: u8, rs1: u8, rs2: u8) -> Inst {
        Inst {
            rd,
            rs1,
            rs2,
            ..Inst::new(op)
        }
    }

    /// `op rd, rs1, imm` (I-type; loads: `op rd, imm(rs1)`; `jalr`).
    pub const fn i(op: Op, rd: u8, rs1: u8, imm: i32) -> Inst {
        Inst {
            rd,
            rs1,
            imm,
            ..Inst::new(op)
        }
    }

    /// `op rs2, imm(rs1)` (stores) and `op rs1, rs2, offset` (branches).
    pub const fn s(op: Op, rs1: u8, rs2: u8, imm: i32) -> Inst {
        Inst {
            rs1,
            rs2,
            imm,
            ..Inst::new(op)
        }
    }

    /// `op rd, imm` (`lui`, `auipc`, `jal`).
    pub const fn u(op: Op, rd: u8, imm: i32) -> Inst {
        Inst {
            rd,
            imm,
            ..Inst::new(op)
        }
    }

    /// Size of the encoded instruction in bytes: 2 for compressed forms, else 4.
    #[allow(clippy::len_without_is_empty)] // an instruction is never empty
    pub const fn len(&self) -> usize {
        self.op.format().size()
    }

    /// Whether this is a 16-bit compressed instruction.
    pub const fn is_compressed(&self) -> bool {
        self.len() == 2
    }

    /// The 32-bit instruction a compressed one stands for (same operands); other
    /// instructions are returned unchanged.
    pub const fn expand(&self) -> Inst {
        Inst {
            op: self.op.expanded(),
            ..*self
        }
    }
}
