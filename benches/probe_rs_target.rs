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

#[path = "../tests/run_support/mod.rs"]
mod run_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use run_support::*;

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
    let hello = release_firmware("hello");
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
