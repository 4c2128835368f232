//! `rvflash disasm` against `riscv64-unknown-elf-objdump -d` (binutils 2.40): the listing of
//! every file must match objdump's line for line (addresses, bytes, mnemonics, operands,
//! symbol headers), and then byte for byte.
//!
//! The inputs are written with the backend's object writer and linked with rust-lld and GNU ld
//! (the programs of `backend/tests/object_link.rs`, shared through its `elf_support` module),
//! plus an object with the awkward cases: compressed code, undecodable bytes, zero runs,
//! `$d`/`$x` mapping symbols, an object symbol in code, a section without a symbol at its
//! start.
//!
//! Needs `riscv64-unknown-elf-objdump` (Debian: `binutils-riscv64-unknown-elf`); a missing tool
//! fails the test with that name.

#[path = "../backend/tests/elf_support/mod.rs"]
mod elf_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use elf_support::program::{self, RA, encode};
use elf_support::{Linker, binutil, parse_listing, run};
use rvflash_backend::isa::{Inst, Op};
use rvflash_backend::obj::{
    Binding, Definition, ObjectWriter, Options, RelocKind, SectionKind, SymbolKind,
};

const TMP: &str = env!("CARGO_TARGET_TMPDIR");

fn rvflash(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvflash"))
        .args(args)
        .output()
        .expect("run rvflash")
}

/// `rvflash disasm FILE` must print exactly what `objdump -d FILE` prints.
fn assert_same_as_objdump(file: &Path) {
    let expected = run(Command::new(binutil("objdump")).arg("-d").arg(file));
    let out = rvflash(&["disasm", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "rvflash disasm {} failed: {stderr}",
        file.display()
    );
    let actual = String::from_utf8(out.stdout).expect("UTF-8 listing");

    // Line by line first, for a readable failure.
    let (want, got) = (parse_listing(&expected), parse_listing(&actual));
    assert!(want.len() > 3, "objdump listed nothing useful:\n{expected}");
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(g, w, "line {i} of the listing of {}", file.display());
    }
    assert_eq!(
        got.len(),
        want.len(),
        "number of listing lines of {}",
        file.display()
    );
    // Then the exact text: header, blank lines, padding of the bytes column.
    assert_eq!(
        actual,
        expected,
        "exact layout of the listing of {}",
        file.display()
    );
}

fn linked_program(linker: Linker, test: &str) -> (PathBuf, PathBuf) {
    let dir = elf_support::scratch_dir(TMP, test);
    let (main_o, ext_o) = (program::main_object(), program::ext_object());
    let exe = elf_support::link(linker, &dir, &[("main.o", &main_o), ("ext.o", &ext_o)]);
    (exe, dir)
}

#[test]
fn listing_of_rust_lld_executable_matches_objdump() {
    let (exe, dir) = linked_program(Linker::RustLld, "disasm-lld");
    assert_same_as_objdump(&exe);
    // The objects that went into it (relocatable: section-relative addresses).
    assert_same_as_objdump(&dir.join("main.o"));
    assert_same_as_objdump(&dir.join("ext.o"));
}

#[test]
fn listing_of_gnu_ld_executable_matches_objdump() {
    let (exe, _) = linked_program(Linker::GnuLd, "disasm-gnu");
    assert_same_as_objdump(&exe);
}

/// Compressed code, bytes that are not instructions, zeros, data in code.
fn awkward_object() -> Vec<u8> {
    let mut w = ObjectWriter::new(Options { compressed: true });
    let text = w.text();
    let def = |offset, size, kind, binding| Definition {
        section: text,
        offset,
        size,
        kind,
        binding,
    };
    let mut code = encode(&[
        Inst::i(Op::CJr, 0, RA, 0),   // c.ret
        Inst::u(Op::Auipc, RA, 0),    // call ext (auipc+jalr)
        Inst::i(Op::Jalr, RA, RA, 0), //
    ]);
    code.extend(0x0000_000bu32.to_le_bytes()); // custom-0: not RV64GC, `.4byte`
    code.extend(0x8002u16.to_le_bytes()); // reserved `c.jr zero`: `.2byte`
    code.extend([0u8; 12]); // zeros: `...`
    code.extend(encode(&[Inst::i(Op::Jalr, 0, RA, 0)])); // ret
    code.extend(0u16.to_le_bytes()); // `unimp`
    code.extend([0x1f, 0, 0x34, 0x12, 0x78, 0x56]); // a 48-bit encoding: `.byte` list
    code.extend(encode(&[Inst::i(Op::Jalr, 0, RA, 0)]));
    let f_size = code.len() as u64;
    // `$d`: a data word and a halfword in code, then `$x` and code again.
    let data_at = f_size;
    code.extend(0xdead_beefu32.to_le_bytes());
    code.extend(0x0102u16.to_le_bytes());
    let code_again = code.len() as u64;
    code.extend(encode(&[Inst::i(Op::CJr, 0, RA, 0)]));
    // An object symbol in code: dumped as hex and ASCII.
    let table_at = code.len() as u64;
    code.extend(b"rvflash table\x01\x02\x03\x04\x05");
    let end = code.len() as u64;
    w.append(text, &code, 2).unwrap();
    w.define("f", def(0, f_size, SymbolKind::Function, Binding::Global))
        .unwrap();
    w.define("$d", def(data_at, 0, SymbolKind::NoType, Binding::Local))
        .unwrap();
    w.define("$x", def(code_again, 0, SymbolKind::NoType, Binding::Local))
        .unwrap();
    w.define(
        "g",
        def(code_again, 2, SymbolKind::Function, Binding::Local),
    )
    .unwrap();
    let table = SymbolKind::Object;
    w.define(
        "table",
        def(table_at, end - table_at, table, Binding::Local),
    )
    .unwrap();
    let ext = w.declare("ext", SymbolKind::Function).unwrap();
    w.relocate(text, 2, RelocKind::Call, ext, 0).unwrap();
    // A second code section without a symbol at its start.
    let init = w.section(".init", SectionKind::Text).unwrap();
    let init_code = encode(&[Inst::i(Op::Addi, 10, 0, 1), Inst::i(Op::Jalr, 0, RA, 0)]);
    w.append(init, &init_code, 4).unwrap();
    let late = Definition {
        section: init,
        offset: 4,
        size: 4,
        kind: SymbolKind::Function,
        binding: Binding::Local,
    };
    w.define("late", late).unwrap();
    w.write().unwrap()
}

#[test]
fn listing_of_awkward_bytes_matches_objdump() {
    let dir = elf_support::scratch_dir(TMP, "disasm-awkward");
    let path = dir.join("awkward.o");
    std::fs::write(&path, awkward_object()).unwrap();
    assert_same_as_objdump(&path);
    let rvc = dir.join("rvc.o");
    std::fs::write(&rvc, program::compressed_object()).unwrap();
    assert_same_as_objdump(&rvc);
}

#[test]
fn bad_input_fails_with_status_125() {
    let dir = elf_support::scratch_dir(TMP, "disasm-bad");
    let elf = program::main_object();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text.txt", b"hello\n".to_vec(), "not an ELF file"),
        (
            "x86.o",
            patched(&elf, 0x12, &[62, 0]),
            "not a RISC-V ELF file",
        ),
        ("elf32.o", patched(&elf, 4, &[1]), "32-bit ELF"),
        ("big.o", patched(&elf, 5, &[2]), "big-endian"),
        (
            "truncated.o",
            elf[..elf.len() / 2].to_vec(),
            "cannot disassemble",
        ),
    ];
    for (name, bytes, message) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = rvflash(&["disasm", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(125), "{name}: {stderr}");
        assert!(
            stderr.contains(message) && !stderr.contains("panicked"),
            "{name}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{name}: no partial listing");
    }
    let out = rvflash(&["disasm", dir.join("missing.o").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

fn patched(bytes: &[u8], at: usize, with: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + with.len()].copy_from_slice(with);
    out
}

#[test]
fn help_describes_disasm() {
    let out = rvflash(&["disasm", "--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Usage: rvflash disasm <FILE>"), "{help}");
    assert!(help.contains("objdump -d"), "{help}");
    let out = rvflash(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("disasm") && help.contains("objdump -d"),
        "{help}"
    );
}
