//! `rvflash new`: the generated project builds and `cargo run` (debug and release) prints its
//! hello line and exits 0 on every built-in board, with the rvflash under test found on PATH
//! exactly as the generated `.cargo/config.toml` asks; `--defmt` projects too. This is also
//! the test of the real `semihosting` crate on every board. And `rvflash new`'s errors.

mod run_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use run_support::*;

/// The one target directory of every generated project: dependencies compile once per profile.
fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("new-project")
}

/// `rvflash new ARGS` run in `dir`.
fn rvflash_new(dir: &Path, args: &[&str]) -> Output {
    rvflash_cmd()
        .current_dir(dir)
        .arg("new")
        .args(args)
        .output()
        .expect("run rvflash")
}

/// `cargo` in `project`, with the rvflash under test first on PATH and a clean build
/// environment (the generated config decides target, rustflags and runner).
fn project_cargo(project: &Path) -> Command {
    let bin_dir = Path::new(rvflash()).parent().expect("rvflash's directory");
    let old_path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf()).chain(std::env::split_paths(&old_path)),
    )
    .expect("PATH");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(project)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_RISCV64GC_UNKNOWN_NONE_ELF_RUNNER")
        .env_remove("CI")
        // Not the caller's timeout, but one: a hang fails this test instead of stalling CI.
        .env("RVFLASH_TIMEOUT", "120");
    cmd
}

/// Generates project `name` with `rvflash new NAME ARGS`, then checks that `cargo run` with
/// each of `profiles`' arguments prints its hello line and exits 0.
fn new_project_runs(name: &str, args: &[&str], profiles: &[&[&str]]) {
    let tmp = tempfile::tempdir().unwrap();
    let out = rvflash_new(tmp.path(), &[&[name], args].concat());
    assert_eq!(status(&out), 0, "rvflash new {name}: {}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("cd {name} && cargo run")),
        "{}",
        stderr(&out)
    );
    let project = tmp.path().join(name);
    for &profile in profiles {
        let out = project_cargo(&project)
            .arg("run")
            .args(profile)
            .output()
            .expect("run cargo");
        let what = format!("{name} {args:?} cargo run {profile:?}");
        assert_eq!(status(&out), 0, "{what}: {}", stderr(&out));
        assert_eq!(stdout(&out), format!("Hello from {name}!\n"), "{what}");
    }
}

/// `cargo run` and `cargo run --release`.
const DEBUG_AND_RELEASE: &[&[&str]] = &[&[], &["--release"]];

#[test]
fn sim_project_runs() {
    new_project_runs("hello-sim", &["--board", "sim"], DEBUG_AND_RELEASE);
}

#[test]
fn qemu_virt_project_runs() {
    if qemu_available() {
        new_project_runs(
            "hello-qemu-virt",
            &["--board", "qemu-virt"],
            DEBUG_AND_RELEASE,
        );
    }
}

#[test]
fn defmt_project_builds_and_runs() {
    // The default board (sim); the defmt frames are not decoded yet, so the output is the
    // semihosting hello line alone. Debug only: a release build would compile defmt's
    // proc-macro stack once more for a few seconds of CI each run.
    new_project_runs("hello-defmt", &["--defmt"], &[&[]]);
}

#[test]
fn writes_the_project_files_into_an_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("fw")).unwrap();
    let out = rvflash_new(tmp.path(), &["fw", "--board", "qemu-virt"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let fw = tmp.path().join("fw");
    for file in [
        "Cargo.toml",
        ".cargo/config.toml",
        "build.rs",
        "src/main.rs",
        "README.md",
        ".gitignore",
        "memory.x",
    ] {
        assert!(fw.join(file).is_file(), "{file} missing");
        assert!(stderr(&out).contains(file), "{file}: {}", stderr(&out));
    }
    let config = std::fs::read_to_string(fw.join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains("runner = \"rvflash run --board qemu-virt\""),
        "{config}"
    );
    let memory_x = std::fs::read_to_string(fw.join("memory.x")).unwrap();
    assert!(
        memory_x.contains("REGION_ALIAS(\"REGION_TEXT\""),
        "{memory_x}"
    );
    let cargo_toml = std::fs::read_to_string(fw.join("Cargo.toml")).unwrap();
    assert!(cargo_toml.contains("name = \"fw\""), "{cargo_toml}");
    assert!(!cargo_toml.contains("\ndefmt"), "{cargo_toml}");
}

#[test]
fn refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = tmp.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("keep.txt"), "mine").unwrap();
    let out = rvflash_new(tmp.path(), &[taken.to_str().unwrap()]);
    assert_eq!(status(&out), 125, "{}", stderr(&out));
    assert!(
        stderr(&out).contains(taken.to_str().unwrap()),
        "{}",
        stderr(&out)
    );
    let entries: Vec<_> = std::fs::read_dir(&taken).unwrap().collect();
    assert_eq!(
        entries.len(),
        1,
        "rvflash new wrote into {}",
        taken.display()
    );
    assert_eq!(
        std::fs::read_to_string(taken.join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn refuses_an_invalid_package_name() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["1fw", "my fw", "fn"] {
        let out = rvflash_new(tmp.path(), &[bad]);
        assert_eq!(status(&out), 125, "{bad}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(&format!("`{bad}` is not a valid package name")),
            "{err}"
        );
        assert!(!tmp.path().join(bad).exists(), "{bad} was created");
    }
}

#[test]
fn refuses_an_unknown_board() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rvflash_new(tmp.path(), &["fw", "--board", "nope"]);
    assert_eq!(status(&out), 125, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("unknown board `nope`"), "{err}");
    assert!(err.contains("qemu-virt"), "{err}");
    assert!(!tmp.path().join("fw").exists(), "fw was created");
}
