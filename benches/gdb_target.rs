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

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    let hello = build_hello();
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

/// An RV64 executable at 0x8000_0000 of `size` bytes: a semihosting exit with status 0, then
/// filler (varied bytes, so nothing compresses or escapes specially).
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

/// QEMU's virt machine waiting for a debugger on a free port, killed on drop.
struct QemuServer {
    child: Child,
    addr: String,
}

impl QemuServer {
    fn start() -> QemuServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("qemu-system-riscv64")
            .args(["-machine", "virt", "-bios", "none", "-nographic", "-S"])
            .arg("-gdb")
            .arg(format!("tcp:127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start qemu-system-riscv64");
        QemuServer {
            child,
            addr: format!("127.0.0.1:{port}"),
        }
    }
}

impl Drop for QemuServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A `gdb-server` board file for `addr` with `sim`'s memory map.
fn gdb_board(dir: &Path, addr: &str) -> PathBuf {
    let path = dir.join("qemu-gdbstub.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"qemu-gdbstub\"\ndescription = \"QEMU's gdbstub\"\n\
             isa = \"rv64imafdc_zicsr_zifencei\"\nlinker-script = \"sim.x\"\nrun = \"gdb\"\n\
             gdb-server = \"{addr}\"\nconsole = \"semihosting\"\nexit = \"semihosting\"\n\n\
             [[memory]]\nname = \"RAM\"\norigin = 0x8000_0000\nlength = 0x0800_0000\n"
        ),
    )
    .unwrap();
    path
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

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
