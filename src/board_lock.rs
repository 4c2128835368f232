//! One rvflash at a time per physical board: an exclusive advisory lock (`flock`) per board and
//! probe, taken before rvflash touches a board behind a probe or a GDB server.
//!
//! Hardware-in-the-loop CI runs several jobs, and `cargo test` several test binaries, against
//! one board and one probe; two rvflash processes driving the same debug module at once corrupt
//! each other's runs. So `rvflash run` on a `probe-rs` or `gdb` board (the virtual
//! `sim-probe-rs` and `sim-openocd` too) first takes this lock and holds it until it exits;
//! `sim` and `qemu-virt` need none (each run has its own simulator or QEMU).
//!
//! - **Key**: the board's name, and what reaches it: the probe selector of `probe-rs` boards
//!   (`--probe`/`RVFLASH_PROBE`, else the board's `probe`; none: the board name alone), the
//!   address of `gdb-server` boards; OpenOCD boards (rvflash starts their server) use the board
//!   name alone. The key becomes a file name ([`file_name`]): `[A-Za-z0-9._-]` stay, every other
//!   byte is `%XX`, the selector follows an `@` (`hifive-unmatched@0403%3A6010.lock`), and a
//!   name too long for a file system is shortened with a hash of the whole.
//! - **Where**: `$XDG_RUNTIME_DIR/rvflash/`, else `$XDG_CACHE_HOME/rvflash/locks/` or
//!   `~/.cache/rvflash/locks/`, else `rvflash-locks-UID/` in the temporary directory (only
//!   when owned by this user); the first of these that can hold the file ([`lock_dirs`]).
//! - **How**: `flock(LOCK_EX | LOCK_NB)` on the file, polled every [`POLL`], so a holder that
//!   crashes or is killed releases the lock with its file descriptor (nothing goes stale), and
//!   a waiter stays responsive to Ctrl-C and to `--lock-timeout`. The file stays in place (a
//!   lock file that is removed can be locked by two processes at once, each through its own
//!   inode).
//! - **Who**: the holder writes `pid`, `started` (Unix seconds), `board` and `command` (its
//!   command line) into the file once it holds the lock, and empties it when it lets go. A
//!   waiter says once whom it waits for (`rvflash: lock: board ... is in use: held by pid ...`; with
//!   `--message-format json`, a `warning` event), and after `--lock-timeout SECS` fails naming
//!   the holder (status 125).

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::board::{Board, RunKind};
use crate::run::Args;
use crate::run::report::{MessageFormat, Shared};

/// How often a waiter tries the lock again.
pub const POLL: Duration = Duration::from_millis(50);

/// How long a waiter waits for the holder to write who it is before saying it waits for an
/// unknown holder (a holder writes right after it takes the lock).
const INFO_GRACE: Duration = Duration::from_millis(500);

/// Longest file name rvflash makes (most file systems allow 255 bytes).
const MAX_FILE_NAME: usize = 200;

/// A held lock; released when dropped (or when rvflash exits, however it exits).
pub struct BoardLock {
    file: File,
}

impl Drop for BoardLock {
    fn drop(&mut self) {
        // Nobody should read a past holder's details; closing the file releases the lock.
        self.file.set_len(0).ok();
    }
}

/// Takes the board's lock, waiting for another holder as `--lock-timeout` allows; `None` for
/// boards that need none (`sim`, `qemu-virt`: each run has its own).
pub fn acquire(board: &Board, args: &Args, reporter: &Shared) -> Result<Option<BoardLock>> {
    let Some(key) = Key::of(board, args.probe.as_deref()) else {
        return Ok(None);
    };
    let dirs = lock_dirs(|name| std::env::var_os(name));
    let json = args.message_format == MessageFormat::Json;
    lock(&dirs, &key, args.lock_timeout, |text| {
        if json {
            reporter.borrow_mut().warning(text);
        } else {
            crate::diag::message("lock", "1;36", text);
        }
    })
    .map(Some)
}

/// What a board's lock is keyed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The board's name.
    board: String,
    /// What reaches it, if the key has more than the name: (kind for messages, value).
    via: Option<(&'static str, String)>,
}

impl Key {
    /// The key of `board` run with `--probe` `probe`; `None` for boards without a lock.
    pub fn of(board: &Board, probe: Option<&str>) -> Option<Key> {
        let via = match board.run {
            RunKind::Sim | RunKind::Qemu => return None,
            RunKind::ProbeRs => probe
                .map(str::to_owned)
                .or_else(|| board.probe_rs.as_ref().and_then(|p| p.probe.clone()))
                .map(|s| normalise_selector(&s))
                .filter(|s| !s.is_empty())
                .map(|s| ("probe", s)),
            RunKind::Gdb if board.openocd.is_some() => None,
            RunKind::Gdb => board
                .gdb_server
                .as_ref()
                .map(|a| ("GDB server", a.trim().to_owned())),
        };
        Some(Key {
            board: board.name.clone(),
            via,
        })
    }

    /// The lock file's name.
    pub fn file_name(&self) -> String {
        file_name(&self.board, self.via.as_ref().map(|(_, v)| v.as_str()))
    }

    /// `board `NAME`` with what reaches it, for messages.
    fn describe(&self) -> String {
        match &self.via {
            Some((kind, value)) => format!("board `{}` ({kind} {value})", self.board),
            None => format!("board `{}`", self.board),
        }
    }
}

/// A probe selector as one key, however it is written: `VID:PID` in lower case (the serial
/// number is kept as it is), no spaces around it.
fn normalise_selector(selector: &str) -> String {
    let mut parts: Vec<String> = selector.trim().splitn(3, ':').map(str::to_owned).collect();
    for part in parts.iter_mut().take(2) {
        if part.chars().all(|c| c.is_ascii_hexdigit()) {
            *part = part.to_ascii_lowercase();
        }
    }
    parts.join(":")
}

/// The lock file name for `board` reached through `via`: a safe file name (no `/`, no leading
/// `.` names such as `..`, no bytes a shell or file system treats specially), different for
/// different keys.
pub fn file_name(board: &str, via: Option<&str>) -> String {
    let mut name = escape(board);
    if let Some(via) = via {
        name.push('@');
        name.push_str(&escape(via));
    }
    if name.len() > MAX_FILE_NAME {
        // Everything above is ASCII, so any byte index is a char boundary.
        let hash = fnv1a(name.as_bytes());
        name.truncate(MAX_FILE_NAME - 17);
        name = format!("{name}-{hash:016x}");
    }
    format!("{name}.lock")
}

/// Keeps `[A-Za-z0-9._-]` (a leading `.` as `%2E`), writes every other byte as `%XX`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, &b) in text.as_bytes().iter().enumerate() {
        let keep = b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// FNV-1a, 64 bits: a hash that every rvflash build computes alike.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Where lock files may go, best first, from the environment `env`: the runtime directory, the
/// cache directory, the temporary directory.
pub fn lock_dirs(env: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let absolute = |name: &str| env(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let mut dirs = Vec::new();
    if let Some(runtime) = absolute("XDG_RUNTIME_DIR") {
        dirs.push(runtime.join("rvflash"));
    }
    if let Some(cache) = absolute("XDG_CACHE_HOME") {
        dirs.push(cache.join("rvflash/locks"));
    } else if let Some(home) = absolute("HOME") {
        dirs.push(home.join(".cache/rvflash/locks"));
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    dirs.push(std::env::temp_dir().join(format!("rvflash-locks-{uid}")));
    dirs
}

/// Opens (creating it and its directory) the lock file `name` in the first of `dirs` that can
/// hold it.
fn open_lock_file(dirs: &[PathBuf], name: &str) -> Result<(PathBuf, File)> {
    let mut failures = Vec::new();
    for dir in dirs {
        let attempt = || -> std::io::Result<(PathBuf, File)> {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            // A directory in a shared place (the temporary directory) that another user made
            // could be theirs to tamper with.
            // SAFETY: getuid cannot fail.
            if std::fs::metadata(dir)?.uid() != unsafe { libc::getuid() } {
                return Err(std::io::Error::new(
                    ErrorKind::PermissionDenied,
                    "owned by another user",
                ));
            }
            let path = dir.join(name);
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o644)
                .open(&path)?;
            Ok((path, file))
        };
        match attempt() {
            Ok(found) => return Ok(found),
            Err(err) => failures.push(format!("{}: {err}", dir.display())),
        }
    }
    bail!(
        "cannot create the board's lock file `{name}` in any of: {}",
        failures.join("; ")
    )
}

/// `flock(LOCK_EX | LOCK_NB)`: true when taken, false when another holds it.
fn try_lock(file: &File) -> std::io::Result<bool> {
    loop {
        // SAFETY: flock on a file descriptor this File owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.kind() {
            ErrorKind::WouldBlock => return Ok(false),
            ErrorKind::Interrupted => continue,
            _ => return Err(err),
        }
    }
}

/// Takes the lock of `key` in the first usable directory of `dirs`, waiting at most `timeout`
/// seconds (`None`: as long as it takes); `tell` gets the waiting message, once.
pub fn lock(
    dirs: &[PathBuf],
    key: &Key,
    timeout: Option<f64>,
    mut tell: impl FnMut(&str),
) -> Result<BoardLock> {
    let (path, file) = open_lock_file(dirs, &key.file_name())?;
    let waiting_since = Instant::now();
    let deadline = timeout
        .and_then(|t| Duration::try_from_secs_f64(t).ok())
        .and_then(|t| waiting_since.checked_add(t));
    let mut told = false;
    while !try_lock(&file).with_context(|| format!("cannot lock {}", path.display()))? {
        let holder = Holder::read(&path);
        if !told && (holder.is_some() || waiting_since.elapsed() >= INFO_GRACE) {
            let limit = match timeout {
                Some(t) => format!("up to {} (--lock-timeout)", seconds(t)),
                None => "until it is free".to_owned(),
            };
            tell(&format!(
                "{} is in use: {}; waiting {limit} (lock file {})",
                key.describe(),
                Holder::describe(holder.as_ref()),
                path.display()
            ));
            told = true;
        }
        let now = Instant::now();
        if let Some(deadline) = deadline {
            if now >= deadline {
                bail!(
                    "{} is still in use after waiting {} (--lock-timeout / \
                     RVFLASH_LOCK_TIMEOUT): {} (lock file {})",
                    key.describe(),
                    seconds(timeout.unwrap_or_default()),
                    Holder::describe(holder.as_ref()),
                    path.display()
                );
            }
            std::thread::sleep(POLL.min(deadline - now));
        } else {
            std::thread::sleep(POLL);
        }
    }
    let info = Holder::mine(&key.board).to_text();
    file.set_len(0)
        .and_then(|()| file.write_all_at(info.as_bytes(), 0))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(BoardLock { file })
}

/// `1 s`, `2.5 s`.
fn seconds(t: f64) -> String {
    format!("{t} s")
}

/// Who holds a lock, as the holder wrote it into the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// When it took the lock, Unix seconds.
    pub started: u64,
    /// The board, as it named it.
    pub board: String,
    /// Its command line.
    pub command: String,
}

impl Holder {
    /// This process, about to hold `board`'s lock.
    fn mine(board: &str) -> Holder {
        let command = std::env::args_os()
            .map(|a| {
                let a = a.to_string_lossy().replace(['\n', '\r'], " ");
                if a.is_empty() || a.contains(char::is_whitespace) {
                    format!("'{a}'")
                } else {
                    a
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        Holder {
            pid: std::process::id(),
            started: unix_now(),
            board: board.replace(['\n', '\r'], " "),
            command,
        }
    }

    /// The lock file's text.
    fn to_text(&self) -> String {
        format!(
            "pid: {}\nstarted: {}\nboard: {}\ncommand: {}\n",
            self.pid, self.started, self.board, self.command
        )
    }

    /// Parses a lock file's text; `None` when it names no process (empty, being written).
    pub fn parse(text: &str) -> Option<Holder> {
        let mut holder = Holder {
            pid: 0,
            started: 0,
            board: String::new(),
            command: String::new(),
        };
        for line in text.lines() {
            let Some((name, value)) = line.split_once(": ") else {
                continue;
            };
            match name {
                "pid" => holder.pid = value.trim().parse().ok()?,
                "started" => holder.started = value.trim().parse().ok()?,
                "board" => holder.board = value.to_owned(),
                "command" => holder.command = value.to_owned(),
                _ => {}
            }
        }
        (holder.pid != 0 && !holder.command.is_empty()).then_some(holder)
    }

    /// The holder of the lock file at `path`, if the file names one that is alive (a process
    /// that just took the lock may not have written yet, leaving an old holder's text).
    fn read(path: &Path) -> Option<Holder> {
        let holder = Holder::parse(&std::fs::read_to_string(path).ok()?)?;
        let pid = libc::pid_t::try_from(holder.pid).ok()?;
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().kind() == ErrorKind::PermissionDenied;
        alive.then_some(holder)
    }

    /// `held by pid N since TIME (D ago): `COMMAND``, or that the holder is unknown.
    fn describe(holder: Option<&Holder>) -> String {
        let Some(h) = holder else {
            return "held by a process that has not said which (not an rvflash, or one that is \
                    just starting)"
                .to_owned();
        };
        let ago = unix_now().saturating_sub(h.started);
        format!(
            "held by pid {} since {} ({} ago): `{}`",
            h.pid,
            local_time(h.started),
            duration_text(ago),
            h.command
        )
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `2025-03-04 12:00:01` in local time (`@SECONDS` if the C library cannot say).
fn local_time(unix: u64) -> String {
    let Ok(t) = libc::time_t::try_from(unix) else {
        return format!("@{unix}");
    };
    // SAFETY: localtime_r writes into the zeroed struct we own; a null return is checked.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    if unsafe { libc::localtime_r(&t, &mut tm) }.is_null() {
        return format!("@{unix}");
    }
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// `42 s`, `5 min 3 s`, `2 h 10 min`.
fn duration_text(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs / 60 % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(run_lines: &str) -> Board {
        let text = format!(
            "name = \"b\"\ndescription = \"d\"\nisa = \"rv64imafdc\"\nlinker-script = \"sim.x\"\n\
             {run_lines}\nconsole = \"semihosting\"\nexit = \"semihosting\"\n\
             [[memory]]\nname = \"RAM\"\norigin = 0x8000_0000\nlength = 0x1000\n"
        );
        Board::parse(&text, "test").unwrap()
    }

    #[test]
    fn simulators_and_qemu_take_no_lock() {
        assert_eq!(Key::of(&board("run = \"sim\""), None), None);
        assert_eq!(Key::of(&board("run = \"qemu\""), Some("0403:6010")), None);
    }

    #[test]
    fn probe_boards_are_keyed_by_name_and_selector() {
        let p = board("run = \"probe-rs\"\nprobe-rs = { chip = \"c\", probe = \"0403:6010\" }");
        assert_eq!(Key::of(&p, None).unwrap().file_name(), "b@0403%3A6010.lock");
        // --probe wins; VID:PID in any case is one probe, the serial number keeps its case.
        let k = Key::of(&p, Some(" 0403:6010:AbC ")).unwrap();
        assert_eq!(k.file_name(), "b@0403%3A6010%3AAbC.lock");
        assert_eq!(
            Key::of(&p, Some("1D50:6018:x")).unwrap().file_name(),
            Key::of(&p, Some("1d50:6018:x")).unwrap().file_name()
        );
        assert_eq!(k.describe(), "board `b` (probe 0403:6010:AbC)");
        let no_probe = board("run = \"probe-rs\"\nprobe-rs = { chip = \"c\" }");
        assert_eq!(Key::of(&no_probe, None).unwrap().file_name(), "b.lock");
        let builtin = crate::board::select(Some("sim-probe-rs"), &[]).unwrap();
        assert_eq!(
            Key::of(&builtin, None).unwrap().file_name(),
            "sim-probe-rs.lock"
        );
    }

    #[test]
    fn gdb_boards_are_keyed_by_server_address_openocd_ones_by_name() {
        let remote = board("run = \"gdb\"\ngdb-server = \"lab-pc.local:3333\"");
        let key = Key::of(&remote, Some("ignored")).unwrap();
        assert_eq!(key.file_name(), "b@lab-pc.local%3A3333.lock");
        assert_eq!(key.describe(), "board `b` (GDB server lab-pc.local:3333)");
        let openocd = crate::board::select(Some("sim-openocd"), &[]).unwrap();
        let key = Key::of(&openocd, None).unwrap();
        assert_eq!(key.file_name(), "sim-openocd.lock");
        assert_eq!(key.describe(), "board `sim-openocd`");
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(file_name("..", None), "%2E..lock");
        assert_eq!(file_name("a/../b", Some("c d")), "a%2F..%2Fb@c%20d.lock");
        assert_eq!(file_name("ü", None), "%C3%BC.lock");
        let names = [
            file_name("a:b", None),
            file_name("a_b", None),
            file_name("a%3Ab", None),
            file_name("a", Some("b")),
            file_name("a@b", None),
            file_name("a", Some("@b")),
            file_name("a@", Some("b")),
        ];
        for (i, a) in names.iter().enumerate() {
            assert!(
                a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-%@".contains(&b)),
                "{a}"
            );
            for b in &names[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let long = "x".repeat(300);
        let (one, two) = (file_name(&long, Some("1")), file_name(&long, Some("2")));
        assert!(one.len() <= MAX_FILE_NAME + 5, "{}", one.len());
        assert_ne!(one, two);
        assert_eq!(one, file_name(&long, Some("1")));
    }

    #[test]
    fn lock_dirs_follow_xdg_then_home_then_tmp() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let dirs = lock_dirs(env(&[
            ("XDG_RUNTIME_DIR", "/run/user/7"),
            ("XDG_CACHE_HOME", "/c"),
            ("HOME", "/h"),
        ]));
        assert_eq!(dirs[0], Path::new("/run/user/7/rvflash"));
        assert_eq!(dirs[1], Path::new("/c/rvflash/locks"));
        assert!(dirs[2].starts_with(std::env::temp_dir()));
        // Relative or empty values are not directories the XDG spec allows.
        let dirs = lock_dirs(env(&[
            ("XDG_RUNTIME_DIR", ""),
            ("XDG_CACHE_HOME", "rel"),
            ("HOME", "/h"),
        ]));
        assert_eq!(dirs[0], Path::new("/h/.cache/rvflash/locks"));
        assert_eq!(dirs.len(), 2);
        assert_eq!(lock_dirs(env(&[])).len(), 1);
    }

    #[test]
    fn holder_text_round_trips() {
        let h = Holder::mine("b");
        assert_eq!(Holder::parse(&h.to_text()), Some(h));
        assert_eq!(Holder::parse(""), None);
        assert_eq!(Holder::parse("pid: 12\nstar"), None);
        assert_eq!(duration_text(5), "5 s");
        assert_eq!(duration_text(185), "3 min 5 s");
        assert_eq!(duration_text(7260), "2 h 1 min");
    }

    #[test]
    fn a_second_holder_waits_then_gives_up_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = vec![dir.path().join("missing/locks")];
        let key = Key::of(&board("run = \"gdb\"\ngdb-server = \"h:1\""), None).unwrap();
        let first = lock(&dirs, &key, None, |_| panic!("nothing to wait for")).unwrap();
        let path = dirs[0].join(key.file_name());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(&format!("pid: {}\n", std::process::id())));
        // Another open file description of the same file: flock treats it as another holder.
        let mut told = Vec::new();
        let started = Instant::now();
        let err = lock(&dirs, &key, Some(0.3), |t| told.push(t.to_owned()))
            .err()
            .unwrap()
            .to_string();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(told.len(), 1, "{told:?}");
        let pid = format!("held by pid {} since", std::process::id());
        assert!(told[0].contains(&pid), "{}", told[0]);
        assert!(
            told[0].starts_with("board `b` (GDB server h:1) is in use: held by pid"),
            "{}",
            told[0]
        );
        assert!(told[0].contains("; waiting up to 0.3 s (--lock-timeout) (lock file "));
        assert!(
            err.contains(&pid) && err.contains("--lock-timeout"),
            "{err}"
        );
        drop(first);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        let _again = lock(&dirs, &key, Some(0.3), |_| panic!("it is free")).unwrap();
    }
}
