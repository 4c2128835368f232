//! Loading an ELF executable into an [`Image`]: what a target needs to run it.
//!
//! Only RV64 (`ELFCLASS64`, `EM_RISCV`) little-endian executables (`ET_EXEC`) are accepted;
//! every loadable segment must lie inside one of the board's memory regions (a segment low in
//! memory gets a hint: the firmware was linked without the board's memory map). The symbol table
//! is kept for the run loop (`rust_begin_unwind`, `_start_trap`, ...) and the raw file for
//! the backtrace's debug information.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use goblin::elf::{Elf, header, program_header};

use crate::board::Board;
use crate::diag;

/// Below this, a segment outside the board's memory is where a linker without a memory map
/// puts code (0x10000 for RISC-V Linux and most host targets), not a board address.
const DEFAULT_LINK_LIMIT: u64 = 0x100_0000;

/// One loadable segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Physical (load) address.
    pub addr: u64,
    /// File contents; `mem_size - data.len()` zero bytes follow.
    pub data: Vec<u8>,
    /// Size in memory.
    pub mem_size: u64,
}

/// A loadable program.
#[derive(Debug, Clone)]
pub struct Image {
    /// Where it came from.
    pub path: PathBuf,
    /// Entry point.
    pub entry: u64,
    /// Loadable segments.
    pub segments: Vec<Segment>,
    /// Function and object symbols: (name, address, size), sorted by address.
    pub symbols: Vec<(String, u64, u64)>,
    /// The whole ELF file (for DWARF).
    pub bytes: Vec<u8>,
}

impl Image {
    /// Reads and checks an ELF executable for `board`.
    pub fn from_file(path: &Path, board: &Board) -> Result<Image> {
        Image::from_bytes(diag::read(path)?, path, board)
    }

    /// Checks an ELF executable held in memory.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path, board: &Board) -> Result<Image> {
        let shown = path.display();
        if bytes.get(..4) != Some(b"\x7fELF") {
            bail!("{shown} is not an ELF file");
        }
        let elf = Elf::parse(&bytes).with_context(|| format!("{shown} is not a valid ELF file"))?;
        if !elf.is_64 || elf.header.e_machine != header::EM_RISCV {
            bail!(
                "{shown} is not an RV64 program (it is {}-bit, machine {})",
                if elf.is_64 { 64 } else { 32 },
                header::machine_to_str(elf.header.e_machine)
            );
        }
        if !elf.little_endian {
            bail!("{shown} is a big-endian ELF file; RISC-V is little-endian");
        }
        if elf.header.e_type != header::ET_EXEC {
            bail!(
                "{shown} is not an executable (ELF type {}); link it first",
                header::et_to_str(elf.header.e_type)
            );
        }
        let mut segments = Vec::new();
        for ph in &elf.program_headers {
            if ph.p_type != program_header::PT_LOAD || ph.p_memsz == 0 {
                continue;
            }
            if !board.contains(ph.p_paddr, ph.p_memsz) {
                bail!(
                    "{shown}: segment at {:#x}..{:#x} lies outside the memory of board `{}` ({}){}",
                    ph.p_paddr,
                    ph.p_paddr.saturating_add(ph.p_memsz),
                    board.name,
                    board
                        .memory
                        .iter()
                        .map(|r| format!("{} {:#x}..{:#x}", r.name, r.origin, r.origin + r.length))
                        .collect::<Vec<_>>()
                        .join(", "),
                    default_link_hint(ph.p_paddr, board)
                );
            }
            let start = usize::try_from(ph.p_offset).ok();
            let len = usize::try_from(ph.p_filesz.min(ph.p_memsz)).ok();
            let data = match (start, len) {
                (Some(s), Some(l)) => bytes.get(s..s.saturating_add(l)).map(<[u8]>::to_vec),
                _ => None,
            };
            let Some(data) = data else {
                bail!("{shown}: a segment's file range is outside the file");
            };
            segments.push(Segment {
                addr: ph.p_paddr,
                data,
                mem_size: ph.p_memsz,
            });
        }
        if segments.is_empty() {
            bail!("{shown} has no loadable segments");
        }
        if !board.contains(elf.entry, 2) {
            bail!(
                "{shown}: entry point {:#x} lies outside the memory of board `{}`",
                elf.entry,
                board.name
            );
        }
        let mut symbols: Vec<(String, u64, u64)> = elf
            .syms
            .iter()
            .filter(|s| s.st_value != 0 && (s.is_function() || s.st_type() == 0 || s.st_size > 0))
            .filter_map(|s| {
                let name = elf.strtab.get_at(s.st_name)?;
                (!name.is_empty() && !name.starts_with('$') && !name.starts_with(".L"))
                    .then(|| (name.to_owned(), s.st_value, s.st_size))
            })
            .collect();
        symbols.sort_by_key(|s| s.1);
        let entry = elf.entry;
        Ok(Image {
            path: path.to_path_buf(),
            entry,
            segments,
            symbols,
            bytes,
        })
    }

    /// The address of a symbol.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols.iter().find(|s| s.0 == name).map(|s| s.1)
    }

    /// The function symbol containing `addr`: (name, offset).
    pub fn symbol_at(&self, addr: u64) -> Option<(&str, u64)> {
        let idx = self.symbols.partition_point(|s| s.1 <= addr);
        self.symbols[..idx]
            .iter()
            .rev()
            .find(|s| s.2 == 0 || addr < s.1 + s.2)
            .filter(|s| s.2 > 0 || addr - s.1 < 0x10000)
            .map(|s| (s.0.as_str(), addr - s.1))
    }
}

/// A hint when `addr`, outside `board`'s memory, looks like a link without a memory map.
fn default_link_hint(addr: u64, board: &Board) -> String {
    let lowest = board.memory.iter().map(|r| r.origin).min().unwrap_or(0);
    if addr < lowest && addr < DEFAULT_LINK_LIMIT {
        format!(
            "\nhint: {addr:#x} is a default link address (host or RISC-V Linux): the firmware \
             was probably linked without the board's memory map; for riscv-rt, add \
             `-C link-arg=-Tmemory.x -C link-arg=-Tlink.x` to rustflags, with the board's \
             memory map ({}) as memory.x",
            board.linker_script
        )
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> Board {
        crate::board::select(Some("sim"), &[]).unwrap()
    }

    #[test]
    fn rejects_non_elf() {
        let err = Image::from_bytes(b"hello".to_vec(), Path::new("x.txt"), &sim()).unwrap_err();
        assert!(err.to_string().contains("not an ELF"), "{err}");
    }

    #[test]
    fn rejects_truncated_elf() {
        let err = Image::from_bytes(b"\x7fELF\x02\x01".to_vec(), Path::new("t"), &sim());
        assert!(err.is_err());
    }
}
