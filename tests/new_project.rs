//! `rvflash new`: the generated project builds and `cargo run` (debug and release) prints its
//! hello line and exits 0 on every built-in board, with the rvflash under test found on PATH
//! exactly as the generated `.cargo/config.toml` asks; a `--defmt` project also prints its
//! defmt log line, decoded. This is also the test of the real `semihosting` crate on every
//! board. And `rvflash new`'s errors.

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

/// Generates project `name` with `rvflash new NAME ARGS` in a new temporary directory (the
/// first value; the project lives as long as it does); returns it, the project's path and
/// `rvflash new`'s stderr.
fn new_project(name: &str, args: &[&str]) -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let out = rvflash_new(tmp.path(), &[&[name], args].concat());
    assert_eq!(status(&out), 0, "rvflash new {name}: {}", stderr(&out));
    let report = stderr(&out);
    assert!(
        report.contains(&format!("cd {name} && cargo run")),
        "{report}"
    );
    let project = tmp.path().join(name);
    (tmp, project, report)
}

/// `cargo run ARGS` in `project`, which must exit 0: its stdout.
fn cargo_run(project: &Path, args: &[&str], what: &str) -> String {
    let out = project_cargo(project)
        .arg("run")
        .args(args)
        .output()
        .expect("run cargo");
    assert_eq!(
        status(&out),
        0,
        "{what} cargo run {args:?}: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// Generates project `name` with `rvflash new NAME ARGS`, then checks that `cargo run` with
/// each of `profiles`' arguments prints its hello line and exits 0.
fn new_project_runs(name: &str, args: &[&str], profiles: &[&[&str]]) {
    let (_tmp, project, _) = new_project(name, args);
    for &profile in profiles {
        let what = format!("{name} {args:?}");
        assert_eq!(
            cargo_run(&project, profile, &what),
            format!("Hello from {name}!\n"),
            "{what} cargo run {profile:?}"
        );
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

/// A `--defmt` project on the default board (sim): `cargo run` prints the semihosting hello
/// line, then the template's `defmt::info!` line decoded by rvflash, with its location; and
/// `RVFLASH_LOG_FORMAT` (as the README says) changes the layout. Debug and release: the
/// release build costs about 12 s more on a cold target directory (defmt's proc-macro crates
/// compile once more, for the release profile), and it is the one optimised defmt program of
/// the tests (tests/firmware builds debug only).
#[test]
fn defmt_project_prints_its_decoded_log() {
    let name = "hello-defmt";
    let (_tmp, project, report) = new_project(name, &["--defmt"]);
    assert!(report.contains("defmt-rv64.x"), "{report}");
    assert!(report.contains("--log-format"), "{report}");
    assert!(!report.contains("not decode"), "{report}");
    for file in ["src/main.rs", "README.md", "build.rs", "Cargo.toml"] {
        let text = std::fs::read_to_string(project.join(file)).unwrap();
        assert!(!text.contains("not decode"), "{file}: {text}");
    }
    let build_rs = std::fs::read_to_string(project.join("build.rs")).unwrap();
    assert!(build_rs.contains("-Tdefmt-rv64.x"), "{build_rs}");
    assert!(!build_rs.contains("-Tdefmt.x"), "{build_rs}");

    // The line of the template's `defmt::info!` in the generated src/main.rs.
    let main_rs = std::fs::read_to_string(project.join("src/main.rs")).unwrap();
    let line = 1 + main_rs
        .lines()
        .position(|l| l.trim_start().starts_with("defmt::info!("))
        .expect("a defmt::info! line in src/main.rs");
    let hello = format!("Hello from {name}!");
    let logged = format!("Hello from {name} over defmt!");

    for &profile in DEBUG_AND_RELEASE {
        let what = format!("{name} --defmt cargo run {profile:?}");
        let text = cargo_run(&project, profile, &what);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{what}: {text}");
        assert_eq!(lines[0], hello, "{what}: {text}");
        assert_eq!(lines[1], format!("INFO  {logged}"), "{what}: {text}");
        let location = lines[2].trim_end();
        assert!(
            location.starts_with("└─ hello_defmt::")
                && location.ends_with(&format!("/src/main.rs:{line}")),
            "{what}: {location}"
        );
    }

    // The layout the README shows, through the environment (the built debug program again).
    let out = project_cargo(&project)
        .arg("run")
        .env("RVFLASH_LOG_FORMAT", "{L} {s}")
        .output()
        .expect("run cargo");
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{hello}\nINFO  {logged}\n"));
}

/// `defmt-rv64.x` is written only with `--defmt`, and its linker commands (comments aside) are
/// those of tests/firmware/defmt-rv64.x, which tests/run_defmt.rs proves on every board.
#[test]
fn defmt_rv64_x_only_with_defmt_and_as_in_the_test_firmware() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rvflash_new(tmp.path(), &["plain"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert!(!tmp.path().join("plain/defmt-rv64.x").exists());
    assert!(!stderr(&out).contains("defmt"), "{}", stderr(&out));

    let out = rvflash_new(tmp.path(), &["logs", "--defmt"]);
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    let generated = std::fs::read_to_string(tmp.path().join("logs/defmt-rv64.x")).unwrap();
    assert!(generated.contains(". = 0xF000;"), "{generated}");
    let firmware = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/firmware/defmt-rv64.x"),
    )
    .unwrap();
    assert_eq!(linker_commands(&generated), linker_commands(&firmware));
}

/// A linker script without its `/* */` comments, one word per element.
fn linker_commands(script: &str) -> Vec<&str> {
    let mut rest = script;
    let mut words = Vec::new();
    while let Some((code, after)) = rest.split_once("/*") {
        words.extend(code.split_whitespace());
        rest = after.split_once("*/").expect("an unterminated comment").1;
    }
    words.extend(rest.split_whitespace());
    words
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
    let build_rs = std::fs::read_to_string(fw.join("build.rs")).unwrap();
    assert!(!build_rs.contains("defmt"), "{build_rs}");
    assert!(!fw.join("defmt-rv64.x").exists());
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
