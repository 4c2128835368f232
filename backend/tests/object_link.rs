//! Acceptance tests of the ELF object writer (`rvflash_backend::obj`): the objects it writes
//! are read back with GNU binutils (`readelf`, `objdump -dr`) and linked with rust-lld
//! (`-flavor gnu`) and GNU `ld` at 0x8000_0000 (`tests/fixtures/link.ld`); the linked
//! instructions and data must reach the right addresses.
//!
//! Needs `riscv64-unknown-elf-{readelf,objdump,ld}` (Debian: `binutils-riscv64-unknown-elf`)
//! and the toolchain's rust-lld; a missing tool fails the test with that name.

mod elf_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use elf_support::program::{self, BUFFER_SIZE, COUNTER_VALUE, at, data_at};
use elf_support::{Linker, binutil, imm, run, section, sections, sym, symbols};

const TMP: &str = env!("CARGO_TARGET_TMPDIR");

fn write_main_o(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("main.o");
    std::fs::write(&path, program::main_object()).unwrap();
    path
}

#[test]
fn object_header_is_riscv64_lp64d() {
    let dir = elf_support::scratch_dir(TMP, "header");
    let main_o = write_main_o(&dir);
    let header = run(Command::new(binutil("readelf")).arg("-h").arg(&main_o));
    let field = |name: &str| {
        header
            .lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no `{name}` in\n{header}"))
    };
    assert_eq!(field("Class:"), "ELF64");
    assert_eq!(field("Data:"), "2's complement, little endian");
    assert_eq!(field("Type:"), "REL (Relocatable file)");
    assert_eq!(field("Machine:"), "RISC-V");
    assert_eq!(field("Flags:"), "0x4, double-float ABI");

    let rvc_o = dir.join("rvc.o");
    std::fs::write(&rvc_o, program::compressed_object()).unwrap();
    let header = run(Command::new(binutil("readelf")).arg("-h").arg(&rvc_o));
    assert!(
        header.contains("Flags:                             0x5, RVC, double-float ABI"),
        "{header}"
    );
    // The call after the 2-byte `c.ret` is at offset 2.
    let relocs = elf_support::relocations(&rvc_o);
    assert_eq!(relocs.len(), 1, "{relocs:?}");
    assert_eq!(
        (relocs[0].offset, relocs[0].r_type.as_str()),
        (2, "R_RISCV_CALL_PLT")
    );
    let dump = run(Command::new(binutil("objdump")).arg("-d").arg(&rvc_o));
    assert!(dump.contains("   0:\t8082                \tret"), "{dump}");
}

#[test]
fn object_sections_have_elf_types_flags_and_alignment() {
    let dir = elf_support::scratch_dir(TMP, "sections");
    let shdrs = sections(&write_main_o(&dir));
    let expect = |name: &str, kind: &str, flags: &str, size: u64, align: u64| {
        let s = section(&shdrs, name);
        assert_eq!(
            (s.kind.as_str(), s.flags.as_str(), s.size, s.align),
            (kind, flags, size, align),
            "section {name}"
        );
    };
    expect(".text", "PROGBITS", "AX", at::END, 4);
    expect(".text.helper", "PROGBITS", "AX", 8, 4);
    expect(".data", "PROGBITS", "WA", 20, 8);
    expect(".rodata", "PROGBITS", "A", 8, 8);
    expect(".bss", "NOBITS", "WA", BUFFER_SIZE, 8);
    expect(".tdata", "PROGBITS", "WAT", 8, 8);
    expect(".tbss", "NOBITS", "WAT", 8, 8);
    expect(".rvflash.meta", "PROGBITS", "", 13, 1);
    expect(".rela.text", "RELA", "I", 13 * 24, 8);
}

#[test]
fn object_symbols_have_sizes_types_bindings() {
    let dir = elf_support::scratch_dir(TMP, "symbols");
    let main_o = write_main_o(&dir);
    let syms = symbols(&main_o);
    let shdrs = sections(&main_o);
    let ndx = |name: &str| section(&shdrs, name).index.to_string();
    let expect =
        |name: &str, value: u64, size: u64, kind: &str, bind: &str, vis: &str, sec: &str| {
            let s = sym(&syms, name);
            let want = (value, size, kind, bind, vis, sec.to_string());
            let got = (
                s.value,
                s.size,
                s.kind.as_str(),
                s.bind.as_str(),
                s.vis.as_str(),
                s.ndx.clone(),
            );
            assert_eq!(got, want, "symbol {name}");
        };
    expect(
        "main",
        0,
        at::END,
        "FUNC",
        "GLOBAL",
        "DEFAULT",
        &ndx(".text"),
    );
    expect(
        "done",
        at::DONE,
        0,
        "NOTYPE",
        "LOCAL",
        "DEFAULT",
        &ndx(".text"),
    );
    expect(
        "helper",
        0,
        4,
        "FUNC",
        "LOCAL",
        "DEFAULT",
        &ndx(".text.helper"),
    );
    expect(
        "weak_fn",
        4,
        4,
        "FUNC",
        "WEAK",
        "DEFAULT",
        &ndx(".text.helper"),
    );
    expect(
        "counter",
        data_at::COUNTER,
        8,
        "OBJECT",
        "GLOBAL",
        "DEFAULT",
        &ndx(".data"),
    );
    expect(
        "ptr",
        data_at::PTR,
        8,
        "OBJECT",
        "GLOBAL",
        "DEFAULT",
        &ndx(".data"),
    );
    expect(
        "ptr32",
        data_at::PTR32,
        4,
        "OBJECT",
        "GLOBAL",
        "HIDDEN",
        &ndx(".data"),
    );
    expect(
        "buffer",
        0,
        BUFFER_SIZE,
        "OBJECT",
        "GLOBAL",
        "DEFAULT",
        &ndx(".bss"),
    );
    expect(
        "main_addr",
        0,
        8,
        "OBJECT",
        "GLOBAL",
        "DEFAULT",
        &ndx(".rodata"),
    );
    expect("tls_init", 0, 8, "TLS", "GLOBAL", "DEFAULT", &ndx(".tdata"));
    expect("tls_var", 0, 8, "TLS", "LOCAL", "DEFAULT", &ndx(".tbss"));
    expect("ext_fn", 0, 0, "NOTYPE", "GLOBAL", "DEFAULT", "UND");
    // One label per auipc of a PC-relative access, on that auipc.
    expect(
        ".Lpcrel_hi0",
        at::LD_COUNTER,
        0,
        "NOTYPE",
        "LOCAL",
        "DEFAULT",
        &ndx(".text"),
    );
    expect(
        ".Lpcrel_hi1",
        at::SD_BUFFER,
        0,
        "NOTYPE",
        "LOCAL",
        "DEFAULT",
        &ndx(".text"),
    );
    expect(
        ".Lpcrel_hi2",
        at::ADDR_PTR,
        0,
        "NOTYPE",
        "LOCAL",
        "DEFAULT",
        &ndx(".text"),
    );
    // ELF wants every local symbol before the first global one.
    let first_global = syms.iter().position(|s| s.bind != "LOCAL").unwrap();
    assert!(
        syms[first_global..].iter().all(|s| s.bind != "LOCAL"),
        "{syms:#?}"
    );
}

#[test]
fn object_relocations_are_the_requested_ones() {
    let dir = elf_support::scratch_dir(TMP, "relocs");
    let main_o = write_main_o(&dir);
    let got: Vec<(String, u64, String, String, i64)> = elf_support::relocations(&main_o)
        .into_iter()
        .map(|r| (r.section, r.offset, r.r_type, r.symbol, r.addend))
        .collect();
    let r = |sec: &str, off: u64, ty: &str, sym: &str, add: i64| {
        (sec.to_string(), off, ty.to_string(), sym.to_string(), add)
    };
    let text = ".rela.text";
    let want = vec![
        r(text, at::CALL, "R_RISCV_CALL_PLT", "ext_fn", 0),
        r(text, at::LD_COUNTER, "R_RISCV_PCREL_HI20", "counter", 0),
        r(
            text,
            at::LD_COUNTER + 4,
            "R_RISCV_PCREL_LO12_I",
            ".Lpcrel_hi0",
            0,
        ),
        r(text, at::SD_BUFFER, "R_RISCV_PCREL_HI20", "buffer", 8),
        r(
            text,
            at::SD_BUFFER + 4,
            "R_RISCV_PCREL_LO12_S",
            ".Lpcrel_hi1",
            0,
        ),
        r(text, at::ADDR_PTR, "R_RISCV_PCREL_HI20", "ptr", 0),
        r(
            text,
            at::ADDR_PTR + 4,
            "R_RISCV_PCREL_LO12_I",
            ".Lpcrel_hi2",
            0,
        ),
        r(text, at::TLS_LUI, "R_RISCV_TPREL_HI20", "tls_var", 0),
        r(text, at::TLS_ADD, "R_RISCV_TPREL_ADD", "tls_var", 0),
        r(text, at::TLS_LD, "R_RISCV_TPREL_LO12_I", "tls_var", 0),
        r(text, at::TLS_SD, "R_RISCV_TPREL_LO12_S", "tls_var", 0),
        r(text, at::BRANCH, "R_RISCV_BRANCH", "done", 0),
        r(text, at::JAL, "R_RISCV_JAL", "helper", 0),
        r(".rela.data", data_at::PTR, "R_RISCV_64", "buffer", 16),
        r(".rela.data", data_at::PTR32, "R_RISCV_32", "counter", 4),
        r(".rela.rodata", 0, "R_RISCV_64", "main", 0),
    ];
    let mut sorted = got.clone();
    sorted.sort();
    let mut want_sorted = want;
    want_sorted.sort();
    assert_eq!(sorted, want_sorted);

    // objdump -dr shows the same relocations on the instructions they patch, and no RELAX.
    let dump = run(Command::new(binutil("objdump")).arg("-dr").arg(&main_o));
    assert!(
        !dump.contains("R_RISCV_RELAX") && !dump.contains("R_RISCV_ALIGN"),
        "{dump}"
    );
    for (off, line) in [
        (at::CALL, "R_RISCV_CALL_PLT\text_fn"),
        (at::LD_COUNTER + 4, "R_RISCV_PCREL_LO12_I\t.Lpcrel_hi0"),
        (at::SD_BUFFER, "R_RISCV_PCREL_HI20\tbuffer+0x8"),
        (at::SD_BUFFER + 4, "R_RISCV_PCREL_LO12_S\t.Lpcrel_hi1"),
        (at::TLS_ADD, "R_RISCV_TPREL_ADD\ttls_var"),
        (at::TLS_SD, "R_RISCV_TPREL_LO12_S\ttls_var"),
        (at::BRANCH, "R_RISCV_BRANCH\tdone"),
        (at::JAL, "R_RISCV_JAL\thelper"),
    ] {
        let want = format!("\t\t\t{off:x}: {line}\n");
        assert!(dump.contains(&want), "no {want:?} in\n{dump}");
    }
    // Each relocation follows its instruction's line.
    let lines: Vec<&str> = dump.lines().collect();
    let call = lines
        .iter()
        .position(|l| l.contains("R_RISCV_CALL_PLT"))
        .unwrap();
    assert!(
        lines[call - 1].trim_start().starts_with("0:\t00000097"),
        "{dump}"
    );
}

/// Addresses of the program's symbols in a linked executable.
fn addresses(exe: &Path) -> BTreeMap<String, u64> {
    let syms = symbols(exe);
    [
        "main",
        "done",
        "helper",
        "ext_fn",
        "counter",
        "ptr",
        "ptr32",
        "buffer",
        "main_addr",
        "tls_init",
        "tls_var",
    ]
    .iter()
    .map(|name| (name.to_string(), sym(&syms, name).value))
    .collect()
}

/// Checks the linked program: every relocated instruction and data word reaches its target.
fn check_linked(exe: &Path) -> BTreeMap<String, u64> {
    let addr = addresses(exe);
    let a = |name: &str| addr[name];
    assert_eq!(a("main"), 0x8000_0000, "main at the start of .text");
    assert_eq!(a("done"), a("main") + at::DONE);

    let listing = elf_support::objdump_listing(exe);
    let code = elf_support::insns(&listing);
    let insn = |off: u64| {
        code.get(&(a("main") + off))
            .cloned()
            .unwrap_or_else(|| panic!("no instruction at main+{off:#x} in {listing:#?}"))
    };
    assert!(
        listing.contains(&elf_support::Listing::Symbol(a("main"), "main".into())),
        "{listing:#?}"
    );
    // The mnemonics objdump sees are the instructions written (objdump 2.40 prints `addi` with
    // a non-zero immediate as `add`, and uses the aliases `beqz`, `j`, `ret`).
    let mnemonics: Vec<String> = (0..at::END).step_by(4).map(|off| insn(off).1).collect();
    assert_eq!(
        mnemonics,
        [
            "auipc", "jalr", "auipc", "ld", "auipc", "sd", "auipc", "add", "lui", "add", "ld",
            "sd", "beqz", "j", "ret"
        ]
    );

    // (a) the call reaches ext_fn.
    let pc = (a("main") + at::CALL) as i64;
    let (auipc, jalr) = (insn(at::CALL).0, insn(at::CALL + 4).0);
    assert_eq!(
        pc + imm::u(auipc) + imm::i(jalr),
        a("ext_fn") as i64,
        "call target"
    );
    assert!(
        insn(at::CALL + 4).2.contains("<ext_fn>"),
        "objdump names the callee: {:?}",
        insn(4)
    );

    // (b) the PC-relative accesses reach counter, buffer+8 and ptr.
    let pcrel = |off: u64, lo: fn(u32) -> i64| {
        let pc = (a("main") + off) as i64;
        pc + imm::u(insn(off).0) + lo(insn(off + 4).0)
    };
    assert_eq!(
        pcrel(at::LD_COUNTER, imm::i),
        a("counter") as i64,
        "ld counter"
    );
    assert_eq!(
        pcrel(at::SD_BUFFER, imm::s),
        a("buffer") as i64 + 8,
        "sd buffer+8"
    );
    assert_eq!(pcrel(at::ADDR_PTR, imm::i), a("ptr") as i64, "addi ptr");

    // Local-exec TLS: the tp-relative offset of tls_var in the TLS block (.tdata then
    // .tbss), which is also the value of a TLS symbol in an executable.
    let tprel = a("tls_var");
    assert_eq!(
        (a("tls_init"), tprel),
        (0, 8),
        "tls_var follows the 8-byte tls_init"
    );
    assert_eq!(
        imm::u(insn(at::TLS_LUI).0) + imm::i(insn(at::TLS_LD).0),
        tprel as i64
    );
    assert_eq!(
        imm::u(insn(at::TLS_LUI).0) + imm::s(insn(at::TLS_SD).0),
        tprel as i64
    );
    assert_eq!(insn(at::TLS_ADD).2, "a3,a3,tp");

    // Branch to `done`, jump to `helper`.
    let target = |off: u64, f: fn(u32) -> i64| ((a("main") + off) as i64 + f(insn(off).0)) as u64;
    assert_eq!(target(at::BRANCH, imm::b), a("done"));
    assert_eq!(target(at::JAL, imm::j), a("helper"));
    assert_eq!(insn(at::JAL).2, format!("{:x} <helper>", a("helper")));

    // (c) data words hold addresses.
    let word = |sec: &str, sym: &str, len: usize| {
        let (start, bytes) = elf_support::section_contents(exe, sec);
        let off = (a(sym) - start) as usize;
        let mut v = [0u8; 8];
        v[..len].copy_from_slice(&bytes[off..off + len]);
        u64::from_le_bytes(v)
    };
    assert_eq!(word(".data", "counter", 8), COUNTER_VALUE);
    assert_eq!(word(".data", "ptr", 8), a("buffer") + 16);
    assert_eq!(word(".data", "ptr32", 4), (a("counter") + 4) & 0xffff_ffff);
    assert_eq!(word(".rodata", "main_addr", 8), a("main"));

    // (d) buffer is in .bss, which has no file contents.
    let shdrs = sections(exe);
    let bss = section(&shdrs, ".bss");
    assert_eq!(bss.kind, "NOBITS");
    assert!(bss.addr <= a("buffer") && a("buffer") + BUFFER_SIZE <= bss.addr + bss.size);
    assert_eq!(sym(&symbols(exe), "buffer").ndx, bss.index.to_string());
    addr
}

fn link_program(linker: Linker, test: &str) -> std::path::PathBuf {
    let dir = elf_support::scratch_dir(TMP, test);
    let main_o = program::main_object();
    let ext_o = program::ext_object();
    elf_support::link(linker, &dir, &[("main.o", &main_o), ("ext.o", &ext_o)])
}

#[test]
fn links_with_rust_lld() {
    check_linked(&link_program(Linker::RustLld, "lld"));
}

#[test]
fn links_with_gnu_ld_to_the_same_addresses() {
    let gnu = check_linked(&link_program(Linker::GnuLd, "gnu-ld"));
    let lld = check_linked(&link_program(Linker::RustLld, "lld-vs-gnu"));
    assert_eq!(gnu, lld);
}
