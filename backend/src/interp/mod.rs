//! The reference interpreter for the IR: executes an [`ir::Module`](crate::ir::Module) with
//! the exact semantics of QBE's `doc/il.txt`, for differential testing of the compiler and
//! for running IL programs on the host (`rvflash interp`). Host-only (`std` feature).
//!
//! Semantics chosen where il.txt leaves room (the compiled code must agree or be undefined):
//!
//! - Integers wrap (two's complement). `w` operations use the low 32 bits of their operands;
//!   `w` temporaries hold their value zero-extended (only the low 32 bits are observable).
//!   Shift amounts are taken modulo 32 (`w`) or 64 (`l`).
//! - Division or remainder by zero, and signed `INT_MIN / -1` or `INT_MIN % -1`, are errors.
//! - Floats are IEEE-754 (Rust `f32`/`f64`, round to nearest even). Float → integer
//!   conversions truncate toward zero; NaN or a result outside the target type's range is an
//!   error (C leaves it undefined). `ne` on floats is true for NaN operands (like C's `!=`).
//! - Sub-word ABI types (`sb ub sh uh`) are extended by the receiver, both for parameters
//!   and for returned values.
//! - Aggregates: the callee gets a pointer to a copy in its own frame; a returned aggregate
//!   is copied into the caller's frame and the call's result is its address.
//! - Variadic arguments follow RV64 LP64D: each occupies one 8-byte slot (`s` in the low 32
//!   bits; `w` and sub-word integers sign-extended to 64 bits as RV64 registers hold them;
//!   aggregates up to 16 bytes by value in one or two slots, larger ones by pointer to
//!   a copy). A `va_list` is one pointer (8 bytes) to the next slot; `vaarg` reads the slot
//!   and advances it by 8.
//! - `jnz` tests the low 32 bits of its argument. `hlt` is an error. `alloc*` memory is
//!   zeroed and freed when the function returns.
//! - Thread-local data is ordinary data (one thread).
//! - A call to a symbol that is neither a function nor data of the module goes to the host
//!   C library subset of [`libc`]; an unknown one is an error naming it.
//!
//! Limits ([`Config`]) make every run finish: a step budget ("fuel"), a call depth, and
//! stack, heap and data sizes. Errors carry the function, block, instruction and position.

mod eval;
mod exec;
mod image;
pub mod libc;
pub mod memory;
pub mod printf;

use alloc::string::String;
use core::fmt;

use crate::ir::{Module, Pos};

/// Limits of one run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Maximum number of instructions, phis and jumps executed.
    pub fuel: u64,
    /// Maximum number of active function calls.
    pub max_depth: usize,
    /// Stack size in bytes.
    pub stack_size: u64,
    /// Heap size in bytes.
    pub heap_size: u64,
    /// Maximum total size of data definitions in bytes.
    pub data_size: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            fuel: 1_000_000_000,
            max_depth: 100_000,
            stack_size: 8 << 20,
            heap_size: 64 << 20,
            data_size: 64 << 20,
        }
    }
}

/// Where an error happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Function name (without `$`).
    pub func: String,
    /// Block name (without `@`).
    pub block: String,
    /// The instruction, e.g. `div`, `call $f`, `jnz`, `phi`.
    pub inst: String,
    /// Source position of the instruction ([`Pos::NONE`] when unknown).
    pub pos: Pos,
}

/// An interpreter error: the program did something undefined or trapping, or a limit was hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What went wrong, e.g. `division by zero`, `hlt reached`.
    pub msg: String,
    /// Where, when inside a function.
    pub at: Option<Location>,
}

impl Error {
    pub(crate) fn new(msg: impl Into<String>) -> Error {
        Error {
            msg: msg.into(),
            at: None,
        }
    }
}

impl From<&str> for Error {
    fn from(msg: &str) -> Error {
        Error::new(msg)
    }
}

impl From<String> for Error {
    fn from(msg: String) -> Error {
        Error::new(msg)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)?;
        if let Some(at) = &self.at {
            write!(f, " in ${} @{}, at `{}`", at.func, at.block, at.inst)?;
            if at.pos.is_known() {
                write!(f, " (line {}, column {})", at.pos.line, at.pos.col)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Runs function `entry` of `module` with the default [`Config`] and returns its exit code
/// (the entry's return value, or the code given to `exit`). Program output goes to `out`.
///
/// `args` is the complete `argv` (`args[0]` is the program name); it is passed when the
/// entry has parameters `(w argc, l argv)`.
pub fn run(
    module: &Module,
    entry: &str,
    args: &[&str],
    out: &mut dyn std::io::Write,
) -> Result<i32, Error> {
    run_with(module, entry, args, out, &Config::default())
}

/// [`run`] with explicit limits.
pub fn run_with(
    module: &Module,
    entry: &str,
    args: &[&str],
    out: &mut dyn std::io::Write,
    config: &Config,
) -> Result<i32, Error> {
    let image = image::Image::load(module, config)?;
    let mut machine = exec::Machine::new(module, image, out, config);
    let r = machine.run(entry, args);
    let flushed = machine.flush();
    let code = r?;
    flushed?;
    Ok(code)
}
