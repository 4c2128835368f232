//! Code generation: a verified, SSA [`ir::Module`](crate::ir::Module) → an RV64GC ELF
//! relocatable object (LP64D), and the same code as a GNU-as listing.
//!
//! Pipeline, one file per step (see each module's docs):
//!
//! 1. `isel` (+ `ops` for arithmetic/comparisons/conversions, `call` and `agg` for
//!    the LP64D ABI, `abi` for register assignment): IR → `mir` (machine instructions
//!    on virtual registers, phis as block parameters), with light dead-code elimination;
//! 2. `regalloc`: `regalloc2` assigns registers, inserts spills and moves (including the
//!    parallel copies of phis); its SSA validation and checker run when [`Options::check`]
//!    is set (the default in debug builds and tests);
//! 3. `frame`: frame layout from the allocation (callee-saved registers used, spill
//!    slots; `s0` as frame pointer when there is a dynamic `alloc`);
//! 4. `emit`: MIR + allocation → final items (prologue, epilogue, `li` chains, moves);
//!    `relax`: branch relaxation; `write`: encoding through
//!    [`isa::encode`](crate::isa::encode()) and relocations; `asm`: the GNU-as listing;
//!    `data`: data definitions.
//!
//! What is not handled yet is an [`Error`] with the source position and a message starting
//! with `not supported yet:` — never wrong code: thread-local data in custom sections,
//! aggregates over 2048 bytes passed by value, functions over 1 MiB of code.
//!
//! Decisions: `w` values are kept sign-extended in registers; `env` travels in `t5`;
//! unions and aggregates with more than two scalar fields use the integer convention;
//! `hlt` is `ebreak`; thread-local data is local-exec (`tp`-relative, `.tdata`/`.tbss`);
//! `blit` over 2048 bytes calls `memcpy`; float constants are materialised through an
//! integer register (`li` + `fmv`), so no `.rodata` is needed.
//!
//! ```
//! let m = rvflash_backend::qbe::parse("t.ssa", "export function w $main() {\n@s\n ret 7\n}\n")
//!     .unwrap();
//! let elf = rvflash_backend::codegen::compile(&m, &Default::default()).unwrap();
//! assert_eq!(&elf[..4], b"\x7fELF");
//! ```

mod abi;
mod agg;
mod asm;
mod call;
mod data;
mod emit;
mod frame;
mod isel;
mod mir;
mod ops;
mod regalloc;
mod relax;
mod write;

use alloc::string::String;
use core::fmt;

use crate::ir::{Module, Pos};
use crate::obj::{self, ObjectWriter};

/// Code generation options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Run regalloc2's SSA validation and checker on every function (slower; on by default
    /// in debug builds, so tests run it).
    pub check: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            check: cfg!(debug_assertions),
        }
    }
}

/// A code generation error: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub pos: Pos,
    /// The function (or data) being compiled, when known.
    pub symbol: Option<String>,
    pub message: String,
}

impl Error {
    fn new(pos: Pos, message: impl Into<String>) -> Error {
        Error {
            pos,
            symbol: None,
            message: message.into(),
        }
    }

    fn unsupported(pos: Pos, what: &str) -> Error {
        Error::new(pos, alloc::format!("not supported yet: {what}"))
    }

    fn in_symbol(mut self, name: &str) -> Error {
        self.symbol.get_or_insert_with(|| name.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.is_known() {
            write!(f, "{}:{}: ", self.pos.line, self.pos.col)?;
        }
        if let Some(s) = &self.symbol {
            write!(f, "in ${s}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl core::error::Error for Error {}

/// Compiles `module` to the bytes of an ELF relocatable object.
pub fn compile(module: &Module, options: &Options) -> Result<alloc::vec::Vec<u8>, Error> {
    Ok(generate_with(module, options, false)?.0)
}

/// Compiles `module` to a GNU-as listing (`.text.NAME` sections, labels, data directives);
/// assembled with `riscv64-unknown-elf-as -march=rv64gc -mno-relax` it gives the same
/// `.text` bytes as [`compile`].
pub fn compile_asm(module: &Module, options: &Options) -> Result<String, Error> {
    Ok(generate(module, options)?.1)
}

/// Both the object and the listing.
pub fn generate(
    module: &Module,
    options: &Options,
) -> Result<(alloc::vec::Vec<u8>, String), Error> {
    generate_with(module, options, true)
}

/// The object, and the listing when `listing` is set (building it costs about a fifth of
/// code generation, so [`compile`] skips it).
fn generate_with(
    module: &Module,
    options: &Options,
    listing: bool,
) -> Result<(alloc::vec::Vec<u8>, String), Error> {
    let mut w = ObjectWriter::new(obj::Options::default());
    let mut text = String::from("\t.option norvc\n");
    let mut pcrel = 0;
    let mut regalloc_ctx = regalloc2::Ctx::default();
    for f in &module.functions {
        let mut go = || -> Result<(), Error> {
            let mf = isel::select(module, f)?;
            let out = regalloc::allocate(&mf, options.check, f.pos, &mut regalloc_ctx)?;
            let fr = frame::layout(&mf, &out);
            let items = emit::lower(&mf, &out, &fr, f.pos)?;
            let code = relax::lay_out(items, mf.blocks.len()).map_err(|m| Error::new(f.pos, m))?;
            let section = match &f.linkage.section {
                Some(s) => s.name.clone(),
                None => alloc::format!(".text.{}", f.name),
            };
            write::function(&mut w, &section, &f.name, f.linkage.export, &code, f.pos)?;
            if !listing {
                return Ok(());
            }
            asm::function(
                &mut text,
                &section,
                &f.name,
                f.linkage.export,
                &code.items,
                &mut pcrel,
            );
            Ok(())
        };
        if f.linkage.thread {
            return Err(Error::new(f.pos, "a function cannot be thread-local").in_symbol(&f.name));
        }
        go().map_err(|e| e.in_symbol(&f.name))?;
    }
    for d in &module.data {
        data::write(&mut w, d).map_err(|e| e.in_symbol(&d.name))?;
        if listing {
            data::asm(&mut text, d).map_err(|e| e.in_symbol(&d.name))?;
        }
    }
    let bytes = w
        .write()
        .map_err(|e| Error::new(Pos::NONE, alloc::format!("{e}")))?;
    Ok((bytes, text))
}
