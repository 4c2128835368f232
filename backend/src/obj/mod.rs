//! The ELF relocatable object writer: machine code and data in, a RISC-V ELF64 `.o` out.
//!
//! A compiler hands [`ObjectWriter`] finished bytes, symbols and relocations; the writer
//! validates each request and serialises the object with the `object` crate
//! (`write_core` + `elf`, so it works under `no_std` + `alloc`):
//!
//! - **sections**: `.text`, `.text.NAME` per function, `.rodata`, `.data`, `.bss` (size
//!   only), `.tdata`/`.tbss` (`SHF_TLS`) and custom names, each with the largest alignment it
//!   was asked for ([`section`](ObjectWriter::section), [`append`](ObjectWriter::append),
//!   [`append_zeros`](ObjectWriter::append_zeros));
//! - **symbols**: local, global (exported: `SymbolScope::Dynamic`), hidden (`Linkage`) or
//!   weak; function, object, TLS or untyped; defined at an offset with a size, or undefined
//!   ([`declare`](ObjectWriter::declare), [`define`](ObjectWriter::define));
//! - **relocations** with explicit addends (RELA): `R_RISCV_CALL_PLT`, `JAL`, `BRANCH`,
//!   `64`, `32`, `TPREL_HI20/ADD/LO12_I/LO12_S` ([`relocate`](ObjectWriter::relocate)) and the
//!   `PCREL_HI20` + `PCREL_LO12_I/S` pair, for which the writer creates the local
//!   `.Lpcrel_hiN` label on the `auipc` that the `LO12` half must point at
//!   ([`pcrel`](ObjectWriter::pcrel));
//! - **`e_flags`**: `EF_RISCV_FLOAT_ABI_DOUBLE` (LP64D), plus `EF_RISCV_RVC` when
//!   [`Options::compressed`] says the code contains compressed instructions.
//!
//! What it must not do:
//!
//! - panic on a caller's mistake: unknown ids, offsets outside a section, misaligned
//!   relocations or relocations on the wrong instruction are [`Error`]s;
//! - emit `R_RISCV_RELAX` (or `R_RISCV_ALIGN`): code is final when it gets here, so the
//!   linker must not move instructions (DWARF line rows written alongside stay correct, and
//!   Debian's `ld.lld` 14, which rejects `R_RISCV_ALIGN`, can link the result);
//! - encode instructions, lay out code or pick addresses: that is `isa` and the emitter's
//!   job; the writer only checks that a relocation sits on the instruction it patches.
//!
//! ```
//! use rvflash_backend::obj::{Binding, Definition, ObjectWriter, Options, RelocKind, SymbolKind};
//!
//! let mut w = ObjectWriter::new(Options::default());
//! let text = w.text();
//! // auipc ra, 0; jalr ra, 0(ra); ret
//! let code = [0x097u32, 0x000080e7, 0x00008067];
//! let bytes: Vec<u8> = code.iter().flat_map(|i| i.to_le_bytes()).collect();
//! let at = w.append(text, &bytes, 4)?;
//! let kind = SymbolKind::Function;
//! let main = Definition { section: text, offset: at, size: 12, kind, binding: Binding::Global };
//! w.define("main", main)?;
//! let callee = w.declare("callee", SymbolKind::Function)?;
//! w.relocate(text, at, RelocKind::Call, callee, 0)?;
//! let elf: Vec<u8> = w.write()?;
//! assert_eq!(&elf[..4], b"\x7fELF");
//! # Ok::<(), rvflash_backend::obj::Error>(())
//! ```

mod error;
mod reloc;
mod section;
mod symbol;
#[cfg(test)]
mod tests;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use object::write::Object;
use object::{Architecture, BinaryFormat, Endianness, FileFlags, elf};

pub use error::{Error, Result};
pub use reloc::{LoForm, PcrelHi, RelocKind};
pub use section::{SectionId, SectionKind};
pub use symbol::{Binding, Definition, SymbolId, SymbolKind};

/// Properties of the whole object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Options {
    /// The code contains (or may contain) compressed RVC instructions: sets `EF_RISCV_RVC`
    /// and allows instruction relocations at 2-byte-aligned offsets.
    pub compressed: bool,
}

/// Builds one RISC-V ELF64 (LP64D) relocatable object. See the [module docs](self).
#[derive(Debug)]
pub struct ObjectWriter {
    obj: Object<'static>,
    compressed: bool,
    sections: Vec<SectionInfo>,
    section_names: BTreeMap<String, SectionId>,
    symbols: Vec<SymbolInfo>,
    /// Named symbols (not the generated `.Lpcrel_hiN` labels).
    symbol_names: BTreeMap<String, SymbolId>,
    next_pcrel_label: u32,
}

#[derive(Debug)]
struct SectionInfo {
    id: object::write::SectionId,
    name: String,
    kind: SectionKind,
    /// Current size (the contents' length, or the reserved size of a NOBITS section).
    size: u64,
}

#[derive(Debug)]
struct SymbolInfo {
    id: object::write::SymbolId,
    name: String,
    kind: SymbolKind,
    /// The defining section; `None` while undefined.
    section: Option<SectionId>,
    /// A generated `.Lpcrel_hiN` label.
    pcrel_label: bool,
}

impl ObjectWriter {
    /// An empty object.
    pub fn new(options: Options) -> ObjectWriter {
        let mut obj = Object::new(BinaryFormat::Elf, Architecture::Riscv64, Endianness::Little);
        let mut e_flags = elf::EF_RISCV_FLOAT_ABI_DOUBLE;
        if options.compressed {
            e_flags |= elf::EF_RISCV_RVC;
        }
        obj.flags = FileFlags::Elf {
            os_abi: elf::ELFOSABI_NONE,
            abi_version: 0,
            e_flags,
        };
        ObjectWriter {
            obj,
            compressed: options.compressed,
            sections: Vec::new(),
            section_names: BTreeMap::new(),
            symbols: Vec::new(),
            symbol_names: BTreeMap::new(),
            next_pcrel_label: 0,
        }
    }

    /// The options the object was created with.
    pub fn options(&self) -> Options {
        Options {
            compressed: self.compressed,
        }
    }

    /// Serialises the object (sections in creation order, local symbols first).
    pub fn write(&self) -> Result<Vec<u8>> {
        self.obj.write().map_err(|e| Error::Write(format!("{e}")))
    }
}

/// Symbol and section names end up in ELF string tables: non-empty, no NUL.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains('\0') {
        return Err(Error::InvalidName(String::from(name)));
    }
    Ok(())
}
