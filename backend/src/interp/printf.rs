//! C `printf` formatting for the host C library: conversions `d i u x X o c s p f F e E g G
//! %`, flags `- + space 0 #`, width and precision (also `*`), length modifiers `hh h l ll z
//! j t` (`L` is accepted and ignored).
//!
//! Integer arguments without `l`/`ll`/`z`/`j`/`t` use the low 32 bits of the argument slot;
//! floating-point conversions take a `d` argument (an `s` argument is widened, like C's
//! default promotion). `%p` prints `0x` and lowercase hex (`0x0` for null).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::memory::Memory;
use crate::ir::{AbiTy, BaseTy};

/// Formats `fmt` with `args`; strings for `%s` are read from `mem`.
pub fn format(fmt: &[u8], args: &[(AbiTy, u64)], mem: &Memory) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut next = 0usize;
    let mut take = || -> Result<(AbiTy, u64), String> {
        let a = args
            .get(next)
            .copied()
            .ok_or("too few arguments for the format string")?;
        next += 1;
        Ok(a)
    };
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = fmt.get(i) {
            match f {
                b'-' => spec.left = true,
                b'+' => spec.plus = true,
                b' ' => spec.space = true,
                b'0' => spec.zero = true,
                b'#' => spec.alt = true,
                _ => break,
            }
            i += 1;
        }
        if fmt.get(i) == Some(&b'*') {
            i += 1;
            let w = take()?.1 as u32 as i32;
            if w < 0 {
                spec.left = true;
            }
            spec.width = w.unsigned_abs() as usize;
        } else {
            spec.width = number(fmt, &mut i);
        }
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            if fmt.get(i) == Some(&b'*') {
                i += 1;
                let p = take()?.1 as u32 as i32;
                spec.prec = (p >= 0).then_some(p as usize);
            } else {
                spec.prec = Some(number(fmt, &mut i));
            }
        }
        let mut long = false;
        let mut short = 0;
        while let Some(&m) = fmt.get(i) {
            match m {
                b'l' | b'z' | b'j' | b't' => long = true,
                b'h' => short += 1,
                b'L' => {}
                _ => break,
            }
            i += 1;
        }
        let conv = *fmt.get(i).ok_or("format string ends inside a conversion")?;
        i += 1;
        let int_arg = |v: u64, signed: bool| -> u64 {
            match (long, short, signed) {
                (true, _, _) => v,
                (_, 0, true) => v as u32 as i32 as i64 as u64,
                (_, 0, false) => v as u32 as u64,
                (_, 1, true) => v as u16 as i16 as i64 as u64,
                (_, 1, false) => v as u16 as u64,
                (_, _, true) => v as u8 as i8 as i64 as u64,
                (_, _, false) => v as u8 as u64,
            }
        };
        match conv {
            b'%' => out.push(b'%'),
            b'd' | b'i' => {
                let v = int_arg(take()?.1, true) as i64;
                let digits = int_digits(v.unsigned_abs(), 10, false, spec.prec);
                let sign = sign_of(v < 0, &spec);
                pad(&mut out, &spec, sign, &digits, spec.prec.is_none());
            }
            b'u' | b'x' | b'X' | b'o' => {
                let v = int_arg(take()?.1, false);
                let (base, upper) = match conv {
                    b'u' => (10, false),
                    b'o' => (8, false),
                    b'x' => (16, false),
                    _ => (16, true),
                };
                let mut digits = int_digits(v, base, upper, spec.prec);
                let mut prefix = "";
                if spec.alt && conv == b'o' && !digits.starts_with('0') {
                    digits.insert(0, '0');
                }
                if spec.alt && v != 0 && base == 16 {
                    prefix = if upper { "0X" } else { "0x" };
                }
                pad(&mut out, &spec, prefix, &digits, spec.prec.is_none());
            }
            b'c' => {
                let v = take()?.1 as u8;
                pad_bytes(&mut out, &spec, &[v]);
            }
            b's' => {
                let p = take()?.1;
                let mut s = if p == 0 {
                    b"(null)".to_vec()
                } else {
                    mem.c_string(p)?
                };
                if let Some(n) = spec.prec {
                    s.truncate(n);
                }
                pad_bytes(&mut out, &spec, &s);
            }
            b'p' => {
                let v = take()?.1;
                let digits = format!("{v:x}");
                pad(&mut out, &spec, "0x", &digits, true);
            }
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' => {
                let (ty, bits) = take()?;
                let x = match ty {
                    AbiTy::Base(BaseTy::S) => f32::from_bits(bits as u32) as f64,
                    _ => f64::from_bits(bits),
                };
                let upper = conv.is_ascii_uppercase();
                let sign = sign_of(x.is_sign_negative(), &spec);
                if !x.is_finite() {
                    let s = match (x.is_nan(), upper) {
                        (true, false) => "nan",
                        (true, true) => "NAN",
                        (false, false) => "inf",
                        (false, true) => "INF",
                    };
                    pad(&mut out, &spec, sign, s, false);
                } else {
                    let s = float(x.abs(), conv.to_ascii_lowercase(), spec.prec, spec.alt);
                    let s = if upper { s.to_ascii_uppercase() } else { s };
                    pad(&mut out, &spec, sign, &s, true);
                }
            }
            c => return Err(format!("unsupported conversion %{}", c as char)),
        }
    }
    Ok(out)
}

#[derive(Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    zero: bool,
    alt: bool,
    width: usize,
    prec: Option<usize>,
}

fn number(fmt: &[u8], i: &mut usize) -> usize {
    let mut n: usize = 0;
    while let Some(d) = fmt.get(*i).filter(|d| d.is_ascii_digit()) {
        n = n
            .saturating_mul(10)
            .saturating_add((d - b'0') as usize)
            .min(1 << 20);
        *i += 1;
    }
    n
}

fn sign_of(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

/// Digits of `v` with at least `prec` digits (precision 0 and value 0 give no digits).
fn int_digits(v: u64, base: u64, upper: bool, prec: Option<usize>) -> String {
    let mut s = match base {
        8 => format!("{v:o}"),
        16 if upper => format!("{v:X}"),
        16 => format!("{v:x}"),
        _ => format!("{v}"),
    };
    match prec {
        Some(0) if v == 0 => s.clear(),
        Some(p) if s.len() < p => {
            let zeros: String = core::iter::repeat_n('0', p - s.len()).collect();
            s.insert_str(0, &zeros);
        }
        _ => {}
    }
    s
}

/// Writes `prefix` + `body` padded to the width: spaces, or zeros after the prefix when the
/// `0` flag is given, allowed (`zero_ok`) and `-` is not.
fn pad(out: &mut Vec<u8>, spec: &Spec, prefix: &str, body: &str, zero_ok: bool) {
    let len = prefix.len() + body.len();
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(body.as_bytes());
        out.extend(core::iter::repeat_n(b' ', fill));
    } else if spec.zero && zero_ok {
        out.extend_from_slice(prefix.as_bytes());
        out.extend(core::iter::repeat_n(b'0', fill));
        out.extend_from_slice(body.as_bytes());
    } else {
        out.extend(core::iter::repeat_n(b' ', fill));
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(body.as_bytes());
    }
}

fn pad_bytes(out: &mut Vec<u8>, spec: &Spec, body: &[u8]) {
    let fill = spec.width.saturating_sub(body.len());
    if !spec.left {
        out.extend(core::iter::repeat_n(b' ', fill));
    }
    out.extend_from_slice(body);
    if spec.left {
        out.extend(core::iter::repeat_n(b' ', fill));
    }
}

/// `%e` of a finite non-negative `x`: mantissa and (rounded) decimal exponent.
fn exp_form(x: f64, prec: usize) -> (String, i32) {
    let s = format!("{x:.prec$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    (String::from(m), e.parse().unwrap_or(0))
}

fn with_exp(mant: &str, e: i32) -> String {
    let sign = if e < 0 { '-' } else { '+' };
    format!("{mant}e{sign}{:02}", e.unsigned_abs())
}

/// Removes trailing zeros of the fraction (and a then trailing `.`).
fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Formats a finite non-negative `x` for conversion `f`, `e` or `g`.
fn float(x: f64, conv: u8, prec: Option<usize>, alt: bool) -> String {
    let p = prec.unwrap_or(6).min(1 << 12);
    let dot = |s: String| {
        if alt && !s.contains('.') {
            let mut s = s;
            s.push('.');
            s
        } else {
            s
        }
    };
    match conv {
        b'f' => dot(format!("{x:.p$}")),
        b'e' => {
            let (m, e) = exp_form(x, p);
            with_exp(&dot(m), e)
        }
        _ => {
            let p = p.max(1);
            let (_, x_exp) = exp_form(x, p - 1);
            let x_exp = if x == 0.0 { 0 } else { x_exp };
            if (p as i32) > x_exp && x_exp >= -4 {
                let s = format!("{x:.*}", (p as i32 - 1 - x_exp) as usize);
                if alt {
                    dot(s)
                } else {
                    String::from(strip_zeros(&s))
                }
            } else {
                let (m, e) = exp_form(x, p - 1);
                let m = if alt {
                    dot(m)
                } else {
                    String::from(strip_zeros(&m))
                };
                with_exp(&m, e)
            }
        }
    }
}
