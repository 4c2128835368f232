//! The test program: two objects written with `rvflash_backend::obj`.
//!
//! `main.o` holds `main`, which
//! - calls the external `ext_fn` (`auipc`+`jalr`, `R_RISCV_CALL_PLT`),
//! - loads the global `counter` (`PCREL_HI20` + `PCREL_LO12_I` on `ld`),
//! - stores into the `.bss` array `buffer` at +8 (`PCREL_HI20` + `PCREL_LO12_S` on `sd`),
//! - takes the address of `ptr` (`PCREL_HI20` + `PCREL_LO12_I` on `addi`),
//! - loads and stores the thread-local `tls_var` (`TPREL_HI20`, `TPREL_ADD`, `TPREL_LO12_I/S`),
//! - branches to the local label `done` (`R_RISCV_BRANCH`) and jumps to the local function
//!   `helper` in `.text.helper` (`R_RISCV_JAL`);
//!
//! plus `.data` words holding addresses (`R_RISCV_64` → `buffer+16`, `R_RISCV_32` →
//! `counter+4`), a `.rodata` word holding `main`'s address, `.tdata`/`.tbss` variables and a
//! non-loaded custom section. `ext.o` defines `ext_fn`.

use rvflash_backend::isa::{self, Inst, Op};
use rvflash_backend::obj::{
    Binding, Definition, LoForm, ObjectWriter, Options, RelocKind, SectionId, SectionKind,
    SymbolKind,
};

pub const RA: u8 = 1;
pub const TP: u8 = 4;
pub const A0: u8 = 10;
pub const A1: u8 = 11;
pub const A2: u8 = 12;
pub const A3: u8 = 13;
pub const A4: u8 = 14;

/// Offsets of the instructions of `main` (all 4 bytes: the object does not use RVC).
pub mod at {
    pub const CALL: u64 = 0x00;
    pub const LD_COUNTER: u64 = 0x08;
    pub const SD_BUFFER: u64 = 0x10;
    pub const ADDR_PTR: u64 = 0x18;
    pub const TLS_LUI: u64 = 0x20;
    pub const TLS_ADD: u64 = 0x24;
    pub const TLS_LD: u64 = 0x28;
    pub const TLS_SD: u64 = 0x2c;
    pub const BRANCH: u64 = 0x30;
    pub const JAL: u64 = 0x34;
    pub const DONE: u64 = 0x38;
    pub const END: u64 = 0x3c;
}

/// Offsets in `.data`.
pub mod data_at {
    pub const COUNTER: u64 = 0;
    pub const PTR: u64 = 8;
    pub const PTR32: u64 = 16;
}

pub const COUNTER_VALUE: u64 = 42;
pub const BUFFER_SIZE: u64 = 64;

/// Encodes with the backend's encoder; the tests check the result against objdump.
pub fn encode(insts: &[Inst]) -> Vec<u8> {
    let mut out = Vec::new();
    for inst in insts {
        let encoded = isa::encode(inst).unwrap_or_else(|e| panic!("cannot encode {inst:?}: {e}"));
        encoded.write_to(&mut out);
    }
    out
}

fn def(
    section: SectionId,
    offset: u64,
    size: u64,
    kind: SymbolKind,
    binding: Binding,
) -> Definition {
    Definition {
        section,
        offset,
        size,
        kind,
        binding,
    }
}

/// `main.o`. Errors from the writer are test failures.
pub fn main_object() -> Vec<u8> {
    let mut w = ObjectWriter::new(Options::default());

    // Data first, so `main` can refer to defined symbols (forward references work too:
    // `ext_fn` and `helper` are referenced before they are defined or never defined).
    let data = w.data();
    let mut bytes = COUNTER_VALUE.to_le_bytes().to_vec();
    bytes.extend([0u8; 8 + 4]);
    let off = w.append(data, &bytes, 8).unwrap();
    assert_eq!(off, 0);
    let counter = w
        .define(
            "counter",
            def(
                data,
                data_at::COUNTER,
                8,
                SymbolKind::Object,
                Binding::Global,
            ),
        )
        .unwrap();
    w.define(
        "ptr",
        def(data, data_at::PTR, 8, SymbolKind::Object, Binding::Global),
    )
    .unwrap();
    w.define(
        "ptr32",
        def(data, data_at::PTR32, 4, SymbolKind::Object, Binding::Hidden),
    )
    .unwrap();

    let bss = w.bss();
    let off = w.append_zeros(bss, BUFFER_SIZE, 8).unwrap();
    let buffer = w
        .define(
            "buffer",
            def(bss, off, BUFFER_SIZE, SymbolKind::Object, Binding::Global),
        )
        .unwrap();
    w.relocate(data, data_at::PTR, RelocKind::Abs64, buffer, 16)
        .unwrap();
    w.relocate(data, data_at::PTR32, RelocKind::Abs32, counter, 4)
        .unwrap();

    let tdata = w.tdata();
    let off = w.append(tdata, &7u64.to_le_bytes(), 8).unwrap();
    w.define(
        "tls_init",
        def(tdata, off, 8, SymbolKind::Tls, Binding::Global),
    )
    .unwrap();
    let tbss = w.tbss();
    let off = w.append_zeros(tbss, 8, 8).unwrap();
    let tls_var = w
        .define(
            "tls_var",
            def(tbss, off, 8, SymbolKind::Tls, Binding::Local),
        )
        .unwrap();

    let meta = w.section(".rvflash.meta", SectionKind::NotLoaded).unwrap();
    w.append(meta, b"rvflash test\0", 1).unwrap();

    let text = w.text();
    let code = encode(&[
        Inst::u(Op::Auipc, RA, 0),
        Inst::i(Op::Jalr, RA, RA, 0),
        Inst::u(Op::Auipc, A0, 0),
        Inst::i(Op::Ld, A0, A0, 0),
        Inst::u(Op::Auipc, A1, 0),
        Inst::s(Op::Sd, A1, A0, 0),
        Inst::u(Op::Auipc, A2, 0),
        Inst::i(Op::Addi, A2, A2, 0),
        Inst::u(Op::Lui, A3, 0),
        Inst::r(Op::Add, A3, A3, TP),
        Inst::i(Op::Ld, A4, A3, 0),
        Inst::s(Op::Sd, A3, A4, 0),
        Inst::s(Op::Beq, A0, 0, 0),
        Inst::u(Op::Jal, 0, 0),
        Inst::i(Op::Jalr, 0, RA, 0),
    ]);
    assert_eq!(code.len() as u64, at::END);
    let main_at = w.append(text, &code, 4).unwrap();
    assert_eq!(main_at, 0);
    w.define(
        "main",
        def(text, 0, at::END, SymbolKind::Function, Binding::Global),
    )
    .unwrap();
    let done = w
        .define(
            "done",
            def(text, at::DONE, 0, SymbolKind::NoType, Binding::Local),
        )
        .unwrap();

    let ext_fn = w.declare("ext_fn", SymbolKind::Function).unwrap();
    let helper = w.declare("helper", SymbolKind::Function).unwrap();
    let ptr = w.symbol("ptr").unwrap();
    w.relocate(text, at::CALL, RelocKind::Call, ext_fn, 0)
        .unwrap();
    w.pcrel(
        text,
        at::LD_COUNTER,
        at::LD_COUNTER + 4,
        LoForm::I,
        counter,
        0,
    )
    .unwrap();
    w.pcrel(text, at::SD_BUFFER, at::SD_BUFFER + 4, LoForm::S, buffer, 8)
        .unwrap();
    w.pcrel(text, at::ADDR_PTR, at::ADDR_PTR + 4, LoForm::I, ptr, 0)
        .unwrap();
    w.relocate(text, at::TLS_LUI, RelocKind::TprelHi20, tls_var, 0)
        .unwrap();
    w.relocate(text, at::TLS_ADD, RelocKind::TprelAdd, tls_var, 0)
        .unwrap();
    w.relocate(text, at::TLS_LD, RelocKind::TprelLo12I, tls_var, 0)
        .unwrap();
    w.relocate(text, at::TLS_SD, RelocKind::TprelLo12S, tls_var, 0)
        .unwrap();
    w.relocate(text, at::BRANCH, RelocKind::Branch, done, 0)
        .unwrap();
    w.relocate(text, at::JAL, RelocKind::Jal, helper, 0)
        .unwrap();

    let helper_text = w.function_section("helper").unwrap();
    let ret = encode(&[Inst::i(Op::Jalr, 0, RA, 0)]);
    let off = w.append(helper_text, &ret, 4).unwrap();
    w.define(
        "helper",
        def(helper_text, off, 4, SymbolKind::Function, Binding::Local),
    )
    .unwrap();
    let off = w.append(helper_text, &ret, 4).unwrap();
    w.define(
        "weak_fn",
        def(helper_text, off, 4, SymbolKind::Function, Binding::Weak),
    )
    .unwrap();

    let rodata = w.rodata();
    let off = w.append(rodata, &[0; 8], 8).unwrap();
    let main = w.symbol("main").unwrap();
    w.define(
        "main_addr",
        def(rodata, off, 8, SymbolKind::Object, Binding::Global),
    )
    .unwrap();
    w.relocate(rodata, off, RelocKind::Abs64, main, 0).unwrap();

    w.write().unwrap()
}

/// `ext.o`: `ext_fn(x) = x + 1`.
pub fn ext_object() -> Vec<u8> {
    let mut w = ObjectWriter::new(Options::default());
    let text = w.text();
    let code = encode(&[Inst::i(Op::Addi, A0, A0, 1), Inst::i(Op::Jalr, 0, RA, 0)]);
    let off = w.append(text, &code, 4).unwrap();
    w.define(
        "ext_fn",
        def(text, off, 8, SymbolKind::Function, Binding::Global),
    )
    .unwrap();
    w.write().unwrap()
}

/// A small object with compressed code: `c.ret`, then a call at offset 2.
pub fn compressed_object() -> Vec<u8> {
    let mut w = ObjectWriter::new(Options { compressed: true });
    let text = w.text();
    let code = encode(&[
        Inst::i(Op::CJr, 0, RA, 0),
        Inst::u(Op::Auipc, RA, 0),
        Inst::i(Op::Jalr, RA, RA, 0),
    ]);
    w.append(text, &code, 2).unwrap();
    w.define("f", def(text, 0, 10, SymbolKind::Function, Binding::Global))
        .unwrap();
    let ext = w.declare("ext_fn", SymbolKind::Function).unwrap();
    w.relocate(text, 2, RelocKind::Call, ext, 0).unwrap();
    w.write().unwrap()
}
