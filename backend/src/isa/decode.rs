//! Decoding: bytes → [`Inst`], driven by the table.
//!
//! The table's rows are bucketed by major opcode (32-bit forms) or quadrant and funct3
//! (compressed forms) at compile time; a lookup scans one bucket and checks the form's
//! constraints (reserved registers, zero immediates, reserved rounding modes). No allocation,
//! no per-instruction code: the simulator decodes with this too.

use core::fmt;

use super::format::Implied;
use super::table::{INDEX, bucket};
use super::{Inst, Op, rm};

/// Why bytes do not decode to an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the instruction's length (which the low bits announce).
    Truncated,
    /// An illegal or reserved encoding (the 16- or 32-bit parcel).
    Illegal(u32),
    /// An encoding longer than 32 bits (not part of RV64GC).
    TooLong(u32),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::Truncated => f.write_str("truncated instruction"),
            DecodeError::Illegal(bits) if bits & 3 != 3 => {
                write!(f, "illegal instruction 0x{bits:04x}")
            }
            DecodeError::Illegal(bits) => write!(f, "illegal instruction 0x{bits:08x}"),
            DecodeError::TooLong(bits) => {
                write!(
                    f,
                    "instruction longer than 32 bits (0x{:04x})",
                    bits & 0xffff
                )
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// Decodes the instruction at the start of `bytes` (its [`Inst::len`] says how many bytes it
/// used).
pub fn decode(bytes: &[u8]) -> Result<Inst, DecodeError> {
    let Some(&[b0, b1]) = bytes.get(..2) else {
        return Err(DecodeError::Truncated);
    };
    let low = u16::from_le_bytes([b0, b1]) as u32;
    if low & 3 != 3 {
        return decode_bits(low);
    }
    let Some(&[b2, b3]) = bytes.get(2..4) else {
        return Err(DecodeError::Truncated);
    };
    decode_bits(low | (u16::from_le_bytes([b2, b3]) as u32) << 16)
}

/// Decodes an instruction given as bits: a compressed one in the low 16 bits (the upper
/// bits are ignored), or a 32-bit one.
pub fn decode_bits(bits: u32) -> Result<Inst, DecodeError> {
    let bits = if bits & 3 != 3 { bits & 0xffff } else { bits };
    if bits & 0x1f == 0x1f {
        return Err(DecodeError::TooLong(bits));
    }
    let b = bucket(bits);
    let candidates = &INDEX.ops[INDEX.start[b] as usize..INDEX.start[b + 1] as usize];
    for &op in candidates {
        let desc = op.desc();
        if bits & desc.mask == desc.bits
            && let Some(inst) = operands(op, bits)
        {
            return Ok(inst);
        }
    }
    Err(DecodeError::Illegal(bits))
}

/// Extracts `op`'s operands from `bits`, or `None` if the form's constraints fail.
#[inline]
fn operands(op: Op, bits: u32) -> Option<Inst> {
    let layout = op.format().layout();
    let mut inst = Inst::new(op);
    for field in layout.regs {
        let reg = if field.compact {
            8 + ((bits >> field.lsb) & 7) as u8
        } else {
            ((bits >> field.lsb) & 31) as u8
        };
        if field.forbid & (1 << reg) != 0 {
            return None;
        }
        inst.set_slot(field.slot, reg);
    }
    for implied in layout.implied {
        match *implied {
            Implied::Reg(slot, reg) => inst.set_slot(slot, reg),
            Implied::Same(slot, other) => inst.set_slot(slot, inst.slot(other)),
        }
    }
    if let Some(field) = layout.imm {
        inst.imm = field.extract(bits);
        if field.nonzero && inst.imm == 0 {
            return None;
        }
    }
    if layout.rm {
        inst.rm = ((bits >> 12) & 7) as u8;
        if !rm::is_valid(inst.rm) {
            return None;
        }
    }
    if layout.aqrl {
        inst.aqrl = ((bits >> 25) & 3) as u8;
    }
    Some(inst)
}
