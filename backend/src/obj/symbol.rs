//! Symbols: declaring references to (possibly external) symbols and defining symbols in
//! sections.

use alloc::borrow::ToOwned;

use object::write::{Symbol, SymbolSection};
use object::{SymbolFlags, SymbolScope};

use super::error::{Error, Result};
use super::section::SectionId;
use super::{ObjectWriter, SymbolInfo, check_name};

/// Identifies a symbol of one [`ObjectWriter`]. Only meaningful for the writer that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymbolId(pub(super) u32);

/// The ELF symbol type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    /// `STT_FUNC` when defined.
    Function,
    /// `STT_OBJECT` when defined.
    Object,
    /// `STT_TLS` (defined or not): a thread-local variable, defined in a TLS section.
    Tls,
    /// `STT_NOTYPE`: a plain label.
    NoType,
}

impl SymbolKind {
    fn to_object(self) -> object::SymbolKind {
        match self {
            SymbolKind::Function => object::SymbolKind::Text,
            SymbolKind::Object => object::SymbolKind::Data,
            SymbolKind::Tls => object::SymbolKind::Tls,
            SymbolKind::NoType => object::SymbolKind::Label,
        }
    }
}

/// Who can see a defined symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Binding {
    /// `STB_LOCAL`: this object only.
    Local,
    /// `STB_GLOBAL`, default visibility: exported (`SymbolScope::Dynamic`).
    Global,
    /// `STB_GLOBAL`, `STV_HIDDEN`: other objects of the same link only; the linker makes it
    /// local in its output (`SymbolScope::Linkage`).
    Hidden,
    /// `STB_WEAK`, default visibility: exported, and a global definition elsewhere wins.
    Weak,
}

/// Where and what a symbol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Definition {
    /// The section holding the symbol.
    pub section: SectionId,
    /// The symbol's offset in that section; `offset + size` must not exceed the section's
    /// current size (append the bytes first, then define the symbol).
    pub offset: u64,
    /// The symbol's size in bytes (`st_size`).
    pub size: u64,
    pub kind: SymbolKind,
    pub binding: Binding,
}

impl ObjectWriter {
    /// A reference to the symbol called `name`: the existing symbol of that name, or a new
    /// undefined global one (resolved by the linker unless [`define`](Self::define)d later).
    /// `kind` only matters for thread-locality: a thread-local symbol must be declared
    /// [`SymbolKind::Tls`] (undefined `STT_TLS`), and a name keeps its thread-locality.
    pub fn declare(&mut self, name: &str, kind: SymbolKind) -> Result<SymbolId> {
        check_name(name)?;
        if let Some(&id) = self.symbol_names.get(name) {
            let existing = self.symbols[id.0 as usize].kind;
            if (existing == SymbolKind::Tls) != (kind == SymbolKind::Tls) {
                return Err(Error::TlsMismatch {
                    symbol: name.to_owned(),
                });
            }
            return Ok(id);
        }
        let obj_id = self.obj.add_symbol(Symbol {
            name: name.as_bytes().to_owned(),
            value: 0,
            size: 0,
            kind: kind.to_object(),
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Undefined,
            flags: SymbolFlags::None,
        });
        Ok(self.push_symbol(SymbolInfo {
            id: obj_id,
            name: name.to_owned(),
            kind,
            section: None,
            pcrel_label: false,
        }))
    }

    /// Defines the symbol called `name` (which may already have been [`declare`](Self::declare)d
    /// and referenced). Fails if it is already defined, if `offset + size` is outside the
    /// section, or if thread-locality of kind, section and earlier declaration disagree.
    pub fn define(&mut self, name: &str, def: Definition) -> Result<SymbolId> {
        check_name(name)?;
        let info = self.section_info(def.section)?;
        let obj_section = info.id;
        let span_ok = def
            .offset
            .checked_add(def.size)
            .is_some_and(|end| end <= info.size);
        if !span_ok {
            return Err(Error::OutOfBounds {
                section: info.name.clone(),
                offset: def.offset,
                len: def.size,
                size: info.size,
            });
        }
        if info.kind.is_tls() != (def.kind == SymbolKind::Tls) {
            return Err(Error::TlsMismatch {
                symbol: name.to_owned(),
            });
        }
        let (scope, weak) = match def.binding {
            Binding::Local => (SymbolScope::Compilation, false),
            Binding::Global => (SymbolScope::Dynamic, false),
            Binding::Hidden => (SymbolScope::Linkage, false),
            Binding::Weak => (SymbolScope::Dynamic, true),
        };
        let symbol = Symbol {
            name: name.as_bytes().to_owned(),
            value: def.offset,
            size: def.size,
            kind: def.kind.to_object(),
            scope,
            weak,
            section: SymbolSection::Section(obj_section),
            flags: SymbolFlags::None,
        };
        if let Some(&id) = self.symbol_names.get(name) {
            let info = &mut self.symbols[id.0 as usize];
            if info.section.is_some() {
                return Err(Error::DuplicateSymbol(name.to_owned()));
            }
            if (info.kind == SymbolKind::Tls) != (def.kind == SymbolKind::Tls) {
                return Err(Error::TlsMismatch {
                    symbol: name.to_owned(),
                });
            }
            info.kind = def.kind;
            info.section = Some(def.section);
            *self.obj.symbol_mut(info.id) = symbol;
            return Ok(id);
        }
        let obj_id = self.obj.add_symbol(symbol);
        Ok(self.push_symbol(SymbolInfo {
            id: obj_id,
            name: name.to_owned(),
            kind: def.kind,
            section: Some(def.section),
            pcrel_label: false,
        }))
    }

    /// The symbol called `name`, if it was declared or defined.
    pub fn symbol(&self, name: &str) -> Option<SymbolId> {
        self.symbol_names.get(name).copied()
    }

    /// The symbol's name.
    pub fn symbol_name(&self, symbol: SymbolId) -> Result<&str> {
        Ok(&self.symbol_info(symbol)?.name)
    }

    /// Whether the symbol has been defined in this object.
    pub fn is_defined(&self, symbol: SymbolId) -> Result<bool> {
        Ok(self.symbol_info(symbol)?.section.is_some())
    }

    pub(super) fn symbol_info(&self, symbol: SymbolId) -> Result<&SymbolInfo> {
        self.symbols
            .get(symbol.0 as usize)
            .ok_or(Error::UnknownSymbol(symbol.0))
    }

    /// Records a symbol; named (non-generated) symbols become findable by name.
    pub(super) fn push_symbol(&mut self, info: SymbolInfo) -> SymbolId {
        let id = SymbolId(self.symbols.len() as u32);
        if !info.pcrel_label {
            self.symbol_names.insert(info.name.clone(), id);
        }
        self.symbols.push(info);
        id
    }
}
