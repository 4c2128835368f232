//! `rvflash run` failures that are rvflash's own (exit status 125), boards from files, and
//! QEMU process hygiene.

mod run_support;

use std::path::Path;
use std::time::{Duration, Instant};

use run_support::*;

fn run(args: &[&str]) -> std::process::Output {
    rvflash_cmd()
        .arg("run")
        .args(args)
        .output()
        .expect("run rvflash")
}

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path.to_string_lossy().into_owned()
}

const BOARD: &str = r#"name = "tiny"
description = "a small RAM at 0x8000_0000 on the simulator"
isa = "rv64gc"
linker-script = "tiny.x"
run = "sim"
console = "semihosting"
exit = "semihosting"

[[memory]]
name = "RAM"
origin = 0x8000_0000
length = 0x10_0000
"#;

#[test]
fn tiny_elf_exits_with_its_code_on_sim() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write(dir.path(), "exit7", &exit_elf(0x8000_0000, 7));
    let out = run(&[&elf]);
    assert_eq!(status(&out), 7, "{}", stderr(&out));
    if qemu_available() {
        let out = run(&["--board", "qemu-virt", &elf]);
        assert_eq!(status(&out), 7, "{}", stderr(&out));
    }
}

#[test]
fn board_file_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let board = write(dir.path(), "tiny.toml", BOARD.as_bytes());
    let elf = write(dir.path(), "exit7", &exit_elf(0x8000_0000, 7));
    let out = run(&["--board-file", &board, &elf]);
    assert_eq!(status(&out), 7, "{}", stderr(&out));
    let out = run(&["--board-file", &board, "--board", "tiny", &elf]);
    assert_eq!(status(&out), 7, "{}", stderr(&out));
}

#[test]
fn not_an_elf_is_125() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "notes.txt", b"just text\n");
    let out = run(&[&file]);
    assert_eq!(status(&out), 125);
    assert!(stderr(&out).contains("not an ELF file"), "{}", stderr(&out));
    let out = run(&[&dir.path().join("missing").to_string_lossy()]);
    assert_eq!(status(&out), 125);
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn wrong_architecture_is_125() {
    // The host binary itself is an ELF for another machine.
    let out = run(&[rvflash()]);
    assert_eq!(status(&out), 125);
    assert!(
        stderr(&out).contains("not an RV64 program"),
        "{}",
        stderr(&out)
    );
    let dir = tempfile::tempdir().unwrap();
    let arm = write(dir.path(), "arm", &elf(0x8000_0000, 183, &[0; 8]));
    let out = run(&[&arm]);
    assert_eq!(status(&out), 125);
    assert!(
        stderr(&out).contains("not an RV64 program"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn segments_outside_memory_are_125() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write(dir.path(), "high", &exit_elf(0x9000_0000, 0));
    let out = run(&[&elf]);
    assert_eq!(status(&out), 125);
    let err = stderr(&out);
    assert!(err.contains("outside the memory of board `sim`"), "{err}");
    assert!(err.contains("0x90000000"), "{err}");
}

#[test]
fn unknown_board_is_125() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write(dir.path(), "exit7", &exit_elf(0x8000_0000, 7));
    let out = run(&["--board", "nonesuch", &elf]);
    assert_eq!(status(&out), 125);
    let err = stderr(&out);
    assert!(
        err.contains("unknown board `nonesuch`") && err.contains("qemu-virt"),
        "{err}"
    );
}

#[test]
fn bad_board_file_names_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write(dir.path(), "exit7", &exit_elf(0x8000_0000, 7));
    let bad = BOARD.replace("console = ", "colsone = ");
    let board = write(dir.path(), "bad.toml", bad.as_bytes());
    let out = run(&["--board-file", &board, &elf]);
    assert_eq!(status(&out), 125);
    let err = stderr(&out);
    assert!(err.contains("bad.toml") && err.contains("colsone"), "{err}");
    assert!(err.contains("line 6"), "{err}");
    let bad = BOARD.replace("run = \"sim\"", "run = \"teleport\"");
    let board = write(dir.path(), "bad2.toml", bad.as_bytes());
    let out = run(&["--board-file", &board, &elf]);
    assert_eq!(status(&out), 125);
    let err = stderr(&out);
    assert!(
        err.contains("bad2.toml") && err.contains("teleport"),
        "{err}"
    );
}

#[test]
fn missing_qemu_is_125_naming_the_package() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write(dir.path(), "exit7", &exit_elf(0x8000_0000, 7));
    let out = rvflash_cmd()
        .env("RVFLASH_QEMU", dir.path().join("no-such-qemu"))
        .args(["run", "--board", "qemu-virt", &elf])
        .output()
        .unwrap();
    assert_eq!(status(&out), 125);
    assert!(
        stderr(&out).contains("qemu-system-misc"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_timeout_value_is_rejected() {
    let out = rvflash_cmd()
        .env("RVFLASH_TIMEOUT", "soon")
        .args(["run", "x"])
        .output()
        .unwrap();
    assert_ne!(status(&out), 0, "a bad RVFLASH_TIMEOUT is an error");
}

/// Waits until no process mentions `needle`; returns false after 5 s.
fn gone(needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if processes_mentioning(needle).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A spinning program under a unique name (so that its QEMU can be found in /proc).
fn spinning_elf(dir: &Path, name: &str) -> String {
    // `j .` at 0x8000_0000.
    write(
        dir,
        name,
        &elf(0x8000_0000, 243, &0x0000_006fu32.to_le_bytes()),
    )
}

#[test]
fn qemu_is_gone_after_timeout_sigint_and_sigkill() {
    if !qemu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Timeout.
    let elf = spinning_elf(dir.path(), "spin-timeout");
    let out = run(&["--board", "qemu-virt", "--timeout", "1", &elf]);
    assert_eq!(status(&out), 124, "{}", stderr(&out));
    assert!(gone(&elf), "QEMU left behind after a timeout");
    // SIGINT and SIGKILL to rvflash.
    for (sig, name) in [("INT", "spin-sigint"), ("KILL", "spin-sigkill")] {
        let elf = spinning_elf(dir.path(), name);
        let mut child = rvflash_cmd()
            .args(["run", "--board", "qemu-virt", &elf])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while processes_mentioning(&format!("-kernel\0{elf}")).is_empty() {
            assert!(Instant::now() < deadline, "QEMU did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        std::process::Command::new("kill")
            .args([format!("-{sig}"), child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap();
        assert!(gone(&elf), "QEMU left behind after SIG{sig}");
    }
}
