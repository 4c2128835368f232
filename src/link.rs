//! Linking: finds a real linker and links objects with a board's linker scripts.
//!
//! The linker is `--linker PATH` when given, else `rust-lld` from the Rust toolchain
//! (`$(rustc --print sysroot)/lib/rustlib/<host>/bin/rust-lld`, run as `-flavor gnu`), else
//! `ld.lld`, else GNU `riscv64-unknown-elf-ld`. Scripts are the board's memory map followed
//! by the shared sections script, both written to a temporary directory so built-in scripts
//! need no installation. Objects carry no `R_RISCV_RELAX`, so linkers that cannot relax
//! (Debian's ld.lld 14) work too. This module never compiles anything.
//!
//! The linker's messages name files by the paths it was given; the temporary ones (objects
//! compiled from `.ssa` files, the runtime, the scripts) are replaced by names the user knows
//! — `prog.ssa`, `runtime/libc`, the board's script — so an undefined symbol points at the
//! source that uses it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::board::{self, Board};
use crate::diag;

/// An object file to link and the name the linker's messages should give it.
#[derive(Debug, Clone)]
pub struct Object {
    pub path: PathBuf,
    /// The `.ssa` file a temporary object was compiled from, `runtime/libc`, ...; the path
    /// itself for the user's own objects.
    pub name: String,
}

impl Object {
    /// One of the user's object files, named by its path.
    pub fn user(path: &Path) -> Object {
        Object {
            path: path.to_owned(),
            name: path.display().to_string(),
        }
    }
}

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
    pub fn link(&self, board: &Board, objects: &[Object], out: &Path) -> Result<()> {
        let dir = diag::temp_dir()?;
        let memory = Object {
            path: dir.path().join("memory.x"),
            name: board.linker_script.clone(),
        };
        diag::write(&memory.path, board.linker_script_text()?)?;
        let sections = Object {
            path: dir.path().join("sections.ld"),
            name: "sections.ld".into(),
        };
        let sections_text =
            board::builtin_script("sections.ld").context("the built-in sections.ld")?;
        diag::write(&sections.path, sections_text)?;

        let mut cmd = Command::new(&self.path);
        if self.needs_flavor {
            cmd.args(["-flavor", "gnu"]);
        }
        cmd.arg("-T")
            .arg(&memory.path)
            .arg("-T")
            .arg(&sections.path);
        cmd.args(objects.iter().map(|o| &o.path)).arg("-o").arg(out);
        let output = cmd
            .output()
            .with_context(|| format!("running the linker {}", self.path.display()))?;
        if !output.status.success() {
            let files: Vec<&Object> = objects.iter().chain([&memory, &sections]).collect();
            // The linker's own name: its messages start with it, and its path is noise.
            let name = self.path.file_name().unwrap_or(self.path.as_os_str());
            bail!(
                "{} failed ({}):\n{}",
                name.to_string_lossy(),
                output.status,
                rename_files(&String::from_utf8_lossy(&output.stderr), &files).trim_end()
            );
        }
        Ok(())
    }
}

/// `text` with each file's path replaced by its name.
fn rename_files(text: &str, files: &[&Object]) -> String {
    let mut files: Vec<(String, &str)> = files
        .iter()
        .map(|o| (o.path.display().to_string(), o.name.as_str()))
        .filter(|(path, name)| path != name)
        .collect();
    // Longest first, so that no path is replaced inside a longer one.
    files.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
    let mut text = text.to_owned();
    for (path, name) in files {
        text = text.replace(&path, name);
    }
    text
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
