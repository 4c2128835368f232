//! Relocations: which ones exist, where each may be placed, and the `.Lpcrel_hiN` labels that
//! `R_RISCV_PCREL_LO12_*` need.
//!
//! Every relocation is checked against the bytes already in the section: instruction
//! relocations must sit on an instruction boundary of an executable section, on the kind of
//! instruction they patch (an `auipc`+`jalr` pair for calls, `lui` for `TPREL_HI20`, ...).
//! A relocation on the wrong offset would otherwise be silently "resolved" by the linker into
//! a corrupted instruction.

use alloc::borrow::ToOwned;
use alloc::format;

use object::elf;
use object::write::{Relocation, Symbol, SymbolSection};
use object::{RelocationFlags, SymbolFlags, SymbolScope};

use super::error::{Error, Result};
use super::section::{SectionId, SectionKind};
use super::symbol::{SymbolId, SymbolKind};
use super::{ObjectWriter, SymbolInfo};

/// A relocation that refers directly to its target symbol (the PC-relative `HI20`/`LO12`
/// pair has its own entry points, [`ObjectWriter::pcrel`] and friends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RelocKind {
    /// `R_RISCV_CALL_PLT` on an `auipc rX` + `jalr rd, 0(rX)` pair (8 bytes): call or tail call.
    Call,
    /// `R_RISCV_JAL` on a `jal` (±1 MiB).
    Jal,
    /// `R_RISCV_BRANCH` on a conditional branch (±4 KiB).
    Branch,
    /// `R_RISCV_64`: a 64-bit absolute address in data (any alignment).
    Abs64,
    /// `R_RISCV_32`: a 32-bit absolute address in data (any alignment).
    Abs32,
    /// `R_RISCV_TPREL_HI20` on the `lui` of a local-exec TLS access.
    TprelHi20,
    /// `R_RISCV_TPREL_ADD` on the `add rd, rd, tp` of a local-exec TLS access.
    TprelAdd,
    /// `R_RISCV_TPREL_LO12_I` on the `addi` or load of a local-exec TLS access.
    TprelLo12I,
    /// `R_RISCV_TPREL_LO12_S` on the store of a local-exec TLS access.
    TprelLo12S,
}

impl RelocKind {
    /// The ELF `r_type` (one of `object::elf::R_RISCV_*`).
    pub fn r_type(self) -> u32 {
        self.elf().0
    }

    /// The psABI name, e.g. `R_RISCV_CALL_PLT`.
    pub fn name(self) -> &'static str {
        match self {
            RelocKind::Call => "R_RISCV_CALL_PLT",
            RelocKind::Jal => "R_RISCV_JAL",
            RelocKind::Branch => "R_RISCV_BRANCH",
            RelocKind::Abs64 => "R_RISCV_64",
            RelocKind::Abs32 => "R_RISCV_32",
            RelocKind::TprelHi20 => "R_RISCV_TPREL_HI20",
            RelocKind::TprelAdd => "R_RISCV_TPREL_ADD",
            RelocKind::TprelLo12I => "R_RISCV_TPREL_LO12_I",
            RelocKind::TprelLo12S => "R_RISCV_TPREL_LO12_S",
        }
    }

    /// Whether this is a thread-pointer-relative (local-exec TLS) relocation.
    pub fn is_tprel(self) -> bool {
        matches!(
            self,
            RelocKind::TprelHi20
                | RelocKind::TprelAdd
                | RelocKind::TprelLo12I
                | RelocKind::TprelLo12S
        )
    }

    fn elf(self) -> elf::RelocationType {
        match self {
            RelocKind::Call => elf::R_RISCV_CALL_PLT,
            RelocKind::Jal => elf::R_RISCV_JAL,
            RelocKind::Branch => elf::R_RISCV_BRANCH,
            RelocKind::Abs64 => elf::R_RISCV_64,
            RelocKind::Abs32 => elf::R_RISCV_32,
            RelocKind::TprelHi20 => elf::R_RISCV_TPREL_HI20,
            RelocKind::TprelAdd => elf::R_RISCV_TPREL_ADD,
            RelocKind::TprelLo12I => elf::R_RISCV_TPREL_LO12_I,
            RelocKind::TprelLo12S => elf::R_RISCV_TPREL_LO12_S,
        }
    }

    fn site(self) -> Site {
        match self {
            RelocKind::Call => Site::CallPair,
            RelocKind::Jal => Site::Jal,
            RelocKind::Branch => Site::Branch,
            RelocKind::Abs64 => Site::Data(8),
            RelocKind::Abs32 => Site::Data(4),
            RelocKind::TprelHi20 => Site::Lui,
            RelocKind::TprelAdd => Site::Add,
            RelocKind::TprelLo12I => Site::IType,
            RelocKind::TprelLo12S => Site::SType,
        }
    }
}

/// Which instruction format uses the low 12 bits of a PC-relative address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoForm {
    /// I-type (`R_RISCV_PCREL_LO12_I`): loads, `addi`, `addiw`, `jalr`.
    I,
    /// S-type (`R_RISCV_PCREL_LO12_S`): stores.
    S,
}

impl LoForm {
    fn name(self) -> &'static str {
        match self {
            LoForm::I => "R_RISCV_PCREL_LO12_I",
            LoForm::S => "R_RISCV_PCREL_LO12_S",
        }
    }

    fn elf(self) -> elf::RelocationType {
        match self {
            LoForm::I => elf::R_RISCV_PCREL_LO12_I,
            LoForm::S => elf::R_RISCV_PCREL_LO12_S,
        }
    }

    fn site(self) -> Site {
        match self {
            LoForm::I => Site::IType,
            LoForm::S => Site::SType,
        }
    }
}

/// The high part of a PC-relative address: an `auipc` carrying `R_RISCV_PCREL_HI20` and the
/// local label `.Lpcrel_hiN` on it, which the `LO12` relocations of its users refer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PcrelHi {
    pub(super) section: SectionId,
    pub(super) label: SymbolId,
}

impl PcrelHi {
    /// The section holding the `auipc`.
    pub fn section(&self) -> SectionId {
        self.section
    }

    /// The `.Lpcrel_hiN` label on the `auipc`.
    pub fn label(&self) -> SymbolId {
        self.label
    }
}

/// What a relocation's place must hold.
#[derive(Clone, Copy, Debug)]
enum Site {
    /// `len` bytes of data.
    Data(u64),
    CallPair,
    Jal,
    Branch,
    Lui,
    Auipc,
    Add,
    /// An I-type instruction with a 12-bit immediate: load, `addi`-like, `addiw`, `jalr`.
    IType,
    /// A store.
    SType,
}

const OP_LOAD: u32 = 0x03;
const OP_LOAD_FP: u32 = 0x07;
const OP_IMM: u32 = 0x13;
const OP_AUIPC: u32 = 0x17;
const OP_IMM_32: u32 = 0x1b;
const OP_STORE: u32 = 0x23;
const OP_STORE_FP: u32 = 0x27;
const OP_OP: u32 = 0x33;
const OP_LUI: u32 = 0x37;
const OP_BRANCH: u32 = 0x63;
const OP_JALR: u32 = 0x67;
const OP_JAL: u32 = 0x6f;

fn opcode(w: u32) -> u32 {
    w & 0x7f
}
fn funct3(w: u32) -> u32 {
    (w >> 12) & 7
}
fn rd(w: u32) -> u32 {
    (w >> 7) & 0x1f
}
fn rs1(w: u32) -> u32 {
    (w >> 15) & 0x1f
}

impl Site {
    fn expected(self) -> &'static str {
        match self {
            Site::Data(_) => "data",
            Site::CallPair => "an auipc+jalr pair",
            Site::Jal => "a jal",
            Site::Branch => "a conditional branch",
            Site::Lui => "a lui",
            Site::Auipc => "an auipc",
            Site::Add => "an add",
            Site::IType => "an I-type load, addi-like or jalr",
            Site::SType => "a store",
        }
    }

    /// Whether the 32-bit instruction `w` fits this site (the `auipc` half for `CallPair`).
    fn matches(self, w: u32) -> bool {
        let op = opcode(w);
        match self {
            Site::Data(_) => true,
            Site::CallPair | Site::Auipc => op == OP_AUIPC,
            Site::Jal => op == OP_JAL,
            Site::Branch => op == OP_BRANCH && !matches!(funct3(w), 2 | 3),
            Site::Lui => op == OP_LUI,
            Site::Add => op == OP_OP && funct3(w) == 0 && w >> 25 == 0,
            Site::IType => match op {
                OP_LOAD | OP_LOAD_FP => true,
                // Shifts (funct3 1 and 5) have a shift amount, not a 12-bit immediate.
                OP_IMM => !matches!(funct3(w), 1 | 5),
                OP_IMM_32 | OP_JALR => funct3(w) == 0,
                _ => false,
            },
            Site::SType => matches!(op, OP_STORE | OP_STORE_FP),
        }
    }
}

impl ObjectWriter {
    /// Adds relocation `kind` at `offset` in `section` against `symbol + addend`.
    ///
    /// The place must already hold what the relocation patches (see [`RelocKind`]);
    /// instruction relocations must be in a [`SectionKind::Text`] section at an instruction
    /// boundary. TPREL relocations need a [`SymbolKind::Tls`] symbol, the others a
    /// non-TLS one.
    pub fn relocate(
        &mut self,
        section: SectionId,
        offset: u64,
        kind: RelocKind,
        symbol: SymbolId,
        addend: i64,
    ) -> Result<()> {
        let target = self.symbol_info(symbol)?;
        if (target.kind == SymbolKind::Tls) != kind.is_tprel() {
            return Err(Error::TlsRelocation {
                kind: kind.name(),
                symbol: target.name.clone(),
            });
        }
        self.check_site(section, offset, kind.name(), kind.site())?;
        self.add_reloc(section, offset, kind.elf(), symbol, addend)
    }

    /// `auipc` at `auipc_offset` and its user (load/`addi`/`jalr` for [`LoForm::I`], store
    /// for [`LoForm::S`]) at `use_offset`, both in `section`, computing the PC-relative
    /// address of `symbol + addend`: `R_RISCV_PCREL_HI20` on the `auipc` against the symbol,
    /// and `R_RISCV_PCREL_LO12_*` on the user against a new local label on the `auipc`.
    /// Nothing is added if either place is wrong.
    pub fn pcrel(
        &mut self,
        section: SectionId,
        auipc_offset: u64,
        use_offset: u64,
        form: LoForm,
        symbol: SymbolId,
        addend: i64,
    ) -> Result<PcrelHi> {
        self.check_site(section, use_offset, form.name(), form.site())?;
        let hi = self.pcrel_hi(section, auipc_offset, symbol, addend)?;
        self.pcrel_lo(hi, use_offset, form)?;
        Ok(hi)
    }

    /// The high part alone: `R_RISCV_PCREL_HI20` against `symbol + addend` on the `auipc` at
    /// `offset`, plus the `.Lpcrel_hiN` label there. Add its users with
    /// [`pcrel_lo`](Self::pcrel_lo) (one `auipc` may serve several loads and stores).
    pub fn pcrel_hi(
        &mut self,
        section: SectionId,
        offset: u64,
        symbol: SymbolId,
        addend: i64,
    ) -> Result<PcrelHi> {
        let target = self.symbol_info(symbol)?;
        if target.kind == SymbolKind::Tls {
            return Err(Error::TlsRelocation {
                kind: "R_RISCV_PCREL_HI20",
                symbol: target.name.clone(),
            });
        }
        self.check_site(section, offset, "R_RISCV_PCREL_HI20", Site::Auipc)?;
        let label = self.pcrel_label(section, offset)?;
        self.add_reloc(section, offset, elf::R_RISCV_PCREL_HI20, symbol, addend)?;
        Ok(PcrelHi { section, label })
    }

    /// A user of `hi` at `offset` in the same section: `R_RISCV_PCREL_LO12_I` or `_S`
    /// (per `form`) against `hi`'s label, addend 0 (the addend lives on the `HI20`).
    pub fn pcrel_lo(&mut self, hi: PcrelHi, offset: u64, form: LoForm) -> Result<()> {
        let label = self
            .symbol_info(hi.label)
            .map_err(|_| Error::UnknownPcrelHi)?;
        if !label.pcrel_label || label.section != Some(hi.section) {
            return Err(Error::UnknownPcrelHi);
        }
        self.check_site(hi.section, offset, form.name(), form.site())?;
        self.add_reloc(hi.section, offset, form.elf(), hi.label, 0)
    }

    /// Creates the next `.Lpcrel_hiN` local label at `offset` in `section`.
    fn pcrel_label(&mut self, section: SectionId, offset: u64) -> Result<SymbolId> {
        let obj_section = self.section_info(section)?.id;
        let name = format!(".Lpcrel_hi{}", self.next_pcrel_label);
        self.next_pcrel_label += 1;
        let obj_id = self.obj.add_symbol(Symbol {
            name: name.as_bytes().to_owned(),
            value: offset,
            size: 0,
            kind: object::SymbolKind::Label,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(obj_section),
            flags: SymbolFlags::None,
        });
        Ok(self.push_symbol(SymbolInfo {
            id: obj_id,
            name,
            kind: SymbolKind::NoType,
            section: Some(section),
            pcrel_label: true,
        }))
    }

    fn add_reloc(
        &mut self,
        section: SectionId,
        offset: u64,
        r_type: elf::RelocationType,
        symbol: SymbolId,
        addend: i64,
    ) -> Result<()> {
        let obj_section = self.section_info(section)?.id;
        let obj_symbol = self.symbol_info(symbol)?.id;
        let reloc = Relocation {
            offset,
            symbol: obj_symbol,
            addend,
            flags: RelocationFlags::Elf { r_type },
        };
        self.obj
            .add_relocation(obj_section, reloc)
            .map_err(|e| Error::Write(format!("{e}")))
    }

    /// Checks that `offset` in `section` holds what `site` requires.
    fn check_site(
        &self,
        section: SectionId,
        offset: u64,
        kind: &'static str,
        site: Site,
    ) -> Result<()> {
        let info = self.section_info(section)?;
        if info.kind.is_nobits() {
            return Err(Error::NoBits {
                section: info.name.clone(),
            });
        }
        if let Site::Data(len) = site {
            self.range(section, offset, len)?;
            return Ok(());
        }
        if info.kind != SectionKind::Text {
            return Err(Error::NotCode {
                kind,
                section: info.name.clone(),
            });
        }
        let align = if self.compressed { 2 } else { 4 };
        if !offset.is_multiple_of(align) {
            return Err(Error::MisalignedRelocation {
                kind,
                section: info.name.clone(),
                offset,
                align,
            });
        }
        let len = if matches!(site, Site::CallPair) { 8 } else { 4 };
        let bytes = &self.section_bytes(section)?[self.range(section, offset, len)?];
        let word = |i: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&bytes[i..i + 4]);
            u32::from_le_bytes(w)
        };
        let wrong = |at: u64, found: u32| Error::WrongInstruction {
            kind,
            section: info.name.clone(),
            offset: at,
            found,
            expected: site.expected(),
        };
        let first = word(0);
        if !site.matches(first) {
            return Err(wrong(offset, first));
        }
        if let Site::CallPair = site {
            let jalr = word(4);
            if opcode(jalr) != OP_JALR || funct3(jalr) != 0 {
                return Err(wrong(offset + 4, jalr));
            }
            if rd(first) == 0 || rs1(jalr) != rd(first) {
                return Err(Error::BrokenCallPair {
                    section: info.name.clone(),
                    offset,
                });
            }
        }
        Ok(())
    }
}
