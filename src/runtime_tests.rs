//! Tests of the runtime on a board: objdump reads the start object; rust-lld links it with
//! the board scripts and a stub `main`, and the result runs on the built-in simulator with
//! both console/exit flavours. Then with the code generator: the examples compiled with the
//! IL libc exit as documented, the compiled `sprintf` agrees with the interpreter's host
//! printf, and random programs (backend/tests/support/gen.rs) print on `sim` exactly what the
//! interpreter prints (differential testing; `RVFLASH_GEN_SEEDS=N` for more than 100).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::Parser;
use object::{Object, ObjectSymbol};

use super::*;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// A stand-in for the compiled IL: `main` prints '0' + argc and a newline through
/// `rv_console_putc` and returns argc + `answer` (40, in `.data`); `rv_cmdline` returns 3 and
/// `rv_argv` is a zeroed array (the real ones come from runtime/libc/args.ssa).
fn stub_object() -> Vec<u8> {
    let mut w = ObjectWriter::new(Options::default());
    let data = w.data();
    let at = w.append(data, &40u64.to_le_bytes(), 8).unwrap();
    let def = |section, offset, size| Definition {
        section,
        offset,
        size,
        kind: SymbolKind::Object,
        binding: Binding::Global,
    };
    w.define("answer", def(data, at, 8)).unwrap();
    let argv = w.append(data, &[0; 32], 8).unwrap();
    w.define("rv_argv", def(data, argv, 32)).unwrap();

    let mut a = Asm::default();
    a.push(Item::Global("main"));
    a.i(Op::Addi, SP, SP, -16);
    a.s(Op::Sd, SP, RA, 8);
    a.s(Op::Sd, SP, A0, 0);
    a.i(Op::Addi, A0, A0, 48);
    a.push(Item::Call("rv_console_putc"));
    a.i(Op::Addi, A0, ZERO, 10);
    a.push(Item::Call("rv_console_putc"));
    a.i(Op::Ld, A0, SP, 0);
    a.i(Op::Ld, RA, SP, 8);
    a.i(Op::Addi, SP, SP, 16);
    a.push(Item::La(T0, "answer"));
    a.i(Op::Ld, T1, T0, 0);
    a.r(Op::Add, A0, A0, T1);
    a.ret();
    a.push(Item::Global("rv_cmdline"));
    a.i(Op::Addi, A0, ZERO, 3);
    a.ret();
    let text = w.text();
    a.finish(&mut w, text).unwrap();
    w.write().unwrap()
}

/// rust-lld from the Rust toolchain.
fn rust_lld() -> Option<PathBuf> {
    let out = Command::new("rustc")
        .arg("--print")
        .arg("sysroot")
        .output()
        .ok()?;
    let sysroot = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let rustlib = std::fs::read_dir(sysroot.join("lib/rustlib")).ok()?;
    rustlib
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/rust-lld"))
        .find(|p| p.exists())
}

/// Links the start object for (console, exit) with the stub into `dir/NAME.elf`.
fn link(dir: &Path, name: &str, console: Console, exit: ExitProtocol) -> PathBuf {
    let start = dir.join(format!("{name}-start.o"));
    let stub = dir.join(format!("{name}-stub.o"));
    std::fs::write(&start, start_object(console, exit).unwrap()).unwrap();
    std::fs::write(&stub, stub_object()).unwrap();
    let elf = dir.join(format!("{name}.elf"));
    let lld = rust_lld().expect("rust-lld (rustup component llvm-tools or the default toolchain)");
    let status = Command::new(lld)
        .args(["-flavor", "gnu", "-T"])
        .arg(format!("{REPO}/linker-scripts/sim.x"))
        .arg("-T")
        .arg(format!("{REPO}/linker-scripts/sections.ld"))
        .arg(&start)
        .arg(&stub)
        .arg("-o")
        .arg(&elf)
        .status()
        .unwrap();
    assert!(status.success(), "rust-lld failed");
    elf
}

fn symbols(elf: &Path) -> std::collections::HashMap<String, u64> {
    let bytes = std::fs::read(elf).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    file.symbols()
        .map(|s| (s.name().unwrap().to_owned(), s.address()))
        .collect()
}

fn run_on_sim(elf: &Path) -> ExitCode {
    let cli = crate::Cli::try_parse_from([
        "rvflash",
        "run",
        "--board",
        "sim",
        "--timeout",
        "20",
        elf.to_str().unwrap(),
    ])
    .unwrap();
    match cli.command {
        crate::Command::Run(args) => crate::run::run(&args),
        _ => unreachable!(),
    }
}

#[test]
fn objdump_reads_the_start_object() {
    let dir = tempfile::tempdir().unwrap();
    let obj = dir.path().join("start.o");
    std::fs::write(
        &obj,
        start_object(Console::Semihosting, ExitProtocol::Semihosting).unwrap(),
    )
    .unwrap();
    let Ok(out) = Command::new("riscv64-unknown-elf-objdump")
        .arg("-dr")
        .arg(&obj)
        .output()
    else {
        eprintln!("riscv64-unknown-elf-objdump not installed: skipped");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "<_start>:",
        "<_start_trap>:",
        "<rv_semihost>:",
        "<rv_console_putc>:",
        "<rv_exit>:",
        "sll\tzero,zero,0x1f",
        "ebreak",
        "sra\tzero,zero,0x7",
        "R_RISCV_PCREL_HI20\t__global_pointer$",
        "R_RISCV_PCREL_HI20\t_stack_start",
        "R_RISCV_CALL_PLT\tmain",
        "R_RISCV_CALL_PLT\trv_cmdline",
        "csrw\tmtvec,t0",
    ] {
        assert!(text.contains(want), "objdump lacks {want:?}:\n{text}");
    }
    assert!(!text.contains("(bad)"), "{text}");
}

#[test]
fn links_and_runs_with_semihosting() {
    let dir = tempfile::tempdir().unwrap();
    let elf = link(
        dir.path(),
        "semi",
        Console::Semihosting,
        ExitProtocol::Semihosting,
    );
    let syms = symbols(&elf);
    assert_eq!(
        syms["_start"], 0x8000_0000,
        "_start comes first (.text.init)"
    );
    assert_eq!(syms["_start_trap"] % 4, 0);
    assert_eq!(syms["rv_semihost"] % 16, 0);
    assert!(syms.contains_key("rv_console_putc") && syms.contains_key("rv_exit"));
    // main returns argc (3, from the stub rv_cmdline) + 40.
    assert_eq!(run_on_sim(&elf), ExitCode::from(43));
}

#[test]
fn links_and_runs_with_uart_and_finisher() {
    let dir = tempfile::tempdir().unwrap();
    let (uart, finisher) = (rvflash_sim::map::UART_BASE, rvflash_sim::map::FINISHER_BASE);
    let elf = link(
        dir.path(),
        "uart",
        Console::Uart16550(uart),
        ExitProtocol::SifiveTest(finisher),
    );
    let syms = symbols(&elf);
    assert_eq!(syms["_start"], 0x8000_0000);
    assert!(!syms.contains_key("rv_cmdline") || syms["rv_cmdline"] != 0);
    // argc = 0 without semihosting: main returns 40.
    assert_eq!(run_on_sim(&elf), ExitCode::from(40));
}

#[test]
fn addresses_beyond_32_bits_are_errors() {
    let err = start_object(Console::Uart16550(1 << 40), ExitProtocol::Semihosting).unwrap_err();
    assert!(err.to_string().contains("32-bit"), "{err}");
}

#[test]
fn libc_sources_parse_as_one_module() {
    rvflash_backend::qbe::parse("libc.ssa", &libc_source()).unwrap();
}

/// Compiles `prog` together with the IL libc, links it with the start object for the `sim`
/// board and runs it; returns the exit status.
fn compile_and_run(dir: &Path, prog: &str) -> ExitCode {
    let src = format!("{}\n{prog}", libc_source());
    let module = rvflash_backend::qbe::parse("prog.ssa", &src).unwrap();
    let options = rvflash_backend::codegen::Options::default();
    let obj = rvflash_backend::codegen::compile(&module, &options).unwrap();
    let prog_o = dir.join("prog.o");
    std::fs::write(&prog_o, obj).unwrap();
    let start = dir.join("start.o");
    std::fs::write(
        &start,
        start_object(Console::Semihosting, ExitProtocol::Semihosting).unwrap(),
    )
    .unwrap();
    let elf = dir.join("prog.elf");
    let status = Command::new(rust_lld().unwrap())
        .args(["-flavor", "gnu", "-T"])
        .arg(format!("{REPO}/linker-scripts/sim.x"))
        .arg("-T")
        .arg(format!("{REPO}/linker-scripts/sections.ld"))
        .arg(&start)
        .arg(&prog_o)
        .arg("-o")
        .arg(&elf)
        .status()
        .unwrap();
    assert!(status.success(), "rust-lld failed");
    run_on_sim(&elf)
}

/// The examples, compiled with the IL libc, exit on `sim` as `examples/README.md` says
/// (`trap.ssa` reaches `hlt`: the run loop reports the trap as 134).
#[test]
fn compiled_examples_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    for (name, code) in [
        ("hello", 0),
        ("fib", 55),
        ("sieve", 15),
        ("structs", 0),
        ("varargs", 0),
        ("floats", 0),
        ("panic", 127),
        ("trap", 134),
    ] {
        let prog = std::fs::read_to_string(format!("{REPO}/examples/{name}.ssa")).unwrap();
        assert_eq!(
            compile_and_run(dir.path(), &prog),
            ExitCode::from(code),
            "{name}"
        );
    }
}

/// An IL string data item for `s` (printable ASCII).
fn il_string(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
    format!("b \"{escaped}\", b 0")
}

/// What the interpreter's host printf makes of `fmt` with `args` (IL call arguments).
fn host_printf(fmt: &str, args: &str) -> String {
    let prog = format!(
        "data $f = {{ {} }}\nexport function w $main() {{\n@start\n\t\
         %r =w call $printf(l $f, ..., {args})\n\tret 0\n}}\n",
        il_string(fmt)
    );
    let m = rvflash_backend::qbe::parse("host.ssa", &prog).unwrap();
    let mut out = Vec::new();
    rvflash_backend::interp::run(&m, "main", &["host"], &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The compiled IL libc's sprintf agrees with the host printf on the board: a program
/// compares each sprintf result with the host's text and returns the first failing case + 1.
#[test]
fn compiled_sprintf_matches_host_printf() {
    let mut cases: Vec<(String, String)> = [
        (
            "[%d] [%i] [%u] [%5d] [%-5d] [%05d] [%+d]",
            "w 42, w -42, w -1, w 7, w 7, w -7, w 3",
        ),
        (
            "[%x] [%X] [%#x] [%o] [%#o] [%c] [%%]",
            "w 255, w 255, w 255, w 8, w 8, w 65",
        ),
        (
            "[%ld] [%lu] [%lx] [%lld]",
            "l -9223372036854775808, l -1, l 81985529216486895, l 5",
        ),
        (
            "[%.3d] [%8.3d] [%hd] [%hhu] [%*d] [%.*d]",
            "w 7, w -7, w 70000, w 511, w 6, w 1, w 4, w 3",
        ),
        ("[%p] [%20p]", "l 0, l 4096"),
    ]
    .iter()
    .map(|(f, a)| (f.to_string(), a.to_string()))
    .collect();
    let values = [
        "0",
        "-0",
        "1",
        "0.5",
        "2.5",
        "0.1",
        "3.14159265358979",
        "-2.718281828459045",
        "1e21",
        "123456789.125",
        "1e-5",
        "9.9999996",
        "1.7976931348623157e308",
        "5e-324",
        "6.02214076e23",
    ];
    for v in values {
        for f in ["%f", "%.2f", "%e", "%.3E", "%g", "%.17g", "%#g", "%12.4e"] {
            cases.push((format!("[{f}]"), format!("d d_{v}")));
        }
    }
    let mut prog = String::from("export function w $main() {\n@start\n\t%buf =l alloc8 1024\n");
    let mut data = String::new();
    for (i, (fmt, args)) in cases.iter().enumerate() {
        let want = host_printf(fmt, args);
        data.push_str(&format!("data $f{i} = {{ {} }}\n", il_string(fmt)));
        data.push_str(&format!("data $e{i} = {{ {} }}\n", il_string(&want)));
        prog.push_str(&format!(
            "\t%n{i} =w call $sprintf(l %buf, l $f{i}, ..., {args})\n\
             \t%c{i} =w call $strcmp(l %buf, l $e{i})\n\
             \tjnz %c{i}, @bad{i}, @ok{i}\n@bad{i}\n\tret {}\n@ok{i}\n",
            i + 1
        ));
    }
    prog.push_str("\tret 0\n}\n");
    let dir = tempfile::tempdir().unwrap();
    let code = compile_and_run(dir.path(), &format!("{data}{prog}"));
    assert_eq!(
        code,
        ExitCode::from(0),
        "a case failed (exit status = case index + 1)"
    );
}

#[path = "../backend/tests/support/gen.rs"]
mod randgen;

/// Links `objs` for the sim board's memory map.
fn link_objects(dir: &Path, objs: &[&Path], elf: &Path) {
    let status = Command::new(rust_lld().unwrap())
        .args(["-flavor", "gnu", "-T"])
        .arg(format!("{REPO}/linker-scripts/sim.x"))
        .arg("-T")
        .arg(format!("{REPO}/linker-scripts/sections.ld"))
        .args(objs)
        .arg("-o")
        .arg(elf)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "rust-lld failed");
}

/// Runs `elf` (UART console, SiFive finisher) on a bare simulator; returns the exit code
/// (or the trap) and the UART output.
fn run_uart(elf: &Path) -> (Result<i32, String>, String) {
    use rvflash_sim::{Config, Machine, Stop};
    let bytes = std::fs::read(elf).unwrap();
    let file = object::File::parse(&*bytes).unwrap();
    let config = Config {
        catch_traps: true,
        reset_pc: file.entry(),
        ..Config::default()
    };
    let mut m = Machine::new(config);
    for seg in file.segments() {
        use object::ObjectSegment;
        let data = seg.data().unwrap();
        if !data.is_empty() {
            m.load(seg.address(), data).unwrap();
        }
    }
    let mut out = Vec::new();
    let mut budget = 0;
    let r = loop {
        let stop = m.run(1_000_000);
        out.extend(m.take_uart_output());
        match stop {
            Stop::Budget if budget < 200 => budget += 1,
            Stop::Exited(code) => break Ok(code),
            other => break Err(format!("{other:?}")),
        }
    };
    (r, String::from_utf8_lossy(&out).into_owned())
}

/// Differential testing: random programs (backend/tests/support/gen.rs) compiled with the
/// IL libc print on `sim` exactly what the interpreter computes.
#[test]
fn compiled_random_programs_match_the_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let options = rvflash_backend::codegen::Options::default();
    let libc = rvflash_backend::qbe::parse("libc.ssa", &libc_source()).unwrap();
    let libc_o = dir.path().join("libc.o");
    std::fs::write(
        &libc_o,
        rvflash_backend::codegen::compile(&libc, &options).unwrap(),
    )
    .unwrap();
    let start_o = dir.path().join("start.o");
    let (uart, finisher) = (rvflash_sim::map::UART_BASE, rvflash_sim::map::FINISHER_BASE);
    let start = start_object(Console::Uart16550(uart), ExitProtocol::SifiveTest(finisher));
    std::fs::write(&start_o, start.unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut printed = 0;
    // RVFLASH_GEN_SEEDS=N runs more programs.
    let seeds = std::env::var("RVFLASH_GEN_SEEDS").map_or(100, |n| n.parse().unwrap());
    for seed in 0..seeds {
        let src = randgen::generate(seed);
        let module = rvflash_backend::qbe::parse("gen.ssa", &src).unwrap();
        let mut want = Vec::new();
        let code = rvflash_backend::interp::run(&module, "main", &["gen"], &mut want).unwrap();
        let want = String::from_utf8(want).unwrap();
        printed += want.len();
        let obj = match rvflash_backend::codegen::compile(&module, &options) {
            Ok(obj) => obj,
            Err(e) => {
                failures.push(format!("seed {seed}: compile error {e}"));
                continue;
            }
        };
        let prog_o = dir.path().join("prog.o");
        std::fs::write(&prog_o, obj).unwrap();
        let elf = dir.path().join("prog.elf");
        link_objects(dir.path(), &[&start_o, &libc_o, &prog_o], &elf);
        let (got_code, got) = run_uart(&elf);
        if got_code != Ok(code) || got != want {
            failures.push(format!(
                "seed {seed}: exit {got_code:?} (want {code}), output:\n{got}\nwant:\n{want}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(printed > seeds as usize * 10, "programs print too little");
}
