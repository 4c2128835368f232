//! The probe-rs target's failures and edges, through the real `rvflash` binary and the real
//! probe-rs crate (the firmware itself runs on `sim-probe-rs` in tests/run_firmware.rs):
//!
//! - errors a user meets exit 125 with a message that says what happened, quickly, and leave
//!   no process behind: a selector with no probe behind it, a chip name that does not exist,
//!   a probe whose connection drops in the middle of the download (a proxy in front of
//!   `rvflash serve --bmp` that closes both ends);
//! - Ctrl-C and `--timeout` end a run on `sim-probe-rs` with the simulated board gone;
//! - `rvflash probes`, `rvflash boards`, and IL builds refused for a board without F/D.
//!
//! Leftover processes are found by a marker in the environment that rvflash's children inherit.
#![cfg(feature = "probe-rs")] // the probe-rs crate and target: `--features probe-rs`

mod run_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use run_support::*;

/// A board file for the simulated chip behind a network Black Magic Probe at `probe`
/// (`serve`: rvflash starts the simulated board itself instead), chip `chip`.
fn board_file(dir: &Path, chip: &str, probe: Option<&str>, serve: bool) -> PathBuf {
    let source = match (probe, serve) {
        (Some(p), _) => format!(", probe = \"{p}\""),
        (None, true) => ", serve = \"sim\"".to_owned(),
        (None, false) => String::new(),
    };
    let text = format!(
        "name = \"test-probe\"\ndescription = \"a test board\"\n\
         isa = \"rv64imafdc_zicsr_zifencei\"\nlinker-script = \"sim.x\"\nrun = \"probe-rs\"\n\
         console = \"semihosting\"\nexit = \"semihosting\"\n\
         probe-rs = {{ chip = \"{chip}\", chip-description = \"rvflash-sim.yaml\"{source} }}\n\n\
         [[memory]]\nname = \"RAM\"\norigin = 0x8000_0000\nlength = 0x0800_0000\n"
    );
    let path = dir.join("test-probe.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A marker for the environment of one rvflash run and its children.
fn marker(name: &str) -> String {
    format!("{name}-{}-{:?}", std::process::id(), Instant::now())
}

/// `rvflash ARGS` with the marker in its environment.
fn marked(mark: &str) -> Command {
    let mut cmd = rvflash_cmd();
    cmd.env("RVFLASH_TEST_MARK", mark);
    cmd
}

/// What is left running with the test mark `mark`.
fn leftovers(mark: &str) -> Vec<u32> {
    processes_with_env("RVFLASH_TEST_MARK", mark)
}

fn hello() -> PathBuf {
    firmware_elves().join("hello")
}

#[test]
fn a_selector_with_no_probe_behind_it_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let selector = format!("1d50:6018:127.0.0.1:{port}");
    let board = board_file(dir.path(), "rvflash-sim", Some(&selector), false);
    let started = Instant::now();
    let out = rvflash_cmd()
        .arg("run")
        .arg("--board-file")
        .arg(&board)
        .arg(hello())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains(&format!("no debug probe at `{selector}`")),
        "{err}"
    );
    assert!(err.contains("nothing accepts connections"), "{err}");
    // A USB probe that is not attached, from the command line.
    let out = rvflash_cmd()
        .args(["run", "--probe", "0483:3748:NOSUCHSERIAL", "--board-file"])
        .arg(&board)
        .arg(hello())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains("no debug probe matches `0483:3748:NOSUCHSERIAL`"),
        "{err}"
    );
    assert!(err.contains("--probe"), "{err}");
    // Not a selector at all.
    let out = rvflash_cmd()
        .args(["run", "--probe", "stlink", "--board-file"])
        .arg(&board)
        .arg(hello())
        .output()
        .unwrap();
    assert_eq!(status(&out), 125);
    assert!(
        stderr(&out).contains("not a probe selector"),
        "{}",
        stderr(&out)
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn an_unknown_chip_fails_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let board = board_file(dir.path(), "no-such-chip", None, true);
    let mark = marker("chip");
    let out = marked(&mark)
        .arg("run")
        .arg("--board-file")
        .arg(&board)
        .arg(hello())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(err.contains("unknown chip `no-such-chip`"), "{err}");
    assert!(err.contains("which has rvflash-sim"), "{err}");
    assert_eq!(leftovers(&mark), Vec::<u32>::new());
}

/// `rvflash serve --bmp` with the board halted, killed when dropped.
struct Serve {
    child: std::process::Child,
    port: u16,
}

impl Serve {
    fn start() -> Serve {
        let mut child = rvflash_cmd()
            .args(["serve", "--board", "sim", "--bmp", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let prefix = "rvflash: serving bmp on 127.0.0.1:";
        let port = loop {
            let line = lines.next().expect("serve's address").unwrap();
            if let Some(port) = line.strip_prefix(prefix) {
                break port.trim().parse().unwrap();
            }
        };
        // Keep draining serve's stderr so it never blocks on a full pipe.
        thread::spawn(move || for _ in lines {});
        Serve { child, port }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A TCP proxy in front of `port` for one connection: counts what the client sends and, once
/// `cut` bytes have passed (if given), closes both connections.
struct Proxy {
    port: u16,
    sent: Arc<AtomicU64>,
}

fn proxy(port: u16, cut: Option<u64>) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let local = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&sent);
    thread::spawn(move || {
        let Ok((client, _)) = listener.accept() else {
            return;
        };
        let server = TcpStream::connect(("127.0.0.1", port)).unwrap();
        client.set_nodelay(true).ok();
        server.set_nodelay(true).ok();
        let closed = Arc::new(AtomicBool::new(false));
        let (mut from_server, mut to_client) =
            (server.try_clone().unwrap(), client.try_clone().unwrap());
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from_server.read(&mut buf) {
                if n == 0 || to_client.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
        let (mut from_client, mut to_server) =
            (client.try_clone().unwrap(), server.try_clone().unwrap());
        let mut buf = [0u8; 4096];
        while let Ok(n) = from_client.read(&mut buf) {
            if n == 0 || to_server.write_all(&buf[..n]).is_err() {
                break;
            }
            let total = counter.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
            if cut.is_some_and(|c| total >= c) && !closed.swap(true, Ordering::SeqCst) {
                client.shutdown(Shutdown::Both).ok();
                server.shutdown(Shutdown::Both).ok();
                break;
            }
        }
    });
    Proxy { port: local, sent }
}

#[test]
fn a_connection_that_drops_mid_download_ends_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let program = firmware_elves().join("exit42");
    // Calibration: how many bytes probe-rs sends to attach and download without verifying.
    let whole = {
        let serve = Serve::start();
        let p = proxy(serve.port, None);
        let board = board_file(
            dir.path(),
            "rvflash-sim",
            Some(&format!("1d50:6018:127.0.0.1:{}", p.port)),
            false,
        );
        let out = rvflash_cmd()
            .args(["run", "--no-verify", "--timeout", "60", "--board-file"])
            .arg(&board)
            .arg(&program)
            .output()
            .unwrap();
        assert_eq!(status(&out), 42, "{}", stderr(&out));
        p.sent.load(Ordering::SeqCst)
    };
    // Cut well into the download (attaching is a small part of it), then verify (on by
    // default) cannot finish either.
    let serve = Serve::start();
    let p = proxy(serve.port, Some(whole * 7 / 10));
    let board = board_file(
        dir.path(),
        "rvflash-sim",
        Some(&format!("1d50:6018:127.0.0.1:{}", p.port)),
        false,
    );
    let mark = marker("drop");
    let started = Instant::now();
    let out = marked(&mark)
        .args(["run", "--timeout", "60", "--board-file"])
        .arg(&board)
        .arg(&program)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains("the connection to the debug probe dropped"),
        "{err}"
    );
    assert!(
        err.contains("while downloading the program")
            || err.contains("while verifying the program"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(leftovers(&mark), Vec::<u32>::new());
}

#[test]
fn timeout_and_ctrl_c_leave_no_simulated_board_behind() {
    let spin = firmware_elves().join("spin");
    let mark = marker("timeout");
    let out = marked(&mark)
        .args(["run", "--board", "sim-probe-rs", "--timeout", "1"])
        .arg(&spin)
        .output()
        .unwrap();
    assert_eq!(status(&out), 124, "{}", stderr(&out));
    assert_eq!(stdout(&out), "spinning forever\n");
    assert_eq!(leftovers(&mark), Vec::<u32>::new());

    let mark = marker("ctrl-c");
    let mut child = marked(&mark)
        .args(["run", "--board", "sim-probe-rs"])
        .arg(&spin)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "spinning forever\n");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "rvflash did not end after Ctrl-C"
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "{status:?}");
    assert_eq!(leftovers(&mark), Vec::<u32>::new());
}

#[test]
fn probes_and_boards_are_listed() {
    let out = rvflash_cmd().arg("probes").output().unwrap();
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("1d50:6018:HOST:PORT"),
        "{}",
        stdout(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let board = board_file(dir.path(), "rvflash-sim", None, false);
    let out = rvflash_cmd()
        .current_dir(dir.path())
        .args(["boards", "--board-file"])
        .arg(&board)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    for want in [
        "sim (built-in, the default)",
        "sim-probe-rs (built-in)",
        "probe-rs: chip rvflash-sim of rvflash-sim.yaml, through the simulated board `sim`",
        "hifive-unmatched (built-in)",
        "RV64IMAC, no F/D",
        "test-probe (",
        "through the only probe attached",
        "qemu-virt (built-in)",
        "sim-openocd (built-in)",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
}

#[test]
fn il_is_not_built_for_a_board_without_f_and_d() {
    let dir = tempfile::tempdir().unwrap();
    let hello_ssa = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello.ssa");
    let out = rvflash_cmd()
        .args(["build", "--board", "hifive-unmatched", "-o"])
        .arg(dir.path().join("hello.elf"))
        .arg(&hello_ssa)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains("board `hifive-unmatched` is rv64imac_zicsr_zifencei (no F/D extensions)"),
        "{err}"
    );
    assert!(err.contains("riscv64imac-unknown-none-elf"), "{err}");
}
