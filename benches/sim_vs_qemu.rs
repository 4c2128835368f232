//! Benchmark: the built-in simulator (`--board sim`) against QEMU (`--board qemu-virt`) on a
//! CPU-bound firmware (`tests/firmware/src/bin/bench.rs`: sieve, CRC-32, matrix multiply).
//!
//! `cargo bench --bench sim_vs_qemu` builds the firmware in release mode (with its own target
//! directory under Cargo's `CARGO_TARGET_TMPDIR`), runs it [`RUNS`] times on each board
//! through the real `rvflash run`, checks both print the same checksum and exit with 0, and
//! prints the best wall time of each, the simulated instruction count (`--stats`), the
//! simulator's speed in MIPS and the ratio sim / QEMU. QEMU's time includes its start-up and
//! the GDB connection, as a user of `rvflash run --board qemu-virt` sees it.
//!
//! A plain `main` (no harness): this measures whole processes, which needs no statistics
//! crate. Without QEMU, only the simulator's figures are printed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs per board; the best (shortest) is reported.
const RUNS: usize = 3;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing we need: in
    // test mode, do nothing (the bench takes seconds and needs a release firmware build).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let elf = build_firmware();
    let sim = measure(&elf, "sim");
    println!(
        "sim:       best {:.3} s wall, {} instructions, {:.1} MIPS (wall time as rvflash measures it: {:.3} s)",
        sim.wall.as_secs_f64(),
        sim.instructions.unwrap_or(0),
        sim.instructions.unwrap_or(0) as f64
            / sim.inner_wall.unwrap_or(sim.wall).as_secs_f64()
            / 1e6,
        sim.inner_wall.unwrap_or(sim.wall).as_secs_f64(),
    );
    if !qemu_available() {
        println!(
            "qemu-virt: skipped (qemu-system-riscv64 not found; Debian/Ubuntu: apt install qemu-system-misc)"
        );
        return;
    }
    let qemu = measure(&elf, "qemu-virt");
    assert_eq!(
        sim.checksum, qemu.checksum,
        "sim and QEMU print different checksums"
    );
    let direct = measure_qemu_direct(&elf);
    assert_eq!(
        sim.checksum, direct.checksum,
        "sim and plain QEMU print different checksums"
    );
    println!("qemu-virt: best {:.3} s wall", qemu.wall.as_secs_f64());
    println!(
        "qemu:      best {:.3} s wall (qemu-system-riscv64 run directly, no GDB)",
        direct.wall.as_secs_f64()
    );
    println!(
        "ratio:     sim / qemu-virt wall time = {:.2}, sim / direct QEMU = {:.2}  \
         (checksum {} everywhere)",
        sim.wall.as_secs_f64() / qemu.wall.as_secs_f64(),
        sim.wall.as_secs_f64() / direct.wall.as_secs_f64(),
        sim.checksum
    );
}

/// Builds `tests/firmware`'s `bench` binary in release mode and returns the ELF's path.
fn build_firmware() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-firmware");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root.join("tests/firmware"))
        .args(["build", "--release", "--bin", "bench"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .expect("run cargo");
    assert!(status.success(), "building the bench firmware failed");
    target_dir.join("riscv64gc-unknown-none-elf/release/bench")
}

/// One board's best run.
struct Measured {
    wall: Duration,
    /// rvflash's own `wall time` stat (sim only).
    inner_wall: Option<Duration>,
    instructions: Option<u64>,
    checksum: String,
}

/// `rvflash run --board BOARD --stats ELF`.
fn measure(elf: &Path, board: &str) -> Measured {
    best_of(board, || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rvflash"));
        cmd.args(["run", "--board", board, "--stats"])
            .arg(elf)
            .env_remove("RVFLASH_TIMEOUT")
            .env_remove("CI");
        cmd
    })
}

/// QEMU alone, as the design's `qemu` row runs it (semihosting console and exit). `-m 256M`:
/// the firmware's stack reaches the end of the 128 MiB board RAM, where QEMU would put its
/// device tree.
fn measure_qemu_direct(elf: &Path) -> Measured {
    best_of("qemu (direct)", || {
        let mut cmd = Command::new("qemu-system-riscv64");
        cmd.args([
            "-machine",
            "virt",
            "-bios",
            "none",
            "-nographic",
            "-m",
            "256M",
        ])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .stdin(std::process::Stdio::null());
        cmd
    })
}

/// Runs the command [`RUNS`] times; the shortest run.
fn best_of(board: &str, command: impl Fn() -> Command) -> Measured {
    let mut best: Option<Measured> = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = command().output().expect("run the benchmark");
        let wall = started.elapsed();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{board} failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        let checksum = stdout
            .lines()
            .find_map(|l| l.strip_prefix("checksum: "))
            .unwrap_or_else(|| panic!("no checksum on {board}:\n{stdout}"))
            .trim()
            .to_string();
        let stat = |name: &str| {
            stderr
                .lines()
                .find_map(|l| l.strip_prefix(&format!("rvflash: stats: {name} ")))
                .map(|v| v.trim().trim_end_matches(" s").to_string())
        };
        let run = Measured {
            wall,
            inner_wall: stat("wall time")
                .and_then(|v| v.parse::<f64>().ok())
                .map(Duration::from_secs_f64),
            instructions: stat("instructions").and_then(|v| v.parse().ok()),
            checksum,
        };
        if best.as_ref().is_none_or(|b| run.wall < b.wall) {
            best = Some(run);
        }
    }
    best.expect("at least one run")
}

fn qemu_available() -> bool {
    Command::new("qemu-system-riscv64")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
