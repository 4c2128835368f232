//! The QBE IL text front end: [`parse`] turns an IL file into a verified SSA [`Module`].
//!
//! Follows QBE's `doc/il.txt` (types incl. unions and opaque types, data with strings,
//! `$sym+off` and `z N`, linkage `export`/`thread`/`section`, every instruction, `env`,
//! variadic functions and calls, sub-word ABI types, implicit fall-through, non-SSA input)
//! plus what QBE itself accepts beyond il.txt: `dbgfile "name"`, `dbgloc LINE[, COL]`, and
//! `%x =T load %p` (a load of T's width; stored as `loadsw`/`loadl`/`loads`/`loadd`).
//!
//! Where QBE is lenient in ways that hide mistakes, this front end reports an error instead:
//! integer literals that do not fit in 64 bits, unknown string escapes, alignments that are
//! not powers of two, redefined types or blocks, strings in data items other than `b`.
//!
//! - [`lexer`]: tokens; [`parser`]: module-level definitions; `body`: function bodies;
//! - [`error`]: [`Error`] with `file:line:col`, the source line and a caret.

mod body;
pub mod error;
pub mod lexer;
pub mod parser;

pub use error::Error;

use crate::ir::{Module, ssa, verify};

/// Parses IL text without verifying it (syntax and name resolution only). The result may be
/// non-SSA and ill-typed; see [`parse`] for the full front end.
pub fn parse_raw(file_name: &str, src: &str) -> Result<Module, Error> {
    Ok(parser::Parser::new(file_name, src).parse_module()?.0)
}

/// Parses, type-checks and verifies IL text, builds SSA form for temporaries assigned more
/// than once, then checks that every use is dominated by its definition. Errors about an
/// operand point at the operand.
pub fn parse(file_name: &str, src: &str) -> Result<Module, Error> {
    let (mut m, operands) = parser::Parser::new(file_name, src).parse_module()?;
    let located = |e| operands.error(file_name, src, e);
    verify::verify_module(&m).map_err(located)?;
    // SSA construction only appends phis and renames, so operand indices stay valid.
    ssa::build_module(&mut m).map_err(located)?;
    verify::verify_ssa_module(&m).map_err(located)?;
    Ok(m)
}
