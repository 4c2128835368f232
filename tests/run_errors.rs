//! `rvflash run` failures that are rvflash's own (exit status 125), boards from files, QEMU
//! process hygiene, and the form of rvflash's error messages on every subcommand.

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

/// Every board starts at the ELF entry, not at the start of RAM.
#[test]
fn execution_starts_at_the_entry_on_every_board() {
    let dir = tempfile::tempdir().unwrap();
    let elf = write(dir.path(), "at_0x80200000", &exit_elf(0x8020_0000, 9));
    let out = run(&[&elf]);
    assert_eq!(status(&out), 9, "{}", stderr(&out));
    if qemu_available() {
        let out = run(&["--board", "qemu-virt", &elf]);
        assert_eq!(status(&out), 9, "{}", stderr(&out));
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

// ---- the form of rvflash's own error messages, on every subcommand ----

/// `rvflash ARGS` run in `dir`, so that files can be named relative to it.
fn rvflash_in(dir: &Path, args: &[&str]) -> std::process::Output {
    rvflash_cmd()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run rvflash")
}

#[track_caller]
fn assert_error(out: &std::process::Output, wanted: &str) {
    let err = stderr(out);
    assert_eq!(status(out), 125, "{err}");
    assert!(err.starts_with("rvflash: error: "), "{err}");
    assert!(err.contains(wanted), "wanted {wanted:?} in:\n{err}");
}

#[test]
fn every_subcommand_prints_the_same_error_prefix() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["run", "missing.ssa"][..],
        &["build", "missing.ssa"],
        &["compile", "missing.ssa"],
        &["interp", "missing.ssa"],
        &["disasm", "missing.o"],
    ] {
        let out = rvflash_in(dir.path(), args);
        assert_error(&out, "cannot read missing.");
    }
}

#[test]
fn file_errors_name_the_file_and_say_when_it_is_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("folder.ssa")).unwrap();
    write(
        dir.path(),
        "ok.ssa",
        b"export function w $main() {\n@s\n\tret 0\n}\n",
    );
    let read = "cannot read folder.ssa: it is a directory";
    for args in [
        &["run", "folder.ssa"][..],
        &["build", "folder.ssa"],
        &["compile", "folder.ssa"],
        &["interp", "folder.ssa"],
        &["disasm", "folder.ssa"],
        &["run", "--board-file", "folder.ssa", "ok.ssa"],
    ] {
        assert_error(&rvflash_in(dir.path(), args), read);
    }
    let out = rvflash_in(dir.path(), &["compile", "ok.ssa", "-o", "folder.ssa"]);
    assert_error(&out, "cannot write folder.ssa: it is a directory");
}

#[test]
fn run_names_a_directory_given_as_the_program() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    let out = rvflash_in(dir.path(), &["run", "folder"]);
    assert_error(&out, "cannot read folder: it is a directory");
}

#[test]
fn il_commands_say_what_a_binary_file_is() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prog.elf", &exit_elf(0x8000_0000, 0));
    write(dir.path(), "data.ssa", b"\xff\xfe\0binary");
    for cmd in ["interp", "compile"] {
        let out = rvflash_in(dir.path(), &[cmd, "prog.elf"]);
        assert_error(&out, "prog.elf is an ELF file, not QBE IL text");
        let out = rvflash_in(dir.path(), &[cmd, "data.ssa"]);
        assert_error(&out, "data.ssa is not UTF-8 text (binary file?)");
    }
}

#[test]
fn link_errors_name_the_source_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = "export function w $main() {\n@start\n\t%r =w call $nosuch()\n\tret %r\n}\n";
    write(dir.path(), "prog.ssa", src.as_bytes());
    let temp = std::env::temp_dir().display().to_string();
    for cmd in ["build", "run"] {
        let out = rvflash_in(dir.path(), &[cmd, "prog.ssa"]);
        assert_error(&out, "nosuch");
        let err = stderr(&out);
        assert!(err.contains("prog.ssa:"), "{err}");
        // Not the temporary object the linker was given.
        assert!(!err.contains(&temp) && !err.contains(".o:"), "{err}");
    }
}

#[test]
fn segments_at_a_default_link_address_get_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let low = write(dir.path(), "low", &exit_elf(0x10000, 0));
    let out = run(&[&low]);
    assert_error(&out, "segment at 0x10000..");
    let err = stderr(&out);
    assert!(
        err.contains("linked without the board's memory map"),
        "{err}"
    );
    assert!(
        err.contains("-C link-arg=-Tmemory.x -C link-arg=-Tlink.x"),
        "{err}"
    );
    // Above the board's memory is a different mistake.
    let high = write(dir.path(), "high", &exit_elf(0x9000_0000, 0));
    let out = run(&[&high]);
    assert_error(&out, "outside the memory of board `sim`");
    assert!(!stderr(&out).contains("hint"), "{}", stderr(&out));
}
