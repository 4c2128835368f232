//! `run = "gdb"` boards end to end through the real `rvflash` binary:
//!
//! - a GDB server that is already running (`gdb-server = "HOST:PORT"`): QEMU's gdbstub,
//!   started here *without* QEMU's semihosting, so that rvflash loads the program over the
//!   protocol (`X` packets, verified), services semihosting itself and catches traps through
//!   breakpoints: the test firmware and the IL examples give the same stdout and status as
//!   on `sim`;
//! - servers that misbehave (refuse, accept and close, answer garbage, never answer): status
//!   125 with a message saying what went wrong, within `--timeout`, and within the reply
//!   timeout without one;
//! - OpenOCD started by rvflash (`sim-openocd`): neither OpenOCD nor `rvflash serve` outlives
//!   rvflash, whether the program exits, times out, or rvflash gets SIGINT, SIGTERM or
//!   SIGKILL; OpenOCD's log is shown when it fails and with `--verbose`; a missing OpenOCD is
//!   125 naming the Debian package; a SiFive-test-finisher exit is the program's status, at
//!   once; the OpenOCD configs shipped in boards/ are ones OpenOCD accepts.
//!
//! QEMU and OpenOCD tests are skipped (with a note) when the tool is not installed.

mod run_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use run_support::*;

/// `rvflash run` of `file` on a fresh QEMU gdbstub, as a `gdb-server` board.
fn run_on_qemu_server(file: &Path, args: &[&str]) -> Output {
    let qemu = QemuServer::start();
    let dir = tempfile::tempdir().unwrap();
    let board = gdb_board(dir.path(), &qemu.addr);
    rvflash_cmd()
        .arg("run")
        .arg("--board-file")
        .arg(&board)
        .args(["--timeout", "20"])
        .arg(file)
        .args(args)
        .output()
        .unwrap()
}

fn run_on(board: &str, file: &Path, args: &[&str]) -> Output {
    rvflash_cmd()
        .args(["run", "--board", board, "--timeout", "20"])
        .arg(file)
        .args(args)
        .output()
        .unwrap()
}

/// Firmware and IL examples give the same stdout and status on a running GDB server (QEMU's
/// gdbstub) as on `sim`: loading, semihosting, panics, traps and interrupts through the
/// protocol alone.
#[test]
fn a_running_gdb_server_agrees_with_sim() {
    if !qemu_available() {
        return;
    }
    let elves = firmware_elves();
    let mut programs: Vec<(PathBuf, Vec<&str>)> = [
        "hello",
        "exit42",
        "panic",
        "panic_halt",
        "panic_wfi",
        "illegal",
        "float_atomic",
        "timer",
    ]
    .iter()
    .map(|b| (elves.join(b), Vec::new()))
    .collect();
    programs.push((elves.join("args"), vec!["one", "two,three"]));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for example in [
        "hello", "fib", "floats", "panic", "sieve", "trap", "varargs",
    ] {
        programs.push((examples.join(format!("{example}.ssa")), Vec::new()));
    }
    for (file, args) in &programs {
        let sim = run_on("sim", file, args);
        let remote = run_on_qemu_server(file, args);
        let name = file.file_name().unwrap().to_string_lossy();
        assert_eq!(
            (status(&remote), stdout(&remote)),
            (status(&sim), stdout(&sim)),
            "{name}: status and stdout on the GDB server differ from sim; its stderr:\n{}",
            stderr(&remote)
        );
    }
}

/// How a test server misbehaves.
#[derive(Clone, Copy, Debug)]
enum Misbehaviour {
    /// Accepts the connection and closes it at once.
    Close,
    /// Answers every request with bytes that are not the protocol.
    Garbage,
    /// Reads requests and never answers.
    Silent,
}

/// A server that misbehaves for `for_how_long`, then stops by itself.
fn misbehaving_server(how: Misbehaviour, for_how_long: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + for_how_long;
        let mut open = Vec::new();
        while Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).ok();
                    stream
                        .set_read_timeout(Some(Duration::from_millis(100)))
                        .ok();
                    match how {
                        Misbehaviour::Close => drop(stream),
                        Misbehaviour::Garbage | Misbehaviour::Silent => open.push(stream),
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
            for stream in &mut open {
                let mut buf = [0u8; 256];
                if let Ok(n) = stream.read(&mut buf)
                    && n > 0
                    && matches!(how, Misbehaviour::Garbage)
                {
                    stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").ok();
                }
            }
        }
    });
    addr
}

fn run_against(addr: &str, timeout: Option<&str>) -> (Output, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let board = gdb_board(dir.path(), addr);
    let elf = dir.path().join("exit.elf");
    std::fs::write(&elf, exit_elf(0x8000_0000, 3)).unwrap();
    let started = Instant::now();
    let mut cmd = rvflash_cmd();
    cmd.arg("run").arg("--board-file").arg(&board);
    if let Some(t) = timeout {
        cmd.args(["--timeout", t]);
    }
    let out = cmd.arg(&elf).output().unwrap();
    (out, started.elapsed())
}

#[test]
fn misbehaving_servers_end_with_125_and_a_clear_message_in_time() {
    for (how, wanted) in [
        (Misbehaviour::Close, "closed the connection"),
        (
            Misbehaviour::Garbage,
            "does not speak the GDB remote protocol: it sent `SSH-2.0-OpenSSH_9.2",
        ),
        (Misbehaviour::Silent, "did not answer `qSupported"),
    ] {
        let addr = misbehaving_server(how, Duration::from_secs(30));
        let (out, took) = run_against(&addr, Some("2"));
        let err = stderr(&out);
        assert_eq!(status(&out), 125, "{how:?}: {err}");
        assert!(
            err.contains(wanted),
            "{how:?}: wanted {wanted:?} in:\n{err}"
        );
        assert!(err.contains(&addr), "{how:?}: the server is named: {err}");
        assert!(
            took < Duration::from_millis(3500),
            "{how:?}: took {took:?} with --timeout 2"
        );
    }
    // Without --timeout, silence still ends: the reply timeout (10 s).
    let addr = misbehaving_server(Misbehaviour::Silent, Duration::from_secs(30));
    let (out, took) = run_against(&addr, None);
    assert_eq!(status(&out), 125, "{}", stderr(&out));
    assert!(stderr(&out).contains("did not answer"), "{}", stderr(&out));
    assert!(
        took < Duration::from_secs(15),
        "took {took:?} without --timeout"
    );
    // Nobody listening.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (out, took) = run_against(&port.to_string(), Some("1"));
    assert_eq!(status(&out), 125, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot connect to the GDB server at"),
        "{}",
        stderr(&out)
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

/// The processes whose parent is `pid` (Linux `/proc`), with their command lines.
fn children_of(pid: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in dir.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`: comm may hold spaces, so split after its `)`.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            found.push((child, String::from_utf8_lossy(&cmdline).replace('\0', " ")));
        }
    }
    found
}

/// True when `pid` is gone (or a zombie nobody reaped yet: it runs no more).
fn is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn all_gone(pids: &[u32]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if pids.iter().all(|&p| is_gone(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Starts `rvflash run --board sim-openocd` of a program that spins; returns it and its
/// helpers (OpenOCD and `rvflash serve`) once both run and the program does.
#[allow(clippy::zombie_processes)] // the caller waits for the child it gets back
fn spinning_on_sim_openocd(dir: &Path, extra: &[&str]) -> (Child, Vec<u32>) {
    let elf = dir.join("spin.elf");
    // `j .` at the start of RAM.
    std::fs::write(&elf, elf_bytes_spin()).unwrap();
    let mut child = rvflash_cmd()
        .args(["run", "--board", "sim-openocd"])
        .args(extra)
        .arg(&elf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let helpers = children_of(child.id());
        let openocd = helpers.iter().any(|(_, c)| c.contains("openocd"));
        let serve = helpers.iter().any(|(_, c)| c.contains(" serve "));
        if openocd && serve {
            // Let it connect, load and run.
            std::thread::sleep(Duration::from_millis(1500));
            let pids = children_of(child.id())
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            return (child, pids);
        }
        if Instant::now() >= deadline {
            child.kill().ok();
            child.wait().ok();
            panic!("OpenOCD and serve did not start: {helpers:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn elf_bytes_spin() -> Vec<u8> {
    elf(0x8000_0000, 243, &0x0000_006fu32.to_le_bytes())
}

/// A program that exits with 42 through the SiFive test finisher at 0x10_0000.
fn finisher_elf() -> Vec<u8> {
    let words: [u32; 5] = [
        0x0010_02b7, // lui t0, 0x100
        0x002a_3337, // lui t1, 0x2a3
        0x3333_0313, // addi t1, t1, 0x333   (42 << 16 | 0x3333: fail with 42)
        0x0062_a023, // sw t1, 0(t0)
        0x0000_006f, // j .
    ];
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    elf(0x8000_0000, 243, &code)
}

/// A finisher exit on `sim-openocd` ends the run with the program's status at once (serve
/// announces it), like on `sim`.
#[test]
fn a_finisher_exit_behind_openocd_is_the_programs_status() {
    if !openocd_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("finisher.elf");
    std::fs::write(&elf, finisher_elf()).unwrap();
    for board in ["sim", "sim-openocd"] {
        let started = Instant::now();
        let out = run_on(board, &elf, &[]);
        assert_eq!(status(&out), 42, "{board}: {}", stderr(&out));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{board}: took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn openocd_and_serve_never_outlive_rvflash() {
    if !openocd_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A program that exits: nothing is left behind.
    let elf = dir.path().join("exit.elf");
    std::fs::write(&elf, exit_elf(0x8000_0000, 7)).unwrap();
    let child = rvflash_cmd()
        .args(["run", "--board", "sim-openocd"])
        .arg(&elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut seen = Vec::new();
    let out = {
        // Collect the helpers while it runs.
        let watcher = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let until = Instant::now() + Duration::from_secs(20);
            while Instant::now() < until {
                for (p, _) in children_of(pid) {
                    if !seen.contains(&p) {
                        seen.push(p);
                    }
                }
                if is_gone(pid) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            seen
        });
        let out = child.wait_with_output().unwrap();
        seen.extend(watcher.join().unwrap());
        out
    };
    assert_eq!(status(&out), 7, "{}", stderr(&out));
    assert!(seen.len() >= 2, "OpenOCD and serve were not seen: {seen:?}");
    assert!(all_gone(&seen), "left behind after an exit: {seen:?}");

    // A timeout.
    let (child, helpers) = spinning_on_sim_openocd(dir.path(), &["--timeout", "4"]);
    let out = child.wait_with_output().unwrap();
    assert_eq!(status(&out), 124);
    assert!(
        all_gone(&helpers),
        "left behind after a timeout: {helpers:?}"
    );

    // Signals, SIGKILL included.
    for sig in ["INT", "TERM", "KILL"] {
        let (mut child, helpers) = spinning_on_sim_openocd(dir.path(), &[]);
        assert!(helpers.len() >= 2, "{helpers:?}");
        Command::new("kill")
            .args([format!("-{sig}"), child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap();
        assert!(
            all_gone(&helpers),
            "left behind after SIG{sig}: {helpers:?}"
        );
    }
}

#[test]
fn openocd_failures_show_its_log_and_missing_openocd_names_the_package() {
    if !openocd_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("exit.elf");
    std::fs::write(&elf, exit_elf(0x8000_0000, 0)).unwrap();
    // A config OpenOCD cannot find: it exits, and its own words say why.
    let board = dir.path().join("bad.toml");
    std::fs::write(
        &board,
        "name = \"bad-openocd\"\ndescription = \"x\"\nisa = \"rv64imac\"\n\
         linker-script = \"sim.x\"\nrun = \"gdb\"\nconsole = \"semihosting\"\n\
         exit = \"semihosting\"\nopenocd = { config = [\"no-such-file.cfg\"] }\n\n\
         [[memory]]\nname = \"RAM\"\norigin = 0x8000_0000\nlength = 0x1000_0000\n",
    )
    .unwrap();
    let out = rvflash_cmd()
        .arg("run")
        .arg("--board-file")
        .arg(&board)
        .args(["--timeout", "30"])
        .arg(&elf)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(err.contains("OpenOCD exited"), "{err}");
    assert!(err.contains("openocd.log"), "{err}");
    assert!(
        err.contains("no-such-file.cfg"),
        "OpenOCD's own message: {err}"
    );

    // --verbose shows OpenOCD's log as it comes, and the load figures.
    let out = rvflash_cmd()
        .args(["run", "--board", "sim-openocd", "--verbose"])
        .arg(&elf)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 0, "{err}");
    assert!(err.contains("openocd: Info : Listening on port"), "{err}");
    assert!(err.contains("rvflash: loaded "), "{err}");

    // No OpenOCD at all.
    let out = rvflash_cmd()
        .env("RVFLASH_OPENOCD", dir.path().join("no-such-openocd"))
        .args(["run", "--board", "sim-openocd"])
        .arg(&elf)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(err.contains("apt install openocd"), "{err}");
}

/// The OpenOCD configs shipped in boards/ are ones OpenOCD accepts (every command up to
/// `init`; no hardware needed): the real board's with OpenOCD's dummy adapter in place of the
/// FTDI one, the simulated board's as it is.
#[test]
fn shipped_openocd_configs_are_valid() {
    if !openocd_available() {
        return;
    }
    let boards = Path::new(env!("CARGO_MANIFEST_DIR")).join("boards");
    for (before, config) in [
        (Some("adapter driver dummy"), "visionfive2.cfg"),
        (None, "sim-openocd.cfg"),
    ] {
        let mut cmd = Command::new("openocd");
        if let Some(c) = before {
            cmd.args(["-c", c]);
        }
        let out = cmd
            .arg("-f")
            .arg(boards.join(config))
            .args(["-c", "echo CONFIG-OK; shutdown"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(
            out.status.success() && err.contains("CONFIG-OK"),
            "{config}: {err}"
        );
    }
}
