//! Board hooks end to end, through the real `rvflash` binary, on a board behind a real GDB
//! server (QEMU's gdbstub, as `gdb-server = "HOST:PORT"`), whose hooks are shell scripts next
//! to the board file that append a line to a file there:
//!
//! - `--power-cycle` runs the `power-cycle` hook once, in the board file's directory (rvflash
//!   itself runs elsewhere), then the program; `--verbose` shows what the hook printed;
//! - a board that does not answer at first (a proxy that closes the first connections) is
//!   power-cycled automatically, once, and the run goes on;
//! - a hook that fails (exit 3, with output), is not there, or runs out of `hook-timeout` is
//!   status 125 with a message that names it and quotes its output, and nothing it started
//!   is left running;
//! - a `reset` array hook runs before each load: each test of an embedded-test binary, each
//!   retry.
//!
//! Skipped (with a note) when QEMU is not installed.

mod run_support;

use std::time::{Duration, Instant};

use run_support::*;

/// The power-cycle hook: appends `power-cycle BOARD` to `hooks.log` (relative: in the board
/// file's directory, its working directory) and says something.
const POWER_CYCLE: &str =
    "echo \"power-cycle $RVFLASH_BOARD\" >> hooks.log\necho 'relay 4: off, on'";

/// The reset hook: appends `reset` to `hooks.log`.
const RESET: &str = "echo reset >> hooks.log\necho 'reset line pulsed' >&2";

#[test]
fn power_cycle_flag_runs_the_hook_once_then_the_program() {
    if !qemu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_script(dir.path(), "power-cycle.sh", POWER_CYCLE);
    let log = dir.path().join("hooks.log");
    let elf = exit_program(dir.path(), 7);
    let qemu = QemuServer::start();
    let board = gdb_board_with(
        dir.path(),
        &qemu.addr,
        "power-cycle = [\"./power-cycle.sh\"]",
    );
    let out = run_board_file(&board, &["--power-cycle", "--verbose"], &elf);
    let err = stderr(&out);
    assert_eq!(status(&out), 7, "{err}");
    assert_eq!(lines_of(&log), ["power-cycle remote"], "{err}");
    assert!(err.contains("power-cycle: relay 4: off, on"), "{err}");
    assert!(
        err.contains("running the board's `power-cycle` hook"),
        "{err}"
    );
    drop(qemu);
    // Without --power-cycle (or --verbose): no power cycle, and nothing of it said.
    let qemu = QemuServer::start();
    let board = gdb_board_with(
        dir.path(),
        &qemu.addr,
        "power-cycle = [\"./power-cycle.sh\"]",
    );
    let out = run_board_file(&board, &[], &elf);
    assert_eq!(status(&out), 7, "{}", stderr(&out));
    assert_eq!(lines_of(&log).len(), 1);
    assert!(!stderr(&out).contains("relay"), "{}", stderr(&out));
}

#[test]
fn a_board_that_does_not_answer_is_power_cycled_once_and_the_run_goes_on() {
    if !qemu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_script(dir.path(), "power-cycle.sh", POWER_CYCLE);
    let log = dir.path().join("hooks.log");
    let qemu = QemuServer::start();
    // Two connections closed at once: two retries, one power cycle.
    let proxy = RefusingProxy::start(&qemu.addr, 2);
    let board = gdb_board_with(
        dir.path(),
        &proxy.addr,
        "power-cycle = [\"./power-cycle.sh\"]",
    );
    let out = run_board_file(&board, &[], &exit_program(dir.path(), 7));
    let err = stderr(&out);
    assert_eq!(status(&out), 7, "{err}");
    assert_eq!(lines_of(&log), ["power-cycle remote"], "{err}");
    assert_eq!(proxy.connections(), 3, "{err}");
    assert!(
        err.contains("board `remote` did not answer")
            && err.contains("closed the connection")
            && err.contains("power-cycling it")
            && err.contains("retry 1 of 2")
            && err.contains("retry 2 of 2"),
        "{err}"
    );
    // The power cycle is said once, with the first retry.
    assert_eq!(err.matches("power-cycling").count(), 1, "{err}");
}

#[test]
fn a_failing_hook_is_an_rvflash_failure_with_its_output() {
    let dir = tempfile::tempdir().unwrap();
    write_script(
        dir.path(),
        "power-cycle.sh",
        "echo 'relay 4 stuck'\necho 'no answer from the PDU' >&2\nexit 3",
    );
    // Nothing listens there: the hook fails before rvflash connects.
    let proxy = RefusingProxy::start("127.0.0.1:9", 0);
    let board = gdb_board_with(
        dir.path(),
        &proxy.addr,
        "power-cycle = [\"./power-cycle.sh\", \"lab 4\"]",
    );
    let elf = exit_program(dir.path(), 7);
    let out = run_board_file(&board, &["--power-cycle"], &elf);
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    for wanted in [
        "the `power-cycle` hook `./power-cycle.sh 'lab 4'` failed",
        "exit status: 3",
        "relay 4 stuck",
        "no answer from the PDU",
    ] {
        assert!(err.contains(wanted), "wanted {wanted:?} in:\n{err}");
    }
    assert_eq!(proxy.connections(), 0, "{err}");

    // A hook that is not there, and --power-cycle for a board without the hook.
    let board = gdb_board_with(dir.path(), &proxy.addr, "power-cycle = [\"./gone.sh\"]");
    let out = run_board_file(&board, &["--power-cycle"], &elf);
    assert_eq!(status(&out), 125);
    assert!(
        stderr(&out).contains("there is no program") && stderr(&out).contains("gone.sh"),
        "{}",
        stderr(&out)
    );
    let board = gdb_board(dir.path(), &proxy.addr);
    let out = run_board_file(&board, &["--power-cycle"], &elf);
    assert_eq!(status(&out), 125);
    assert!(
        stderr(&out).contains("has no `power-cycle` hook"),
        "{}",
        stderr(&out)
    );

    // A hook that hangs: killed at `hook-timeout`, with what it started.
    write_script(
        dir.path(),
        "hang.sh",
        "echo $$ > hang.pid\nsleep 60 &\necho $! > sleep.pid\necho 'waiting for the PDU'\nwait",
    );
    let board = gdb_board_with(
        dir.path(),
        &proxy.addr,
        "reset = [\"./hang.sh\"]\nhook-timeout = 1",
    );
    let started = Instant::now();
    let out = run_board_file(&board, &[], &elf);
    let err = stderr(&out);
    assert_eq!(status(&out), 125, "{err}");
    assert!(
        err.contains("the `reset` hook `./hang.sh` failed")
            && err.contains("did not finish within 1 s")
            && err.contains("waiting for the PDU"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    for pid in ["hang.pid", "sleep.pid"] {
        let pid = std::fs::read_to_string(dir.path().join(pid)).unwrap();
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
        assert!(
            stat.is_err() || stat.unwrap().contains(") Z"),
            "{pid} outlived rvflash"
        );
    }
    assert_eq!(proxy.connections(), 0, "{err}");
}

#[test]
fn a_reset_hook_runs_before_each_load() {
    if !qemu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_script(dir.path(), "reset.sh", RESET);
    let log = dir.path().join("hooks.log");
    // An embedded-test binary: one load per test (`passes` selects two of them).
    let qemu = QemuServer::start();
    let board = gdb_board_with(dir.path(), &qemu.addr, "reset = [\"./reset.sh\"]");
    let tests = release_firmware_test("device");
    let out = rvflash_cmd()
        .arg("run")
        .arg("--board-file")
        .arg(&board)
        .arg(&tests)
        .arg("passes")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("running 2 tests"), "{text}\n{}", stderr(&out));
    assert!(text.contains("test tests::passes ... ok"), "{text}");
    assert_eq!(lines_of(&log), ["reset", "reset"], "{}", stderr(&out));
    drop(qemu);
    // A plain run that needs a retry: the hook runs before each try.
    std::fs::remove_file(&log).unwrap();
    let qemu = QemuServer::start();
    let proxy = RefusingProxy::start(&qemu.addr, 1);
    let board = gdb_board_with(dir.path(), &proxy.addr, "reset = [\"./reset.sh\"]");
    let out = run_board_file(&board, &[], &exit_program(dir.path(), 7));
    assert_eq!(status(&out), 7, "{}", stderr(&out));
    assert_eq!(lines_of(&log), ["reset", "reset"], "{}", stderr(&out));
    // Its output is shown with --verbose only.
    assert!(!stderr(&out).contains("reset line pulsed"));
}

/// On a board behind a probe (the simulated one, through the real probe-rs crate), a reset
/// hook runs before the load and the hart is only halted, not reset: the program runs.
#[cfg(feature = "probe-rs")]
#[test]
fn a_reset_hook_on_a_probe_board() {
    let dir = tempfile::tempdir().unwrap();
    write_script(dir.path(), "reset.sh", RESET);
    let board = dir.path().join("probe.toml");
    std::fs::write(
        &board,
        "name = \"probe\"\ndescription = \"the simulated board behind probe-rs\"\n\
         isa = \"rv64imafdc_zicsr_zifencei\"\nlinker-script = \"sim.x\"\nrun = \"probe-rs\"\n\
         console = \"semihosting\"\nexit = \"semihosting\"\n\
         probe-rs = { chip = \"rvflash-sim\", chip-description = \"rvflash-sim.yaml\", serve = \"sim\" }\n\
         reset = [\"./reset.sh\"]\n\n\
         [[memory]]\nname = \"RAM\"\norigin = 0x8000_0000\nlength = 0x0800_0000\n",
    )
    .unwrap();
    let out = run_board_file(&board, &["--verbose"], &exit_program(dir.path(), 7));
    let err = stderr(&out);
    assert_eq!(status(&out), 7, "{err}");
    assert_eq!(lines_of(&dir.path().join("hooks.log")), ["reset"], "{err}");
    assert!(err.contains("reset: reset line pulsed"), "{err}");
}
