//! Emission, part 2: a relaxed [`Item`] stream → bytes in `.text.NAME` (or the function's
//! `section`), the function
//! symbol and its relocations (`R_RISCV_CALL_PLT`, `PCREL_HI20`/`LO12_I`, `TPREL_*`).
//!
//! Every instruction goes through [`isa::encode`](crate::isa::encode) (range-checked);
//! local branches and jumps are resolved here and carry no relocation.

use alloc::vec::Vec;

use super::Error;
use super::abi::SCRATCH;
use super::emit::internal;
use super::relax::{Code, Item, invert};
use crate::ir::Pos;
use crate::isa::{Inst, Op, encode};
use crate::obj::{Binding, Definition, LoForm, ObjectWriter, RelocKind, SymbolKind};

/// Writes one function.
pub fn function(
    w: &mut ObjectWriter,
    section: &str,
    name: &str,
    export: bool,
    code: &Code,
    pos: Pos,
) -> Result<(), Error> {
    let (items, offs, labels) = (&code.items, &code.offs, &code.labels);
    let oerr = |e: crate::obj::Error| internal(pos, e);
    let mut bytes = Vec::new();
    let enc = |i: Inst, bytes: &mut Vec<u8>| -> Result<(), Error> {
        let e = encode(&i).map_err(|e| internal(pos, e))?;
        e.write_to(bytes);
        Ok(())
    };
    let mut relocs = Vec::new();
    let mut tls = Vec::new();
    let mut pcmem = Vec::new();
    for (it, &at) in items.iter().zip(offs) {
        match it {
            Item::Label(_) => {}
            Item::Inst(i) => enc(*i, &mut bytes)?,
            Item::Branch {
                op,
                rs1,
                rs2,
                target,
                long,
            } => {
                let d = labels[*target as usize] as i64 - at as i64;
                if *long {
                    enc(Inst::s(invert(*op), *rs1, *rs2, 8), &mut bytes)?;
                    enc(Inst::u(Op::Jal, 0, (d - 4) as i32), &mut bytes)?;
                } else {
                    enc(Inst::s(*op, *rs1, *rs2, d as i32), &mut bytes)?;
                }
            }
            Item::Jump { target } => {
                let d = labels[*target as usize] as i64 - at as i64;
                enc(Inst::u(Op::Jal, 0, d as i32), &mut bytes)?;
            }
            Item::Call { sym } => {
                enc(Inst::u(Op::Auipc, 1, 0), &mut bytes)?;
                enc(Inst::i(Op::Jalr, 1, 1, 0), &mut bytes)?;
                relocs.push((at, sym, 0, None));
            }
            Item::PcMem {
                op,
                reg,
                sym,
                addend,
            } => {
                enc(Inst::u(Op::Auipc, SCRATCH, 0), &mut bytes)?;
                let store = is_store(*op);
                let i = if store {
                    Inst::s(*op, SCRATCH, *reg, 0)
                } else {
                    Inst::i(*op, *reg, SCRATCH, 0)
                };
                enc(i, &mut bytes)?;
                pcmem.push((at, sym, *addend, store));
            }
            Item::Tls { rd, sym } => {
                enc(Inst::u(Op::Lui, *rd, 0), &mut bytes)?;
                enc(Inst::r(Op::Add, *rd, *rd, 4), &mut bytes)?;
                enc(Inst::i(Op::Addi, *rd, *rd, 0), &mut bytes)?;
                tls.push((at, sym));
            }
            Item::La { rd, sym, addend } => {
                enc(Inst::u(Op::Auipc, *rd, 0), &mut bytes)?;
                enc(Inst::i(Op::Addi, *rd, *rd, 0), &mut bytes)?;
                relocs.push((at, sym, *addend, Some(*rd)));
            }
        }
    }
    let sec = w
        .section(section, crate::obj::SectionKind::Text)
        .map_err(oerr)?;
    let base = w.append(sec, &bytes, 4).map_err(oerr)?;
    for (at, sym, addend, la) in relocs {
        let id = w.declare(sym, SymbolKind::NoType).map_err(oerr)?;
        match la {
            None => w
                .relocate(sec, base + at, RelocKind::Call, id, 0)
                .map_err(oerr)?,
            Some(_) => {
                w.pcrel(sec, base + at, base + at + 4, LoForm::I, id, addend)
                    .map_err(oerr)?;
            }
        }
    }
    for (at, sym, addend, store) in pcmem {
        let id = w.declare(sym, SymbolKind::NoType).map_err(oerr)?;
        let form = if store { LoForm::S } else { LoForm::I };
        w.pcrel(sec, base + at, base + at + 4, form, id, addend)
            .map_err(oerr)?;
    }
    for (at, sym) in tls {
        let id = w.declare(sym, SymbolKind::Tls).map_err(oerr)?;
        w.relocate(sec, base + at, RelocKind::TprelHi20, id, 0)
            .map_err(oerr)?;
        w.relocate(sec, base + at + 4, RelocKind::TprelAdd, id, 0)
            .map_err(oerr)?;
        w.relocate(sec, base + at + 8, RelocKind::TprelLo12I, id, 0)
            .map_err(oerr)?;
    }
    let def = Definition {
        section: sec,
        offset: base,
        size: bytes.len() as u64,
        kind: SymbolKind::Function,
        binding: if export {
            Binding::Global
        } else {
            Binding::Local
        },
    };
    w.define(name, def).map_err(oerr)?;
    Ok(())
}

/// Is `op` a store (S-type)?
pub fn is_store(op: Op) -> bool {
    matches!(op, Op::Sb | Op::Sh | Op::Sw | Op::Sd | Op::Fsw | Op::Fsd)
}
