//! The GNU-as listing of a function (`--emit asm`), from the same [`Item`]s the object is
//! written from.
//!
//! Instructions print with [`Disasm`] (objdump syntax, which GNU as reads back), except
//! that branch and jump targets are block labels `.L<func>.<n>`, calls are `call sym` and
//! addresses are `auipc`/`addi` with `%pcrel_hi`/`%pcrel_lo`. The listing starts with
//! `.option norvc` so that `riscv64-unknown-elf-as -march=rv64gc -mno-relax` reproduces
//! the object's `.text` bytes exactly (no compression, no relaxation).

use alloc::string::String;
use core::fmt::Write;

use super::abi::SCRATCH;
use super::relax::{Item, invert};
use crate::isa::Op;
use crate::isa::disasm::Disasm;
use crate::isa::reg::name;

/// Appends the listing of function `fname` to `out`; `pcrel` numbers the `auipc` labels.
pub fn function(
    out: &mut String,
    section: &str,
    fname: &str,
    export: bool,
    items: &[Item],
    pcrel: &mut u32,
) {
    let _ = writeln!(out, "\t.section {section},\"ax\",@progbits");
    let _ = writeln!(out, "\t.p2align 2");
    if export {
        let _ = writeln!(out, "\t.globl {fname}");
    }
    let _ = writeln!(out, "\t.type {fname}, @function");
    let _ = writeln!(out, "{fname}:");
    let label = |n: u32| alloc::format!(".L{fname}.{n}");
    for it in items {
        match it {
            Item::Label(n) => {
                let _ = writeln!(out, "{}:", label(*n));
            }
            Item::Inst(i) => {
                let d = Disasm {
                    inst: i,
                    pc: 0,
                    symbols: None,
                    comment: None,
                };
                let _ = writeln!(out, "\t{d}");
            }
            Item::Branch {
                op,
                rs1,
                rs2,
                target,
                long,
            } => {
                let (r1, r2) = (name(*rs1, false), name(*rs2, false));
                if *long {
                    let inv = invert(*op).name();
                    let _ = writeln!(out, "\t{inv}\t{r1},{r2},.+8");
                    let _ = writeln!(out, "\tjal\tzero,{}", label(*target));
                } else {
                    let _ = writeln!(out, "\t{}\t{r1},{r2},{}", op.name(), label(*target));
                }
            }
            Item::Jump { target } => {
                let _ = writeln!(out, "\tjal\tzero,{}", label(*target));
            }
            Item::Call { sym } => {
                let _ = writeln!(out, "\tcall\t{sym}");
            }
            Item::PcMem {
                op,
                reg,
                sym,
                addend,
            } => {
                let fp = matches!(op, Op::Flw | Op::Fld | Op::Fsw | Op::Fsd);
                let (r, t) = (name(*reg, fp), name(SCRATCH, false));
                let _ = writeln!(out, ".Lpcrel_hi{pcrel}:");
                let _ = writeln!(out, "\tauipc\t{t},%pcrel_hi({sym}{addend:+})");
                let _ = writeln!(
                    out,
                    "\t{}\t{r},%pcrel_lo(.Lpcrel_hi{pcrel})({t})",
                    op.name()
                );
                *pcrel += 1;
            }
            Item::Tls { rd, sym } => {
                let r = name(*rd, false);
                let _ = writeln!(out, "\tlui\t{r},%tprel_hi({sym})");
                let _ = writeln!(out, "\tadd\t{r},{r},tp,%tprel_add({sym})");
                let _ = writeln!(out, "\taddi\t{r},{r},%tprel_lo({sym})");
            }
            Item::La { rd, sym, addend } => {
                let r = name(*rd, false);
                let _ = writeln!(out, ".Lpcrel_hi{pcrel}:");
                let _ = writeln!(out, "\tauipc\t{r},%pcrel_hi({sym}{addend:+})");
                let _ = writeln!(out, "\taddi\t{r},{r},%pcrel_lo(.Lpcrel_hi{pcrel})");
                *pcrel += 1;
            }
        }
    }
    let _ = writeln!(out, "\t.size {fname}, .-{fname}");
}
