//! Benchmark: the probe-rs target over `sim-probe-rs` (rvflash → the probe-rs crate → its
//! network Black Magic Probe driver → `rvflash serve --bmp` → the simulator's Debug Module),
//! as a user of `rvflash run --board sim-probe-rs` sees it:
//!
//! - **load speed**: programs of 8 KiB and 32 KiB written into RAM (System Bus Access) and
//!   read back; the figures are rvflash's own (`--stats`: bytes, download time, verify time),
//!   reported as download, verify and download + verify in KiB/s;
//! - **start-to-exit wall time** of `tests/firmware`'s `hello` (release build, 4 semihosting
//!   calls) on `sim-probe-rs`, with and without verification, and on `sim` for comparison: the
//!   whole process, from `rvflash run` to its exit (starting serve, attaching, resetting,
//!   loading, verifying, running, detaching).
//!
//! `cargo bench --bench probe_rs_target`. A plain `main` (no harness): whole processes, best
//! and median.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs per start-to-exit measurement.
const RUNS: usize = 5;
/// Runs per load measurement.
const LOAD_RUNS: usize = 2;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this without it: do nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    println!("load speed over sim-probe-rs (rvflash --stats), best of {LOAD_RUNS}:");
    for size in [8 << 10, 32 << 10] {
        let elf = dir.path().join(format!("load-{}k.elf", size >> 10));
        std::fs::write(&elf, program_of_size(size)).unwrap();
        let best = (0..LOAD_RUNS)
            .map(|_| load(&elf))
            .min_by(|a, b| (a.load + a.verify).total_cmp(&(b.load + b.verify)))
            .unwrap();
        let kib = best.bytes as f64 / 1024.0;
        println!(
            "  {:>3} KiB: download {:.2} s = {:.1} KiB/s, verify {:.2} s = {:.1} KiB/s, \
             download + verify = {:.1} KiB/s",
            size >> 10,
            best.load,
            kib / best.load,
            best.verify,
            kib / best.verify,
            kib / (best.load + best.verify)
        );
    }

    println!("hello firmware (release), rvflash run start to exit, {RUNS} runs:");
    let hello = build_hello();
    for (what, args) in [
        ("sim", &["--board", "sim"][..]),
        ("sim-probe-rs", &["--board", "sim-probe-rs"][..]),
        (
            "sim-probe-rs --no-verify",
            &["--board", "sim-probe-rs", "--no-verify"][..],
        ),
    ] {
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let out = Command::new(env!("CARGO_BIN_EXE_rvflash"))
                    .arg("run")
                    .args(args)
                    .arg(&hello)
                    .output()
                    .expect("run rvflash");
                assert!(
                    out.status.success(),
                    "hello on {what} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                started.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "  {what:<26} best {:.3} s, median {:.3} s",
            times[0].as_secs_f64(),
            times[RUNS / 2].as_secs_f64()
        );
    }
}

/// What `--stats` said about a load.
struct Load {
    bytes: u64,
    load: f64,
    verify: f64,
}

fn load(elf: &Path) -> Load {
    let out = Command::new(env!("CARGO_BIN_EXE_rvflash"))
        .args([
            "run",
            "--board",
            "sim-probe-rs",
            "--stats",
            "--timeout",
            "600",
        ])
        .arg(elf)
        .output()
        .expect("run rvflash");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // `rvflash: stats: load N bytes in T s (...)`, `rvflash: stats: verify N bytes in T s (...)`.
    let field = |prefix: &str, index: usize| -> f64 {
        let line = err
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` in:\n{err}"));
        line.split_whitespace()
            .nth(index)
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("cannot read `{line}`"))
    };
    Load {
        bytes: field("rvflash: stats: load ", 0) as u64,
        load: field("rvflash: stats: load ", 3),
        verify: field("rvflash: stats: verify ", 3),
    }
}

/// An RV64 executable at 0x8000_0000 of `size` bytes: a semihosting exit with status 0, then
/// filler (varied bytes).
fn program_of_size(size: usize) -> Vec<u8> {
    let words: [u32; 8] = [
        0x0180_0513, // addi a0, zero, 0x18 (SYS_EXIT)
        0x0000_0597, // auipc a1, 0
        0x01c5_8593, // addi a1, a1, 28 (-> block)
        0x01f0_1013, // slli zero, zero, 0x1f
        0x0010_0073, // ebreak
        0x4070_5013, // srai zero, zero, 7
        0x0000_006f, // j .
        0,
    ];
    let mut code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    code.extend_from_slice(&0x20026u64.to_le_bytes());
    code.extend_from_slice(&0u64.to_le_bytes());
    let mut x = 0x1234_5678u32;
    while code.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        code.push(x as u8);
    }
    elf(0x8000_0000, &code)
}

/// An ELF64 RISC-V executable with one PT_LOAD segment holding `code` at `addr`.
fn elf(addr: u64, code: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes()); // entry
    f.extend_from_slice(&64u64.to_le_bytes()); // phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // shoff
    f.extend_from_slice(&0u32.to_le_bytes()); // flags
    for v in [64u16, 56, 1, 64, 0, 0] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    let offset = 0x78u64;
    f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f.extend_from_slice(&7u32.to_le_bytes()); // RWX
    f.extend_from_slice(&offset.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes());
    f.extend_from_slice(&(code.len() as u64).to_le_bytes());
    f.extend_from_slice(&(code.len() as u64).to_le_bytes());
    f.extend_from_slice(&4u64.to_le_bytes());
    f.extend_from_slice(code);
    f
}

/// Builds `tests/firmware`'s `hello` in release mode; returns the ELF's path.
fn build_hello() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-firmware");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root.join("tests/firmware"))
        .args(["build", "--release", "--bin", "hello"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("run cargo");
    assert!(status.success(), "building tests/firmware's hello failed");
    target_dir.join("riscv64gc-unknown-none-elf/release/hello")
}
