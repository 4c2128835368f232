//! `rvflash disasm FILE`: disassemble the executable sections of an RV64 ELF file (a `.o` or a
//! linked executable) in the layout of `riscv64-unknown-elf-objdump -d` (binutils 2.40), so the
//! two outputs can be compared line for line without installing binutils.
//!
//! The layout follows objdump's `disassemble_section`/`disassemble_bytes`: a `FILE:     file
//! format elf64-littleriscv` header; `Disassembly of section NAME:` for each section with
//! contents and `SHF_EXECINSTR`; a `0000000080000000 <sym>:` header wherever a symbol starts a
//! block (objdump's choice of symbol among several at one address, `<sym+0xoff>` or
//! `<section+0xoff>` when none starts there); then one line per instruction,
//! `addr:\tbytes\tmnemonic\toperands`, with objdump's address width (leading zeros dropped in
//! groups of four), the instruction as one little-endian 16- or 32-bit word padded to eight
//! bytes' width, branch targets as `addr <sym+0xoff>` and the ` # addr <sym>` comments of
//! `auipc`/`lui` pairs. Runs of eight or more zero bytes (and one or two at the end of a block)
//! print as `\t...`. The instruction text comes from `rvflash_backend::isa`.
//!
//! Bytes that do not decode as an RV64GC instruction print as objdump prints them: `unimp` for
//! the all-zero parcel, `.2byte 0x..`/`.4byte 0x..`/`.8byte 0x..` for 16/32/64-bit encodings,
//! `.byte 0x.., ...` for other lengths; bytes under a `$d` mapping symbol print as data
//! (`.word`/`.short`/`.byte`); a block starting at an `STT_OBJECT` symbol is dumped as hex and
//! ASCII.
//!
//! Known differences from objdump 2.40: an instruction cut off by the end of its block prints
//! its bytes as `.byte 0x.., ...` (objdump prints an `Address 0x.. is out of bounds.` error
//! with irregular spacing); operand addresses that objdump would name as `<sym-0xoff>` (below
//! every symbol of the file) print as `0x..`; instructions outside RV64GC (extensions named
//! only in `.riscv.attributes`) print as data; `$xrv64...` mapping symbols do not change the
//! ISA.
//!
//! Errors (unreadable file, not ELF, not little-endian ELF64 RISC-V, malformed sections) are
//! reported, never a panic.

mod symbols;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args as ClapArgs;
use object::read::elf::{ElfFile64, FileHeader as _, SectionHeader as _};
use object::{FileKind, LittleEndian, Object, ObjectSection, elf};
use rvflash_backend::isa;
use rvflash_backend::isa::disasm::{AddressTracker, Disasm};

use symbols::{Mapping, Section, SectionSymbolizer, Symbols};

use crate::diag;

/// Disassemble an RV64 ELF file (relocatable object or executable) like `objdump -d`.
#[derive(ClapArgs)]
#[command(
    long_about = "Disassemble the executable sections of an RV64 ELF file (relocatable object \
                  or linked executable), printing the same listing as \
                  `riscv64-unknown-elf-objdump -d`: symbol headers, addresses, instruction \
                  words, mnemonics and operands, branch targets as <symbol+offset>."
)]
pub struct Args {
    /// The ELF file to disassemble (`.o` or executable, ELF64 little-endian RISC-V)
    pub file: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let data = diag::read(&args.file)?;
    let text = listing(&args.file.display().to_string(), &data)
        .with_context(|| format!("cannot disassemble {}", args.file.display()))?;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // `rvflash disasm x.elf | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// The whole listing of the ELF file `data`, which the header calls `name`.
pub fn listing(name: &str, data: &[u8]) -> anyhow::Result<String> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf64) => {}
        Ok(FileKind::Elf32) => bail!("a 32-bit ELF file; only RV64 (ELF64) is supported"),
        Ok(kind) => bail!("not an ELF file (looks like {kind:?})"),
        Err(_) => bail!("not an ELF file"),
    }
    let header = elf::FileHeader64::<object::Endianness>::parse(data)?;
    let endian = header.endian()?;
    if endian != object::Endianness::Little {
        bail!("a big-endian ELF file; RISC-V is little-endian");
    }
    let machine = header.e_machine(endian);
    if machine != elf::EM_RISCV {
        bail!("not a RISC-V ELF file (e_machine {machine})");
    }
    let file = ElfFile64::<LittleEndian>::parse(data)?;
    let relocatable = header.e_type(endian) == elf::ET_REL;
    let symbols = Symbols::read(&file, relocatable);

    let mut out = format!("\n{name}:     file format elf64-littleriscv\n\n");
    let mut state = State {
        tracker: AddressTracker::new(symbols.global_pointer()),
        bytes_per_chunk: 0,
    };
    for section in file.sections() {
        // Sections with contents (not NOBITS) holding code.
        let shdr = section.elf_section_header();
        let code = shdr.sh_flags(LittleEndian) & elf::SHF_EXECINSTR != elf::SectionFlags(0);
        if !code || shdr.sh_type(LittleEndian) == elf::SHT_NOBITS {
            continue;
        }
        let section = Section {
            index: section.index().0,
            name: section.name().context("bad section name")?,
            vma: section.address(),
            data: section.data().with_context(|| {
                format!("cannot read section {}", section.name().unwrap_or("?"))
            })?,
        };
        if section.data.is_empty() {
            continue;
        }
        disassemble_section(&mut out, &symbols, &section, &mut state);
    }
    Ok(out)
}

/// What objdump carries from one instruction to the next across the whole file.
struct State {
    /// `auipc`/`lui` values awaiting their use (objdump's `hi_addr`).
    tracker: AddressTracker,
    /// Chunk size of the last thing disassembled (objdump reuses it to dump objects).
    bytes_per_chunk: usize,
}

/// One section: a block per symbol, each headed by `addr <sym>:`.
fn disassemble_section(
    out: &mut String,
    symbols: &Symbols<'_>,
    sec: &Section<'_>,
    state: &mut State,
) {
    let _ = write!(out, "\nDisassembly of section {}:\n", sec.name);
    let stop = sec.size();
    // objdump drops leading zeros of the addresses in groups of four, keeping one.
    let end = format!("{:016x}", sec.vma.wrapping_add(stop));
    let zeros = end.bytes().take_while(|&b| b == b'0').count();
    let skip = if zeros == end.len() && sec.vma != 0 {
        0
    } else {
        zeros.saturating_sub(1) & !3
    };

    let mut place = symbols.find(sec.vma, sec, true);
    let mut offset = 0;
    while offset < stop {
        let addr = sec.vma + offset;
        let sym = place.map(|i| &symbols.sorted[i]);
        out.push('\n');
        let _ = write!(out, "{addr:016x} ");
        match sym {
            None => push_sym_ref(out, sec.name, addr as i128 - sec.vma as i128),
            Some(s) => push_sym_ref(out, s.name, addr as i128 - s.value as i128),
        }
        out.push_str(":\n");

        let next = match (sym, place) {
            (Some(s), _) if s.value > addr => place,
            (Some(_), Some(i)) => symbols.next_in_section(i, sec),
            _ => None,
        };
        let mut block_end = match (sym, next) {
            (Some(s), _) if s.value > addr => s.value - sec.vma,
            (_, Some(n)) => symbols.sorted[n].value.wrapping_sub(sec.vma),
            _ => stop,
        };
        if block_end > stop || block_end <= offset {
            block_end = stop;
        }
        // A block at an object (not function) symbol is dumped, not disassembled.
        let insns = match sym {
            Some(s) => s.section != Some(sec.index) || s.value > addr || !s.object,
            None => true,
        };
        let block = Block {
            sec,
            symbols,
            skip,
            start: offset,
            stop: block_end,
        };
        block.print(out, insns, state);
        offset = block_end;
        place = next;
    }
}

/// `<name>`, `<name+0xoff>` or `<name-0xoff>`.
fn push_sym_ref(out: &mut String, name: &str, off: i128) {
    let _ = match off {
        0 => write!(out, "<{name}>"),
        o if o > 0 => write!(out, "<{name}+0x{o:x}>"),
        o => write!(out, "<{name}-0x{:x}>", -o),
    };
}

/// Bytes `start..stop` of a section, between two symbol headers.
struct Block<'a, 'data> {
    sec: &'a Section<'data>,
    symbols: &'a Symbols<'data>,
    /// Leading address digits to drop.
    skip: usize,
    start: u64,
    stop: u64,
}

/// One printed unit: its length, raw-bytes layout and text.
struct Unit {
    len: usize,
    /// Bytes per chunk of the raw column.
    chunk: usize,
    /// Bytes shown on the first line.
    per_line: usize,
    text: String,
}

impl Block<'_, '_> {
    fn print(&self, out: &mut String, insns: bool, state: &mut State) {
        let data = self.sec.data;
        let stop = self.stop as usize;
        let mut pos = self.start as usize;
        while pos < stop {
            // Runs of zeros: 8 or more, or 1-2 up to the end of the block.
            let zeros = data[pos..stop].iter().take_while(|&&b| b == 0).count();
            if zeros >= 8 || (pos + zeros == stop && zeros < 3) {
                out.push_str("\t...\n");
                pos += if pos + zeros == stop {
                    zeros
                } else {
                    zeros & !3
                };
                continue;
            }
            let unit = if insns {
                self.decode(pos, state)
            } else {
                let chunk = state.bytes_per_chunk.max(1);
                let len = 16.min(stop - pos);
                let ascii: String = data[pos..pos + len]
                    .iter()
                    .map(|&b| {
                        if b.is_ascii_graphic() || b == b' ' {
                            b as char
                        } else {
                            '.'
                        }
                    })
                    .collect();
                Unit {
                    len,
                    chunk,
                    per_line: 16,
                    text: ascii,
                }
            };
            self.push_unit(out, pos, &unit, insns);
            pos += unit.len;
        }
    }

    /// The instruction (or data under `$d`) at `pos`.
    fn decode(&self, pos: usize, state: &mut State) -> Unit {
        let data = self.sec.data;
        let stop = self.stop as usize;
        let addr = self.sec.vma + pos as u64;
        let (mapping, map_end) = self.symbols.mapping_at(addr, self.sec);
        if mapping == Mapping::Data {
            let mut len = 4
                .min(map_end.saturating_sub(addr) as usize)
                .min(stop - pos)
                .max(1);
            if len == 3 {
                len = 2;
            }
            let value = le(&data[pos..pos + len]);
            let (text, per_line) = match len {
                1 => (format!(".byte\t0x{value:02x}"), 6),
                2 => (format!(".short\t0x{value:04x}"), 8),
                _ => (format!(".word\t0x{value:08x}"), 8),
            };
            state.bytes_per_chunk = len;
            return Unit {
                len,
                chunk: len,
                per_line,
                text,
            };
        }
        let avail = &data[pos..stop];
        let len = match avail {
            [b0, b1, ..] => insn_length(u16::from_le_bytes([*b0, *b1])),
            _ => 2,
        };
        if avail.len() < len {
            // Cut off by the end of the block (objdump reports an out-of-bounds read).
            state.bytes_per_chunk = 1;
            return Unit {
                len: avail.len(),
                chunk: 1,
                per_line: 8,
                text: byte_list(avail),
            };
        }
        let bytes = &avail[..len];
        let chunk = if len % 4 == 0 { 4 } else { 2 };
        state.bytes_per_chunk = chunk;
        let text = match isa::decode(bytes) {
            Ok(inst) if inst.len() == len => {
                let comment = state.tracker.step(&inst, addr);
                let symbolizer = SectionSymbolizer {
                    symbols: self.symbols,
                    section: self.sec,
                };
                let disasm = Disasm {
                    inst: &inst,
                    pc: addr,
                    symbols: Some(&symbolizer),
                    comment,
                };
                disasm.to_string()
            }
            _ => match len {
                2 if le(bytes) == 0 => "unimp".to_string(),
                2 | 4 | 8 => format!(".{len}byte\t0x{:x}", le(bytes)),
                _ => byte_list(bytes),
            },
        };
        Unit {
            len,
            chunk,
            per_line: 8,
            text,
        }
    }

    /// `addr:\t` + raw bytes + `\t` + text, and continuation lines for long units.
    fn push_unit(&self, out: &mut String, pos: usize, unit: &Unit, insns: bool) {
        let data = &self.sec.data[pos..pos + unit.len];
        self.push_addr(out, pos);
        let first = unit.len.min(unit.per_line);
        push_chunks(out, &data[..first], unit.chunk);
        let mut pad = first;
        while pad < unit.per_line {
            out.push_str(&"  ".repeat(unit.chunk));
            out.push(' ');
            pad += unit.chunk;
        }
        out.push_str(if insns { "\t" } else { "    " });
        out.push_str(&unit.text);
        let mut shown = first;
        while shown < unit.len {
            out.push('\n');
            self.push_addr(out, pos + shown);
            let end = (shown + unit.per_line).min(unit.len);
            push_chunks(out, &data[shown..end], unit.chunk);
            shown = end;
        }
        out.push('\n');
    }

    /// objdump's address column: the address with `skip` leading digits dropped and the
    /// remaining leading zeros blanked (one digit always stays).
    fn push_addr(&self, out: &mut String, pos: usize) {
        let full = format!("{:016x}", self.sec.vma.wrapping_add(pos as u64));
        let shown = &full[self.skip..];
        let zeros = shown
            .bytes()
            .take_while(|&b| b == b'0')
            .count()
            .min(shown.len() - 1);
        out.push_str(&" ".repeat(zeros));
        out.push_str(&shown[zeros..]);
        out.push_str(":\t");
    }
}

/// Chunks of `chunk` bytes as little-endian hex, each followed by a space (a chunk cut off
/// by the end of the bytes is only the space, as in objdump).
fn push_chunks(out: &mut String, bytes: &[u8], chunk: usize) {
    for part in bytes.chunks(chunk) {
        if part.len() == chunk {
            for b in part.iter().rev() {
                let _ = write!(out, "{b:02x}");
            }
        }
        out.push(' ');
    }
}

/// `.byte\t0x7f, 0x10, ...`.
fn byte_list(bytes: &[u8]) -> String {
    let list: Vec<String> = bytes.iter().map(|b| format!("0x{b:02x}")).collect();
    format!(".byte\t{}", list.join(", "))
}

/// Little-endian value of up to 8 bytes.
fn le(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0, |v, &b| v << 8 | u64::from(b))
}

/// The length of the instruction whose first parcel is `parcel` (binutils'
/// `riscv_insn_length`; unsupported lengths count as 2).
fn insn_length(parcel: u16) -> usize {
    let p = parcel as u32;
    if p & 3 != 3 {
        2
    } else if p & 0x1f != 0x1f {
        4
    } else if p & 0x3f == 0x1f {
        6
    } else if p & 0x7f == 0x3f {
        8
    } else if p & 0x7f == 0x7f && p & 0x7000 != 0x7000 {
        10 + ((p >> 11) & 0xe) as usize
    } else {
        2
    }
}
