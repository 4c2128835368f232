//! The device runtime for IL programs: the board-specific start object (machine code built
//! here with the backend's encoder and object writer) and the IL libc (`runtime/libc/*.ssa`,
//! compiled by the backend like any other IL).
//!
//! [`start_object`] returns a relocatable object whose `.text.init` section (placed first by
//! `linker-scripts/sections.ld`) defines:
//!
//! - `_start`: sets `gp` (`__global_pointer$`) and `sp` (`_stack_start`), points `mtvec` at
//!   `_start_trap`, enables the FPU (`mstatus.FS`) and clears `fcsr`, copies `.data` from
//!   `_sidata` to `_sdata.._edata` when load and run addresses differ, zeroes
//!   `_sbss.._ebss`, copies the thread-local template's initial values
//!   (`_tdata_start.._tdata_end`, `.tdata`) to `_tls_block` (zeroed with `.bss`, which
//!   gives `.tbss` its zeros) and points `tp` at `_tls_block` — the backend's local-exec
//!   model (RISC-V TLS variant I: `tp` = start of the block, offsets from the start of
//!   `PT_TLS`) for the single hart — then calls `main(argc, argv)` and passes its result to `rv_exit`. With a
//!   semihosting console `argc` comes from `rv_cmdline()` (IL, `runtime/libc/args.ssa`,
//!   which splits SYS_GET_CMDLINE's string into `rv_argv`); otherwise `argc = 0` and `argv`
//!   points at a null pointer.
//! - `_start_trap` (4-byte aligned, the `mtvec` target): exits with 134 through the board's
//!   exit protocol without touching the stack. A host that wants the trap's cause, `mepc`
//!   and `mtval` sets a breakpoint on `_start_trap`.
//! - `rv_semihost(l op, l param) -> l`: the RISC-V semihosting sequence
//!   (`slli x0, x0, 0x1f; ebreak; srai x0, x0, 7`, uncompressed, 16-byte aligned so it never
//!   straddles a page) with `a0 = op`, `a1 = param`.
//! - `rv_console_putc(w c)`: one byte to the console: semihosting `SYS_WRITEC`, or a 16550
//!   UART (poll LSR bit 5 at `base + 5`, then store to THR at `base`).
//! - `rv_exit(w code)`: never returns: semihosting `SYS_EXIT` with
//!   `[ADP_Stopped_ApplicationExit, code]`, or the SiFive test finisher (store word `0x5555`
//!   for 0, else `code << 16 | 0x3333`). Neither uses the stack (parameter blocks are static).
//!
//! Everything follows the LP64D calling convention; only `t0..t3`, `a0`, `a1` and `ra` are
//! used. No `R_RISCV_RELAX` is emitted, so `gp` is set by a plain `auipc`/`addi` pair.

use anyhow::{Result, bail};
use rvflash_backend::isa::{self, Inst, Op, csr};
use rvflash_backend::obj::{
    Binding, Definition, LoForm, ObjectWriter, Options, RelocKind, SectionKind, SymbolKind,
};

use crate::board::{Console, ExitProtocol};

/// The IL libc, in link order: (path relative to the repository, source). `board.ssa` ties
/// it to the start object's primitives and the linker script's heap symbols.
pub const LIBC: &[(&str, &str)] = &[
    (
        "runtime/libc/board.ssa",
        include_str!("../runtime/libc/board.ssa"),
    ),
    (
        "runtime/libc/args.ssa",
        include_str!("../runtime/libc/args.ssa"),
    ),
    (
        "runtime/libc/string.ssa",
        include_str!("../runtime/libc/string.ssa"),
    ),
    (
        "runtime/libc/malloc.ssa",
        include_str!("../runtime/libc/malloc.ssa"),
    ),
    (
        "runtime/libc/stdio.ssa",
        include_str!("../runtime/libc/stdio.ssa"),
    ),
    (
        "runtime/libc/vformat.ssa",
        include_str!("../runtime/libc/vformat.ssa"),
    ),
    (
        "runtime/libc/fmt_float.ssa",
        include_str!("../runtime/libc/fmt_float.ssa"),
    ),
    (
        "runtime/libc/stdlib.ssa",
        include_str!("../runtime/libc/stdlib.ssa"),
    ),
];

/// The whole IL libc as one source text (one module).
pub fn libc_source() -> String {
    LIBC.iter()
        .map(|(_, src)| *src)
        .collect::<Vec<_>>()
        .join("\n")
}

// Register numbers.
const ZERO: u8 = 0;
const RA: u8 = 1;
const SP: u8 = 2;
const GP: u8 = 3;
const TP: u8 = 4;
const T0: u8 = 5;
const T1: u8 = 6;
const T2: u8 = 7;
const A0: u8 = 10;
const A1: u8 = 11;
const T3: u8 = 28;

/// Semihosting operations.
const SYS_WRITEC: i32 = 0x03;
const SYS_EXIT: i32 = 0x18;
/// `ADP_Stopped_ApplicationExit`.
const ADP_EXIT: i32 = 0x20026;
/// Exit code of a trap.
const TRAP_EXIT: i32 = 134;
/// `fcsr` CSR number.
const FCSR: i32 = 0x003;

/// One item of the little assembler below.
enum Item {
    Inst(Inst),
    /// Defines a local label.
    Label(usize),
    /// A global function symbol starting here (size runs to the next `Global` or the end).
    Global(&'static str),
    /// Pads with `nop`s to a multiple of this many bytes.
    Align(u64),
    /// `op rs1, rs2, label`.
    Branch(Op, u8, u8, usize),
    /// `jal rd, label`.
    Jump(u8, usize),
    /// `auipc rd, %pcrel_hi(sym); addi rd, rd, %pcrel_lo(sym)`.
    La(u8, &'static str),
    /// `auipc ra, ..; jalr ra, ..(ra)` to a symbol (`R_RISCV_CALL_PLT`).
    Call(&'static str),
}

/// Machine code being assembled: items plus label allocation.
#[derive(Default)]
struct Asm {
    items: Vec<Item>,
    labels: usize,
}

impl Asm {
    fn label(&mut self) -> usize {
        self.labels += 1;
        self.labels - 1
    }
    fn push(&mut self, item: Item) {
        self.items.push(item);
    }
    fn i(&mut self, op: Op, rd: u8, rs1: u8, imm: i32) {
        self.push(Item::Inst(Inst::i(op, rd, rs1, imm)));
    }
    fn s(&mut self, op: Op, base: u8, src: u8, imm: i32) {
        self.push(Item::Inst(Inst::s(op, base, src, imm)));
    }
    fn r(&mut self, op: Op, rd: u8, rs1: u8, rs2: u8) {
        self.push(Item::Inst(Inst::r(op, rd, rs1, rs2)));
    }
    /// `li rd, value` for a value in the signed 32-bit range (`lui` + `addi`).
    fn li(&mut self, rd: u8, value: i64) -> Result<()> {
        let Ok(v) = i32::try_from(value) else {
            bail!("runtime: address {value:#x} does not fit a 32-bit immediate");
        };
        let lo = (v << 20) >> 20;
        let hi = v.wrapping_sub(lo) >> 12;
        if hi != 0 {
            self.push(Item::Inst(Inst::u(Op::Lui, rd, hi & 0xf_ffff)));
            if lo != 0 {
                self.i(Op::Addiw, rd, rd, lo);
            }
        } else {
            self.i(Op::Addi, rd, ZERO, lo);
        }
        Ok(())
    }
    /// `csrrw x0, csr, rs` / `csrrs x0, csr, rs`.
    fn csr(&mut self, op: Op, csr: i32, rs: u8) {
        self.push(Item::Inst(Inst::i(op, ZERO, rs, csr)));
    }
    /// The semihosting call sequence (a0 = op, a1 = param; result in a0).
    fn semihost(&mut self) {
        self.i(Op::Slli, ZERO, ZERO, 0x1f);
        self.push(Item::Inst(Inst::new(Op::Ebreak)));
        self.i(Op::Srai, ZERO, ZERO, 7);
    }
    fn ret(&mut self) {
        self.i(Op::Jalr, ZERO, RA, 0);
    }

    /// Lays out and encodes the code into section `sec` of `w`, with symbols and relocations.
    fn finish(self, w: &mut ObjectWriter, sec: rvflash_backend::obj::SectionId) -> Result<()> {
        // Pass 1: offsets of every item and label.
        let mut at = Vec::with_capacity(self.items.len());
        let mut labels = vec![0u64; self.labels];
        let mut pc = 0u64;
        for item in &self.items {
            at.push(pc);
            pc += match item {
                Item::Label(l) => {
                    labels[*l] = pc;
                    0
                }
                Item::Global(_) => 0,
                Item::Align(a) => pc.next_multiple_of(*a) - pc,
                Item::La(..) | Item::Call(_) => 8,
                Item::Inst(_) | Item::Branch(..) | Item::Jump(..) => 4,
            };
        }
        // Pass 2: bytes.
        let mut code = Vec::with_capacity(pc as usize);
        let mut emit = |inst: Inst| -> Result<()> {
            let e = isa::encode(&inst).map_err(|e| anyhow::anyhow!("runtime: {e:?}"))?;
            code.extend_from_slice(&e.bytes()[..inst.len()]);
            Ok(())
        };
        for (item, &pc) in self.items.iter().zip(&at) {
            let rel = |l: &usize| (labels[*l] as i64 - pc as i64) as i32;
            match item {
                Item::Inst(inst) => emit(*inst)?,
                Item::Label(_) | Item::Global(_) => {}
                Item::Align(a) => {
                    for _ in 0..(pc.next_multiple_of(*a) - pc) / 4 {
                        emit(Inst::i(Op::Addi, ZERO, ZERO, 0))?;
                    }
                }
                Item::Branch(op, rs1, rs2, l) => emit(Inst::s(*op, *rs1, *rs2, rel(l)))?,
                Item::Jump(rd, l) => emit(Inst::u(Op::Jal, *rd, rel(l)))?,
                Item::La(rd, _) => {
                    emit(Inst::u(Op::Auipc, *rd, 0))?;
                    emit(Inst::i(Op::Addi, *rd, *rd, 0))?;
                }
                Item::Call(_) => {
                    emit(Inst::u(Op::Auipc, RA, 0))?;
                    emit(Inst::i(Op::Jalr, RA, RA, 0))?;
                }
            }
        }
        let base = w.append(sec, &code, 16)?;
        // Symbols and relocations.
        let globals: Vec<(usize, &str)> = (self.items.iter().enumerate())
            .filter_map(|(i, item)| match item {
                Item::Global(name) => Some((i, *name)),
                _ => None,
            })
            .collect();
        for (k, &(i, name)) in globals.iter().enumerate() {
            let end = globals.get(k + 1).map_or(pc, |&(j, _)| at[j]);
            let def = Definition {
                section: sec,
                offset: base + at[i],
                size: end - at[i],
                kind: SymbolKind::Function,
                binding: Binding::Global,
            };
            w.define(name, def)?;
        }
        for (item, &pc) in self.items.iter().zip(&at) {
            match item {
                Item::La(_, name) => {
                    let sym = symbol(w, name)?;
                    w.pcrel(sec, base + pc, base + pc + 4, LoForm::I, sym, 0)?;
                }
                Item::Call(name) => {
                    let sym = symbol(w, name)?;
                    w.relocate(sec, base + pc, RelocKind::Call, sym, 0)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// The symbol called `name`, declared (undefined) when the object does not have it yet.
fn symbol(w: &mut ObjectWriter, name: &str) -> Result<rvflash_backend::obj::SymbolId> {
    Ok(match w.symbol(name) {
        Some(id) => id,
        None => w.declare(name, SymbolKind::NoType)?,
    })
}

/// Builds the start object for a board's console and exit protocol (see the module docs).
pub fn start_object(console: Console, exit: ExitProtocol) -> Result<Vec<u8>> {
    let mut w = ObjectWriter::new(Options::default());
    // Static parameter blocks, so that exit and putc never touch the stack.
    let bss = w.bss();
    let blocks = w.append_zeros(bss, 24, 8)?;
    let data = |offset, size| Definition {
        section: bss,
        offset,
        size,
        kind: SymbolKind::Object,
        binding: Binding::Local,
    };
    w.define("rv_exit_block", data(blocks, 16))?;
    w.define("rv_putc_block", data(blocks + 16, 8))?;
    let rodata = w.rodata();
    let no_argv = w.append(rodata, &[0; 8], 8)?;
    let no_argv = Definition {
        section: rodata,
        ..data(no_argv, 8)
    };
    w.define("rv_no_argv", no_argv)?;

    let mut a = Asm::default();
    let (copy, copy_done, bss_loop, call_main) = (a.label(), a.label(), a.label(), a.label());
    let tls = a.label();
    let (semihost, exit_label) = (a.label(), a.label());

    a.push(Item::Global("_start"));
    a.push(Item::La(GP, "__global_pointer$"));
    a.push(Item::La(SP, "_stack_start"));
    a.push(Item::La(T0, "_start_trap"));
    a.csr(Op::Csrrw, csr::MTVEC as i32, T0);
    a.push(Item::Inst(Inst::u(Op::Lui, T0, 0x6))); // mstatus.FS = dirty (0x6000)
    a.csr(Op::Csrrs, csr::MSTATUS as i32, T0);
    a.csr(Op::Csrrw, FCSR, ZERO);
    // .data: copy when the load address differs.
    a.push(Item::La(T0, "_sidata"));
    a.push(Item::La(T1, "_sdata"));
    a.push(Item::La(T2, "_edata"));
    a.push(Item::Branch(Op::Beq, T0, T1, bss_loop));
    a.push(Item::Label(copy));
    a.push(Item::Branch(Op::Bgeu, T1, T2, copy_done));
    a.i(Op::Ld, T3, T0, 0);
    a.s(Op::Sd, T1, T3, 0);
    a.i(Op::Addi, T0, T0, 8);
    a.i(Op::Addi, T1, T1, 8);
    a.push(Item::Jump(ZERO, copy));
    a.push(Item::Label(copy_done));
    // .bss: zero.
    a.push(Item::Label(bss_loop));
    a.push(Item::La(T0, "_sbss"));
    a.push(Item::La(T1, "_ebss"));
    let zero_loop = a.label();
    a.push(Item::Label(zero_loop));
    a.push(Item::Branch(Op::Bgeu, T0, T1, tls));
    a.s(Op::Sd, T0, ZERO, 0);
    a.i(Op::Addi, T0, T0, 8);
    a.push(Item::Jump(ZERO, zero_loop));
    a.push(Item::Label(tls));
    // Thread-locals: tp = _tls_block, initialised from .tdata (the rest is .bss, zero).
    a.push(Item::La(TP, "_tls_block"));
    a.push(Item::La(T0, "_tdata_start"));
    a.push(Item::La(T1, "_tdata_end"));
    a.i(Op::Addi, T2, TP, 0);
    let tls_loop = a.label();
    a.push(Item::Label(tls_loop));
    a.push(Item::Branch(Op::Bgeu, T0, T1, call_main));
    a.i(Op::Ld, T3, T0, 0);
    a.s(Op::Sd, T2, T3, 0);
    a.i(Op::Addi, T0, T0, 8);
    a.i(Op::Addi, T2, T2, 8);
    a.push(Item::Jump(ZERO, tls_loop));
    a.push(Item::Label(call_main));
    if console == Console::Semihosting {
        a.push(Item::Call("rv_cmdline"));
        a.push(Item::La(A1, "rv_argv"));
    } else {
        a.i(Op::Addi, A0, ZERO, 0);
        a.push(Item::La(A1, "rv_no_argv"));
    }
    a.push(Item::Call("main"));
    a.push(Item::Jump(ZERO, exit_label));

    a.push(Item::Align(4));
    a.push(Item::Global("_start_trap"));
    a.i(Op::Addi, A0, ZERO, TRAP_EXIT);
    a.push(Item::Jump(ZERO, exit_label));

    a.push(Item::Align(16));
    a.push(Item::Global("rv_semihost"));
    a.push(Item::Label(semihost));
    a.semihost();
    a.ret();

    a.push(Item::Global("rv_console_putc"));
    match console {
        Console::Semihosting => {
            a.push(Item::La(A1, "rv_putc_block"));
            a.s(Op::Sb, A1, A0, 0);
            a.i(Op::Addi, A0, ZERO, SYS_WRITEC);
            // Tail call: rv_semihost returns to our caller.
            a.push(Item::Jump(ZERO, semihost));
        }
        Console::Uart16550(base) => {
            a.li(T0, base as i64)?;
            let poll = a.label();
            a.push(Item::Label(poll));
            a.i(Op::Lbu, T1, T0, 5);
            a.i(Op::Andi, T1, T1, 0x20);
            a.push(Item::Branch(Op::Beq, T1, ZERO, poll));
            a.s(Op::Sb, T0, A0, 0);
            a.ret();
        }
    }
    finish_exit(&mut a, exit, exit_label, semihost)?;

    let text = w.section(".text.init", SectionKind::Text)?;
    a.finish(&mut w, text)?;
    Ok(w.write()?)
}

/// `rv_exit` for the board's exit protocol (local label `exit_label`; `semihost` labels
/// `rv_semihost`), ending in a loop.
fn finish_exit(a: &mut Asm, exit: ExitProtocol, exit_label: usize, semihost: usize) -> Result<()> {
    let hang = a.label();
    a.push(Item::Global("rv_exit"));
    a.push(Item::Label(exit_label));
    match exit {
        ExitProtocol::Semihosting => {
            a.push(Item::La(T0, "rv_exit_block"));
            a.li(T1, ADP_EXIT as i64)?;
            a.s(Op::Sd, T0, T1, 0);
            a.s(Op::Sd, T0, A0, 8);
            a.i(Op::Addi, A1, T0, 0);
            a.i(Op::Addi, A0, ZERO, SYS_EXIT);
            a.push(Item::Jump(RA, semihost));
        }
        ExitProtocol::SifiveTest(addr) => {
            a.li(T0, addr as i64)?;
            a.i(Op::Slli, T1, A0, 16);
            a.li(T2, 0x3333)?;
            a.r(Op::Or, T1, T1, T2);
            let store = a.label();
            a.push(Item::Branch(Op::Bne, A0, ZERO, store));
            a.li(T1, 0x5555)?;
            a.push(Item::Label(store));
            a.s(Op::Sw, T0, T1, 0);
        }
    }
    a.push(Item::Label(hang));
    a.push(Item::Jump(ZERO, hang));
    Ok(())
}

#[cfg(test)]
#[path = "runtime_tests.rs"]
mod tests;
