//! Encoding: [`Inst`] → bytes, driven by the table and the op's [`Layout`].
//!
//! Every operand is range-checked: an immediate that does not fit, is misaligned or is zero
//! where the form reserves zero, a register the form cannot name (compressed forms reach only
//! x8..x15, some reserve x0 or sp), a non-zero operand the form does not have, or an implied
//! operand that does not hold (`c.addi` needs `rs1 == rd`) is an [`EncodeError`], never a
//! silently wrong instruction.

use core::fmt;

use super::format::{Implied, Layout, Slot};
use super::{Inst, Op, rm};

/// An encoded instruction: 2 or 4 bytes, little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    word: u32,
    len: u8,
}

impl Encoded {
    /// The instruction bits (a 16-bit instruction in the low half).
    pub const fn word(&self) -> u32 {
        self.word
    }

    /// Size in bytes (2 or 4).
    #[allow(clippy::len_without_is_empty)] // an instruction is never empty
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// The little-endian bytes.
    pub fn bytes(&self) -> [u8; 4] {
        self.word.to_le_bytes()
    }

    /// Appends the instruction's bytes to `out`.
    pub fn write_to(&self, out: &mut alloc::vec::Vec<u8>) {
        out.extend_from_slice(&self.word.to_le_bytes()[..self.len()]);
    }
}

/// Why an instruction cannot be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// A register number above 31.
    RegisterOutOfRange { op: Op, slot: Slot, reg: u8 },
    /// A compressed form's 3-bit register field reaches only x8..x15 (f8..f15).
    NotCompressible { op: Op, slot: Slot, reg: u8 },
    /// The form reserves this register (e.g. `c.lwsp` with rd = x0).
    ReservedRegister { op: Op, slot: Slot, reg: u8 },
    /// An operand the form implies does not hold (`c.addi` needs rs1 = rd, `c.j` rd = x0).
    ImpliedOperand {
        op: Op,
        slot: Slot,
        expected: u8,
        found: u8,
    },
    /// The immediate does not fit the field.
    ImmOutOfRange {
        op: Op,
        value: i32,
        min: i64,
        max: i64,
    },
    /// The immediate is not a multiple of the field's alignment.
    ImmMisaligned { op: Op, value: i32, align: u32 },
    /// The form reserves a zero immediate (`c.addi4spn`, `c.addi16sp`, `c.lui`).
    ImmZero { op: Op },
    /// Rounding modes 5 and 6 are reserved.
    BadRoundingMode { op: Op, rm: u8 },
    /// aq/rl is a 2-bit field.
    BadAqRl { op: Op, aqrl: u8 },
    /// An operand the form does not have is not zero.
    UnusedOperand { op: Op, operand: &'static str },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EncodeError::*;
        match *self {
            RegisterOutOfRange { op, slot, reg } => {
                write!(
                    f,
                    "{}: {} register {reg} out of range 0..=31",
                    op.name(),
                    slot_name(slot)
                )
            }
            NotCompressible { op, slot, reg } => write!(
                f,
                "{}: {} must be one of registers 8..=15, not {reg}",
                op.name(),
                slot_name(slot)
            ),
            ReservedRegister { op, slot, reg } => {
                write!(
                    f,
                    "{}: {} may not be register {reg}",
                    op.name(),
                    slot_name(slot)
                )
            }
            ImpliedOperand {
                op,
                slot,
                expected,
                found,
            } => write!(
                f,
                "{}: {} must be register {expected}, not {found}",
                op.name(),
                slot_name(slot)
            ),
            ImmOutOfRange {
                op,
                value,
                min,
                max,
            } => {
                write!(
                    f,
                    "{}: immediate {value} out of range {min}..={max}",
                    op.name()
                )
            }
            ImmMisaligned { op, value, align } => {
                write!(
                    f,
                    "{}: immediate {value} is not a multiple of {align}",
                    op.name()
                )
            }
            ImmZero { op } => write!(f, "{}: immediate may not be zero", op.name()),
            BadRoundingMode { op, rm } => {
                write!(f, "{}: rounding mode {rm} is reserved", op.name())
            }
            BadAqRl { op, aqrl } => {
                write!(f, "{}: aq/rl bits {aqrl} out of range 0..=3", op.name())
            }
            UnusedOperand { op, operand } => {
                write!(
                    f,
                    "{}: has no {operand} operand, but it is not zero",
                    op.name()
                )
            }
        }
    }
}

impl core::error::Error for EncodeError {}

pub(super) fn slot_name(slot: Slot) -> &'static str {
    match slot {
        Slot::Rd => "rd",
        Slot::Rs1 => "rs1",
        Slot::Rs2 => "rs2",
        Slot::Rs3 => "rs3",
    }
}

impl Inst {
    /// The register in `slot`.
    #[inline]
    pub const fn slot(&self, slot: Slot) -> u8 {
        match slot {
            Slot::Rd => self.rd,
            Slot::Rs1 => self.rs1,
            Slot::Rs2 => self.rs2,
            Slot::Rs3 => self.rs3,
        }
    }

    #[inline]
    pub fn set_slot(&mut self, slot: Slot, value: u8) {
        match slot {
            Slot::Rd => self.rd = value,
            Slot::Rs1 => self.rs1 = value,
            Slot::Rs2 => self.rs2 = value,
            Slot::Rs3 => self.rs3 = value,
        }
    }
}

const SLOTS: [Slot; 4] = [Slot::Rd, Slot::Rs1, Slot::Rs2, Slot::Rs3];

/// Encodes one instruction.
pub fn encode(inst: &Inst) -> Result<Encoded, EncodeError> {
    let op = inst.op;
    let desc = op.desc();
    let layout: Layout = desc.format.layout();
    let mut word = desc.bits;
    let mut used = [false; 4];

    for field in layout.regs {
        let reg = inst.slot(field.slot);
        if reg > 31 {
            return Err(EncodeError::RegisterOutOfRange {
                op,
                slot: field.slot,
                reg,
            });
        }
        if field.forbid & (1 << reg) != 0 {
            return Err(EncodeError::ReservedRegister {
                op,
                slot: field.slot,
                reg,
            });
        }
        let value = if field.compact {
            if !(8..=15).contains(&reg) {
                return Err(EncodeError::NotCompressible {
                    op,
                    slot: field.slot,
                    reg,
                });
            }
            reg - 8
        } else {
            reg
        };
        word |= (value as u32) << field.lsb;
        used[field.slot as usize] = true;
    }

    for implied in layout.implied {
        let (slot, expected) = match *implied {
            Implied::Reg(slot, reg) => (slot, reg),
            Implied::Same(slot, other) => (slot, inst.slot(other)),
        };
        let found = inst.slot(slot);
        if found != expected {
            return Err(EncodeError::ImpliedOperand {
                op,
                slot,
                expected,
                found,
            });
        }
        used[slot as usize] = true;
    }

    for slot in SLOTS {
        if !used[slot as usize] && inst.slot(slot) != 0 {
            return Err(EncodeError::UnusedOperand {
                op,
                operand: slot_name(slot),
            });
        }
    }

    match layout.imm {
        Some(field) => {
            let value = inst.imm;
            let (min, max) = field.range();
            if (value as i64) < min || (value as i64) > max {
                return Err(EncodeError::ImmOutOfRange {
                    op,
                    value,
                    min,
                    max,
                });
            }
            let align = 1u32 << field.scale();
            if value as u32 & (align - 1) != 0 {
                return Err(EncodeError::ImmMisaligned { op, value, align });
            }
            if field.nonzero && value == 0 {
                return Err(EncodeError::ImmZero { op });
            }
            word |= field.insert(value);
        }
        None if inst.imm != 0 => {
            return Err(EncodeError::UnusedOperand {
                op,
                operand: "immediate",
            });
        }
        None => {}
    }

    if layout.rm {
        if !rm::is_valid(inst.rm) {
            return Err(EncodeError::BadRoundingMode { op, rm: inst.rm });
        }
        word |= (inst.rm as u32) << 12;
    } else if inst.rm != 0 {
        return Err(EncodeError::UnusedOperand {
            op,
            operand: "rounding mode",
        });
    }

    if layout.aqrl {
        if inst.aqrl > 3 {
            return Err(EncodeError::BadAqRl {
                op,
                aqrl: inst.aqrl,
            });
        }
        word |= (inst.aqrl as u32) << 25;
    } else if inst.aqrl != 0 {
        return Err(EncodeError::UnusedOperand {
            op,
            operand: "aq/rl",
        });
    }

    Ok(Encoded {
        word,
        len: layout.size,
    })
}
