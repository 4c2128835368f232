//! Exact IEEE 754 arithmetic on raw bits with RISC-V's rules layered on top.
//!
//! Arithmetic, conversions and rounding come from `rustc_apfloat` (rustc's/Miri's port of
//! LLVM's APFloat: all rounding modes, status flags); square root is computed here exactly
//! with integers. RISC-V specifics applied here: every NaN result is the canonical NaN,
//! signaling-NaN inputs raise NV, `fmin`/`fmax` follow the 2.2 spec (minimumNumber, -0 <
//! +0), conversions to integers saturate (NaN → largest) and never raise NX together with
//! NV, and `fma(∞, 0, qNaN)` raises NV. Functions take and return raw bits plus RISC-V
//! `fflags` bits; they know nothing about registers or NaN-boxing.

use core::cmp::Ordering;

use rustc_apfloat::ieee::{Double, Quad, Single};
use rustc_apfloat::{Float, FloatConvert, Round, Status, StatusAnd};

/// RISC-V `fflags` bits.
pub(crate) mod flags {
    pub const NV: u64 = 0x10;
    pub const DZ: u64 = 0x08;
    pub const OF: u64 = 0x04;
    pub const UF: u64 = 0x02;
    pub const NX: u64 = 0x01;
}
use flags::*;

/// A binary format: `rustc_apfloat` type plus its RISC-V constants.
pub(crate) trait Fp:
    Float + FloatConvert<Single> + FloatConvert<Double> + FloatConvert<Quad> + PartialOrd
{
    const CANONICAL_NAN: u64;
    /// Largest unbiased exponent of a finite number.
    const EMAX: i32;
    /// Explicit significand bits.
    const MANT: u32;
    const EXP: u32;
}

impl Fp for Single {
    const CANONICAL_NAN: u64 = 0x7fc0_0000;
    const EMAX: i32 = 127;
    const MANT: u32 = 23;
    const EXP: u32 = 8;
}

impl Fp for Double {
    const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;
    const EMAX: i32 = 1023;
    const MANT: u32 = 52;
    const EXP: u32 = 11;
}

/// The `rustc_apfloat` rounding mode of a valid, resolved RISC-V `rm` (0..=4).
pub(crate) fn rounding(rm: u64) -> Round {
    match rm {
        0 => Round::NearestTiesToEven,
        1 => Round::TowardZero,
        2 => Round::TowardNegative,
        3 => Round::TowardPositive,
        _ => Round::NearestTiesToAway,
    }
}

fn fflags(s: Status) -> u64 {
    let mut f = 0;
    for (st, fl) in [
        (Status::INVALID_OP, NV),
        (Status::DIV_BY_ZERO, DZ),
        (Status::OVERFLOW, OF),
        (Status::UNDERFLOW, UF),
        (Status::INEXACT, NX),
    ] {
        if s.contains(st) {
            f |= fl;
        }
    }
    f
}

#[inline]
fn val<F: Fp>(bits: u64) -> F {
    F::from_bits(bits as u128)
}

fn bits_of<F: Fp>(x: F) -> u64 {
    if x.is_nan() {
        F::CANONICAL_NAN
    } else {
        x.to_bits() as u64
    }
}

fn result<F: Fp>(r: StatusAnd<F>) -> (u64, u64) {
    (bits_of(r.value), fflags(r.status))
}

fn snan<F: Fp>(xs: &[F]) -> u64 {
    if xs.iter().any(|x| x.is_signaling()) {
        NV
    } else {
        0
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

pub(crate) fn binop<F: Fp>(op: BinOp, a: u64, b: u64, rm: Round) -> (u64, u64) {
    let (x, y) = (val::<F>(a), val::<F>(b));
    let r = apply(op, x, y, rm);
    let r = ieee_flags(r, rm, |q| apply(op, quad(x), quad(y), q).value);
    let (r, f) = result(r);
    (r, f | snan(&[x, y]))
}

fn apply<G: Float>(op: BinOp, x: G, y: G, rm: Round) -> StatusAnd<G> {
    match op {
        BinOp::Add => x.add_r(y, rm),
        BinOp::Sub => x.sub_r(y, rm),
        BinOp::Mul => x.mul_r(y, rm),
        BinOp::Div => x.div_r(y, rm),
    }
}

fn quad<F: Fp>(x: F) -> Quad {
    x.convert(&mut false).value
}

/// Brings `rustc_apfloat`'s flags in line with IEEE 754 / RISC-V where they differ; `exact`
/// recomputes the result in quad precision (wide enough that the checks below are exact)
/// with a given rounding.
///
/// - Overflow: `rustc_apfloat` (like LLVM) does not raise OF when a rounding toward zero
///   turns an overflowing result into ±largest; IEEE 754 does (|exact| ≥ 2^(emax+1)).
/// - Underflow: `rustc_apfloat` detects tininess after rounding to the subnormal precision;
///   RISC-V detects it after rounding to full precision with an unbounded exponent. They
///   differ only when the result is ±2^emin (the smallest normal) and inexact.
fn ieee_flags<F: Fp>(
    mut r: StatusAnd<F>,
    rm: Round,
    exact: impl Fn(Round) -> Quad,
) -> StatusAnd<F> {
    if !r.status.contains(Status::INEXACT) {
        return r;
    }
    let pow2 = |e: i32| Quad::from_u128(1).value.scalbn(e);
    let mag = r.value.abs();
    if !r.status.contains(Status::OVERFLOW) && mag.bitwise_eq(F::largest()) {
        if exact(Round::TowardZero).abs() >= pow2(F::EMAX + 1) {
            r.status |= Status::OVERFLOW;
        }
    } else if !r.status.contains(Status::UNDERFLOW) && mag.bitwise_eq(F::smallest_normalized()) {
        let emin = 1 - F::EMAX;
        let ulp = pow2(emin - F::MANT as i32 - 1); // spacing just below 2^emin
        let neg = r.value.is_negative();
        let tiny = match rm {
            Round::NearestTiesToEven | Round::NearestTiesToAway => {
                let limit = pow2(emin).sub_r(ulp.scalbn(-1), Round::TowardZero).value;
                exact(Round::TowardZero).abs() < limit
            }
            Round::TowardPositive if !neg => {
                exact(Round::TowardPositive) <= pow2(emin).sub_r(ulp, Round::TowardZero).value
            }
            Round::TowardNegative if neg => {
                (-exact(Round::TowardNegative)) <= pow2(emin).sub_r(ulp, Round::TowardZero).value
            }
            // Rounding toward zero gave 2^emin: the exact value is above it.
            _ => false,
        };
        if tiny {
            r.status |= Status::UNDERFLOW;
        }
    }
    r
}

/// `±(a·b) ± c` with one rounding.
pub(crate) fn fma<F: Fp>(
    a: u64,
    b: u64,
    c: u64,
    neg_prod: bool,
    neg_add: bool,
    rm: Round,
) -> (u64, u64) {
    let (x, y, z) = (val::<F>(a), val::<F>(b), val::<F>(c));
    let mut f = snan(&[x, y, z]);
    if (x.is_infinite() && y.is_zero()) || (x.is_zero() && y.is_infinite()) {
        f |= NV;
    }
    let x = if neg_prod { -x } else { x };
    let z = if neg_add { -z } else { z };
    let r = x.mul_add_r(y, z, rm);
    let r = ieee_flags(r, rm, |q| quad(x).mul_add_r(quad(y), quad(z), q).value);
    let (r, g) = result(r);
    (r, f | g)
}

/// Correctly rounded square root.
pub(crate) fn sqrt<F: Fp>(a: u64, rm: Round) -> (u64, u64) {
    let x = val::<F>(a);
    if x.is_nan() {
        return (F::CANONICAL_NAN, snan(&[x]));
    }
    if x.is_zero() || x.is_pos_infinity() {
        return (a, 0);
    }
    if x.is_negative() {
        return (F::CANONICAL_NAN, NV);
    }
    let bias = (1i64 << (F::EXP - 1)) - 1;
    let frac = a & ((1 << F::MANT) - 1);
    let field = ((a >> F::MANT) & ((1 << F::EXP) - 1)) as i64;
    // value = m · 2^k with m an integer
    let (mut m, mut k) = if field == 0 {
        (frac as u128, 1 - bias - F::MANT as i64)
    } else {
        ((frac | 1 << F::MANT) as u128, field - bias - F::MANT as i64)
    };
    let p = F::MANT + 1;
    // Scale m so its root has at least p + 2 bits: m needs 2p + 4 bits; keep k even.
    let want = 2 * p + 4;
    let have = 128 - m.leading_zeros();
    let mut shift = want.saturating_sub(have) as i64;
    if (k - shift) % 2 != 0 {
        shift += 1;
    }
    m <<= shift;
    k -= shift;
    let (root, rem) = isqrt(m);
    let (mut q, mut e) = (root, k / 2);
    // Round q (value q · 2^e) to p bits.
    let drop = (128 - q.leading_zeros()) - p;
    let low = q & ((1 << drop) - 1);
    let half = 1u128 << (drop - 1);
    let sticky = rem != 0;
    q >>= drop;
    e += drop as i64;
    let inexact = low != 0 || sticky;
    let up = match rm {
        Round::NearestTiesToEven => low > half || (low == half && (sticky || q & 1 == 1)),
        Round::NearestTiesToAway => low >= half,
        Round::TowardPositive => inexact,
        Round::TowardZero | Round::TowardNegative => false,
    };
    if up {
        q += 1;
        if q >> p != 0 {
            q >>= 1;
            e += 1;
        }
    }
    let field = (e + F::MANT as i64 + bias) as u64;
    let bits = field << F::MANT | (q as u64 & ((1 << F::MANT) - 1));
    (bits, if inexact { NX } else { 0 })
}

/// Integer square root and remainder.
fn isqrt(n: u128) -> (u128, u128) {
    let mut x = n;
    let mut r = 0u128;
    let mut bit = 1u128 << 126;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if x >= r + bit {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    (r, x)
}

/// `fmin`/`fmax`.
pub(crate) fn minmax<F: Fp>(a: u64, b: u64, max: bool) -> (u64, u64) {
    let (x, y) = (val::<F>(a), val::<F>(b));
    let f = snan(&[x, y]);
    let r = match (x.is_nan(), y.is_nan()) {
        (true, true) => F::CANONICAL_NAN,
        (true, false) => b,
        (false, true) => a,
        _ => {
            let lt = x < y || (x.is_zero() && y.is_zero() && x.is_negative() && !y.is_negative());
            if lt == max { b } else { a }
        }
    };
    (r, f)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
}

/// `feq` (quiet: NV only for signaling NaNs), `flt`/`fle` (signaling: NV for any NaN).
pub(crate) fn compare<F: Fp>(a: u64, b: u64, cmp: Cmp) -> (u64, u64) {
    let (x, y) = (val::<F>(a), val::<F>(b));
    if x.is_nan() || y.is_nan() {
        let f = if cmp == Cmp::Eq { snan(&[x, y]) } else { NV };
        return (0, f);
    }
    let o = x.partial_cmp(&y);
    let r = match cmp {
        Cmp::Eq => o == Some(Ordering::Equal),
        Cmp::Lt => o == Some(Ordering::Less),
        Cmp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
    };
    (r as u64, 0)
}

/// `fclass`.
pub(crate) fn class<F: Fp>(a: u64) -> u64 {
    let x = val::<F>(a);
    let neg = x.is_negative();
    let bit = if x.is_nan() {
        if x.is_signaling() { 8 } else { 9 }
    } else if x.is_infinite() {
        if neg { 0 } else { 7 }
    } else if x.is_zero() {
        if neg { 3 } else { 4 }
    } else if x.is_denormal() {
        if neg { 2 } else { 5 }
    } else if neg {
        1
    } else {
        6
    };
    1 << bit
}

/// Float → integer of `width` (32 or 64) bits, saturating; 32-bit results sign-extended.
pub(crate) fn to_int<F: Fp>(a: u64, rm: Round, signed: bool, width: usize) -> (u64, u64) {
    let x = val::<F>(a);
    let (v, status) = if x.is_nan() {
        let v = if signed {
            (1i128 << (width - 1)) - 1
        } else {
            (1i128 << width) - 1
        };
        (v, Status::INVALID_OP)
    } else if signed {
        let r = x.to_i128_r(width, rm, &mut true);
        (r.value, r.status)
    } else {
        let r = x.to_u128_r(width, rm, &mut true);
        (r.value as i128, r.status)
    };
    let f = if status.contains(Status::INVALID_OP) {
        NV
    } else {
        fflags(status)
    };
    let v = if width == 32 {
        v as u32 as i32 as i64 as u64
    } else {
        v as u64
    };
    (v, f)
}

/// Integer → float.
pub(crate) fn from_int<F: Fp>(v: i128, rm: Round) -> (u64, u64) {
    result(F::from_i128_r(v, rm))
}

/// Float → float of another precision.
pub(crate) fn convert<F: Fp + FloatConvert<T>, T: Fp>(a: u64, rm: Round) -> (u64, u64) {
    let x = val::<F>(a);
    let r: StatusAnd<T> = x.convert_r(rm, &mut false);
    let r = ieee_flags(r, rm, |_| quad(x));
    let (r, f) = result(r);
    (r, f | snan(&[x]))
}

#[cfg(test)]
mod tests {
    //! Round-to-nearest-even results checked against the host's IEEE arithmetic (which is
    //! correctly rounded in that mode) on pseudo-random operands of every class.

    use super::*;

    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = self.0;
            // Mix in special exponents now and then: zeros, subnormals, infinities, NaNs.
            match (x >> 60) & 7 {
                0 => x & 0x800f_ffff_ffff_ffff,
                1 => x | 0x7ff0_0000_0000_0000,
                _ => x.rotate_left(17) ^ x,
            }
        }
    }

    const RNE: Round = Round::NearestTiesToEven;

    fn same64(got: u64, want: f64) -> bool {
        if want.is_nan() {
            got == Double::CANONICAL_NAN
        } else {
            got == want.to_bits()
        }
    }

    fn same32(got: u64, want: f32) -> bool {
        if want.is_nan() {
            got == Single::CANONICAL_NAN
        } else {
            got == want.to_bits() as u64
        }
    }

    #[test]
    fn double_ops_match_host_rne() {
        let mut r = Lcg(1);
        for _ in 0..50_000 {
            let (a, b, c) = (r.next(), r.next(), r.next());
            let (x, y, z) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
            assert!(
                same64(binop::<Double>(BinOp::Add, a, b, RNE).0, x + y),
                "{a:#x} + {b:#x}"
            );
            assert!(
                same64(binop::<Double>(BinOp::Sub, a, b, RNE).0, x - y),
                "{a:#x} - {b:#x}"
            );
            assert!(
                same64(binop::<Double>(BinOp::Mul, a, b, RNE).0, x * y),
                "{a:#x} * {b:#x}"
            );
            assert!(
                same64(binop::<Double>(BinOp::Div, a, b, RNE).0, x / y),
                "{a:#x} / {b:#x}"
            );
            assert!(same64(sqrt::<Double>(a, RNE).0, x.sqrt()), "sqrt {a:#x}");
            assert!(
                same64(fma::<Double>(a, b, c, false, false, RNE).0, x.mul_add(y, z)),
                "fma {a:#x} {b:#x} {c:#x}"
            );
        }
    }

    #[test]
    fn single_ops_match_host_rne() {
        let mut r = Lcg(2);
        for _ in 0..50_000 {
            let (a, b) = (r.next() >> 32, r.next() & 0xffff_ffff);
            let (x, y) = (f32::from_bits(a as u32), f32::from_bits(b as u32));
            assert!(same32(binop::<Single>(BinOp::Add, a, b, RNE).0, x + y));
            assert!(same32(binop::<Single>(BinOp::Mul, a, b, RNE).0, x * y));
            assert!(same32(binop::<Single>(BinOp::Div, a, b, RNE).0, x / y));
            assert!(same32(sqrt::<Single>(a, RNE).0, x.sqrt()), "sqrt {a:#x}");
        }
    }

    #[test]
    fn sqrt_is_exact_or_inexact_and_directed_modes_bracket() {
        let mut r = Lcg(3);
        for _ in 0..50_000 {
            let a = r.next() & !(1 << 63);
            let x = f64::from_bits(a);
            if !x.is_finite() || x == 0.0 {
                continue;
            }
            let (down, f1) = sqrt::<Double>(a, Round::TowardZero);
            let (up, f2) = sqrt::<Double>(a, Round::TowardPositive);
            assert_eq!(f1, f2);
            if f1 == 0 {
                assert_eq!(down, up);
            } else {
                assert_eq!(up, down + 1, "sqrt {a:#x}");
            }
        }
    }
}
