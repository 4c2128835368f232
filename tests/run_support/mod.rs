//! Helpers shared by the `rvflash run` integration tests and the board benchmarks: the
//! rvflash binary, the test firmware (built once per test binary with Cargo), QEMU detection,
//! tiny hand-made RV64 ELF files, and QEMU's gdbstub as a GDB server.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

/// The rvflash binary under test.
pub fn rvflash() -> &'static str {
    env!("CARGO_BIN_EXE_rvflash")
}

/// The firmware crate.
pub fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/firmware")
}

/// Where the firmware is built (separate from the workspace's target directory).
pub fn firmware_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("firmware")
}

/// Builds every firmware binary once; returns the directory holding the ELF files.
pub fn firmware_elves() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = firmware_cargo()
            .args(["build", "--bins"])
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "building tests/firmware failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        firmware_target_dir().join("riscv64gc-unknown-none-elf/debug")
    })
}

/// A `cargo` command inside tests/firmware with its own target directory.
pub fn firmware_cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(firmware_dir())
        .env("CARGO_TARGET_DIR", firmware_target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RVFLASH_TIMEOUT")
        .env_remove("CI")
        .env("XDG_RUNTIME_DIR", private_lock_dir());
    cmd
}

/// A directory of its own for the board locks of one command (rvflash puts them in
/// `$XDG_RUNTIME_DIR/rvflash/`): tests that run at once must not queue on the virtual boards'
/// locks, which every run of `sim-openocd` and `sim-probe-rs` takes. tests/board_lock.rs tests
/// the lock itself.
pub fn private_lock_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("locks")
        .join(format!("{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a lock directory");
    dir
}

/// `cargo run --bin NAME` in tests/firmware with `rvflash run RUNNER_ARGS` as the runner.
pub fn cargo_run(bin: &str, runner_args: &str) -> Output {
    cargo_run_with_args(bin, runner_args, &[])
}

/// `cargo run --bin NAME -- PROGRAM_ARGS` with `rvflash run RUNNER_ARGS` as the runner.
pub fn cargo_run_with_args(bin: &str, runner_args: &str, program_args: &[&str]) -> Output {
    firmware_elves();
    firmware_cargo()
        .args(["run", "-q", "--bin", bin, "--"])
        .args(program_args)
        .env(
            "CARGO_TARGET_RISCV64GC_UNKNOWN_NONE_ELF_RUNNER",
            format!("{} run {runner_args}", rvflash()),
        )
        .output()
        .expect("run cargo")
}

/// `rvflash ARGS` with a clean environment for timeouts, and board locks of its own.
pub fn rvflash_cmd() -> Command {
    let mut cmd = Command::new(rvflash());
    cmd.env_remove("RVFLASH_TIMEOUT")
        .env_remove("CI")
        .env("XDG_RUNTIME_DIR", private_lock_dir());
    cmd
}

/// True when qemu-system-riscv64 can be run; tests that need it are skipped otherwise.
pub fn qemu_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let found = Command::new("qemu-system-riscv64")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            eprintln!("note: qemu-system-riscv64 not found; skipping QEMU tests");
        }
        found
    })
}

/// True when OpenOCD can be run (for the `sim-openocd` board); tests that need it are skipped
/// otherwise.
pub fn openocd_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let found = Command::new("openocd")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            eprintln!("note: openocd not found; skipping sim-openocd tests (apt install openocd)");
        }
        found
    })
}

/// The boards every firmware test runs on: `sim`; `qemu-virt` and `sim-openocd` when QEMU and
/// OpenOCD are installed; `sim-probe-rs` (the simulator behind the real probe-rs crate, which
/// needs nothing installed) in builds with the `probe-rs` feature, as CI's. The first one is the reference the others must agree with.
pub fn boards() -> Vec<&'static str> {
    let mut boards = vec!["sim"];
    if qemu_available() {
        boards.push("qemu-virt");
    }
    if openocd_available() {
        boards.push("sim-openocd");
    }
    if cfg!(feature = "probe-rs") {
        boards.push("sim-probe-rs");
    }
    boards
}

/// The exit status, or -1 when killed by a signal.
pub fn status(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A minimal RV64 executable at `addr`: semihosting SYS_EXIT with status `code`.
pub fn exit_elf(addr: u64, code: u8) -> Vec<u8> {
    elf(addr, 243, &exit_code(code))
}

/// An RV64 executable at 0x8000_0000 of `size` bytes: a semihosting exit with status 0, then
/// filler (varied bytes), for load-speed benchmarks.
pub fn program_of_size(size: usize) -> Vec<u8> {
    let mut code = exit_code(0);
    let mut x = 0x1234_5678u32;
    while code.len() < size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        code.push(x as u8);
    }
    elf(0x8000_0000, 243, &code)
}

/// Position-independent code that exits through semihosting SYS_EXIT with status `code`.
fn exit_code(code: u8) -> Vec<u8> {
    let words: [u32; 8] = [
        0x0180_0513, // addi a0, zero, 0x18 (SYS_EXIT)
        0x0000_0597, // auipc a1, 0
        0x01c5_8593, // addi a1, a1, 28 (-> block)
        0x01f0_1013, // slli zero, zero, 0x1f
        0x0010_0073, // ebreak
        0x4070_5013, // srai zero, zero, 7
        0x0000_006f, // j .
        0,           // padding
    ];
    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    bytes.extend_from_slice(&0x20026u64.to_le_bytes());
    bytes.extend_from_slice(&u64::from(code).to_le_bytes());
    bytes
}

/// Builds `tests/firmware`'s `bin` in release mode; returns the ELF's path.
pub fn release_firmware(bin: &str) -> PathBuf {
    let status = firmware_cargo()
        .args(["build", "--release", "--bin", bin])
        .status()
        .expect("run cargo");
    assert!(status.success(), "building tests/firmware's {bin} failed");
    firmware_target_dir()
        .join("riscv64gc-unknown-none-elf/release")
        .join(bin)
}

/// Builds `tests/firmware`'s test target `test` (`tests/firmware/tests/TEST.rs`, e.g. `device`,
/// the embedded-test suite) in release mode, like [`release_firmware`]; returns the ELF's path
/// (Cargo names it `deps/TEST-HASH`, so it is read from Cargo's JSON messages).
pub fn release_firmware_test(test: &str) -> PathBuf {
    let out = firmware_cargo()
        .args(["test", "--release", "--no-run", "--test", test])
        .arg("--message-format=json")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building tests/firmware's test {test} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["kind"] == serde_json::json!(["test"])
                && m["target"]["name"] == test
        })
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo named no executable for tests/firmware's test {test}"))
}

/// An ELF64 little-endian executable with one PT_LOAD segment holding `code` at `addr`.
pub fn elf(addr: u64, machine: u16, code: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&machine.to_le_bytes());
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
    f.extend_from_slice(&5u32.to_le_bytes()); // R X
    f.extend_from_slice(&offset.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes());
    f.extend_from_slice(&addr.to_le_bytes());
    f.extend_from_slice(&(code.len() as u64).to_le_bytes());
    f.extend_from_slice(&(code.len() as u64).to_le_bytes());
    f.extend_from_slice(&4u64.to_le_bytes());
    f.extend_from_slice(code);
    f
}

/// Processes whose command line mentions `needle` (Linux `/proc`).
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(needle)
        {
            found.push(pid);
        }
    }
    found
}

/// A board file for a GDB server at `addr`, with `sim`'s memory map, console and exit.
pub fn gdb_board(dir: &Path, addr: &str) -> PathBuf {
    let path = dir.join("remote.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"remote\"\n\
             description = \"a GDB server that is already running\"\n\
             isa = \"rv64imafdc_zicsr_zifencei\"\n\
             linker-script = \"sim.x\"\n\
             run = \"gdb\"\n\
             gdb-server = \"{addr}\"\n\
             console = \"semihosting\"\n\
             exit = \"semihosting\"\n\n\
             [[memory]]\nname = \"RAM\"\norigin = 0x8000_0000\nlength = 0x0800_0000\n"
        ),
    )
    .unwrap();
    path
}

/// QEMU's virt machine waiting for a debugger on a free port, killed on drop.
pub struct QemuServer {
    child: Child,
    /// `127.0.0.1:PORT` of its GDB server.
    pub addr: String,
}

impl QemuServer {
    pub fn start() -> QemuServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // No -semihosting-config: a semihosting ebreak is an ordinary exception to QEMU.
        let child = Command::new("qemu-system-riscv64")
            .args([
                "-machine",
                "virt",
                "-bios",
                "none",
                "-nographic",
                "-m",
                "256M",
                "-S",
            ])
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

/// A board file for a GDB server at `addr` like [`gdb_board`]'s, with more top-level `keys`
/// (hooks: `power-cycle = [...]`, `reset = [...]`, `hook-timeout = N`).
pub fn gdb_board_with(dir: &Path, addr: &str, keys: &str) -> PathBuf {
    let path = gdb_board(dir, addr);
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen("[[memory]]", &format!("{keys}\n[[memory]]"), 1);
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes an executable shell script `name` in `dir` with `body` after `#!/bin/sh`.
pub fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A TCP proxy on a free loopback port in front of `upstream` (`HOST:PORT`): the first
/// `refuse` connections are accepted and closed at once (a board that does not answer), the
/// others are forwarded both ways. It serves until the test process ends.
pub struct RefusingProxy {
    /// `127.0.0.1:PORT` it listens on.
    pub addr: String,
    pub port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl RefusingProxy {
    pub fn start(upstream: &str, refuse: usize) -> RefusingProxy {
        use std::net::{Shutdown, TcpStream};
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = std::sync::Arc::clone(&accepted);
        let upstream = upstream.to_owned();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if count.fetch_add(1, Ordering::SeqCst) < refuse {
                    client.shutdown(Shutdown::Both).ok();
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                client.set_nodelay(true).ok();
                server.set_nodelay(true).ok();
                for (from, to) in [(&client, &server), (&server, &client)] {
                    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    std::thread::spawn(move || {
                        std::io::copy(&mut from, &mut to).ok();
                        to.shutdown(Shutdown::Write).ok();
                        from.shutdown(Shutdown::Read).ok();
                    });
                }
            }
        });
        RefusingProxy {
            addr: format!("127.0.0.1:{port}"),
            port,
            accepted,
        }
    }

    /// How many connections it has accepted (refused ones included).
    pub fn connections(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The lines of `file`, none when it does not exist.
pub fn lines_of(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Processes whose environment holds `VAR=value` (how a test marks what it started), after
/// giving them up to two seconds to go: what a test left running.
pub fn processes_with_env(var: &str, value: &str) -> Vec<u32> {
    let needle = format!("{var}={value}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Ok(env) = std::fs::read(entry.path().join("environ"))
                && env.split(|&b| b == 0).any(|v| v == needle.as_bytes())
            {
                found.push(pid);
            }
        }
        if found.is_empty() || std::time::Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A program that exits with `code` through semihosting, written to `dir/exitCODE.elf`.
pub fn exit_program(dir: &Path, code: u8) -> PathBuf {
    let elf = dir.join(format!("exit{code}.elf"));
    std::fs::write(&elf, exit_elf(0x8000_0000, code)).expect("write the program");
    elf
}

/// `rvflash run --board-file BOARD --timeout 30 OPTIONS ELF`, with the default retries, from
/// the root directory (so that a board's hooks with relative paths can only work from the
/// board file's directory).
pub fn run_board_file(board: &Path, options: &[&str], elf: &Path) -> Output {
    rvflash_cmd()
        .env_remove("RVFLASH_RETRIES")
        .current_dir("/")
        .arg("run")
        .arg("--board-file")
        .arg(board)
        .args(["--timeout", "30"])
        .args(options)
        .arg(elf)
        .output()
        .expect("run rvflash")
}
