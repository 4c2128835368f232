//! Loading an ELF executable into an [`Image`]: what a target needs to run it.
//!
//! Only RV64 (`ELFCLASS64`, `EM_RISCV`) little-endian executables (`ET_EXEC`) are accepted;
//! every loadable segment must lie inside one of the board's memory regions (a segment low in
//! memory gets a hint: the firmware was linked without the board's memory map). The symbol table
//! is kept for the run loop (`rust_begin_unwind`, `_start_trap`, ...) and the raw file for
//! the backtrace's debug information.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use object::LittleEndian as LE;
use object::elf::{self, FileHeader64};
use object::read::elf::{FileHeader as _, ProgramHeader as _, Sym as _};

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
        // e_ident: class (1 = 32-bit, 2 = 64-bit) and data (1 = little-endian); e_machine is
        // at offset 18 in both classes.
        let (class, data) = (bytes.get(4).copied(), bytes.get(5).copied());
        if data == Some(2) {
            bail!("{shown} is a big-endian ELF file; RISC-V is little-endian");
        }
        let machine = elf::Machine(
            bytes
                .get(18..20)
                .map_or(0, |m| u16::from_le_bytes([m[0], m[1]])),
        );
        if class != Some(2) || machine != elf::EM_RISCV {
            bail!(
                "{shown} is not an RV64 program (it is {}-bit, machine {})",
                if class == Some(2) { 64 } else { 32 },
                machine_name(machine)
            );
        }
        let header = FileHeader64::<LE>::parse(&*bytes)
            .with_context(|| format!("{shown} is not a valid ELF file"))?;
        let e_type = header.e_type(LE);
        if e_type != elf::ET_EXEC {
            bail!(
                "{shown} is not an executable (ELF type {}); link it first",
                match e_type {
                    elf::ET_REL => "REL",
                    elf::ET_DYN => "DYN",
                    elf::ET_CORE => "CORE",
                    _ => "unknown",
                }
            );
        }
        let mut segments = Vec::new();
        let program_headers = header
            .program_headers(LE, &*bytes)
            .with_context(|| format!("{shown} is not a valid ELF file (program headers)"))?;
        for ph in program_headers {
            let (paddr, memsz) = (ph.p_paddr(LE), ph.p_memsz(LE));
            if ph.p_type(LE) != elf::PT_LOAD || memsz == 0 {
                continue;
            }
            if !board.contains(paddr, memsz) {
                bail!(
                    "{shown}: segment at {:#x}..{:#x} lies outside the memory of board `{}` ({}){}",
                    paddr,
                    paddr.saturating_add(memsz),
                    board.name,
                    board
                        .memory
                        .iter()
                        .map(|r| format!("{} {:#x}..{:#x}", r.name, r.origin, r.origin + r.length))
                        .collect::<Vec<_>>()
                        .join(", "),
                    default_link_hint(paddr, board)
                );
            }
            let start = usize::try_from(ph.p_offset(LE)).ok();
            let len = usize::try_from(ph.p_filesz(LE).min(memsz)).ok();
            let data = match (start, len) {
                (Some(s), Some(l)) => bytes.get(s..s.saturating_add(l)).map(<[u8]>::to_vec),
                _ => None,
            };
            let Some(data) = data else {
                bail!("{shown}: a segment's file range is outside the file");
            };
            segments.push(Segment {
                addr: paddr,
                data,
                mem_size: memsz,
            });
        }
        if segments.is_empty() {
            bail!("{shown} has no loadable segments");
        }
        let entry = header.e_entry(LE);
        if !board.contains(entry, 2) {
            bail!(
                "{shown}: entry point {entry:#x} lies outside the memory of board `{}`",
                board.name
            );
        }
        let mut symbols = read_symbols(header, &bytes).unwrap_or_default();
        symbols.sort_by_key(|s| s.1);
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

    /// Reads the initial contents of `buf.len()` bytes at run-time address `vaddr` from the
    /// image (through the segment's load address, for data the startup code copies); false when
    /// they are not all in one segment's file data.
    pub fn read_initial(&self, vaddr: u64, buf: &mut [u8]) -> bool {
        match self.initial_range(vaddr, buf.len()) {
            Some((seg, at)) => {
                buf.copy_from_slice(&self.segments[seg].data[at..at + buf.len()]);
                true
            }
            None => false,
        }
    }

    /// Changes the initial contents at run-time address `vaddr` (see [`Image::read_initial`]).
    pub fn write_initial(&mut self, vaddr: u64, data: &[u8]) -> bool {
        match self.initial_range(vaddr, data.len()) {
            Some((seg, at)) => {
                self.segments[seg].data[at..at + data.len()].copy_from_slice(data);
                true
            }
            None => false,
        }
    }

    /// The segment and offset holding `len` initial bytes at run-time address `vaddr`.
    fn initial_range(&self, vaddr: u64, len: usize) -> Option<(usize, usize)> {
        let header = FileHeader64::<LE>::parse(&*self.bytes).ok()?;
        let headers = header.program_headers(LE, &*self.bytes).ok()?;
        let len = len as u64;
        let ph = headers.iter().find(|ph| {
            let start = ph.p_vaddr(LE);
            ph.p_type(LE) == elf::PT_LOAD
                && vaddr >= start
                && vaddr.saturating_add(len) <= start.saturating_add(ph.p_filesz(LE))
        })?;
        let paddr = ph.p_paddr(LE) + (vaddr - ph.p_vaddr(LE));
        self.segments.iter().enumerate().find_map(|(i, seg)| {
            let end = seg.addr + seg.data.len() as u64;
            (paddr >= seg.addr && paddr + len <= end).then(|| (i, (paddr - seg.addr) as usize))
        })
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

/// Function, object and untyped symbols with an address: (name, address, size). A file
/// without a (readable) symbol table has none.
fn read_symbols(header: &FileHeader64<LE>, bytes: &[u8]) -> Option<Vec<(String, u64, u64)>> {
    let sections = header.sections(LE, bytes).ok()?;
    let table = sections.symbols(LE, bytes, elf::SHT_SYMTAB).ok()?;
    let symbols = table
        .iter()
        .filter(|s| {
            let kind = s.st_type();
            s.st_value(LE) != 0
                && (kind == elf::STT_FUNC || kind == elf::STT_NOTYPE || s.st_size(LE) > 0)
        })
        .filter_map(|s| {
            let name = std::str::from_utf8(s.name(LE, table.strings()).ok()?).ok()?;
            (!name.is_empty() && !name.starts_with('$') && !name.starts_with(".L"))
                .then(|| (name.to_owned(), s.st_value(LE), s.st_size(LE)))
        })
        .collect();
    Some(symbols)
}

/// A name for an ELF machine number, for "not an RV64 program".
fn machine_name(machine: elf::Machine) -> String {
    let name = match machine {
        elf::EM_386 => "x86",
        elf::EM_X86_64 => "x86-64",
        elf::EM_ARM => "ARM",
        elf::EM_AARCH64 => "AArch64",
        elf::EM_RISCV => "RISC-V",
        elf::EM_MIPS => "MIPS",
        elf::EM_PPC64 => "PowerPC64",
        _ => return format!("e_machine {}", machine.0),
    };
    name.to_owned()
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
