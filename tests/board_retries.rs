//! Bounded retries (`--retries N`, `RVFLASH_RETRIES`) end to end, through the real `rvflash`
//! binary, with a TCP proxy in front of a real server that closes the first connections (a
//! board that does not answer at first) and forwards the others:
//!
//! - a board behind a GDB server (QEMU's gdbstub): the run succeeds on a retry and says so on
//!   stderr (as a `warning` event with `--message-format json`, stdout staying pure JSON);
//!   with `--retries 0` (or `RVFLASH_RETRIES=0`) it fails at once with 125; a server that
//!   answers garbage (bad input) is never retried;
//! - a board behind OpenOCD started by rvflash, whose remote_bitbang adapter is not there at
//!   first (OpenOCD exits: "Failed to connect"): the run tries again and succeeds once the
//!   simulated board (`rvflash serve --remote-bitbang`) listens;
//! - a board behind a debug probe (`rvflash serve --bmp` as a network Black Magic Probe,
//!   through the real probe-rs crate, with the `probe-rs` feature): the same.
//!
//! The QEMU and OpenOCD tests are skipped (with a note) when the tool is not installed.

mod run_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use run_support::*;

#[test]
fn a_gdb_server_that_refuses_at_first_is_retried() {
    if !qemu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let elf = exit_program(dir.path(), 7);
    let qemu = QemuServer::start();
    let proxy = RefusingProxy::start(&qemu.addr, 1);
    let board = gdb_board(dir.path(), &proxy.addr);
    let started = Instant::now();
    let out = run_board_file(&board, &[], &elf);
    let err = stderr(&out);
    assert_eq!(status(&out), 7, "{err}");
    assert!(
        err.contains("warning: board `remote` did not answer")
            && err.contains(&format!("the GDB server at {}", proxy.addr))
            && err.contains("closed the connection")
            && err.contains("trying again in 0.5 s (retry 1 of 2)"),
        "{err}"
    );
    // No power-cycle hook: none is mentioned.
    assert!(!err.contains("power-cycling"), "{err}");
    assert_eq!(proxy.connections(), 2);
    assert!(started.elapsed() < Duration::from_secs(15), "{err}");
}

#[test]
fn without_retries_a_gdb_server_that_refuses_fails_with_125() {
    if !qemu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let elf = exit_program(dir.path(), 7);
    let qemu = QemuServer::start();
    let proxy = RefusingProxy::start(&qemu.addr, 1);
    let board = gdb_board(dir.path(), &proxy.addr);
    let out = run_board_file(&board, &["--retries", "0"], &elf);
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains("board `remote` did not answer (not tried again: --retries 0)")
            && err.contains("closed the connection"),
        "{err}"
    );
    assert!(!err.contains("trying again"), "{err}");
    assert_eq!(proxy.connections(), 1);
    // The same from the environment; and too few retries give up with the last error.
    let proxy = RefusingProxy::start(&qemu.addr, 3);
    let board = gdb_board(dir.path(), &proxy.addr);
    let out = rvflash_cmd()
        .env("RVFLASH_RETRIES", "1")
        .arg("run")
        .arg("--board-file")
        .arg(&board)
        .arg(&elf)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains("board `remote` did not answer, 2 times (--retries 1)")
            && err.contains("retry 1 of 1"),
        "{err}"
    );
    assert_eq!(proxy.connections(), 2);
}

#[test]
fn retries_are_json_warnings_in_json_output() {
    if !qemu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let qemu = QemuServer::start();
    let proxy = RefusingProxy::start(&qemu.addr, 1);
    let board = gdb_board(dir.path(), &proxy.addr);
    let out = run_board_file(
        &board,
        &["--message-format", "json"],
        &exit_program(dir.path(), 7),
    );
    assert_eq!(status(&out), 7, "{}", stderr(&out));
    let events: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let warning = events
        .iter()
        .find(|e| e["type"] == "warning")
        .unwrap_or_else(|| panic!("no warning event: {events:?}"));
    assert!(warning.to_string().contains("did not answer"), "{warning}");
    // One load, started and finished once.
    let loads: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "load").collect();
    assert_eq!(loads.len(), 2, "{events:?}");
    assert_eq!(
        (&loads[0]["phase"], &loads[1]["phase"]),
        (&"started".into(), &"finished".into())
    );
}

#[test]
fn a_server_that_answers_garbage_is_not_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 256];
            if stream.read(&mut buf).is_ok_and(|n| n > 0) {
                stream.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").ok();
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let board = gdb_board(dir.path(), &addr);
    let out = run_board_file(&board, &[], &exit_program(dir.path(), 7));
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains("does not speak the GDB remote protocol"),
        "{err}"
    );
    assert!(!err.contains("trying again"), "{err}");
}

#[test]
fn openocd_that_cannot_reach_its_adapter_is_retried() {
    if !openocd_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // sim-openocd's config, with the adapter at a port where the simulated board is not yet.
    let board = dir.path().join("late.toml");
    std::fs::write(
        &board,
        format!(
            "name = \"late\"\ndescription = \"a board whose adapter comes late\"\n\
             isa = \"rv64imafdc_zicsr_zifencei\"\nlinker-script = \"sim.x\"\nrun = \"gdb\"\n\
             console = \"semihosting\"\nexit = \"semihosting\"\n\
             openocd = {{ config = [\"sim-openocd.cfg\"], args = [\"-c\", \"remote_bitbang port {port}\"] }}\n\n\
             [[memory]]\nname = \"RAM\"\norigin = 0x8000_0000\nlength = 0x0800_0000\n"
        ),
    )
    .unwrap();
    let mut rvflash = rvflash_cmd()
        .env_remove("RVFLASH_RETRIES")
        .args(["run", "--retries", "4", "--timeout", "60", "--board-file"])
        .arg(&board)
        .arg(exit_program(dir.path(), 7))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(rvflash.stderr.take().unwrap());
    let mut said = String::new();
    // The first failure: then the board comes.
    while !said.contains("trying again") {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("rvflash ended without trying again:\n{said}");
        }
        said.push_str(&line);
    }
    let mut serve = rvflash_cmd()
        .args(["serve", "--board", "sim", "--remote-bitbang"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    stderr.read_to_string(&mut said).unwrap();
    let status = rvflash.wait().unwrap();
    serve.kill().ok();
    serve.wait().ok();
    assert_eq!(status.code(), Some(7), "{said}");
    assert!(
        said.contains("OpenOCD cannot reach the board") && said.contains("Failed to connect"),
        "{said}"
    );
}

/// `rvflash serve --bmp` on a free port (the simulated board as a network Black Magic Probe),
/// killed when dropped.
#[cfg(feature = "probe-rs")]
struct Serve {
    child: std::process::Child,
    addr: String,
}

#[cfg(feature = "probe-rs")]
impl Serve {
    fn start() -> Serve {
        use std::io::BufRead;
        let mut child = rvflash_cmd()
            .args(["serve", "--board", "sim", "--bmp", "127.0.0.1:0"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let prefix = "rvflash: serving bmp on ";
        let addr = loop {
            let line = lines.next().expect("serve's address").unwrap();
            if let Some(addr) = line.strip_prefix(prefix) {
                break addr.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Serve { child, addr }
    }
}

#[cfg(feature = "probe-rs")]
impl Drop for Serve {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A probe-rs board whose probe is the network Black Magic Probe at `addr`.
#[cfg(feature = "probe-rs")]
fn probe_board(dir: &std::path::Path, addr: &str) -> std::path::PathBuf {
    let path = dir.join("bmp.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"bmp\"\ndescription = \"the simulated board behind a network BMP\"\n\
             isa = \"rv64imafdc_zicsr_zifencei\"\nlinker-script = \"sim.x\"\nrun = \"probe-rs\"\n\
             console = \"semihosting\"\nexit = \"semihosting\"\n\
             probe-rs = {{ chip = \"rvflash-sim\", chip-description = \"rvflash-sim.yaml\", \
             probe = \"1d50:6018:{addr}\" }}\n\n\
             [[memory]]\nname = \"RAM\"\norigin = 0x8000_0000\nlength = 0x0800_0000\n"
        ),
    )
    .unwrap();
    path
}

#[cfg(feature = "probe-rs")]
#[test]
fn a_probe_that_refuses_at_first_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let elf = exit_program(dir.path(), 7);
    let serve = Serve::start();
    let proxy = RefusingProxy::start(&serve.addr, 1);
    let board = probe_board(dir.path(), &proxy.addr);
    let out = run_board_file(&board, &[], &elf);
    let err = stderr(&out);
    assert_eq!(status(&out), 7, "{err}");
    assert!(
        err.contains("warning: board `bmp` did not answer")
            && err.contains("trying again in 0.5 s (retry 1 of 2)"),
        "{err}"
    );
    assert_eq!(proxy.connections(), 2, "{err}");
    drop(serve);
    // Without retries: 125 at the first refusal.
    let serve = Serve::start();
    let proxy = RefusingProxy::start(&serve.addr, 1);
    let board = probe_board(dir.path(), &proxy.addr);
    let out = run_board_file(&board, &["--retries", "0"], &elf);
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains("board `bmp` did not answer (not tried again: --retries 0)"),
        "{err}"
    );
    assert_eq!(proxy.connections(), 1, "{err}");
}
