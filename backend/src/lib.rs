//! The rvflash backend: turns programs into RV64GC machine code and ELF relocatable objects.
//!
//! The core is `#![no_std]` + `alloc` so it builds for `riscv64gc-unknown-none-elf` and can be
//! embedded anywhere; the `std` feature (on by default) only adds conveniences for hosts.
//!
//! - [`isa`]: the one RV64GC instruction table and everything derived from it — encoder,
//!   decoder (shared with the simulator) and an objdump-compatible disassembler.
//! - [`obj`]: the ELF relocatable object writer.
//! - [`ir`]: the IR (QBE IL as Rust data), builder, printer, verifier, SSA construction.
//! - [`qbe`]: the QBE IL text front end (lexer, parser, errors with source excerpts).
//! - [`codegen`]: code generation, IR → RV64 ELF relocatable object (and a GNU as listing).
//! - `interp` (feature `std`): the reference interpreter of the IR (exact il.txt semantics).
#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod codegen;
#[cfg(feature = "std")]
pub mod interp;
pub mod ir;
pub mod isa;
pub mod obj;
pub mod qbe;
