//! The bundled prebuilt example `examples/hello.elf`: the README's first command runs it on
//! the default board (`sim`) with nothing else installed:
//!
//! ```sh
//! cargo run --release -- run examples/hello.elf
//! ```
//!
//! It is `tests/firmware`'s `hello` binary built in release mode without debug information,
//! with LTO and `opt-level = "s"` (about 24 KiB; it must stay under 64 KiB). To rebuild it
//! (after changing the firmware or the memory map), run
//!
//! ```sh
//! RVFLASH_BLESS=1 cargo test --test bundled_example
//! ```
//!
//! which rebuilds it with exactly those settings ([`rebuild`]), checks the result like the
//! bundled file, and copies it over `examples/hello.elf`.

mod run_support;

use std::path::{Path, PathBuf};

use run_support::{firmware_cargo, rvflash_cmd, status, stderr, stdout};

/// What the example prints.
const EXPECTED: &str = "Hello from rvflash test firmware!\n1 + 2 = 3\n";
/// The bundled file must stay small.
const MAX_SIZE: u64 = 64 * 1024;

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello.elf")
}

/// Runs `rvflash run ELF` (default board) and checks output and exit status.
fn check_runs(elf: &Path) {
    let out = rvflash_cmd()
        .arg("run")
        .arg(elf)
        .output()
        .expect("run rvflash");
    assert_eq!(
        status(&out),
        0,
        "rvflash run {} failed:\n{}{}",
        elf.display(),
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out), EXPECTED);
}

#[test]
fn bundled_hello_runs_on_the_default_board() {
    let elf = bundled();
    let size = std::fs::metadata(&elf)
        .unwrap_or_else(|e| panic!("{}: {e}", elf.display()))
        .len();
    assert!(size < MAX_SIZE, "examples/hello.elf is {size} bytes");
    check_runs(&elf);
}

#[test]
fn bundled_hello_runs_from_the_readme_command_directory() {
    // The README command runs in the repository root with a relative path.
    let out = rvflash_cmd()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--board", "sim", "examples/hello.elf"])
        .output()
        .expect("run rvflash");
    assert_eq!(status(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), EXPECTED);
}

/// Rebuilds `hello` with the bundled file's settings; returns the ELF's path.
fn rebuild() -> PathBuf {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bundled-example");
    let out = firmware_cargo()
        .args(["build", "--release", "--bin", "hello"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building hello failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir.join("riscv64gc-unknown-none-elf/release/hello")
}

#[test]
fn rebuilt_hello_matches_the_bundled_one() {
    let elf = rebuild();
    let size = std::fs::metadata(&elf).expect("rebuilt ELF").len();
    assert!(size < MAX_SIZE, "the rebuilt hello is {size} bytes");
    check_runs(&elf);
    if std::env::var_os("RVFLASH_BLESS").is_some() {
        std::fs::copy(&elf, bundled()).expect("copy over examples/hello.elf");
        eprintln!("updated {}", bundled().display());
    } else if std::fs::read(&elf).ok() != std::fs::read(bundled()).ok() {
        // Not an error: paths and toolchain versions end up in the file. The behaviour is
        // what both tests check.
        eprintln!(
            "note: the rebuilt hello differs from examples/hello.elf in its bytes; \
             RVFLASH_BLESS=1 updates it"
        );
    }
}
