//! The one error type of the object writer: every caller mistake becomes one of these.

use alloc::string::String;
use core::fmt;

/// A mistake in a request to the [`ObjectWriter`](super::ObjectWriter), or a failure to
/// serialise the object. Names and offsets are included so the message is useful on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A [`SectionId`](super::SectionId) that this writer did not hand out.
    UnknownSection(u32),
    /// A [`SymbolId`](super::SymbolId) that this writer did not hand out.
    UnknownSymbol(u32),
    /// A [`PcrelHi`](super::PcrelHi) that this writer did not hand out.
    UnknownPcrelHi,
    /// Empty symbol or section name, or one containing a NUL byte.
    InvalidName(String),
    /// A section of this name already exists with another kind, or a standard name
    /// (`.text`, `.rodata`, `.data`, `.bss`, `.tdata`, `.tbss`) was given a non-standard kind.
    SectionKindMismatch { name: String },
    /// Alignment zero or not a power of two.
    InvalidAlignment(u64),
    /// A section would grow past `u64`/`usize` limits.
    SectionTooLarge { section: String },
    /// Bytes were given for a section without file contents (`.bss`, `.tbss`), or a
    /// relocation was placed in one.
    NoBits { section: String },
    /// `offset..offset + len` is not inside the section's current contents.
    OutOfBounds {
        section: String,
        offset: u64,
        len: u64,
        size: u64,
    },
    /// The symbol is already defined.
    DuplicateSymbol(String),
    /// A thread-local symbol outside `.tdata`/`.tbss`-like sections, a non-thread-local one
    /// inside them, or a symbol re-declared with the other thread-locality.
    TlsMismatch { symbol: String },
    /// A TPREL relocation against a non-TLS symbol, or another relocation against a TLS one.
    TlsRelocation { kind: &'static str, symbol: String },
    /// An instruction relocation at an offset that cannot hold an instruction (4-byte
    /// alignment, or 2-byte when the object uses compressed instructions).
    MisalignedRelocation {
        kind: &'static str,
        section: String,
        offset: u64,
        align: u64,
    },
    /// An instruction relocation outside an executable section.
    NotCode { kind: &'static str, section: String },
    /// The instruction at the relocation's place is not one the relocation applies to.
    WrongInstruction {
        kind: &'static str,
        section: String,
        offset: u64,
        found: u32,
        expected: &'static str,
    },
    /// The `jalr` of a call pair does not use the register its `auipc` wrote.
    BrokenCallPair { section: String, offset: u64 },
    /// `object` failed to serialise the file.
    Write(String),
}

/// The result type of the object writer.
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnknownSection(id) => write!(f, "unknown section id {id}"),
            Error::UnknownSymbol(id) => write!(f, "unknown symbol id {id}"),
            Error::UnknownPcrelHi => f.write_str("unknown pc-relative high part"),
            Error::InvalidName(name) => write!(f, "invalid name {name:?} (empty or contains NUL)"),
            Error::SectionKindMismatch { name } => {
                write!(f, "section `{name}` requested with a kind it does not have")
            }
            Error::InvalidAlignment(a) => write!(f, "alignment {a} is not a power of two"),
            Error::SectionTooLarge { section } => write!(f, "section `{section}` is too large"),
            Error::NoBits { section } => {
                write!(f, "section `{section}` has no file contents (NOBITS)")
            }
            Error::OutOfBounds {
                section,
                offset,
                len,
                size,
            } => write!(
                f,
                "bytes {offset:#x}..{:#x} are outside section `{section}` (size {size:#x})",
                offset.saturating_add(*len)
            ),
            Error::DuplicateSymbol(name) => write!(f, "symbol `{name}` is already defined"),
            Error::TlsMismatch { symbol } => write!(
                f,
                "symbol `{symbol}`: thread-local symbols belong in TLS sections and only there"
            ),
            Error::TlsRelocation { kind, symbol } => {
                if kind.starts_with("R_RISCV_TPREL") {
                    write!(f, "{kind} needs a thread-local symbol, `{symbol}` is not")
                } else {
                    write!(f, "{kind} cannot refer to thread-local symbol `{symbol}`")
                }
            }
            Error::MisalignedRelocation {
                kind,
                section,
                offset,
                align,
            } => write!(
                f,
                "{kind} at `{section}`+{offset:#x} is not {align}-byte aligned"
            ),
            Error::NotCode { kind, section } => {
                write!(
                    f,
                    "{kind} in `{section}`, which is not an executable section"
                )
            }
            Error::WrongInstruction {
                kind,
                section,
                offset,
                found,
                expected,
            } => write!(
                f,
                "{kind} at `{section}`+{offset:#x} must be on {expected}, found {found:#010x}"
            ),
            Error::BrokenCallPair { section, offset } => write!(
                f,
                "R_RISCV_CALL_PLT at `{section}`+{offset:#x}: jalr does not use the auipc's register"
            ),
            Error::Write(msg) => write!(f, "cannot write the ELF object: {msg}"),
        }
    }
}

impl core::error::Error for Error {}
