//! Shared harness of the `codegen_*` tests: compile IL with `codegen::compile`, link it with
//! rust-lld (`linker-scripts/sim.x` + `sections.ld`) together with a start stub built here
//! with `ObjectWriter` + `isa::encode`, run it on `rvflash_sim::Machine`, and compare the
//! exit code and UART output with `interp::run` on the same module.
//!
//! Programs call `$putchar` (the interpreter's libc); on the simulator an IL `putchar`
//! storing to the 16550 THR is linked in.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use rvflash_backend::codegen::{self, Options};
use rvflash_backend::isa::{Inst, Op, encode};
use rvflash_backend::obj::{Binding, Definition, LoForm, ObjectWriter, RelocKind, SymbolKind};
use rvflash_backend::{interp, qbe};

const TMP: &str = env!("CARGO_TARGET_TMPDIR");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The device side of `putchar` for the simulator: the UART's THR.
const RUNTIME: &str =
    "export function w $putchar(w %c) {\n@s\n  storeb %c, 268435456\n  ret %c\n}\n";

/// `$pr(l)`: prints a value as 16 hex digits and a newline (IL shared by the tests).
pub const PRINT_HEX: &str = r#"
function $pr(l %x) {
@s
  %i =w copy 60
@loop
  %d =l shr %x, %i
  %d =l and %d, 15
  %c =l copy %d
  %lt =w csltw %c, 10
  jnz %lt, @dig, @hex
@dig
  %ch =w add %c, 48
  jmp @out
@hex
  %ch =w add %c, 87
@out
  %r =w call $putchar(w %ch)
  %i =w sub %i, 4
  %more =w csgew %i, 0
  jnz %more, @loop, @done
@done
  %r =w call $putchar(w 10)
  ret
}
"#;

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(TMP).join(format!("cg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `_start`: FPU on; sp = _stack_start; a0 = main(); exit through the SiFive test finisher.
pub fn start_object() -> Vec<u8> {
    let mut w = ObjectWriter::new(Default::default());
    let text = w
        .section(".text.init", rvflash_backend::obj::SectionKind::Text)
        .unwrap();
    let code = [
        // mstatus.FS = initial: enable the FPU.
        Inst::u(Op::Lui, 5, 2),
        Inst::i(Op::Csrrs, 0, 5, 0x300),
        Inst::u(Op::Auipc, 2, 0),
        Inst::i(Op::Addi, 2, 2, 0),
        Inst::u(Op::Auipc, 1, 0),
        Inst::i(Op::Jalr, 1, 1, 0),
        // beqz a0, ok
        Inst::s(Op::Beq, 10, 0, 24),
        Inst::i(Op::Slli, 10, 10, 16),
        Inst::u(Op::Lui, 5, 3),
        Inst::i(Op::Addi, 5, 5, 0x333),
        Inst::r(Op::Or, 10, 10, 5),
        Inst::u(Op::Jal, 0, 12),
        // ok:
        Inst::u(Op::Lui, 10, 5),
        Inst::i(Op::Addi, 10, 10, 0x555),
        // store:
        Inst::u(Op::Lui, 6, 0x100),
        Inst::s(Op::Sw, 6, 10, 0),
        Inst::u(Op::Jal, 0, 0),
    ];
    let mut bytes = Vec::new();
    for i in code {
        encode(&i).unwrap().write_to(&mut bytes);
    }
    let at = w.append(text, &bytes, 4).unwrap();
    let stack = w.declare("_stack_start", SymbolKind::NoType).unwrap();
    w.pcrel(text, at + 8, at + 12, LoForm::I, stack, 0).unwrap();
    let main = w.declare("main", SymbolKind::Function).unwrap();
    w.relocate(text, at + 16, RelocKind::Call, main, 0).unwrap();
    let def = Definition {
        section: text,
        offset: at,
        size: bytes.len() as u64,
        kind: SymbolKind::Function,
        binding: Binding::Global,
    };
    w.define("_start", def).unwrap();
    w.write().unwrap()
}

fn lld() -> PathBuf {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = String::from_utf8(out.stdout).unwrap();
    Path::new(sysroot.trim()).join("lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld")
}

fn run_cmd(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Parses IL (panics with the error).
pub fn parse(src: &str) -> rvflash_backend::ir::Module {
    qbe::parse("test.ssa", src).unwrap_or_else(|e| panic!("{e}"))
}

/// Compiles, links and returns the ELF path; also checks that objdump reads the object.
pub fn build(dir: &Path, src: &str) -> PathBuf {
    build_with(dir, src, &[RUNTIME.to_string()])
}

/// [`build`] with other IL modules (compiled by the backend too) instead of the `putchar`
/// runtime.
pub fn build_with(dir: &Path, src: &str, others: &[String]) -> PathBuf {
    build_ld(dir, src, others, None)
}

/// [`build_with`] plus an extra linker script fragment (e.g. `INSERT AFTER` sections).
pub fn build_ld(dir: &Path, src: &str, others: &[String], extra_ld: Option<&str>) -> PathBuf {
    let m = parse(src);
    let obj = codegen::compile(&m, &Options { check: true }).unwrap_or_else(|e| panic!("{e}"));
    let prog = dir.join("prog.o");
    std::fs::write(&prog, obj).unwrap();
    let dump = run_cmd(
        Command::new("riscv64-unknown-elf-objdump")
            .arg("-dr")
            .arg(&prog),
    );
    assert!(
        !dump.contains("unknown") && !dump.contains(".insn"),
        "{dump}"
    );
    let mut objs = Vec::new();
    for (i, o) in others.iter().enumerate() {
        let rt =
            codegen::compile(&parse(o), &Options { check: true }).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.join(format!("rt{i}.o"));
        std::fs::write(&path, rt).unwrap();
        objs.push(path);
    }
    std::fs::write(dir.join("start.o"), start_object()).unwrap();
    let elf = dir.join("prog.elf");
    let ls = Path::new(ROOT).join("linker-scripts");
    let mut extra = Vec::new();
    if let Some(ld) = extra_ld {
        let p = dir.join("extra.ld");
        std::fs::write(&p, ld).unwrap();
        extra.push("-T".into());
        extra.push(p.into_os_string());
    }
    run_cmd(
        Command::new(lld())
            .args(["-flavor", "gnu", "-T"])
            .arg(ls.join("sim.x"))
            .arg("-T")
            .arg(ls.join("sections.ld"))
            .args(&extra)
            .arg(dir.join("start.o"))
            .arg(&prog)
            .args(&objs)
            .arg("-o")
            .arg(&elf),
    );
    elf
}

/// Loads an ELF's PT_LOAD segments (at their virtual addresses) and runs it.
pub fn run_elf(elf: &Path) -> (i32, String) {
    let b = std::fs::read(elf).unwrap();
    let u16_at = |o: usize| u16::from_le_bytes(b[o..o + 2].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let entry = u64_at(24);
    let phoff = u64_at(32) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    let mut m = rvflash_sim::Machine::new(rvflash_sim::Config {
        reset_pc: entry,
        catch_traps: true,
        ..Default::default()
    });
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let ty = u32::from_le_bytes(b[ph..ph + 4].try_into().unwrap());
        if ty == 7 {
            // PT_TLS: one thread, whose block is the initial image (variant I: tp = start).
            m.set_reg(rvflash_sim::Reg::X(4), u64_at(ph + 16));
        }
        if ty != 1 {
            continue;
        }
        let (off, vaddr, filesz) = (
            u64_at(ph + 8) as usize,
            u64_at(ph + 16),
            u64_at(ph + 32) as usize,
        );
        if filesz > 0 {
            m.load(vaddr, &b[off..off + filesz]).unwrap();
        }
    }
    let stop = m.run(200_000_000);
    let out = String::from_utf8_lossy(&m.take_uart_output()).into_owned();
    match stop {
        rvflash_sim::Stop::Exited(c) => (c, out),
        s => panic!("simulator stopped with {s:?}; output so far: {out}"),
    }
}

/// What the interpreter says: exit code (low 16 bits, as the finisher reports) and output.
pub fn interp(src: &str) -> (i32, String) {
    let m = parse(src);
    let mut out = Vec::new();
    let code = interp::run(&m, "main", &["prog"], &mut out).unwrap_or_else(|e| panic!("{e}"));
    (code & 0xffff, String::from_utf8(out).unwrap())
}

/// Compiles and runs `src` on the simulator and checks it against the interpreter; returns
/// the (exit code, output).
pub fn check(name: &str, src: &str) -> (i32, String) {
    check_ld(name, src, None)
}

/// [`check`] with an extra linker script fragment.
pub fn check_ld(name: &str, src: &str, extra_ld: Option<&str>) -> (i32, String) {
    let dir = scratch(name);
    let elf = build_ld(&dir, src, &[RUNTIME.to_string()], extra_ld);
    let got = run_elf(&elf);
    let want = interp(src);
    assert_eq!(got, want, "simulator vs interpreter for {name}");
    let _ = std::fs::remove_dir_all(&dir);
    got
}

/// Assembles the listing with GNU as and compares its `.text*` bytes with the object's.
pub fn check_listing(name: &str, src: &str) {
    let dir = scratch(&format!("{name}-asm"));
    let m = parse(src);
    let (obj, asm) = codegen::generate(&m, &Options { check: true }).unwrap();
    std::fs::write(dir.join("a.s"), &asm).unwrap();
    std::fs::write(dir.join("ours.o"), obj).unwrap();
    run_cmd(
        Command::new("riscv64-unknown-elf-as")
            .args(["-march=rv64gc", "-mno-relax", "-o"])
            .arg(dir.join("gas.o"))
            .arg(dir.join("a.s")),
    );
    let names: Vec<String> = m
        .functions
        .iter()
        .map(|f| format!(".text.{}", f.name))
        .collect();
    for sec in names {
        let dump = |o: &str| {
            run_cmd(
                Command::new("riscv64-unknown-elf-objdump")
                    .args(["-s", "-j", &sec])
                    .arg(dir.join(o)),
            )
            .lines()
            .skip(3)
            .collect::<Vec<_>>()
            .join("\n")
        };
        assert_eq!(
            dump("ours.o"),
            dump("gas.o"),
            "section {sec} differs; listing:\n{asm}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The listing of `src`.
pub fn listing(src: &str) -> String {
    codegen::compile_asm(&parse(src), &Options { check: true }).unwrap_or_else(|e| panic!("{e}"))
}
