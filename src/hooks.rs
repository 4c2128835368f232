//! Board hooks: commands a board file gives rvflash to run for a board it cannot power-cycle
//! or reset through the debugger (`crate::board`, keys `power-cycle`, `reset`,
//! `hook-timeout`).
//!
//! - `power-cycle = ["CMD", "ARG", ...]`: before the first load of a run with
//!   `--power-cycle`, and once per run when the board does not answer (see `crate::run`'s
//!   `connect`);
//! - `reset = ["CMD", ...]`: before every load (each run, each test of an embedded-test
//!   binary, each try), in place of the debugger's reset.
//!
//! A hook runs with the board file's directory as its working directory (the current one for
//! built-in boards). A program with a `/` in its name is a path, relative to that directory
//! when relative (`./power-cycle.sh`); a bare name is looked up in `PATH`. No shell is
//! involved: `["sh", "-c", "..."]` when one is wanted. The hook gets `RVFLASH_BOARD` (the
//! board's name) and `RVFLASH_HOOK` (`power-cycle`, `reset`) in its environment and no stdin.
//!
//! It must end within `hook-timeout` (default 60 s) and within the run's timeout. Its stdout
//! and stderr go to a log, copied to stderr with `--verbose` (`power-cycle: ...`) and quoted in
//! the error when it fails. A hook that cannot be started, exits with a status other than 0,
//! is killed by a signal or runs out of time is an rvflash failure (status 125), whose message
//! names the hook, its command, how it ended and what it printed.
//!
//! A hook is a [`Helper`]: its own process group, killed with rvflash (signals, `kill -9`
//! through `PR_SET_PDEATHSIG`). When it ends, its process group is killed too: nothing it
//! started in the background outlives it.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};

use crate::board::{Board, Hook};
use crate::target::child::{Helper, Spawn, Stderr, Stdout};

/// Most lines of a failed hook's output quoted in the error.
const OUTPUT_LINES: usize = 40;

/// Runs the board's hook `key` (`power-cycle`, `reset`), `hook`, to its end; `deadline` is the
/// run's. Fails when it does not succeed in time (see the module docs).
pub fn run(board: &Board, key: &str, hook: &Hook, deadline: Instant, verbose: bool) -> Result<()> {
    let shown = hook.display();
    let failed = || format!("board `{}`: the `{key}` hook `{shown}` failed", board.name);
    let dir = std::path::absolute(board.dir()).with_context(failed)?;
    let program = resolve(&hook.0[0], &dir).with_context(failed)?;
    let logs = crate::diag::temp_dir().with_context(failed)?;
    let mut cmd = Command::new(&program);
    cmd.args(&hook.0[1..])
        .current_dir(&dir)
        .env("RVFLASH_BOARD", &board.name)
        .env("RVFLASH_HOOK", key);
    let timeout = board.hook_timeout();
    if verbose {
        say(&format!(
            "running the board's `{key}` hook: {shown} (in {})",
            dir.display()
        ));
    }
    let started = Instant::now();
    let mut helper = Helper::spawn(
        cmd,
        Spawn {
            name: key,
            missing: "check the board file's command",
            stdout: Stdout::Log,
            stderr: Stderr::Log,
            log: Some(logs.path().join(format!("{key}.log"))),
            verbose,
        },
    )
    .with_context(failed)?;
    let left = deadline.saturating_duration_since(Instant::now());
    let status = helper.wait_exit(timeout.min(left));
    // Whatever it left behind goes (and with it the last holders of its pipes).
    helper.kill_group();
    let ended = match status {
        Some(status) if status.success() => None,
        Some(status) => Some(format!("it ended with {status}")),
        None => {
            helper.wait_exit(Duration::from_secs(2));
            Some(if timeout <= left {
                format!(
                    "it did not finish within {} (`hook-timeout`), and was killed",
                    seconds(timeout)
                )
            } else {
                "it was still running at the run's timeout (--timeout), and was killed".to_owned()
            })
        }
    };
    helper.wait_logs(Duration::from_secs(2));
    match ended {
        None => {
            if verbose {
                say(&format!(
                    "the `{key}` hook finished in {:.1} s",
                    started.elapsed().as_secs_f64()
                ));
            }
            Ok(())
        }
        Some(how) => Err(anyhow!("{how}{}", output(&helper.log_text())).context(failed())),
    }
}

/// The program of a hook's command: a path (relative to `dir`) when it has a `/`, else found
/// in `PATH` (the name is kept: the spawn looks it up the same way).
fn resolve(program: &str, dir: &Path) -> Result<PathBuf> {
    if program.contains('/') {
        let path = dir.join(program);
        if !path.is_file() {
            bail!(
                "there is no program {} (a command with a `/` is relative to the board file's \
                 directory)",
                path.display()
            );
        }
        return Ok(path);
    }
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| {
            let candidate = dir.join(d).join(program);
            candidate.is_file()
                && candidate
                    .metadata()
                    .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
        })
    });
    if !found {
        bail!(
            "there is no program `{program}` in PATH (write `./{program}` for one next to the \
             board file)"
        );
    }
    Ok(PathBuf::from(program))
}

/// What a hook printed, to end a message: `; its output:` and its last lines, indented.
fn output(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let lines = &lines[lines.len().saturating_sub(OUTPUT_LINES)..];
    if lines.iter().all(|l| l.is_empty()) {
        return "; it printed nothing".to_owned();
    }
    format!("; its output:\n  {}", lines.join("\n  "))
}

/// `60 s`, `2.5 s`.
fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn say(text: &str) {
    writeln!(std::io::stderr().lock(), "rvflash: {text}").ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(dir: &Path, timeout: &str) -> Board {
        let text = include_str!("../boards/sim.toml")
            .replace("run = \"sim\"", "run = \"gdb\"")
            .replacen(
                "[[memory]]",
                &format!("gdb-server = \"h:1\"\nhook-timeout = {timeout}\n[[memory]]"),
                1,
            );
        let path = dir.join("b.toml");
        std::fs::write(&path, text).unwrap();
        Board::from_file(&path).unwrap()
    }

    fn hook(words: &[&str]) -> Hook {
        Hook(words.iter().map(|w| (*w).to_owned()).collect())
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(600)
    }

    #[test]
    fn runs_in_the_board_files_directory() {
        let dir = tempfile::tempdir().unwrap();
        let b = board(dir.path(), "10");
        std::fs::write(
            dir.path().join("hook.sh"),
            "#!/bin/sh\necho \"$RVFLASH_HOOK $RVFLASH_BOARD $1\" >> ran\n",
        )
        .unwrap();
        std::fs::set_permissions(
            dir.path().join("hook.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        run(
            &b,
            "power-cycle",
            &hook(&["./hook.sh", "a b"]),
            far(),
            false,
        )
        .unwrap();
        let ran = std::fs::read_to_string(dir.path().join("ran")).unwrap();
        assert_eq!(ran, format!("power-cycle {} a b\n", b.name));
    }

    #[test]
    fn failures_say_what_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let b = board(dir.path(), "0.5");
        let err = |words: &[&str]| {
            format!(
                "{:#}",
                run(&b, "reset", &hook(words), far(), false).unwrap_err()
            )
        };
        let e = err(&["sh", "-c", "echo relay stuck; echo oops >&2; exit 3"]);
        assert!(e.contains("`reset` hook `sh -c 'echo relay"), "{e}");
        assert!(e.contains("exit status: 3"), "{e}");
        assert!(e.contains("relay stuck") && e.contains("oops"), "{e}");
        let e = err(&["sh", "-c", "kill -9 $$"]);
        assert!(e.contains("signal: 9"), "{e}");
        let e = err(&["sh", "-c", "exec sleep 30"]);
        assert!(e.contains("within 0.5 s (`hook-timeout`)"), "{e}");
        assert!(e.contains("printed nothing"), "{e}");
        let e = err(&["./missing.sh"]);
        assert!(
            e.contains("there is no program") && e.contains("missing.sh"),
            "{e}"
        );
        let e = err(&["no-such-program-rvflash"]);
        assert!(e.contains("in PATH"), "{e}");
        // The run's timeout comes first.
        let soon = Instant::now() + Duration::from_millis(200);
        let e = format!(
            "{:#}",
            run(&b, "reset", &hook(&["sleep", "30"]), soon, false).unwrap_err()
        );
        assert!(e.contains("run's timeout"), "{e}");
    }

    #[test]
    fn nothing_it_started_outlives_it() {
        let dir = tempfile::tempdir().unwrap();
        let b = board(dir.path(), "10");
        let started = Instant::now();
        run(
            &b,
            "power-cycle",
            &hook(&["sh", "-c", "sleep 30 & echo $! > bg; echo done"]),
            far(),
            false,
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid: i32 = std::fs::read_to_string(dir.path().join("bg"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
            stat.map_or(true, |s| s.contains(") Z"))
        });
        assert!(gone, "the hook's background process outlived it");
    }
}
