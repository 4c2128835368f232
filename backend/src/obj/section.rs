//! Sections: creating them (standard, per-function and custom names) and filling them.

use alloc::borrow::ToOwned;
use alloc::format;

use super::error::{Error, Result};
use super::{ObjectWriter, SectionInfo, check_name};

/// Identifies a section of one [`ObjectWriter`]. Only meaningful for the writer that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SectionId(pub(super) u32);

/// What a section holds; decides its ELF type and flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SectionKind {
    /// Code: `SHT_PROGBITS`, `SHF_ALLOC | SHF_EXECINSTR` (`.text`, `.text.NAME`, `.init`).
    Text,
    /// Read-only data: `SHT_PROGBITS`, `SHF_ALLOC` (`.rodata`, jump tables, literals).
    ReadOnlyData,
    /// Writable data: `SHT_PROGBITS`, `SHF_ALLOC | SHF_WRITE` (`.data`).
    Data,
    /// Zero-initialised data without file contents: `SHT_NOBITS`, `SHF_ALLOC | SHF_WRITE`.
    Bss,
    /// Initialised thread-local data: `SHT_PROGBITS`, `SHF_ALLOC | SHF_WRITE | SHF_TLS`.
    TlsData,
    /// Zero-initialised thread-local data: `SHT_NOBITS`, `SHF_ALLOC | SHF_WRITE | SHF_TLS`.
    TlsBss,
    /// Not loaded at run time: `SHT_PROGBITS` without flags (`.comment`, tool metadata).
    NotLoaded,
}

impl SectionKind {
    /// Whether the section has no file contents (`SHT_NOBITS`).
    pub fn is_nobits(self) -> bool {
        matches!(self, SectionKind::Bss | SectionKind::TlsBss)
    }

    /// Whether the section holds thread-local storage (`SHF_TLS`).
    pub fn is_tls(self) -> bool {
        matches!(self, SectionKind::TlsData | SectionKind::TlsBss)
    }

    fn to_object(self) -> object::SectionKind {
        match self {
            SectionKind::Text => object::SectionKind::Text,
            SectionKind::ReadOnlyData => object::SectionKind::ReadOnlyData,
            SectionKind::Data => object::SectionKind::Data,
            SectionKind::Bss => object::SectionKind::UninitializedData,
            SectionKind::TlsData => object::SectionKind::Tls,
            SectionKind::TlsBss => object::SectionKind::UninitializedTls,
            SectionKind::NotLoaded => object::SectionKind::Other,
        }
    }

    /// The kind a standard section name must have, if `name` is one.
    fn of_standard_name(name: &str) -> Option<SectionKind> {
        Some(match name {
            ".text" => SectionKind::Text,
            ".rodata" => SectionKind::ReadOnlyData,
            ".data" => SectionKind::Data,
            ".bss" => SectionKind::Bss,
            ".tdata" => SectionKind::TlsData,
            ".tbss" => SectionKind::TlsBss,
            _ => return None,
        })
    }
}

/// Checks `align` and returns it (a power of two, at least 1).
fn check_align(align: u64) -> Result<u64> {
    if align.is_power_of_two() {
        Ok(align)
    } else {
        Err(Error::InvalidAlignment(align))
    }
}

impl ObjectWriter {
    /// `.text`, created on first use.
    pub fn text(&mut self) -> SectionId {
        self.section_unchecked(".text", SectionKind::Text)
    }

    /// `.text.NAME`: the section for one function, so the linker can place or drop it alone.
    pub fn function_section(&mut self, function: &str) -> Result<SectionId> {
        check_name(function)?;
        self.section(&format!(".text.{function}"), SectionKind::Text)
    }

    /// `.rodata`, created on first use.
    pub fn rodata(&mut self) -> SectionId {
        self.section_unchecked(".rodata", SectionKind::ReadOnlyData)
    }

    /// `.data`, created on first use.
    pub fn data(&mut self) -> SectionId {
        self.section_unchecked(".data", SectionKind::Data)
    }

    /// `.bss`, created on first use.
    pub fn bss(&mut self) -> SectionId {
        self.section_unchecked(".bss", SectionKind::Bss)
    }

    /// `.tdata`, created on first use.
    pub fn tdata(&mut self) -> SectionId {
        self.section_unchecked(".tdata", SectionKind::TlsData)
    }

    /// `.tbss`, created on first use.
    pub fn tbss(&mut self) -> SectionId {
        self.section_unchecked(".tbss", SectionKind::TlsBss)
    }

    /// The section called `name`, created with `kind` on first use; asking again for the same
    /// name returns the same section. Fails if the name is empty or contains NUL, if the
    /// section exists with another kind, or if `name` is a standard name (`.text`, `.rodata`,
    /// `.data`, `.bss`, `.tdata`, `.tbss`) and `kind` is not its standard kind.
    pub fn section(&mut self, name: &str, kind: SectionKind) -> Result<SectionId> {
        check_name(name)?;
        let standard = SectionKind::of_standard_name(name);
        let existing = self
            .section_names
            .get(name)
            .map(|&id| self.sections[id.0 as usize].kind);
        if standard.is_some_and(|k| k != kind) || existing.is_some_and(|k| k != kind) {
            return Err(Error::SectionKindMismatch {
                name: name.to_owned(),
            });
        }
        Ok(self.section_unchecked(name, kind))
    }

    /// Get or create without validation (the caller guarantees `name` and `kind` agree with
    /// any existing section of that name).
    fn section_unchecked(&mut self, name: &str, kind: SectionKind) -> SectionId {
        if let Some(&id) = self.section_names.get(name) {
            return id;
        }
        let obj_id = self.obj.add_section(
            alloc::vec::Vec::new(),
            name.as_bytes().to_owned(),
            kind.to_object(),
        );
        // Code is at least instruction-aligned even before anything is appended.
        let align = match kind {
            SectionKind::Text if self.compressed => 2,
            SectionKind::Text => 4,
            _ => 1,
        };
        if kind.is_nobits() {
            self.obj.append_section_bss(obj_id, 0, align);
        } else {
            self.obj.append_section_data(obj_id, &[], align);
        }
        let id = SectionId(self.sections.len() as u32);
        self.sections.push(SectionInfo {
            id: obj_id,
            name: name.to_owned(),
            kind,
            size: 0,
        });
        self.section_names.insert(name.to_owned(), id);
        id
    }

    /// Appends `bytes` after padding the section to `align` (a power of two; the section's
    /// alignment becomes at least `align`). Returns the offset of the first byte.
    /// Fails for NOBITS sections (use [`append_zeros`](Self::append_zeros)).
    pub fn append(&mut self, section: SectionId, bytes: &[u8], align: u64) -> Result<u64> {
        let align = check_align(align)?;
        let info = self.section_info(section)?;
        if info.kind.is_nobits() {
            return Err(Error::NoBits {
                section: info.name.clone(),
            });
        }
        let obj_id = info.id;
        self.grow(section, bytes.len() as u64, align)?;
        let offset = self.obj.append_section_data(obj_id, bytes, align);
        self.sections[section.0 as usize].size = self.obj.section(obj_id).data().len() as u64;
        Ok(offset)
    }

    /// Reserves `size` zero bytes after padding the section to `align`: the only way to fill
    /// `.bss`/`.tbss` (which get no file contents); other sections get real zero bytes.
    /// Returns the offset of the first byte.
    pub fn append_zeros(&mut self, section: SectionId, size: u64, align: u64) -> Result<u64> {
        let align = check_align(align)?;
        let info = self.section_info(section)?;
        let (obj_id, nobits) = (info.id, info.kind.is_nobits());
        let new_size = self.grow(section, size, align)?;
        let offset = if nobits {
            self.obj.append_section_bss(obj_id, size, align)
        } else {
            // `grow` checked that the new size fits in usize.
            let zeros = alloc::vec![0u8; size as usize];
            self.obj.append_section_data(obj_id, &zeros, align)
        };
        self.sections[section.0 as usize].size = new_size;
        Ok(offset)
    }

    /// Overwrites bytes already in the section (for fixups after emission).
    pub fn patch(&mut self, section: SectionId, offset: u64, bytes: &[u8]) -> Result<()> {
        let info = self.section_info(section)?;
        if info.kind.is_nobits() {
            return Err(Error::NoBits {
                section: info.name.clone(),
            });
        }
        let range = self.range(section, offset, bytes.len() as u64)?;
        let obj_id = self.sections[section.0 as usize].id;
        self.obj.section_mut(obj_id).data_mut()[range].copy_from_slice(bytes);
        Ok(())
    }

    /// The section's current size in bytes (for NOBITS sections, the reserved size).
    pub fn section_size(&self, section: SectionId) -> Result<u64> {
        Ok(self.section_info(section)?.size)
    }

    /// The section's name.
    pub fn section_name(&self, section: SectionId) -> Result<&str> {
        Ok(&self.section_info(section)?.name)
    }

    pub(super) fn section_info(&self, section: SectionId) -> Result<&SectionInfo> {
        self.sections
            .get(section.0 as usize)
            .ok_or(Error::UnknownSection(section.0))
    }

    /// The bytes of the section's contents (empty for NOBITS sections).
    pub(super) fn section_bytes(&self, section: SectionId) -> Result<&[u8]> {
        let info = self.section_info(section)?;
        Ok(if info.kind.is_nobits() {
            &[]
        } else {
            self.obj.section(info.id).data()
        })
    }

    /// `offset..offset + len` as a `usize` range if it lies inside the section.
    pub(super) fn range(
        &self,
        section: SectionId,
        offset: u64,
        len: u64,
    ) -> Result<core::ops::Range<usize>> {
        let info = self.section_info(section)?;
        let out = || Error::OutOfBounds {
            section: info.name.clone(),
            offset,
            len,
            size: info.size,
        };
        let end = offset.checked_add(len).ok_or_else(out)?;
        if end > info.size {
            return Err(out());
        }
        // `size` fits in usize for sections with contents (it is a Vec's length).
        let start = usize::try_from(offset).map_err(|_| out())?;
        let end = usize::try_from(end).map_err(|_| out())?;
        Ok(start..end)
    }

    /// The section's size after padding to `align` and adding `len` bytes, if representable.
    fn grow(&self, section: SectionId, len: u64, align: u64) -> Result<u64> {
        let info = self.section_info(section)?;
        let too_large = || Error::SectionTooLarge {
            section: info.name.clone(),
        };
        let start = info
            .size
            .checked_next_multiple_of(align)
            .ok_or_else(too_large)?;
        let end = start.checked_add(len).ok_or_else(too_large)?;
        if !info.kind.is_nobits() && usize::try_from(end).is_err() {
            return Err(too_large());
        }
        Ok(end)
    }
}
