//! The board lock (src/board_lock.rs), through real rvflash processes: runs on one board behind
//! a probe or a GDB server take turns, a waiter says whom it waits for and gives up after
//! `--lock-timeout` naming the holder, Ctrl-C ends a waiter, and `sim` runs take no lock.
//!
//! Boards: `sim-probe-rs` (with the `probe-rs` feature), `sim-openocd` (when OpenOCD is
//! installed), and a `gdb-server` board whose "server" is a socket of the test that never
//! answers (always). Every test has its own `XDG_RUNTIME_DIR`, which is where the locks go, so
//! tests neither collide with each other nor with the user's runs; leftover processes are found
//! by that directory in their environment.

mod run_support;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use run_support::*;

/// The boards that lock and that this build and machine can run.
fn lockable_boards() -> Vec<&'static str> {
    boards()
        .into_iter()
        .filter(|b| matches!(*b, "sim-probe-rs" | "sim-openocd"))
        .collect()
}

/// `rvflash` with `dir` as the runtime directory and none of the user's lock settings.
fn rvflash_in(dir: &Path) -> Command {
    let mut cmd = rvflash_cmd();
    cmd.env("XDG_RUNTIME_DIR", dir)
        .env_remove("RVFLASH_LOCK_TIMEOUT")
        .env_remove("RVFLASH_PROBE")
        .env_remove("RVFLASH_BOARD")
        .env_remove("RVFLASH_MESSAGE_FORMAT");
    cmd
}

fn firmware(name: &str) -> PathBuf {
    firmware_elves().join(name)
}

/// The pids that `held by pid N` names in `text`.
fn holders_named(text: &str) -> Vec<u32> {
    text.split("held by pid ")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

/// The lines of a child's pipe, as they come.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits up to `within` for a line containing `needle`; panics with what came otherwise.
fn wait_for_line(lines: &mpsc::Receiver<String>, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    panic!(
        "no line with `{needle}` within {within:?}; got:\n{}",
        seen.join("\n")
    );
}

/// Kills and reaps `child`.
fn kill(mut child: Child) {
    child.kill().ok();
    child.wait().ok();
}

/// Waits up to `within` for `child` to end; its status code, or `None` if it is still running.
fn wait_within(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn three_runs_on_one_board_take_turns() {
    for board in lockable_boards() {
        let dir = tempfile::tempdir().unwrap();
        let children: Vec<Child> = (0..3)
            .map(|_| {
                rvflash_in(dir.path())
                    .args(["run", "--board", board, "--timeout", "60"])
                    .arg(firmware("hello"))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let pids: Vec<u32> = children.iter().map(Child::id).collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let mut waited = 0;
        for (out, pid) in outs.iter().zip(&pids) {
            let (text, err) = (stdout(out), stderr(out));
            assert_eq!(status(out), 0, "{board}, pid {pid}:\n{text}\n{err}");
            assert_eq!(
                text, "Hello from rvflash test firmware!\n1 + 2 = 3\n",
                "{board}, pid {pid}:\n{err}"
            );
            let named = holders_named(&err);
            // A waiter says so once, naming one of the other two runs: the holder wrote its
            // pid into the lock file after taking the lock.
            assert!(
                named.len() <= 1,
                "{board}: said it waits more than once:\n{err}"
            );
            if let Some(holder) = named.first() {
                assert!(
                    holder != pid && pids.contains(holder),
                    "{board}: pid {pid} waited for {holder}, not one of the others {pids:?}:\n{err}"
                );
                assert!(
                    err.contains(&format!(
                        "rvflash: lock: board `{board}` is in use: held by pid"
                    )) && err.contains(" ago): `")
                        && err.contains("hello`; waiting until it is free (lock file "),
                    "{board}:\n{err}"
                );
                waited += 1;
            }
        }
        // All three started at once and a run takes more than a second: the first one held the
        // board while the other two waited. Without the lock nobody waits.
        assert!(waited >= 2, "{board}: {waited} of 3 runs waited");
        // The lock file stays (removing it would be racy), emptied by its last holder.
        let file = dir.path().join(format!("rvflash/{board}.lock"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "", "{board}");
        assert_eq!(leftovers_in(dir.path()), Vec::<u32>::new(), "{board}");
    }
}

#[test]
fn a_waiter_gives_up_after_lock_timeout_naming_the_holder() {
    for board in lockable_boards() {
        let dir = tempfile::tempdir().unwrap();
        let mut holder = rvflash_in(dir.path())
            .args(["run", "--board", board, "--timeout", "20"])
            .arg(firmware("spin"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let holder_pid = holder.id();
        let lines = lines_of(holder.stdout.take().unwrap());
        // Running the program: it has held the board since before loading it.
        wait_for_line(&lines, "spinning forever", Duration::from_secs(30));
        let file = dir.path().join(format!("rvflash/{board}.lock"));
        let info = std::fs::read_to_string(&file).unwrap();
        assert!(info.starts_with(&format!("pid: {holder_pid}\n")), "{info}");
        assert!(info.contains(&format!("\nboard: {board}\n")), "{info}");

        // Human messages: the wait, then the error (status 125) within the lock timeout.
        let started = Instant::now();
        let out = rvflash_in(dir.path())
            .args(["run", "--board", board, "--lock-timeout", "1"])
            .arg(firmware("hello"))
            .output()
            .unwrap();
        let took = started.elapsed();
        let err = stderr(&out);
        assert_eq!(status(&out), 125, "{board}:\n{err}");
        assert!(took >= Duration::from_secs(1), "{board}: {took:?}");
        assert!(took < Duration::from_secs(5), "{board}: {took:?}\n{err}");
        assert_eq!(stdout(&out), "", "{board}");
        assert_eq!(
            holders_named(&err),
            vec![holder_pid, holder_pid],
            "{board}:\n{err}"
        );
        assert!(
            err.contains(&format!(
                "rvflash: lock: board `{board}` is in use: held by pid {holder_pid} since "
            )) && err.contains("; waiting up to 1 s (--lock-timeout) (lock file "),
            "{board}:\n{err}"
        );
        let error = err
            .lines()
            .find(|l| l.starts_with("rvflash: error: "))
            .unwrap_or_else(|| panic!("{board}: no error:\n{err}"));
        assert!(
            error.contains(&format!(
                "board `{board}` is still in use after waiting 1 s (--lock-timeout / \
                 RVFLASH_LOCK_TIMEOUT): held by pid {holder_pid} since "
            )) && error.contains("spin`")
                && error.contains(&file.display().to_string()),
            "{board}: {error}"
        );

        // JSON: stdout stays JSON, the wait is a warning event and the failure an error event.
        let out = rvflash_in(dir.path())
            .args(["run", "--board", board, "--message-format", "json"])
            .arg(firmware("hello"))
            .env("RVFLASH_LOCK_TIMEOUT", "0.5")
            .output()
            .unwrap();
        assert_eq!(status(&out), 125, "{board}: {}", stderr(&out));
        let events: Vec<serde_json::Value> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["start", "warning", "error", "exit"], "{board}");
        let pid = format!("held by pid {holder_pid} since");
        assert!(
            events[1]["message"].as_str().unwrap().contains(&pid),
            "{board}"
        );
        assert!(
            events[2]["message"].as_str().unwrap().contains(&pid),
            "{board}"
        );
        assert_eq!(events[3]["status"], 125, "{board}");

        // Ctrl-C ends a waiter that would wait forever.
        let mut waiter = rvflash_in(dir.path())
            .args(["run", "--board", board])
            .arg(firmware("hello"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = lines_of(waiter.stderr.take().unwrap());
        wait_for_line(&err, "is in use", Duration::from_secs(10));
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(waiter.id() as i32, libc::SIGINT) };
        let ended = wait_within(&mut waiter, Duration::from_secs(2));
        if ended.is_none() {
            kill(waiter);
            panic!("{board}: a waiter outlived Ctrl-C");
        }

        // The holder was not disturbed: still running its program.
        assert!(
            holder.try_wait().unwrap().is_none(),
            "{board}: the holder ended"
        );
        kill(holder);
        assert_eq!(leftovers_in(dir.path()), Vec::<u32>::new(), "{board}");
    }
}

/// A "GDB server" that accepts connections and never answers; `accepted` receives each one.
fn silent_server() -> (String, mpsc::Receiver<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if tx.send(stream).is_err() {
                break;
            }
        }
    });
    (addr, rx)
}

#[test]
fn gdb_server_boards_lock_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, accepted) = silent_server();
    let board_dir = tempfile::tempdir().unwrap();
    let board = gdb_board(board_dir.path(), &addr);
    let holder = rvflash_in(dir.path())
        .args(["run", "--timeout", "30", "--board-file"])
        .arg(&board)
        .arg(firmware("hello"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // rvflash connects to the server only once it holds the board.
    let _conn = accepted.recv_timeout(Duration::from_secs(10)).unwrap();
    let started = Instant::now();
    let out = rvflash_in(dir.path())
        .args(["run", "--lock-timeout", "0.5", "--board-file"])
        .arg(&board)
        .arg(firmware("hello"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(started.elapsed() < Duration::from_secs(4), "{err}");
    assert!(
        err.contains(&format!(
            "board `remote` (GDB server {addr}) is still in use after waiting 0.5 s"
        )),
        "{err}"
    );
    assert_eq!(holders_named(&err), vec![holder.id(), holder.id()], "{err}");
    assert!(
        accepted.try_recv().is_err(),
        "the waiter reached the server"
    );

    // The same board name at another address is another board: no waiting.
    let (other_addr, other_accepted) = silent_server();
    let other_dir = tempfile::tempdir().unwrap();
    let other = gdb_board(other_dir.path(), &other_addr);
    let mut second = rvflash_in(dir.path())
        .args([
            "run",
            "--timeout",
            "30",
            "--lock-timeout",
            "0.5",
            "--board-file",
        ])
        .arg(&other)
        .arg(firmware("hello"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reached = other_accepted.recv_timeout(Duration::from_secs(10));
    assert!(
        second.try_wait().unwrap().is_none(),
        "the run at {other_addr} ended"
    );
    kill(second);
    assert!(reached.is_ok(), "the run at {other_addr} did not connect");
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("rvflash"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected = vec![
        format!("remote@{}.lock", addr.replace(':', "%3A")),
        format!("remote@{}.lock", other_addr.replace(':', "%3A")),
    ];
    expected.sort();
    assert_eq!(names, expected);

    kill(holder);
    assert_eq!(leftovers_in(dir.path()), Vec::<u32>::new());
}

#[test]
fn sim_runs_take_no_lock() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = (0..2)
        .map(|_| {
            rvflash_in(dir.path())
                .args(["run", "--board", "sim", "--lock-timeout", "0.1"])
                .arg(firmware("hello"))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(status(&out), 0, "{}", stderr(&out));
        assert!(!stderr(&out).contains("in use"), "{}", stderr(&out));
    }
    assert!(
        !dir.path().join("rvflash").exists(),
        "a sim run made a lock directory"
    );
}

/// What is left running with `dir` as its runtime directory.
fn leftovers_in(dir: &Path) -> Vec<u32> {
    processes_with_env("XDG_RUNTIME_DIR", &dir.display().to_string())
}
