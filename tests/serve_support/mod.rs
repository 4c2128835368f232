//! Helpers shared by the `rvflash serve` integration tests: the debuggee ELF, spawned
//! processes that are always killed (a guard with `Drop`, so a failing test leaves nothing
//! behind), their output collected as it comes, and waiting for a line with a timeout so a
//! failure never hangs the suite.
#![allow(dead_code)] // each test binary uses a different subset

pub mod client;

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The rvflash binary under test.
pub fn rvflash() -> &'static str {
    env!("CARGO_BIN_EXE_rvflash")
}

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The board the tests serve: UART console, SiFive finisher, a `[debug]` table.
pub fn board_file() -> PathBuf {
    root().join("boards/sim-jtag.toml")
}

/// The IDCODE in boards/sim-jtag.toml.
pub const IDCODE: u32 = 0x1000_0913;

/// Builds tests/serve_support/debuggee.ssa for the board into `dir`; returns the ELF's path.
pub fn build_debuggee(dir: &Path) -> PathBuf {
    let elf = dir.join("debuggee.elf");
    let out = Command::new(rvflash())
        .arg("build")
        .arg(root().join("tests/serve_support/debuggee.ssa"))
        .arg("--board-file")
        .arg(board_file())
        .arg("-o")
        .arg(&elf)
        .output()
        .expect("run rvflash build");
    assert!(
        out.status.success(),
        "rvflash build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    elf
}

/// The entry point of an ELF file.
pub fn elf_entry(elf: &Path) -> u64 {
    use object::Object;
    let data = std::fs::read(elf).unwrap();
    object::File::parse(&*data).unwrap().entry()
}

/// The address of a symbol of an ELF file.
pub fn elf_symbol(elf: &Path, name: &str) -> u64 {
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(elf).unwrap();
    let file = object::File::parse(&*data).unwrap();
    file.symbols()
        .find(|s| s.name() == Ok(name))
        .unwrap_or_else(|| panic!("no symbol {name} in {}", elf.display()))
        .address()
}

/// A free TCP port on 127.0.0.1 (for tools that cannot pick their own).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A spawned process, killed when dropped; its stdout and stderr are collected as they come.
pub struct Spawned {
    pub name: String,
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    status: Option<ExitStatus>,
}

impl Spawned {
    /// Spawns `cmd` with stdin closed and stdout/stderr captured.
    pub fn start(name: &str, mut cmd: Command) -> Spawned {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        Spawned {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
            status: None,
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Both outputs, for failure messages.
    pub fn dump(&self) -> String {
        format!(
            "--- {} stdout ---\n{}\n--- {} stderr ---\n{}",
            self.name,
            self.stdout(),
            self.name,
            self.stderr()
        )
    }

    /// Waits until stderr (`err`) or stdout contains `needle`; panics with both outputs after
    /// `timeout` or when the process exits first.
    pub fn wait_for(&mut self, needle: &str, err: bool, timeout: Duration) -> String {
        self.wait_for_count(needle, 1, err, timeout)
    }

    /// Waits until stderr (`err`) or stdout contains `needle` `count` times.
    pub fn wait_for_count(
        &mut self,
        needle: &str,
        count: usize,
        err: bool,
        timeout: Duration,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = if err { self.stderr() } else { self.stdout() };
            if text.matches(needle).count() >= count {
                return text;
            }
            if let Some(status) = self.try_status() {
                // Let the reader threads catch up before giving up.
                thread::sleep(Duration::from_millis(100));
                let text = if err { self.stderr() } else { self.stdout() };
                if text.matches(needle).count() >= count {
                    return text;
                }
                panic!(
                    "{} exited ({status}) before printing {needle:?}\n{}",
                    self.name,
                    self.dump()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} did not print {needle:?} within {timeout:?}\n{}",
                    self.name,
                    self.dump()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The exit status, if the process has exited.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits for the process to exit; panics with its output after `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_status() {
                // The reader threads finish at EOF; give them a moment.
                thread::sleep(Duration::from_millis(50));
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} did not exit within {timeout:?}\n{}",
                    self.name,
                    self.dump()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn collect(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    text
}

/// `rvflash serve ARGS` with the test board; returns it once it printed its addresses, with
/// the address of each transport asked for (`remote_bitbang`, `bmp`).
pub fn serve(args: &[&str]) -> (Spawned, Vec<(String, SocketAddr)>) {
    let mut cmd = Command::new(rvflash());
    cmd.arg("serve")
        .arg("--board-file")
        .arg(board_file())
        .args(args);
    let mut serve = Spawned::start("rvflash serve", cmd);
    let text = serve.wait_for("hart halted at", true, Duration::from_secs(30));
    let addrs = text
        .lines()
        .filter_map(|l| l.strip_prefix("rvflash: serving "))
        .filter_map(|l| {
            let (transport, addr) = l.split_once(" on ")?;
            Some((transport.to_owned(), addr.trim().parse().ok()?))
        })
        .collect();
    (serve, addrs)
}

/// The address of `transport` among `serve`'s.
pub fn addr_of(addrs: &[(String, SocketAddr)], transport: &str) -> SocketAddr {
    addrs
        .iter()
        .find(|(t, _)| t == transport)
        .unwrap_or_else(|| panic!("serve printed no {transport} address: {addrs:?}"))
        .1
}

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
