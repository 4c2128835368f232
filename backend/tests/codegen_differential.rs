//! Differential testing at scale: random programs from `support/gen.rs` (printf, varargs,
//! calls with many mixed parameters, loops with phis, memory of every width, conversions)
//! compiled by the backend, linked with the IL libc (`runtime/libc/*.ssa`, compiled once)
//! and run on the in-process simulator (`rvflash_sim::Machine`) must print exactly what the
//! interpreter prints and exit with the same code.
//!
//! 2,000 programs by default (seeds `0..2000`), spread over all cores. Environment:
//! `RVFLASH_GEN_SEEDS=N` runs N programs, `RVFLASH_GEN_START=S` starts at seed S. A failing
//! program is written to `$CARGO_TARGET_TMPDIR/diff-SEED.ssa` and named in the failure
//! message; run it again with `rvflash run` / `rvflash interp`.
//!
//! The board side is minimal: the start stub of `codegen_support` (FPU on, `sp`, `main()`,
//! exit through the SiFive test finisher) plus [`device`], IL definitions of the primitives
//! `runtime/libc/board.ssa` expects (`rv_console_putc` stores to the 16550's THR, `rv_exit`
//! writes the finisher, `rv_semihost` fails). Linking is rust-lld with the `sim` memory map.

mod codegen_support;
#[path = "support/gen.rs"]
mod randgen;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rvflash_backend::codegen::{self, Options};
use rvflash_backend::{interp, qbe};
use rvflash_sim::{Config, Machine, Stop, map};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const TMP: &str = env!("CARGO_TARGET_TMPDIR");

/// The IL libc (the same files as `rvflash build` links).
const LIBC: &[&str] = &[
    include_str!("../../runtime/libc/board.ssa"),
    include_str!("../../runtime/libc/args.ssa"),
    include_str!("../../runtime/libc/string.ssa"),
    include_str!("../../runtime/libc/malloc.ssa"),
    include_str!("../../runtime/libc/stdio.ssa"),
    include_str!("../../runtime/libc/vformat.ssa"),
    include_str!("../../runtime/libc/fmt_float.ssa"),
    include_str!("../../runtime/libc/stdlib.ssa"),
];

/// The board primitives for the simulator's UART and finisher, in IL.
fn device() -> String {
    let (uart, fin) = (map::UART_BASE, map::FINISHER_BASE);
    format!(
        "export function $rv_console_putc(w %c) {{\n@s\n  storeb %c, {uart}\n  ret\n}}\n\
         export function l $rv_semihost(l %op, l %p) {{\n@s\n  ret -1\n}}\n\
         export function $rv_exit(w %code) {{\n@s\n  jnz %code, @fail, @ok\n@ok\n  \
         storew 21845, {fin}\n  jmp @hang\n@fail\n  %v =w shl %code, 16\n  \
         %v =w or %v, 13107\n  storew %v, {fin}\n@hang\n  jmp @hang\n}}\n"
    )
}

/// The start stub and the libc with `device` as its board primitives, as objects in `dir`.
fn build_runtime(dir: &Path, device: &str) -> Vec<PathBuf> {
    let libc = qbe::parse("libc.ssa", &(LIBC.join("\n") + device)).unwrap();
    let libc_o = dir.join("libc.o");
    let obj = codegen::compile(&libc, &Options { check: true }).unwrap();
    std::fs::write(&libc_o, obj).unwrap();
    let start_o = dir.join("start.o");
    std::fs::write(&start_o, codegen_support::start_object()).unwrap();
    vec![start_o, libc_o]
}

fn rust_lld() -> PathBuf {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc");
    let sysroot = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    std::fs::read_dir(sysroot.join("lib/rustlib"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/rust-lld"))
        .find(|p| p.is_file())
        .expect("rust-lld (shipped with the Rust toolchain) is needed by this test")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
    })
}

/// Runs a linked program on the simulator: exit code (or why it did not exit) and output.
fn run(elf: &[u8]) -> (Result<i32, String>, String) {
    let u16_at = |o: usize| u16::from_le_bytes(elf[o..o + 2].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap());
    let (phoff, phentsize, phnum) = (u64_at(32) as usize, u16_at(54), u16_at(56));
    let mut m = Machine::new(Config {
        reset_pc: u64_at(24),
        catch_traps: true,
        ..Default::default()
    });
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let ty = u32::from_le_bytes(elf[ph..ph + 4].try_into().unwrap());
        let (off, vaddr, filesz) = (u64_at(ph + 8) as usize, u64_at(ph + 16), u64_at(ph + 32));
        if ty == 1 && filesz > 0 {
            m.load(vaddr, &elf[off..off + filesz as usize]).unwrap();
        }
    }
    let mut out = Vec::new();
    let mut slices = 0;
    let r = loop {
        let stop = m.run(10_000_000);
        out.extend(m.take_uart_output());
        match stop {
            Stop::Budget if slices < 50 => slices += 1,
            Stop::Exited(code) => break Ok(code),
            other => break Err(format!("{other:?}")),
        }
    };
    (r, String::from_utf8_lossy(&out).into_owned())
}

/// What one seed did differently from the interpreter, if anything.
fn check_seed(seed: u64, dir: &Path, lld: &Path, runtime: &[PathBuf]) -> Option<String> {
    let src = randgen::generate(seed);
    let fail = |what: String| {
        let path = Path::new(TMP).join(format!("diff-{seed}.ssa"));
        let _ = std::fs::write(&path, &src);
        Some(format!("seed {seed} ({}): {what}", path.display()))
    };
    let module = match qbe::parse("gen.ssa", &src) {
        Ok(m) => m,
        Err(e) => return fail(format!("does not parse: {e}")),
    };
    let mut want = Vec::new();
    let code = match interp::run(&module, "main", &["gen"], &mut want) {
        Ok(code) => code & 0xffff,
        Err(e) => return fail(format!("interpreter error: {e}")),
    };
    let want = String::from_utf8_lossy(&want).into_owned();
    let obj = match codegen::compile(&module, &Options { check: false }) {
        Ok(obj) => obj,
        Err(e) => return fail(format!("compile error: {e}")),
    };
    let prog = dir.join("prog.o");
    let elf = dir.join("prog.elf");
    std::fs::write(&prog, obj).unwrap();
    let ls = Path::new(ROOT).join("linker-scripts");
    let out = Command::new(lld)
        .args(["-flavor", "gnu", "-T"])
        .arg(ls.join("sim.x"))
        .arg("-T")
        .arg(ls.join("sections.ld"))
        .args(runtime)
        .arg(&prog)
        .arg("-o")
        .arg(&elf)
        .output()
        .unwrap();
    if !out.status.success() {
        return fail(format!(
            "link error: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let (got_code, got) = run(&std::fs::read(&elf).unwrap());
    if got_code != Ok(code) || got != want {
        return fail(format!(
            "sim exit {got_code:?}, interpreter exit {code}\n--- sim output:\n{got}\n--- \
             interpreter output:\n{want}"
        ));
    }
    None
}

#[test]
fn random_programs_on_sim_match_the_interpreter() {
    let start = env_u64("RVFLASH_GEN_START", 0);
    let count = env_u64("RVFLASH_GEN_SEEDS", 2000);
    let t0 = Instant::now();
    let lld = rust_lld();
    let base = Path::new(TMP).join(format!("differential-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();

    // The runtime, built once: start stub, device primitives and the libc.
    let runtime = build_runtime(&base, &device());

    let next = AtomicU64::new(start);
    let failures = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for t in 0..threads {
            let (next, failures, lld, runtime) = (&next, &failures, &lld, &runtime);
            let dir = base.join(format!("t{t}"));
            std::fs::create_dir_all(&dir).unwrap();
            s.spawn(move || {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= start + count {
                        break;
                    }
                    if let Some(f) = check_seed(seed, &dir, lld, runtime) {
                        failures.lock().unwrap().push((seed, f));
                    }
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(&base);
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    eprintln!(
        "{count} random programs (seeds {start}..{}) in {:.1?} on {threads} threads, {} \
         failed",
        start + count,
        t0.elapsed(),
        failures.len()
    );
    let seeds: Vec<u64> = failures.iter().map(|f| f.0).collect();
    assert!(
        failures.is_empty(),
        "{} of {count} programs differ (seeds {seeds:?}); the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .map(|f| f.1.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

#[test]
fn a_wrong_result_is_detected() {
    // The harness must be able to fail: with a console that prints every byte twice, the
    // first program differs from the interpreter and is reported.
    let lld = rust_lld();
    let dir = Path::new(TMP).join(format!("differential-neg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doubled = device().replace(
        "storeb %c, 268435456\n",
        "storeb %c, 268435456\n  storeb %c, 268435456\n",
    );
    assert_ne!(doubled, device());
    let runtime = build_runtime(&dir, &doubled);
    let failure = check_seed(0, &dir, &lld, &runtime);
    let _ = std::fs::remove_dir_all(&dir);
    let failure = failure.expect("a doubled console went unnoticed");
    assert!(failure.contains("seed 0"), "{failure}");
}
