//! What the run loop learns about a Rust panic from the stopped program: the panic message,
//! read from the `&PanicInfo` argument of `rust_begin_unwind`, and whether the program is
//! parked after it (a halt loop or `wfi`), so that a `panic-halt` firmware ends the run with
//! status 101 and its message instead of hanging.
//!
//! The message is decoded from the program's memory without running anything on the target.
//! `PanicInfo` starts with two pointers, to the message (`fmt::Arguments`) and to the
//! `Location` (file, line, column); which is which is told by checking which one reads as a
//! valid `Location`. Two `fmt::Arguments` layouts are understood: the template form of current
//! compilers (a byte-coded template and an argument array; a plain string when the second word
//! is odd) and the older `pieces`/`fmt`/`args` slices. An argument is formatted when its
//! formatting function is recognised by its symbol: integers, `bool`, `char`, nested
//! `Arguments`, and references to these or to `str` (`<&T as Display>::fmt` is followed to the
//! function it calls). Anything else prints as `{?}`; width, fill and precision are ignored.
//! Everything here is best effort: a message that cannot be read is `None`, never an error.

use crate::image::Image;
use crate::target::{Reg, Target};
use rvflash_backend::isa::{self, Op};

/// Longest string (file name, message piece) read from the program.
const MAX_STR: u64 = 4096;
/// Deepest nesting of `Arguments` and references followed.
const MAX_DEPTH: usize = 4;

/// The panic message and location, as `FILE:LINE:COL: MESSAGE` (or the parts that could be
/// read), from the `&PanicInfo` in `a0` at `rust_begin_unwind`.
pub fn message(target: &mut dyn Target, image: &Image) -> Option<String> {
    let info = target.register(Reg::X(10)).ok()?;
    let first = read_u64(target, info)?;
    let second = read_u64(target, info + 8)?;
    let (args, location) = match location(target, second) {
        Some(loc) => (first, Some(loc)),
        None => (second, location(target, first)),
    };
    let text = Decoder { target, image }.arguments(args, 0);
    match (location, text) {
        (Some(loc), Some(text)) => Some(format!("{loc}: {text}")),
        (Some(loc), None) => Some(loc),
        (None, text) => text,
    }
}

/// Whether the hart sits on an instruction that never leads anywhere: a jump or branch to
/// itself, or `wfi` (at pc, or just behind it, where QEMU leaves pc while the hart sleeps).
pub fn parked(target: &mut dyn Target) -> bool {
    let Ok(pc) = target.register(Reg::Pc) else {
        return false;
    };
    let at = |target: &mut dyn Target, addr: u64| {
        let mut bytes = [0u8; 4];
        target.read_memory(addr, &mut bytes).ok()?;
        isa::decode(&bytes).ok().map(|inst| inst.expand())
    };
    let here = at(target, pc);
    let self_loop = here.is_some_and(|i| {
        i.imm == 0
            && (i.op == Op::Jal || matches!(i.op, Op::Beq | Op::Bge | Op::Bgeu) && i.rs1 == i.rs2)
    });
    let waiting = here.is_some_and(|i| i.op == Op::Wfi)
        || at(target, pc.wrapping_sub(4)).is_some_and(|i| i.op == Op::Wfi);
    self_loop || waiting
}

/// `FILE:LINE:COL` from a `core::panic::Location` (a `str` pointer and length, then two u32),
/// or `None` when `addr` does not hold one.
fn location(target: &mut dyn Target, addr: u64) -> Option<String> {
    let ptr = read_u64(target, addr)?;
    let len = read_u64(target, addr + 8)?;
    let mut lc = [0u8; 8];
    target.read_memory(addr + 16, &mut lc).ok()?;
    let line = u32::from_le_bytes(lc[..4].try_into().ok()?);
    let col = u32::from_le_bytes(lc[4..].try_into().ok()?);
    let file = read_str(target, ptr, len)?;
    let file = file.trim_end_matches('\0');
    (line > 0 && !file.is_empty() && file.is_ascii()).then(|| format!("{file}:{line}:{col}"))
}

struct Decoder<'t, 'i> {
    target: &'t mut dyn Target,
    image: &'i Image,
}

impl Decoder<'_, '_> {
    /// Formats the `fmt::Arguments` at `addr`.
    fn arguments(&mut self, addr: u64, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        let w0 = read_u64(self.target, addr)?;
        let w1 = read_u64(self.target, addr + 8)?;
        if w1 & 1 == 1 {
            // Template form holding a plain string: pointer, length << 1 | 1.
            return read_str(self.target, w0, w1 >> 1);
        }
        if w1 < MAX_STR {
            // Older form: pieces (pointer, count), fmt (None = 0), args (pointer, count).
            return self.pieces_form(addr, depth);
        }
        self.template_form(w0, w1, depth)
    }

    /// The template form: a byte-coded template of literal pieces and placeholders, and an
    /// array of 16-byte arguments.
    fn template_form(&mut self, template: u64, args: u64, depth: usize) -> Option<String> {
        let mut out = String::new();
        let mut at = template;
        let mut next_arg = 0u64;
        for _ in 0..256 {
            let n = self.byte(at)?;
            at += 1;
            match n {
                0 => return Some(out),
                1..=0x7f => {
                    out.push_str(&read_str(self.target, at, u64::from(n))?);
                    at += u64::from(n);
                }
                0x80 => {
                    let len = u64::from(self.u16(at)?);
                    out.push_str(&read_str(self.target, at + 2, len)?);
                    at += 2 + len;
                }
                0xc0.. => {
                    // Optional fields: flags (4 bytes), width, precision, argument index.
                    let mut index = next_arg;
                    for (bit, size) in [(1u8, 4u64), (2, 2), (4, 2)] {
                        if n & bit != 0 {
                            at += size;
                        }
                    }
                    if n & 8 != 0 {
                        index = u64::from(self.u16(at)?);
                        at += 2;
                    }
                    out.push_str(&self.argument(args + 16 * index, depth));
                    next_arg = index + 1;
                }
                _ => return None,
            }
        }
        None
    }

    /// The older form: `pieces: &[&str]`, `fmt: Option<&[Placeholder]>`, `args: &[Argument]`,
    /// read as pieces and arguments in turn (placeholders' options are not read).
    fn pieces_form(&mut self, addr: u64, depth: usize) -> Option<String> {
        let (pieces, count) = (
            read_u64(self.target, addr)?,
            read_u64(self.target, addr + 8)?,
        );
        let (args, nargs) = (
            read_u64(self.target, addr + 32)?,
            read_u64(self.target, addr + 40)?,
        );
        if count > 64 || nargs > 64 {
            return None;
        }
        let mut out = String::new();
        for i in 0..count.max(nargs) {
            if i < count {
                let ptr = read_u64(self.target, pieces + 16 * i)?;
                let len = read_u64(self.target, pieces + 16 * i + 8)?;
                out.push_str(&read_str(self.target, ptr, len)?);
            }
            if i < nargs {
                out.push_str(&self.argument(args + 16 * i, depth));
            }
        }
        Some(out)
    }

    /// One `fmt::rt::Argument` (a value pointer and a formatting function, in either order).
    fn argument(&mut self, addr: u64, depth: usize) -> String {
        let words = (read_u64(self.target, addr), read_u64(self.target, addr + 8));
        let (Some(a), Some(b)) = words else {
            return "{?}".into();
        };
        let (value, function) = if self.function_name(b).is_some() {
            (a, b)
        } else {
            (b, a)
        };
        self.value(value, function, depth)
            .unwrap_or_else(|| "{?}".into())
    }

    /// Formats the value at `value` the way the function at `function` would.
    fn value(&mut self, value: u64, function: u64, depth: usize) -> Option<String> {
        let name = self.function_name(function)?;
        let (ty, fmt_trait) = impl_of(&name)?;
        if depth > MAX_DEPTH {
            return None;
        }
        if ty == "&T" || ty == "&mut T" {
            // A reference: the function calls the pointee's formatter.
            let callee = self.first_call(function)?;
            let callee_name = self.function_name(callee)?;
            let (inner, _) = impl_of(&callee_name)?;
            if inner == "str" {
                let ptr = read_u64(self.target, value)?;
                let len = read_u64(self.target, value + 8)?;
                let s = read_str(self.target, ptr, len)?;
                return Some(if fmt_trait == "Debug" {
                    format!("{s:?}")
                } else {
                    s
                });
            }
            let pointee = read_u64(self.target, value)?;
            return self.value(pointee, callee, depth + 1);
        }
        if ty.ends_with("Arguments") {
            return self.arguments(value, depth + 1);
        }
        let mut bytes = [0u8; 16];
        let size = match ty {
            "u8" | "i8" | "bool" => 1,
            "u16" | "i16" => 2,
            "u32" | "i32" | "char" => 4,
            "u64" | "i64" | "usize" | "isize" => 8,
            "u128" | "i128" => 16,
            _ => return None,
        };
        self.target.read_memory(value, &mut bytes[..size]).ok()?;
        let raw = u128::from_le_bytes(bytes);
        let signed = (raw << (128 - 8 * size)) as i128 >> (128 - 8 * size);
        Some(match (ty, fmt_trait) {
            ("bool", _) => (raw != 0).to_string(),
            ("char", "Debug") => format!("{:?}", char::from_u32(raw as u32)?),
            ("char", _) => char::from_u32(raw as u32)?.to_string(),
            (_, "LowerHex") => format!("{raw:x}"),
            (_, "UpperHex") => format!("{raw:X}"),
            (_, "Binary") => format!("{raw:b}"),
            (_, "Octal") => format!("{raw:o}"),
            (t, _) if t.starts_with('i') => signed.to_string(),
            _ => raw.to_string(),
        })
    }

    /// The target of the first call or tail call in the function at `addr` (`jal`, or
    /// `auipc` + `jalr`).
    fn first_call(&mut self, addr: u64) -> Option<u64> {
        let mut pc = addr;
        let mut auipc: Option<(u8, u64)> = None;
        for _ in 0..32 {
            let mut bytes = [0u8; 4];
            self.target.read_memory(pc, &mut bytes).ok()?;
            let raw = isa::decode(&bytes).ok()?;
            let inst = raw.expand();
            match inst.op {
                Op::Jal => return Some(pc.wrapping_add(inst.imm as i64 as u64)),
                Op::Auipc => {
                    auipc = Some((inst.rd, pc.wrapping_add((inst.imm as i64 as u64) << 12)))
                }
                Op::Jalr => match auipc {
                    Some((rd, base)) if rd == inst.rs1 => {
                        return Some(base.wrapping_add(inst.imm as i64 as u64));
                    }
                    _ => return None,
                },
                _ => {}
            }
            pc += raw.len() as u64;
        }
        None
    }

    /// The demangled name of the function symbol starting at `addr`.
    fn function_name(&self, addr: u64) -> Option<String> {
        match self.image.symbol_at(addr) {
            Some((name, 0)) => Some(super::backtrace::demangle(name)),
            _ => None,
        }
    }

    fn byte(&mut self, addr: u64) -> Option<u8> {
        let mut b = [0u8];
        self.target.read_memory(addr, &mut b).ok()?;
        Some(b[0])
    }

    fn u16(&mut self, addr: u64) -> Option<u16> {
        let mut b = [0u8; 2];
        self.target.read_memory(addr, &mut b).ok()?;
        Some(u16::from_le_bytes(b))
    }
}

/// The implementing type and trait of a formatting function's demangled name:
/// `core::fmt::num::<impl core::fmt::Display for u32>::fmt` → (`u32`, `Display`),
/// `<&T as core::fmt::Debug>::fmt` → (`&T`, `Debug`).
fn impl_of(name: &str) -> Option<(&str, &str)> {
    let name = name.strip_suffix("::fmt")?;
    if let Some(at) = name.rfind("<impl core::fmt::") {
        let rest = &name[at + "<impl core::fmt::".len()..];
        let (fmt_trait, ty) = rest.split_once(" for ")?;
        return Some((ty.strip_suffix('>')?, fmt_trait));
    }
    let inner = name.strip_prefix('<')?.strip_suffix('>')?;
    let (ty, fmt_trait) = inner.split_once(" as core::fmt::")?;
    Some((ty, fmt_trait))
}

fn read_u64(target: &mut dyn Target, addr: u64) -> Option<u64> {
    crate::target::read_u64(target, addr).ok()
}

/// A UTF-8 string of at most [`MAX_STR`] bytes from program memory.
fn read_str(target: &mut dyn Target, addr: u64, len: u64) -> Option<String> {
    if len > MAX_STR {
        return None;
    }
    let mut buf = vec![0u8; len as usize];
    target.read_memory(addr, &mut buf).ok()?;
    String::from_utf8(buf).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_impls_are_recognised() {
        assert_eq!(
            impl_of("core::fmt::num::imp::<impl core::fmt::Display for u32>::fmt"),
            Some(("u32", "Display"))
        );
        assert_eq!(
            impl_of("core::fmt::num::<impl core::fmt::LowerHex for i64>::fmt"),
            Some(("i64", "LowerHex"))
        );
        assert_eq!(
            impl_of("<&T as core::fmt::Debug>::fmt"),
            Some(("&T", "Debug"))
        );
        assert_eq!(
            impl_of("<str as core::fmt::Display>::fmt"),
            Some(("str", "Display"))
        );
        assert_eq!(impl_of("core::panicking::panic_fmt"), None);
    }
}
