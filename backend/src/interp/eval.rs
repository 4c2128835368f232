//! Pure instruction semantics: arithmetic, bits, comparisons, conversions, cast and copy.
//!
//! Values are raw 64-bit blobs: `w` in the low 32 bits (zero-extended after every `w`
//! result), `l` in all 64, `s` as `f32` bits in the low 32, `d` as `f64` bits.
//! Arithmetic and conversions that produce a NaN produce RISC-V's canonical NaN (positive,
//! quiet), so that printed results agree with compiled code.

use alloc::format;
use alloc::string::String;

use crate::ir::{BaseTy, Cond, Op};

/// Keeps the bits of `v` that a value of type `ty` has.
pub fn mask(ty: BaseTy, v: u64) -> u64 {
    match ty {
        BaseTy::W | BaseTy::S => v & 0xffff_ffff,
        BaseTy::L | BaseTy::D => v,
    }
}

fn f32_of(v: u64) -> f32 {
    f32::from_bits(v as u32)
}
fn f64_of(v: u64) -> f64 {
    f64::from_bits(v)
}
/// Bits of an `f32` result; a NaN becomes RISC-V's canonical NaN (as the hardware does).
fn s_bits(f: f32) -> u64 {
    if f.is_nan() {
        0x7fc0_0000
    } else {
        f.to_bits() as u64
    }
}
/// Bits of an `f64` result; a NaN becomes RISC-V's canonical NaN.
fn d_bits(f: f64) -> u64 {
    if f.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        f.to_bits()
    }
}

/// A two-operand arithmetic or bitwise instruction with result type `ty`.
pub fn binary(op: Op, ty: BaseTy, a: u64, b: u64) -> Result<u64, String> {
    match ty {
        BaseTy::W => int32(op, a as u32, b as u32).map(|r| r as u64),
        BaseTy::L => int64(op, a, b),
        BaseTy::S => {
            let (x, y) = (f32_of(a), f32_of(b));
            Ok(s_bits(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
                Op::Div => x / y,
                _ => return Err(format!("`{op}` is not defined on floats")),
            }))
        }
        BaseTy::D => {
            let (x, y) = (f64_of(a), f64_of(b));
            Ok(d_bits(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
                Op::Div => x / y,
                _ => return Err(format!("`{op}` is not defined on floats")),
            }))
        }
    }
}

const DIV0: &str = "division by zero";
const OVERFLOW: &str = "signed division overflow (INT_MIN / -1)";

fn int32(op: Op, a: u32, b: u32) -> Result<u32, String> {
    let (sa, sb) = (a as i32, b as i32);
    let signed_div = |f: fn(i32, i32) -> i32| {
        if sb == 0 {
            Err(String::from(DIV0))
        } else if sa == i32::MIN && sb == -1 {
            Err(String::from(OVERFLOW))
        } else {
            Ok(f(sa, sb) as u32)
        }
    };
    Ok(match op {
        Op::Add => a.wrapping_add(b),
        Op::Sub => a.wrapping_sub(b),
        Op::Mul => a.wrapping_mul(b),
        Op::Div => return signed_div(|x, y| x / y),
        Op::Rem => return signed_div(|x, y| x % y),
        Op::Udiv => a.checked_div(b).ok_or(DIV0)?,
        Op::Urem => a.checked_rem(b).ok_or(DIV0)?,
        Op::Or => a | b,
        Op::Xor => a ^ b,
        Op::And => a & b,
        Op::Sar => (sa >> (b & 31)) as u32,
        Op::Shr => a >> (b & 31),
        Op::Shl => a << (b & 31),
        _ => return Err(format!("`{op}` is not a binary operation")),
    })
}

fn int64(op: Op, a: u64, b: u64) -> Result<u64, String> {
    let (sa, sb) = (a as i64, b as i64);
    let signed_div = |f: fn(i64, i64) -> i64| {
        if sb == 0 {
            Err(String::from(DIV0))
        } else if sa == i64::MIN && sb == -1 {
            Err(String::from(OVERFLOW))
        } else {
            Ok(f(sa, sb) as u64)
        }
    };
    Ok(match op {
        Op::Add => a.wrapping_add(b),
        Op::Sub => a.wrapping_sub(b),
        Op::Mul => a.wrapping_mul(b),
        Op::Div => return signed_div(|x, y| x / y),
        Op::Rem => return signed_div(|x, y| x % y),
        Op::Udiv => a.checked_div(b).ok_or(DIV0)?,
        Op::Urem => a.checked_rem(b).ok_or(DIV0)?,
        Op::Or => a | b,
        Op::Xor => a ^ b,
        Op::And => a & b,
        // The shift amount is a `w`: only its low 6 bits matter.
        Op::Sar => (sa >> (b & 63)) as u64,
        Op::Shr => a >> (b & 63),
        Op::Shl => a << (b & 63),
        _ => return Err(format!("`{op}` is not a binary operation")),
    })
}

/// A comparison of two operands of type `ty`: 1 or 0.
pub fn compare(cond: Cond, ty: BaseTy, a: u64, b: u64) -> u64 {
    let r = match ty {
        BaseTy::W => int_cmp(
            cond,
            a as u32 as i32 as i64,
            b as u32 as i32 as i64,
            a as u32 as u64,
            b as u32 as u64,
        ),
        BaseTy::L => int_cmp(cond, a as i64, b as i64, a, b),
        BaseTy::S => float_cmp(cond, f32_of(a) as f64, f32_of(b) as f64),
        BaseTy::D => float_cmp(cond, f64_of(a), f64_of(b)),
    };
    r as u64
}

fn int_cmp(c: Cond, sa: i64, sb: i64, ua: u64, ub: u64) -> bool {
    match c {
        Cond::Eq => ua == ub,
        Cond::Ne => ua != ub,
        Cond::Sle => sa <= sb,
        Cond::Slt => sa < sb,
        Cond::Sge => sa >= sb,
        Cond::Sgt => sa > sb,
        Cond::Ule => ua <= ub,
        Cond::Ult => ua < ub,
        Cond::Uge => ua >= ub,
        Cond::Ugt => ua > ub,
        // Not valid on integers (the verifier rejects them).
        Cond::Le | Cond::Lt | Cond::Ge | Cond::Gt | Cond::O | Cond::Uo => false,
    }
}

// `s` operands are widened to f64 exactly, so comparing as f64 is the same as comparing as f32.
#[allow(clippy::float_cmp)]
fn float_cmp(c: Cond, x: f64, y: f64) -> bool {
    match c {
        Cond::Eq => x == y,
        Cond::Ne => x != y,
        Cond::Le => x <= y,
        Cond::Lt => x < y,
        Cond::Ge => x >= y,
        Cond::Gt => x > y,
        Cond::O => !x.is_nan() && !y.is_nan(),
        Cond::Uo => x.is_nan() || y.is_nan(),
        _ => false,
    }
}

/// Truncates `x` toward zero to an integer in `[lo, hi)`; NaN or out of range is an error.
fn to_int(x: f64, lo: f64, hi: f64, what: &str) -> Result<f64, String> {
    let t = x.trunc();
    if x.is_nan() || t < lo || t >= hi {
        return Err(format!("{what}: {x} is out of range of the result type"));
    }
    Ok(t)
}

/// A one-operand instruction (`neg`, extensions, conversions, `cast`, `copy`) with result
/// type `ty`. The result is masked to `ty`.
pub fn unary(op: Op, ty: BaseTy, a: u64) -> Result<u64, String> {
    const P31: f64 = 2147483648.0;
    const P32: f64 = 4294967296.0;
    const P63: f64 = 9223372036854775808.0;
    const P64: f64 = 18446744073709551616.0;
    let float_to_int = |x: f64, signed: bool| -> Result<u64, String> {
        let name = format!("{op}");
        Ok(match (ty, signed) {
            (BaseTy::W, true) => to_int(x, -P31, P31, &name)? as i64 as u64,
            (BaseTy::W, false) => to_int(x, 0.0, P32, &name)? as u64,
            (_, true) => to_int(x, -P63, P63, &name)? as i64 as u64,
            (_, false) => to_int(x, 0.0, P64, &name)? as u64,
        })
    };
    let int_to_float = |i: f64, exact32: f32| match ty {
        BaseTy::S => s_bits(exact32),
        _ => d_bits(i),
    };
    let r = match op {
        Op::Neg => match ty {
            BaseTy::W | BaseTy::L => a.wrapping_neg(),
            // Sign injection (`fneg`): only the sign bit changes, even for a NaN.
            BaseTy::S => a ^ 0x8000_0000,
            BaseTy::D => a ^ 0x8000_0000_0000_0000,
        },
        Op::Extsw => a as u32 as i32 as i64 as u64,
        Op::Extuw => a as u32 as u64,
        Op::Extsh => a as u16 as i16 as i64 as u64,
        Op::Extuh => a as u16 as u64,
        Op::Extsb => a as u8 as i8 as i64 as u64,
        Op::Extub => a as u8 as u64,
        Op::Exts => d_bits(f32_of(a) as f64),
        Op::Truncd => s_bits(f64_of(a) as f32),
        Op::Stosi => float_to_int(f32_of(a) as f64, true)?,
        Op::Stoui => float_to_int(f32_of(a) as f64, false)?,
        Op::Dtosi => float_to_int(f64_of(a), true)?,
        Op::Dtoui => float_to_int(f64_of(a), false)?,
        // Rust's `as` rounds to nearest even directly from the integer (no double rounding).
        Op::Swtof => int_to_float(a as i32 as f64, a as i32 as f32),
        Op::Uwtof => int_to_float(a as u32 as f64, a as u32 as f32),
        Op::Sltof => int_to_float(a as i64 as f64, a as i64 as f32),
        Op::Ultof => int_to_float(a as f64, a as f32),
        Op::Cast | Op::Copy => a,
        _ => return Err(format!("`{op}` is not a unary operation")),
    };
    Ok(mask(ty, r))
}
