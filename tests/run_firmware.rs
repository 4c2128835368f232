//! `cargo run` of the Rust test firmware (tests/firmware) with rvflash as the Cargo runner,
//! on every board of `run_support::boards()` (`sim`, `qemu-virt` and `sim-openocd` when QEMU
//! and OpenOCD are installed, `sim-probe-rs`): output, exit statuses, panics, traps,
//! timeouts, and agreement between them.

mod run_support;

use run_support::*;

const HELLO: &str = "Hello from rvflash test firmware!\n1 + 2 = 3\n";

#[test]
fn hello_prints_and_exits_0() {
    for board in boards() {
        let out = cargo_run("hello", &format!("--board {board}"));
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        assert_eq!(stdout(&out), HELLO, "{board}");
    }
}

#[test]
fn exit42_exits_42() {
    for board in boards() {
        let out = cargo_run("exit42", &format!("--board {board}"));
        assert_eq!(status(&out), 42, "{board}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{board}");
    }
}

#[test]
fn panic_prints_message_and_backtrace() {
    for board in boards() {
        let out = cargo_run("panic", &format!("--board {board}"));
        assert_eq!(status(&out), 101, "{board}: {}", stderr(&out));
        let (so, se) = (stdout(&out), stderr(&out));
        assert!(so.contains("about to panic\n"), "{board}: {so}");
        assert!(
            so.contains("panicked at src/bin/panic.rs:10:9: boom: value 7 is too big"),
            "{board}: {so}"
        );
        assert!(
            se.contains("rvflash: panic: src/bin/panic.rs:10:9: boom: value 7 is too big"),
            "{board}: {se}"
        );
        assert!(se.contains("panic::explode"), "{board}: {se}");
        assert!(se.contains("src/bin/panic.rs:10"), "{board}: {se}");
    }
}

/// A panic handler that never exits (`panic-halt`'s loop, or `wfi`) ends the run with 101 and
/// the message, which rvflash reads from the program; no timeout is needed.
#[test]
fn panic_then_halt_ends_with_101_and_the_message() {
    for (bin, message) in [
        (
            "panic_halt",
            "src/bin/panic_halt.rs:11:9: the value is 7, more than 2",
        ),
        ("panic_wfi", "src/bin/panic_wfi.rs:13:9: nothing left to do"),
    ] {
        for board in boards() {
            // The timeout only keeps a regression from hanging the suite.
            let out = cargo_run(bin, &format!("--board {board} --timeout 30"));
            let se = stderr(&out);
            assert_eq!(status(&out), 101, "{bin} on {board}: {se}");
            assert_eq!(stdout(&out), "about to panic\n", "{bin} on {board}");
            assert!(
                se.contains(&format!("rvflash: panic: {message}")),
                "{bin} on {board}: {se}"
            );
            assert!(se.contains("halted"), "{bin} on {board}: {se}");
        }
    }
}

#[test]
fn illegal_instruction_traps_with_134() {
    for board in boards() {
        let out = cargo_run("illegal", &format!("--board {board}"));
        assert_eq!(status(&out), 134, "{board}: {}", stderr(&out));
        let se = stderr(&out);
        assert!(
            se.contains("illegal instruction (mcause=2)"),
            "{board}: {se}"
        );
        assert!(se.contains("ra/x1"), "{board}: registers missing: {se}");
        assert!(se.contains("illegal::do_illegal"), "{board}: {se}");
        assert!(se.contains("main"), "{board}: {se}");
        assert_eq!(stdout(&out), "about to execute an illegal instruction\n");
    }
}

#[test]
fn spin_times_out_with_124() {
    for board in boards() {
        let started = std::time::Instant::now();
        let out = cargo_run("spin", &format!("--board {board} --timeout 2"));
        assert_eq!(status(&out), 124, "{board}: {}", stderr(&out));
        assert!(stderr(&out).contains("timed out"), "{board}");
        assert!(started.elapsed().as_secs() < 30, "{board}: took too long");
    }
}

#[test]
fn uart_float_atomic_and_timer_run() {
    for board in boards() {
        let out = cargo_run("uart", &format!("--board {board}"));
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        assert_eq!(stdout(&out), "Hello over the 16550 UART\n", "{board}");
        let out = cargo_run("float_atomic", &format!("--board {board}"));
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        let so = stdout(&out);
        assert!(so.contains("sqrt(2) = 1.414213562373\n"), "{board}: {so}");
        assert!(so.contains("counter = 42\n"), "{board}: {so}");
        let out = cargo_run("timer", &format!("--board {board}"));
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "timer interrupt taken: 1 tick(s)\n",
            "{board}"
        );
    }
}

#[test]
fn program_arguments_reach_the_program() {
    for board in boards() {
        let out = cargo_run_with_args("args", &format!("--board {board}"), &["one", "two,three"]);
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        assert_eq!(stdout(&out), "cmdline: args one two,three\n", "{board}");
    }
}

/// Host files through semihosting, below `--semihosting-dir` only.
#[test]
fn semihosting_files_below_the_directory() {
    for board in boards() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("input.txt"), "hello from the host\n").unwrap();
        let runner = format!("--board {board} --semihosting-dir {}", dir.path().display());
        let out = cargo_run("files", &runner);
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "input.txt has 20 bytes: hello from the host\n",
            "{board}"
        );
        let written = std::fs::read_to_string(dir.path().join("output.txt")).unwrap();
        assert_eq!(written, "written by the firmware\n", "{board}");
    }
}

/// Everything after FILE belongs to the program, even what looks like rvflash's options (the
/// Cargo runner contract: `RUNNER... BINARY ARGS...`).
#[test]
fn arguments_after_the_file_are_the_programs() {
    let program_args = ["--board", "sim", "--timeout", "3", "a"];
    for board in boards() {
        let out = cargo_run_with_args("args", &format!("--board {board}"), &program_args);
        assert_eq!(status(&out), 0, "{board}: {}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "cmdline: args --board sim --timeout 3 a\n",
            "{board}"
        );
    }
    // Directly, with and without `--` after FILE.
    let elf = firmware_elves().join("args");
    for dashes in [&[][..], &["--"][..]] {
        let out = rvflash_cmd()
            .arg("run")
            .arg(&elf)
            .args(dashes)
            .args(["--timeout", "3", "a"])
            .output()
            .unwrap();
        assert_eq!(status(&out), 0, "{}", stderr(&out));
        assert_eq!(stdout(&out), "cmdline: args --timeout 3 a\n");
    }
    // The board from the environment, for Cargo runners.
    let out = rvflash_cmd()
        .env("RVFLASH_BOARD", "no-such-board")
        .arg("run")
        .arg(&elf)
        .output()
        .unwrap();
    assert_eq!(status(&out), 125);
    assert!(stderr(&out).contains("no-such-board"), "{}", stderr(&out));
    // A misspelt option before FILE is not taken for the file.
    let out = rvflash_cmd()
        .args(["run", "--bord", "sim"])
        .arg(&elf)
        .output()
        .unwrap();
    assert_eq!(status(&out), 125);
    assert!(
        stderr(&out).contains("unknown option `--bord`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn no_catch_traps_lets_the_firmware_handler_run() {
    // riscv-rt's default exception handler loops forever: the run times out instead of
    // reporting a trap.
    let out = cargo_run("illegal", "--board sim --no-catch-traps --timeout 1");
    assert_eq!(status(&out), 124, "{}", stderr(&out));
}

#[test]
fn stats_are_printed() {
    let out = cargo_run("hello", "--board sim --stats");
    assert_eq!(status(&out), 0);
    assert!(stderr(&out).contains("instructions"), "{}", stderr(&out));
}

/// Every firmware binary gives the same stdout and status on sim, qemu-virt and sim-openocd.
#[test]
fn sim_and_qemu_agree() {
    for bin in [
        "hello",
        "exit42",
        "panic",
        "panic_halt",
        "panic_wfi",
        "illegal",
        "spin",
        "uart",
        "float_atomic",
        "timer",
        "args",
    ] {
        let sim = cargo_run(bin, "--board sim --timeout 2");
        for board in boards().into_iter().skip(1) {
            let other = cargo_run(bin, &format!("--board {board} --timeout 2"));
            assert_eq!(
                status(&sim),
                status(&other),
                "{bin}: exit status differs on {board}: {}",
                stderr(&other)
            );
            assert_eq!(
                stdout(&sim),
                stdout(&other),
                "{bin}: stdout differs on {board}"
            );
        }
    }
}
