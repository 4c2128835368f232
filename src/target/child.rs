//! Helper processes rvflash starts for a target (QEMU, OpenOCD, `rvflash serve`) or a board
//! (its hooks, see `crate::hooks`), which never outlive it.
//!
//! A [`Helper`] runs in its own process group and is killed (the whole group, SIGKILL) when it
//! is dropped: on exit, timeout and error alike. If rvflash dies first, it still goes:
//! SIGINT, SIGTERM and SIGHUP handlers kill every live helper group before rvflash dies of
//! the signal, and `PR_SET_PDEATHSIG(SIGKILL)` covers `kill -9` (a helper whose parent died
//! between `fork` and `prctl` exits at once). Helpers are spawned from the main thread: the
//! kernel sends the death signal when the spawning *thread* ends.
//!
//! Output: stdout can be forwarded to rvflash's stdout (a guest's UART) with
//! [`Helper::sync_stdout`] to order it before rvflash's own reports, or logged; stderr can be
//! inherited or logged. A log goes to a file, is kept in memory for messages
//! ([`Helper::log_tail`], [`Helper::wait_for_line`]) and, verbose, is copied to stderr line
//! by line with the helper's name in front.
//!
//! A helper can be rvflash itself (`rvflash serve` for the simulated boards):
//! [`rvflash_itself`]. In unit tests this executable is the test harness, which then runs
//! itself with one test selected, `as_rvflash` below, that parses rvflash's command line from
//! `RVFLASH_TEST_ARGV` and runs its `serve`; so the targets' tests start the simulated boards
//! as rvflash does.
//!
//! This file must not know what the helpers are (`qemu`, `openocd`, `gdb_server` do).

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

/// Where the test harness finds the arguments it runs rvflash with (see the module docs).
#[cfg(test)]
const TEST_ARGV: &str = "RVFLASH_TEST_ARGV";

/// Process groups of live helpers, for the signal handlers (0: free slot).
static GROUPS: [AtomicI32; 8] = [const { AtomicI32::new(0) }; 8];

/// Most bytes of a log kept in memory (the file has everything).
const LOG_MEMORY: usize = 1 << 20;

/// Where a helper's stdout goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// To rvflash's stdout (the guest's console).
    Forward,
    /// To the helper's log.
    Log,
}

/// Where a helper's stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// To rvflash's stderr.
    Inherit,
    /// To the helper's log.
    Log,
}

/// How to start a helper.
pub struct Spawn<'a> {
    /// Its name in messages (`OpenOCD`).
    pub name: &'a str,
    /// What to say when the program is not installed (`Debian/Ubuntu: apt install openocd`).
    pub missing: &'a str,
    pub stdout: Stdout,
    pub stderr: Stderr,
    /// The log file (needed when anything goes to the log).
    pub log: Option<PathBuf>,
    /// Copy the log to stderr as it comes.
    pub verbose: bool,
}

/// A log: a file, the text in memory, and whether it is copied to stderr.
#[derive(Clone)]
struct Log {
    path: PathBuf,
    text: Arc<Mutex<Vec<u8>>>,
}

/// A helper process (see the module docs).
pub struct Helper {
    name: String,
    child: Child,
    slot: Option<usize>,
    status: Option<ExitStatus>,
    log: Option<Log>,
    forward: Option<Forward>,
    /// The threads that copy its pipes into the log.
    loggers: Vec<std::thread::JoinHandle<()>>,
}

impl Helper {
    /// Starts `cmd` as described by `how`.
    pub fn spawn(mut cmd: Command, how: Spawn<'_>) -> Result<Helper> {
        let program = cmd.get_program().to_string_lossy().into_owned();
        let log = how.log.as_ref().map(|path| Log {
            path: path.clone(),
            text: Arc::new(Mutex::new(Vec::new())),
        });
        let needs_log = how.stdout == Stdout::Log || how.stderr == Stderr::Log;
        if needs_log && log.is_none() {
            bail!("internal error: {} logs without a log file", how.name);
        }
        let file = match &log {
            Some(l) => Some(
                std::fs::File::create(&l.path).map_err(|e| crate::diag::write_error(&l.path, e))?,
            ),
            None => None,
        };
        let parent = std::process::id();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(match how.stderr {
                Stderr::Inherit => Stdio::inherit(),
                Stderr::Log => Stdio::piped(),
            })
            .process_group(0);
        // SAFETY: prctl, getppid and _exit are async-signal-safe; nothing else runs between
        // fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                #[cfg(target_os = "linux")]
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // rvflash died before prctl: nobody would kill this process later.
                if libc::getppid() as u32 != parent {
                    libc::_exit(125);
                }
                Ok(())
            });
        }
        install_signal_handlers();
        let mut child = cmd.spawn().map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                anyhow!(
                    "cannot run `{program}`: {} is not installed ({})",
                    how.name,
                    how.missing
                )
            } else {
                anyhow!("cannot run `{program}` ({}): {err}", how.name)
            }
        })?;
        let slot = register(child.id() as i32);
        // `openocd: ...`, `serve: ...` (the last word of the name).
        let prefix = how
            .name
            .rsplit(' ')
            .next()
            .unwrap_or(how.name)
            .to_ascii_lowercase();
        let writer = file.map(|f| Arc::new(Mutex::new(f)));
        let mut forward = None;
        let mut loggers = Vec::new();
        if let Some(out) = child.stdout.take() {
            match how.stdout {
                Stdout::Forward => forward = Some(Forward::start(out)),
                Stdout::Log => {
                    if let (Some(log), Some(w)) = (&log, &writer) {
                        loggers.push(spawn_logger(
                            out,
                            log.clone(),
                            Arc::clone(w),
                            &prefix,
                            how.verbose,
                        ));
                    }
                }
            }
        }
        if let Some(err) = child.stderr.take()
            && let (Some(log), Some(w)) = (&log, &writer)
        {
            loggers.push(spawn_logger(
                err,
                log.clone(),
                Arc::clone(w),
                &prefix,
                how.verbose,
            ));
        }
        Ok(Helper {
            name: how.name.to_owned(),
            child,
            slot,
            status: None,
            log,
            forward,
            loggers,
        })
    }

    /// Its name in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its exit status, if it has ended (does not wait).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.status = Some(status);
            self.unregister();
        }
        self.status
    }

    /// Waits up to `timeout` for it to end; its status if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                self.drain_stdout();
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until a line of its log satisfies `wanted` and returns that line. Fails, with the
    /// log, when the helper ends first or `deadline` passes (`waiting_for` says for what).
    pub fn wait_for_line(
        &mut self,
        wanted: impl Fn(&str) -> bool,
        deadline: Instant,
        waiting_for: &str,
    ) -> Result<String> {
        let Some(log) = self.log.clone() else {
            bail!("internal error: {} has no log to wait in", self.name);
        };
        loop {
            {
                let text = log.text.lock().map_err(|_| anyhow!("log lock poisoned"))?;
                if let Some(line) = String::from_utf8_lossy(&text).lines().find(|l| wanted(l)) {
                    return Ok(line.to_owned());
                }
            }
            if let Some(status) = self.exit_status() {
                // Let the logger threads catch up with its last words.
                std::thread::sleep(Duration::from_millis(50));
                bail!(
                    "{} exited ({status}) before {waiting_for}{}",
                    self.name,
                    self.log_tail(30)
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not get to {waiting_for} in time{}",
                    self.name,
                    self.log_tail(30)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The first line of its log that `parse` makes something of (does not wait).
    pub fn find_in_log<R>(&self, parse: impl Fn(&str) -> Option<R>) -> Option<R> {
        let text = self.log.as_ref()?.text.lock().ok()?;
        String::from_utf8_lossy(&text).lines().find_map(parse)
    }

    /// The last `lines` lines of its log, as `; its log (PATH) ends:\n...` (empty without a
    /// log), to append to a message.
    pub fn log_tail(&self, lines: usize) -> String {
        let Some(log) = &self.log else {
            return String::new();
        };
        let Ok(text) = log.text.lock() else {
            return String::new();
        };
        let text = String::from_utf8_lossy(&text);
        let all: Vec<&str> = text.lines().collect();
        if all.is_empty() {
            return format!("; its log ({}) is empty", log.path.display());
        }
        let tail = all[all.len().saturating_sub(lines)..].join("\n  ");
        format!("; its log ({}) ends:\n  {tail}", log.path.display())
    }

    /// Everything in its log (the last MiB of it).
    pub fn log_text(&self) -> String {
        self.log
            .as_ref()
            .and_then(|l| {
                l.text
                    .lock()
                    .ok()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
            })
            .unwrap_or_default()
    }

    /// Waits up to `timeout` until its log has everything: its pipes closed (every process
    /// that held them has ended) and the last bytes copied.
    pub fn wait_logs(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && !self.loggers.iter().all(|t| t.is_finished()) {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Kills its whole process group, even when it has ended itself: whatever it left running
    /// in the background goes too (a command that must not outlive its own end, a hook).
    pub fn kill_group(&mut self) {
        // SAFETY: kill(2) on the helper's own process group (gone already: ESRCH, harmless).
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
    }

    /// Its log file, if it has one.
    pub fn log_path(&self) -> Option<&Path> {
        self.log.as_ref().map(|l| l.path.as_path())
    }

    /// Waits (briefly) until what it wrote to stdout so far has been forwarded, so that the
    /// guest's output comes before rvflash's report of a stop.
    pub fn sync_stdout(&self) {
        if let Some(f) = &self.forward {
            f.sync();
        }
    }

    /// Waits (up to 2 s) until its stdout is closed and everything forwarded.
    pub fn drain_stdout(&mut self) {
        if let Some(f) = &mut self.forward {
            f.drain();
        }
    }

    fn unregister(&mut self) {
        if let Some(slot) = self.slot.take() {
            GROUPS[slot].store(0, Ordering::SeqCst);
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        if self.exit_status().is_none() {
            // SAFETY: kill(2) on the helper's own process group.
            unsafe {
                libc::kill(-(self.child.id() as i32), libc::SIGKILL);
            }
            self.child.wait().ok();
        }
        self.unregister();
    }
}

/// A command that runs this rvflash with `args` (`serve ...`), to start as a [`Helper`].
pub fn rvflash_itself(args: &[&str]) -> Result<Command> {
    let exe = std::env::current_exe()
        .map_err(|e| anyhow!("cannot find rvflash's own executable: {e}"))?;
    let mut cmd = Command::new(exe);
    #[cfg(not(test))]
    cmd.args(args);
    #[cfg(test)]
    cmd.args([
        "--exact",
        "target::child::tests::as_rvflash",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env(TEST_ARGV, args.join("\u{1f}"));
    Ok(cmd)
}

/// How long `rvflash serve` may take to say where it listens.
const SERVE_STARTUP: Duration = Duration::from_secs(10);

/// Starts the simulated board: `rvflash serve --FLAG 127.0.0.1:0 --exit-on-finish --board
/// BOARD` from this same executable, its UART forwarded to rvflash's stdout and its stderr to
/// `log`. Returns it and the `HOST:PORT` of its first line `rvflash: serving PROTOCOL on
/// HOST:PORT` (`what` names the protocol in the error when that line does not come).
pub fn start_serve(
    flag: &str,
    protocol: &str,
    what: &str,
    board: &str,
    log: PathBuf,
    verbose: bool,
    deadline: Instant,
) -> Result<(Helper, String, u16)> {
    let cmd = rvflash_itself(&[
        "serve",
        flag,
        "127.0.0.1:0",
        "--exit-on-finish",
        "--board",
        board,
    ])?;
    let mut serve = Helper::spawn(
        cmd,
        Spawn {
            name: "rvflash serve",
            missing: "rvflash's own executable is gone",
            stdout: Stdout::Forward,
            stderr: Stderr::Log,
            log: Some(log),
            verbose,
        },
    )?;
    let prefix = format!("rvflash: serving {protocol} on ");
    let line = serve.wait_for_line(
        |l| l.starts_with(&prefix),
        deadline.min(Instant::now() + SERVE_STARTUP),
        what,
    )?;
    let addr = line[prefix.len()..].trim().to_owned();
    let port = addr
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .ok_or_else(|| anyhow!("rvflash serve said `{line}`, which names no port"))?;
    Ok((serve, addr, port))
}

/// Copies a helper's pipe into its log (file, memory, and stderr when verbose).
fn spawn_logger(
    mut pipe: impl Read + Send + 'static,
    log: Log,
    file: Arc<Mutex<std::fs::File>>,
    prefix: &str,
    verbose: bool,
) -> std::thread::JoinHandle<()> {
    let prefix = prefix.to_owned();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut line = Vec::new();
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut f) = file.lock() {
                f.write_all(&buf[..n]).ok();
            }
            if let Ok(mut text) = log.text.lock() {
                text.extend_from_slice(&buf[..n]);
                if text.len() > LOG_MEMORY {
                    let cut = text.len() - LOG_MEMORY / 2;
                    text.drain(..cut);
                }
            }
            if verbose {
                for &b in &buf[..n] {
                    line.push(b);
                    if b == b'\n' {
                        let mut err = std::io::stderr().lock();
                        write!(err, "{prefix}: {}", String::from_utf8_lossy(&line)).ok();
                        line.clear();
                    }
                }
            }
        }
        if verbose && !line.is_empty() {
            let mut err = std::io::stderr().lock();
            writeln!(err, "{prefix}: {}", String::from_utf8_lossy(&line)).ok();
        }
    })
}

/// Forwarding of a helper's stdout to rvflash's stdout by a thread.
struct Forward {
    fd: RawFd,
    /// Held by the thread while it moves data; true once the pipe is closed.
    closed: Arc<Mutex<bool>>,
    done: Option<mpsc::Receiver<()>>,
}

impl Forward {
    fn start(mut out: ChildStdout) -> Forward {
        let (tx, rx) = mpsc::channel();
        let fd = out.as_raw_fd();
        let closed = Arc::new(Mutex::new(false));
        let held = Arc::clone(&closed);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let stdout = std::io::stdout();
            loop {
                // Wait for data without holding the lock, then read and forward under it, so
                // that `sync` knows nothing is in flight.
                let mut pfd = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut pfd, 1, 50) } == 0 {
                    continue;
                }
                let Ok(mut closed) = held.lock() else { break };
                match out.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        // The pipe closes with `out`, under the lock.
                        *closed = true;
                        drop(out);
                        break;
                    }
                    Ok(n) => {
                        let mut lock = stdout.lock();
                        lock.write_all(&buf[..n]).ok();
                        lock.flush().ok();
                    }
                }
            }
            tx.send(()).ok();
        });
        Forward {
            fd,
            closed,
            done: Some(rx),
        }
    }

    fn sync(&self) {
        let deadline = Instant::now() + Duration::from_millis(500);
        while Instant::now() < deadline {
            {
                let Ok(closed) = self.closed.lock() else {
                    return;
                };
                if *closed {
                    return;
                }
                let mut pending: libc::c_int = 0;
                // SAFETY: FIONREAD on the pipe, open while `closed` is false (under the lock).
                let ok = unsafe { libc::ioctl(self.fd, libc::FIONREAD, &mut pending) } == 0;
                if !ok || pending == 0 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn drain(&mut self) {
        if let Some(rx) = self.done.take() {
            rx.recv_timeout(Duration::from_secs(2)).ok();
        }
    }
}

fn register(pgid: i32) -> Option<usize> {
    for (i, slot) in GROUPS.iter().enumerate() {
        if slot
            .compare_exchange(0, pgid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return Some(i);
        }
    }
    // More helpers than slots: PR_SET_PDEATHSIG and Drop still end this one.
    None
}

extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: kill, signal and raise are async-signal-safe.
    unsafe {
        for slot in &GROUPS {
            let pgid = slot.load(Ordering::SeqCst);
            if pgid > 0 {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

fn install_signal_handlers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: installing a handler that only calls async-signal-safe functions.
            unsafe {
                libc::signal(sig, on_signal as *const () as libc::sighandler_t);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rvflash's `main`, when the test harness runs as rvflash (see [`rvflash_itself`]);
    /// nothing otherwise. Only `serve` is started this way.
    #[test]
    fn as_rvflash() {
        use clap::Parser;
        let Ok(argv) = std::env::var(TEST_ARGV) else {
            return;
        };
        let args = std::iter::once("rvflash").chain(argv.split('\u{1f}'));
        let code = match crate::Cli::try_parse_from(args).map(|cli| cli.command) {
            Ok(crate::Command::Serve(args)) => crate::serve::run(&args),
            Ok(_) => {
                eprintln!("rvflash: the test harness runs only `rvflash serve`");
                std::process::ExitCode::from(125)
            }
            Err(err) => {
                err.print().ok();
                std::process::ExitCode::from(125)
            }
        };
        let status = (0..=255u8).find(|&n| std::process::ExitCode::from(n) == code);
        std::process::exit(status.map_or(125, i32::from));
    }

    fn shell(script: &str, log: &Path) -> Helper {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        Helper::spawn(
            cmd,
            Spawn {
                name: "test shell",
                missing: "no sh",
                stdout: Stdout::Log,
                stderr: Stderr::Log,
                log: Some(log.to_path_buf()),
                verbose: false,
            },
        )
        .unwrap()
    }

    #[test]
    fn logs_lines_and_dies_with_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("h.log");
        // A child of the helper's own, in its process group: it goes too.
        let mut h = shell(
            "echo ready; echo oops >&2; sleep 30 & echo child $!; wait",
            &log,
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let line = h
            .wait_for_line(|l| l.starts_with("child "), deadline, "starting")
            .unwrap();
        let grandchild: i32 = line["child ".len()..].trim().parse().unwrap();
        assert!(h.log_tail(5).contains("oops"), "{}", h.log_tail(5));
        assert_eq!(
            h.find_in_log(|l| l.strip_prefix("rea").map(str::len)),
            Some(2)
        );
        assert!(std::fs::read_to_string(&log).unwrap().contains("ready"));
        assert!(h.exit_status().is_none());
        drop(h);
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            // SAFETY: signal 0 only checks that the process exists.
            let exists = unsafe { libc::kill(grandchild, 0) } == 0;
            let zombie = std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
                .is_ok_and(|s| s.contains(") Z"));
            !exists || zombie
        });
        assert!(gone, "the helper's child outlived it");
    }

    #[test]
    fn an_early_exit_and_a_missing_program_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = shell("echo cannot start >&2; exit 3", &dir.path().join("h.log"));
        let err = h
            .wait_for_line(
                |l| l.contains("listening"),
                Instant::now() + Duration::from_secs(10),
                "listening",
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test shell exited") && err.contains("cannot start"),
            "{err}"
        );
        let err = Helper::spawn(
            Command::new(dir.path().join("nothing-here")),
            Spawn {
                name: "Nothing",
                missing: "apt install nothing",
                stdout: Stdout::Forward,
                stderr: Stderr::Inherit,
                log: None,
                verbose: false,
            },
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("Nothing is not installed (apt install nothing)"),
            "{err}"
        );
    }
}
