//! Benchmark: the GDB target over `sim-openocd` (rvflash serve → remote_bitbang → OpenOCD →
//! GDB remote protocol → rvflash), as a user of `rvflash run --board sim-openocd` sees it:
//!
//! - **load speed**: programs with 64 KiB and 512 KiB of code and data, loaded with `X`
//!   packets and verified with `qCRC`; the figures are rvflash's own (`--stats`: bytes, load
//!   and verify time). For comparison, the same loads into QEMU's gdbstub on this machine
//!   (a `gdb-server` board), which shows what the protocol itself costs;
//! - **start-to-exit wall time** of `tests/firmware`'s `hello` (release build: a few
//!   semihosting calls) on `sim-openocd`, with `sim` and `qemu-virt` for comparison: the
//!   whole process, from `rvflash run` to its exit (starting serve and OpenOCD, connecting,
//!   resetting, loading, verifying, running, cleaning up).
//!
//! `cargo bench --bench gdb_target`. A plain `main` (no harness): whole processes, best and
//! median of [`RUNS`]. Boards whose tool is missing are skipped with a note.

#[path = "../tests/run_support/mod.rs"]
mod run_support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use run_support::*;

/// Runs per measurement.
const RUNS: usize = 5;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this without it: do nothing.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let openocd = have("openocd");
    let qemu = have("qemu-system-riscv64");
    let dir = tempfile::tempdir().expect("temporary directory");

    println!("load speed (rvflash --stats: X packets, then qCRC verify):");
    for size in [64 << 10, 512 << 10] {
        let elf = dir.path().join(format!("load-{}k.elf", size >> 10));
        std::fs::write(&elf, program_of_size(size)).unwrap();
        if openocd {
            let loads: Vec<Load> = (0..3)
                .map(|_| load(&elf, &["--board", "sim-openocd"]))
                .collect();
            report_load("sim-openocd", size, &loads);
        } else {
            println!("  sim-openocd: skipped (openocd not found; apt install openocd)");
        }
        if qemu {
            let loads: Vec<Load> = (0..3)
                .map(|_| {
                    let server = QemuServer::start();
                    let board = gdb_board(dir.path(), &server.addr);
                    load(&elf, &["--board-file", board.to_str().unwrap()])
                })
                .collect();
            report_load("QEMU gdbstub", size, &loads);
        }
    }

    println!("hello firmware (release), rvflash run start to exit, {RUNS} runs:");
    let hello = release_firmware("hello");
    let mut boards = vec!["sim"];
    if qemu {
        boards.push("qemu-virt");
    }
    if openocd {
        boards.push("sim-openocd");
    }
    for board in boards {
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let out = Command::new(env!("CARGO_BIN_EXE_rvflash"))
                    .args(["run", "--board", board])
                    .arg(&hello)
                    .output()
                    .expect("run rvflash");
                assert!(
                    out.status.success(),
                    "hello on {board} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                started.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "  {board:<12} best {:.3} s, median {:.3} s",
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

fn load(elf: &Path, board: &[&str]) -> Load {
    let out = Command::new(env!("CARGO_BIN_EXE_rvflash"))
        .arg("run")
        .args(board)
        .args(["--stats", "--timeout", "120"])
        .arg(elf)
        .output()
        .expect("run rvflash");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    // `rvflash: stats: load N bytes in T s (...)`, `rvflash: stats: verify qCRC in T s`.
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
        verify: field("rvflash: stats: verify ", 2),
    }
}

fn report_load(what: &str, size: usize, loads: &[Load]) {
    let best = loads
        .iter()
        .min_by(|a, b| a.load.total_cmp(&b.load))
        .unwrap();
    assert!(best.bytes >= size as u64);
    println!(
        "  {what:<12} {:>4} KiB: load {:.3} s = {:>7.1} KiB/s, verify {:.3} s (best of {})",
        size >> 10,
        best.load,
        best.bytes as f64 / 1024.0 / best.load,
        best.verify,
        loads.len()
    );
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
