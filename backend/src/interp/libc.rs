//! The host-side C library: what a call to a function the module does not define runs.
//!
//! `putchar puts printf sprintf snprintf malloc calloc realloc free memcpy memset memmove
//! memcmp strlen strcmp strcpy exit abort rv_panic`. `abort` ends the program with exit
//! code 134 (like SIGABRT); `rv_panic(msg, len)` prints `panicked: <msg>` and a newline and
//! exits with 127. Any other name is an error naming it.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::memory::Memory;
use super::printf;
use crate::ir::AbiTy;

/// What a library call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned this value (0 for `void` functions).
    Return(u64),
    /// The program ends with this exit code.
    Exit(i32),
}

/// Exit code of `abort()`.
pub const ABORT_CODE: i32 = 134;
/// Exit code of `rv_panic`.
pub const PANIC_CODE: i32 = 127;

/// The names this library provides.
pub const NAMES: &[&str] = &[
    "putchar", "puts", "printf", "sprintf", "snprintf", "malloc", "calloc", "realloc", "free",
    "memcpy", "memset", "memmove", "memcmp", "strlen", "strcmp", "strcpy", "exit", "abort",
    "rv_panic",
];

fn write(out: &mut dyn std::io::Write, b: &[u8]) -> Result<(), String> {
    out.write_all(b)
        .map_err(|e| format!("writing program output: {e}"))
}

/// Calls library function `name` with the given arguments.
pub fn call(
    name: &str,
    args: &[(AbiTy, u64)],
    mem: &mut Memory,
    out: &mut dyn std::io::Write,
) -> Result<Outcome, String> {
    let want = |n: usize| -> Result<(), String> {
        if args.len() < n {
            Err(format!("expects {n} argument(s), got {}", args.len()))
        } else {
            Ok(())
        }
    };
    let a = |i: usize| args.get(i).map_or(0, |x| x.1);
    let ret = |v: u64| Ok(Outcome::Return(v));
    match name {
        "putchar" => {
            want(1)?;
            write(out, &[a(0) as u8])?;
            ret(a(0) as u8 as u64)
        }
        "puts" => {
            want(1)?;
            let mut s = mem.c_string(a(0))?;
            s.push(b'\n');
            write(out, &s)?;
            ret(s.len() as u64)
        }
        "printf" => {
            want(1)?;
            let s = printf::format(&mem.c_string(a(0))?, &args[1..], mem)?;
            write(out, &s)?;
            ret(s.len() as u64)
        }
        "sprintf" => {
            want(2)?;
            let mut s = printf::format(&mem.c_string(a(1))?, &args[2..], mem)?;
            let n = s.len() as u64;
            s.push(0);
            mem.write(a(0), &s)?;
            ret(n)
        }
        "snprintf" => {
            want(3)?;
            let mut s = printf::format(&mem.c_string(a(2))?, &args[3..], mem)?;
            let n = s.len() as u64;
            let cap = a(1);
            if cap > 0 {
                s.truncate((cap - 1).min(n) as usize);
                s.push(0);
                mem.write(a(0), &s)?;
            }
            ret(n)
        }
        "malloc" => {
            want(1)?;
            ret(mem.malloc(a(0)))
        }
        "calloc" => {
            want(2)?;
            ret(a(0).checked_mul(a(1)).map_or(0, |n| mem.malloc(n)))
        }
        "realloc" => {
            want(2)?;
            let (p, n) = (a(0), a(1));
            if p == 0 {
                return ret(mem.malloc(n));
            }
            let old = mem.block_size(p)?;
            let q = mem.malloc(n);
            if q != 0 {
                mem.copy(q, p, old.min(n))?;
                mem.free(p)?;
            }
            ret(q)
        }
        "free" => {
            want(1)?;
            mem.free(a(0))?;
            ret(0)
        }
        "memcpy" | "memmove" => {
            want(3)?;
            mem.copy(a(0), a(1), a(2))?;
            ret(a(0))
        }
        "memset" => {
            want(3)?;
            // Check the destination before allocating the fill bytes.
            let n = mem.read(a(0), a(2))?.len();
            mem.write(a(0), &alloc::vec![a(1) as u8; n])?;
            ret(a(0))
        }
        "memcmp" => {
            want(3)?;
            let x = mem.read(a(0), a(2))?;
            let y = mem.read(a(1), a(2))?;
            ret(byte_diff(x, y))
        }
        "strlen" => {
            want(1)?;
            ret(mem.c_string(a(0))?.len() as u64)
        }
        "strcmp" => {
            want(2)?;
            let mut x = mem.c_string(a(0))?;
            let mut y = mem.c_string(a(1))?;
            x.push(0);
            y.push(0);
            ret(byte_diff(&x, &y))
        }
        "strcpy" => {
            want(2)?;
            let mut s = mem.c_string(a(1))?;
            s.push(0);
            mem.write(a(0), &s)?;
            ret(a(0))
        }
        "exit" => {
            want(1)?;
            Ok(Outcome::Exit(a(0) as u32 as i32))
        }
        "abort" => Ok(Outcome::Exit(ABORT_CODE)),
        "rv_panic" => {
            want(2)?;
            let msg = mem.read(a(0), a(1))?;
            let mut line = Vec::from(&b"panicked: "[..]);
            line.extend_from_slice(msg);
            line.push(b'\n');
            write(out, &line)?;
            Ok(Outcome::Exit(PANIC_CODE))
        }
        _ => Err(format!("unknown external function ${name}")),
    }
}

/// C's comparison result: the difference of the first differing bytes (as `w`), or 0.
fn byte_diff(x: &[u8], y: &[u8]) -> u64 {
    x.iter()
        .zip(y)
        .find(|(a, b)| a != b)
        .map_or(0, |(&a, &b)| (a as i32 - b as i32) as u32 as u64)
}
