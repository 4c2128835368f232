//! Linking: finds a real linker and links objects with a board's linker scripts.
//!
//! The linker is `--linker PATH` when given, else `rust-lld` from the Rust toolchain
//! (`$(rustc --print sysroot)/lib/rustlib/<host>/bin/rust-lld`, run as `-flavor gnu`), else
//! `ld.lld`, else GNU `riscv64-unknown-elf-ld`. Scripts are the board's memory map followed
//! by the shared sections script, both written to a temporary directory so built-in scripts
//! need no installation. Objects carry no `R_RISCV_RELAX`, so linkers that cannot relax
//! (Debian's ld.lld 14) work too. This module never compiles anything.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::board::{self, Board};

/// A linker and how to call it.
#[derive(Debug, Clone)]
pub struct Linker {
    path: PathBuf,
    /// `rust-lld` needs `-flavor gnu`.
    needs_flavor: bool,
}

impl Linker {
    /// `explicit` (from `--linker`), or the first linker found (see the module docs).
    pub fn find(explicit: Option<&Path>) -> Result<Linker> {
        if let Some(path) = explicit {
            let needs_flavor = path.file_stem().is_some_and(|s| s == "rust-lld");
            return Ok(Linker {
                path: path.to_owned(),
                needs_flavor,
            });
        }
        if let Some(path) = rust_lld() {
            return Ok(Linker {
                path,
                needs_flavor: true,
            });
        }
        for name in ["ld.lld", "riscv64-unknown-elf-ld"] {
            if runs(Path::new(name)) {
                return Ok(Linker {
                    path: name.into(),
                    needs_flavor: false,
                });
            }
        }
        bail!(
            "no linker found: rust-lld (part of the Rust toolchain), ld.lld (Debian package \
             lld) or riscv64-unknown-elf-ld (binutils-riscv64-unknown-elf); or pass --linker"
        )
    }

    /// Links `objects` into the executable `out` with `board`'s memory map and the shared
    /// sections script.
    pub fn link(&self, board: &Board, objects: &[PathBuf], out: &Path) -> Result<()> {
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        let memory = dir.path().join("memory.x");
        std::fs::write(&memory, board.linker_script_text()?)?;
        let sections = dir.path().join("sections.ld");
        let sections_text =
            board::builtin_script("sections.ld").context("the built-in sections.ld")?;
        std::fs::write(&sections, sections_text)?;

        let mut cmd = Command::new(&self.path);
        if self.needs_flavor {
            cmd.args(["-flavor", "gnu"]);
        }
        cmd.arg("-T").arg(&memory).arg("-T").arg(&sections);
        cmd.args(objects).arg("-o").arg(out);
        let output = cmd
            .output()
            .with_context(|| format!("running the linker {}", self.path.display()))?;
        if !output.status.success() {
            bail!(
                "{} failed ({}):\n{}",
                self.path.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            );
        }
        Ok(())
    }
}

/// rust-lld of the active Rust toolchain, if present.
fn rust_lld() -> Option<PathBuf> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let rustlib = sysroot.join("lib/rustlib");
    std::fs::read_dir(rustlib)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/rust-lld"))
        .find(|p| p.is_file())
}

fn runs(path: &Path) -> bool {
    Command::new(path)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
