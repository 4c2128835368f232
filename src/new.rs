//! `rvflash new NAME`: writes a Rust firmware project (riscv-rt + the `semihosting` crate)
//! whose first `cargo run` builds it and runs it on a board with rvflash as Cargo runner.
//!
//! The project files are the templates in `src/new/`. In them, `{{name}}` and `{{board}}` are
//! replaced, and a line starting with `@defmt ` is kept (without that prefix) only with
//! `--defmt` (a bare `@defmt` line becomes an empty line); the files of `DEFMT_FILES` are
//! written only with `--defmt`. `memory.x` is the board's own memory-map linker script, taken
//! through `board.rs` (never a copy of its text here).
//!
//! It must not overwrite anything: an existing non-empty directory is an error, and every
//! check (name, board, memory map, directory) happens before the first file is written. It
//! does not run Cargo or touch the network.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;

use crate::board::{self, BoardSource};

/// The project's files: (path inside the project, template).
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("new/Cargo.toml")),
    (".cargo/config.toml", include_str!("new/cargo-config.toml")),
    ("build.rs", include_str!("new/build.rs")),
    ("src/main.rs", include_str!("new/main.rs")),
    ("README.md", include_str!("new/README.md")),
    (".gitignore", include_str!("new/gitignore")),
];

/// The files only `--defmt` projects have (templates too): defmt's linker script with the
/// interned strings numbered from 0xF000, which RV64 code in RAM at 0x8000_0000 can reach
/// (defmt's own `defmt.x` numbers them from 1: see the file).
const DEFMT_FILES: &[(&str, &str)] = &[("defmt-rv64.x", include_str!("new/defmt-rv64.x"))];

/// The memory-map aliases riscv-rt's `link.x` needs from `memory.x`.
const RISCV_RT_REGIONS: &[&str] = &[
    "REGION_TEXT",
    "REGION_RODATA",
    "REGION_DATA",
    "REGION_BSS",
    "REGION_HEAP",
    "REGION_STACK",
];

/// Names a package cannot have (compared with `-` read as `_`): Rust keywords and crates it
/// would clash with (the standard crates, the project's own dependencies, Cargo's `target/`
/// subdirectories).
const RESERVED_NAMES: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "gen",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "core",
    "std",
    "alloc",
    "proc_macro",
    "test",
    "deps",
    "build",
    "examples",
    "incremental",
    "riscv",
    "riscv_rt",
    "semihosting",
    "defmt",
    "defmt_rtt",
];

#[derive(ClapArgs)]
#[command(
    about = "Create a Rust firmware project that `cargo run` runs on a board",
    long_about = "Create a Rust firmware project in directory NAME (riscv-rt, the semihosting \
                  crate for console output, exit status and panics; the board's memory map as \
                  memory.x; rvflash as Cargo runner). Then `cd NAME && cargo run`. The last \
                  component of NAME is the package name. Exit status: 0, or 125 on failure \
                  (bad name, unknown board, NAME exists and is not empty)."
)]
pub struct Args {
    /// Directory to create; its last component is the package name.
    pub name: PathBuf,
    /// Board the project runs on (built-in: sim, qemu-virt; default: sim).
    #[arg(long)]
    pub board: Option<String>,
    /// Also log with defmt (defmt + defmt-rtt): `cargo run` prints the decoded log lines.
    #[arg(long)]
    pub defmt: bool,
}

/// Runs the command.
pub fn run(args: &Args) -> Result<()> {
    let dir = &args.name;
    let name = package_name(dir)?;
    let board = board::select(args.board.as_deref(), &[])?;
    let memory_x = board.linker_script_text()?;
    check_memory_x(&memory_x, &board.name, &board.linker_script)?;
    check_empty(dir)?;

    let mut written = Vec::new();
    let defmt_files: &[(&str, &str)] = if args.defmt { DEFMT_FILES } else { &[] };
    for (path, template) in FILES.iter().chain(defmt_files) {
        let text = render(template, name, &board.name, args.defmt);
        written.push(write(dir, path, &text)?);
    }
    written.push(write(dir, "memory.x", &memory_x)?);

    eprintln!(
        "Created firmware project `{name}` for board `{}` in {}:",
        board.name,
        dir.display()
    );
    for path in &written {
        eprintln!("  {path}");
    }
    if let BoardSource::File(file) = &board.source {
        eprintln!(
            "note: board `{}` comes from {}; `rvflash run` finds it only in a boards/ folder \
             of the directory you run `cargo run` in, or add `--board-file PATH` to the runner \
             in .cargo/config.toml",
            board.name,
            file.display()
        );
    }
    if args.defmt {
        eprintln!(
            "note: `cargo run` prints the firmware's defmt logs, decoded: `LEVEL message`, \
             then `└─ module @ file:line`; `--log-format FORMAT` or `--no-location` in \
             `runner` in .cargo/config.toml (or RVFLASH_LOG_FORMAT) change the layout. Code \
             that logs must lie in the first 62 KiB of RAM: see README.md"
        );
    }
    eprintln!("Next (rvflash must be on PATH):");
    eprintln!("  cd {} && cargo run", shell_word(dir));
    eprintln!("  cargo run --release");
    Ok(())
}

/// The package name: the last component of `dir`, which must be a valid Cargo package name.
fn package_name(dir: &Path) -> Result<&str> {
    let Some(name) = dir.file_name() else {
        bail!("`{}` does not end in a project name", dir.display());
    };
    let Some(name) = name.to_str() else {
        bail!("`{}` is not a valid package name: not UTF-8", dir.display());
    };
    let invalid = |why: &str| anyhow::anyhow!("`{name}` is not a valid package name: {why}");
    match name.chars().next() {
        None => return Err(invalid("it is empty")),
        Some(c) if c.is_ascii_digit() => return Err(invalid("it starts with a digit")),
        Some('-') => return Err(invalid("it starts with `-`")),
        _ => {}
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(invalid(&format!(
            "`{c}` is not allowed (use ASCII letters, digits, `-` and `_`)"
        )));
    }
    if RESERVED_NAMES.contains(&name.replace('-', "_").as_str()) {
        return Err(invalid(
            "it is a Rust keyword or the name of a crate it would clash with",
        ));
    }
    Ok(name)
}

/// Fails unless `memory_x` has every region alias riscv-rt's `link.x` needs.
fn check_memory_x(memory_x: &str, board: &str, script: &str) -> Result<()> {
    let missing: Vec<&str> = RISCV_RT_REGIONS
        .iter()
        .copied()
        .filter(|region| !memory_x.contains(&format!("REGION_ALIAS(\"{region}\"")))
        .collect();
    if !memory_x.contains("MEMORY") || !missing.is_empty() {
        bail!(
            "board `{board}`'s linker script `{script}` cannot serve as riscv-rt's memory.x: it \
             needs a MEMORY block and REGION_ALIAS(\"REGION_TEXT\", ...) for each of {} \
             (missing: {})",
            RISCV_RT_REGIONS.join(", "),
            if missing.is_empty() {
                "MEMORY".to_owned()
            } else {
                missing.join(", ")
            }
        );
    }
    Ok(())
}

/// Fails when `dir` exists and is not an empty directory.
fn check_empty(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let empty = dir.is_dir()
        && std::fs::read_dir(dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .next()
            .is_none();
    if !empty {
        bail!(
            "{} already exists and is not an empty directory; rvflash new does not overwrite \
             anything (pick another name or remove it)",
            dir.display()
        );
    }
    Ok(())
}

/// Expands a template: `{{name}}`, `{{board}}` and the `@defmt` lines.
fn render(template: &str, name: &str, board: &str, defmt: bool) -> String {
    let mut out = String::with_capacity(template.len());
    for line in template.lines() {
        let line = match line.strip_prefix("@defmt") {
            Some(rest) if defmt => rest.strip_prefix(' ').unwrap_or(rest),
            Some(_) => continue,
            None => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out.replace("{{name}}", name).replace("{{board}}", board)
}

/// Writes `text` to `dir/path`, creating directories; returns `path` for the report.
fn write<'a>(dir: &Path, path: &'a str, text: &str) -> Result<&'a str> {
    let file = dir.join(path);
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(path)
}

/// `dir` as one shell word (quoted when it has characters a shell would split or expand).
fn shell_word(dir: &Path) -> String {
    let text = dir.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./+,:@%".contains(c);
    if text.chars().all(plain) {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        for ok in ["demo", "my-fw", "fw_2", "_x", "Demo"] {
            assert_eq!(package_name(Path::new(ok)).unwrap(), ok);
        }
        assert_eq!(package_name(Path::new("/tmp/x/demo")).unwrap(), "demo");
        for bad in [
            "1fw",
            "-fw",
            "my fw",
            "fw!",
            "héllo",
            "fn",
            "core",
            "semihosting",
            "riscv-rt",
            "..",
        ] {
            assert!(package_name(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn defmt_lines_are_kept_only_with_defmt() {
        let template = "a {{name}}\n@defmt b {{board}}\n@defmt\nc\n";
        assert_eq!(render(template, "n", "sim", false), "a n\nc\n");
        assert_eq!(render(template, "n", "sim", true), "a n\nb sim\n\nc\n");
    }

    #[test]
    fn builtin_memory_maps_serve_as_memory_x() {
        for board in board::builtin_boards().unwrap() {
            let text = board.linker_script_text().unwrap();
            check_memory_x(&text, &board.name, &board.linker_script).unwrap();
        }
        let sections = board::builtin_script("sections.ld").unwrap();
        let err = check_memory_x(sections, "b", "sections.ld").unwrap_err();
        assert!(err.to_string().contains("sections.ld"), "{err}");
    }
}
