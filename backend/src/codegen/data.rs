//! Data definitions → `.data` / `.bss` / custom sections, in the object and in the listing.
//!
//! A definition whose bytes are all zero (and that has no symbol references) goes to
//! `.bss`; others to `.data`; `section "name"` picks a section by name (its kind guessed
//! from the usual prefixes). `$sym + off` in an `l` field is `R_RISCV_64`, in a `w` field
//! `R_RISCV_32`. Thread-local data goes to `.tdata` / `.tbss` (`STT_TLS` symbols).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::Error;
use super::emit::internal;
use crate::ir::{DataDef, DataItem, DataValue, ExtTy};
use crate::obj::{Binding, Definition, ObjectWriter, RelocKind, SectionKind, SymbolKind};

/// The contents of one definition.
struct Contents {
    bytes: Vec<u8>,
    /// (offset, symbol, addend, 8 or 4 bytes)
    relocs: Vec<(u64, String, i64, u8)>,
    align: u64,
    section: String,
    kind: SectionKind,
}

fn contents(d: &DataDef) -> Result<Contents, Error> {
    if d.linkage.thread && d.linkage.section.is_some() {
        return Err(Error::unsupported(
            d.pos,
            "thread-local data in a custom section",
        ));
    }
    let mut bytes = Vec::new();
    let mut relocs = Vec::new();
    for it in &d.items {
        match it {
            DataItem::Zero(n) => {
                if *n > 1 << 30 {
                    return Err(Error::unsupported(d.pos, "data larger than 1 GiB"));
                }
                bytes.resize(bytes.len() + *n as usize, 0);
            }
            DataItem::Typed(ty, vals) => {
                let size = ty.size() as usize;
                for v in vals {
                    let bits: u64 = match v {
                        DataValue::Int(i) => *i as u64,
                        DataValue::Single(b) => *b as u64,
                        DataValue::Double(b) => *b,
                        DataValue::Str(s) => {
                            for c in s {
                                bytes.extend_from_slice(&(*c as u64).to_le_bytes()[..size]);
                            }
                            continue;
                        }
                        DataValue::Sym(name, off) => {
                            if !matches!(ty, ExtTy::L | ExtTy::W) {
                                return Err(Error::unsupported(
                                    d.pos,
                                    "a symbol address in a field narrower than w",
                                ));
                            }
                            relocs.push((bytes.len() as u64, name.clone(), *off, size as u8));
                            0
                        }
                    };
                    bytes.extend_from_slice(&bits.to_le_bytes()[..size]);
                }
            }
        }
    }
    let zero = relocs.is_empty() && bytes.iter().all(|b| *b == 0);
    let (section, kind) = match &d.linkage.section {
        Some(s) => {
            let n = s.name.as_str();
            let kind = if n.starts_with(".bss") || n.starts_with(".sbss") {
                SectionKind::Bss
            } else if n.starts_with(".rodata") || n.starts_with(".srodata") {
                SectionKind::ReadOnlyData
            } else {
                SectionKind::Data
            };
            if kind == SectionKind::Bss && !zero {
                return Err(Error::new(d.pos, format!("non-zero data in section {n}")));
            }
            (s.name.clone(), kind)
        }
        None if d.linkage.thread && zero => (".tbss".into(), SectionKind::TlsBss),
        None if d.linkage.thread => (".tdata".into(), SectionKind::TlsData),
        None if zero => (".bss".into(), SectionKind::Bss),
        None => (".data".into(), SectionKind::Data),
    };
    Ok(Contents {
        bytes,
        relocs,
        align: d.align.unwrap_or(8).max(1),
        section,
        kind,
    })
}

/// Writes `d` into the object.
pub fn write(w: &mut ObjectWriter, d: &DataDef) -> Result<(), Error> {
    let c = contents(d)?;
    let oerr = |e: crate::obj::Error| internal(d.pos, e);
    let sec = w.section(&c.section, c.kind).map_err(oerr)?;
    let base = if c.kind.is_nobits() {
        w.append_zeros(sec, c.bytes.len() as u64, c.align)
    } else {
        w.append(sec, &c.bytes, c.align)
    }
    .map_err(oerr)?;
    for (off, sym, addend, size) in &c.relocs {
        let id = w.declare(sym, SymbolKind::NoType).map_err(oerr)?;
        let kind = if *size == 8 {
            RelocKind::Abs64
        } else {
            RelocKind::Abs32
        };
        w.relocate(sec, base + off, kind, id, *addend)
            .map_err(oerr)?;
    }
    let def = Definition {
        section: sec,
        offset: base,
        size: c.bytes.len() as u64,
        kind: if d.linkage.thread {
            SymbolKind::Tls
        } else {
            SymbolKind::Object
        },
        binding: if d.linkage.export {
            Binding::Global
        } else {
            Binding::Local
        },
    };
    w.define(&d.name, def).map_err(oerr)?;
    Ok(())
}

/// Appends `d` to the listing.
pub fn asm(out: &mut String, d: &DataDef) -> Result<(), Error> {
    let c = contents(d)?;
    let flags = match c.kind {
        SectionKind::Bss => "\"aw\",@nobits",
        SectionKind::TlsBss => "\"awT\",@nobits",
        SectionKind::TlsData => "\"awT\",@progbits",
        SectionKind::ReadOnlyData => "\"a\",@progbits",
        _ => "\"aw\",@progbits",
    };
    let _ = writeln!(out, "\t.section {},{flags}", c.section);
    let _ = writeln!(out, "\t.p2align {}", c.align.trailing_zeros());
    if d.linkage.export {
        let _ = writeln!(out, "\t.globl {}", d.name);
    }
    let ty = if d.linkage.thread {
        "tls_object"
    } else {
        "object"
    };
    let _ = writeln!(out, "\t.type {}, @{ty}", d.name);
    let _ = writeln!(out, "{}:", d.name);
    if c.kind.is_nobits() {
        let _ = writeln!(out, "\t.zero {}", c.bytes.len());
    } else {
        let mut at = 0usize;
        let mut relocs = c.relocs.iter().peekable();
        while at < c.bytes.len() {
            if let Some((off, sym, add, size)) = relocs.peek()
                && *off as usize == at
            {
                let dir = if *size == 8 { ".dword" } else { ".word" };
                let _ = writeln!(out, "\t{dir} {sym}{add:+}");
                at += *size as usize;
                relocs.next();
                continue;
            }
            let end = relocs
                .peek()
                .map_or(c.bytes.len(), |r| r.0 as usize)
                .min(at + 16);
            let list: Vec<String> = c.bytes[at..end].iter().map(|b| format!("{b}")).collect();
            let _ = writeln!(out, "\t.byte {}", list.join(","));
            at = end;
        }
    }
    let _ = writeln!(out, "\t.size {}, {}", d.name, c.bytes.len());
    Ok(())
}
