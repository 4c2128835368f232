//! Boards: what rvflash knows about a machine it runs programs on.
//!
//! A board is described by a TOML file (`boards/NAME.toml`):
//!
//! ```toml
//! name = "qemu-virt"
//! description = "QEMU virt machine"
//! isa = "rv64imafdc_zicsr_zifencei"
//! linker-script = "qemu-virt.x"          # memory map, riscv-rt `memory.x` convention
//! run = "qemu"                           # "sim" | "qemu"
//! console = { uart16550 = 0x1000_0000 }  # "semihosting" | { uart16550 = ADDR }
//! exit = { sifive-test = 0x10_0000 }     # "semihosting" | { sifive-test = ADDR }
//!
//! [[memory]]
//! name = "RAM"
//! origin = 0x8000_0000
//! length = 0x0800_0000
//! ```
//!
//! The built-in boards (`sim`, the default, and `qemu-virt`) are compiled into the binary.
//! More come from a `boards/` folder in the current directory and from `--board-file PATH`;
//! when names collide, `--board-file` wins over `./boards/`, which wins over the built-ins.
//! Unknown keys and bad values are errors naming the file, the key and, where the TOML parser
//! knows it, the line and column. A board file's `linker-script` is a path relative to the
//! board file, or, when no such file exists, the name of a built-in script (`sim.x`,
//! `qemu-virt.x`, `sections.ld`, the files of `linker-scripts/`).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::diag;

/// Built-in boards: (file name, TOML text).
const BUILTIN_BOARDS: &[(&str, &str)] = &[
    ("boards/sim.toml", include_str!("../boards/sim.toml")),
    (
        "boards/qemu-virt.toml",
        include_str!("../boards/qemu-virt.toml"),
    ),
];

/// Built-in linker scripts: (file name, text).
const BUILTIN_SCRIPTS: &[(&str, &str)] = &[
    ("sim.x", include_str!("../linker-scripts/sim.x")),
    ("qemu-virt.x", include_str!("../linker-scripts/qemu-virt.x")),
    ("sections.ld", include_str!("../linker-scripts/sections.ld")),
];

/// Where QEMU's `virt` machine has its RAM.
const QEMU_VIRT_RAM: u64 = 0x8000_0000;

/// The board used when none is named.
pub const DEFAULT_BOARD: &str = "sim";

/// How programs are run on a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    /// The built-in simulator.
    Sim,
    /// `qemu-system-riscv64 -machine virt`, driven over GDB.
    Qemu,
}

/// Where a program's console output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Console {
    /// Semihosting `SYS_WRITE`/`SYS_WRITEC`/`SYS_WRITE0` to `:tt`.
    Semihosting,
    /// A 16550-compatible UART whose transmit register is at this address.
    Uart16550(u64),
}

/// How a program reports its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExitProtocol {
    /// Semihosting `SYS_EXIT` / `SYS_EXIT_EXTENDED`.
    Semihosting,
    /// SiFive test finisher at this address (`0x5555` pass, `code << 16 | 0x3333` fail).
    SifiveTest(u64),
}

/// One memory region of a board.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryRegion {
    /// Region name as used in the linker script (`RAM`).
    pub name: String,
    /// First address.
    pub origin: u64,
    /// Size in bytes.
    pub length: u64,
}

impl MemoryRegion {
    /// True when `[addr, addr + len)` lies inside this region.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        let end = self.origin.checked_add(self.length);
        let last = addr.checked_add(len);
        matches!((end, last), (Some(end), Some(last)) if addr >= self.origin && last <= end)
    }
}

/// A board as read from its TOML file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Board {
    /// Name used with `--board`.
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// ISA string (`rv64imafdc...`).
    pub isa: String,
    /// Memory regions; the first one holds the program.
    pub memory: Vec<MemoryRegion>,
    /// Memory-map linker script (relative to the board file, or a built-in script name).
    pub linker_script: String,
    /// How programs run on this board.
    pub run: RunKind,
    /// Console device.
    pub console: Console,
    /// Exit protocol.
    pub exit: ExitProtocol,
    /// Where this board came from (a path, or `built-in`); not part of the file.
    #[serde(skip)]
    pub source: BoardSource,
}

/// Where a board definition came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BoardSource {
    /// Compiled into rvflash.
    #[default]
    BuiltIn,
    /// Read from this file.
    File(PathBuf),
}

impl fmt::Display for BoardSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoardSource::BuiltIn => f.write_str("built-in"),
            BoardSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Board {
    /// Parses a board file's text; `origin` names the file in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Board> {
        let board: Board = match toml::from_str(text) {
            Ok(board) => board,
            Err(err) => bail!("board file {origin}: {}", describe_toml_error(text, &err)),
        };
        board
            .validate()
            .with_context(|| format!("board file {origin}"))?;
        Ok(board)
    }

    /// Reads and parses a board file.
    pub fn from_file(path: &Path) -> Result<Board> {
        let text = diag::read_text(path, "TOML").context("board file")?;
        let mut board = Board::parse(&text, &path.display().to_string())?;
        board.source = BoardSource::File(path.to_path_buf());
        Ok(board)
    }

    fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            bail!("key `name`: must not be empty");
        }
        if !self.isa.to_ascii_lowercase().starts_with("rv64") {
            bail!("key `isa`: `{}` is not an RV64 ISA string", self.isa);
        }
        if self.memory.is_empty() {
            bail!("key `memory`: at least one [[memory]] region is required");
        }
        for (i, region) in self.memory.iter().enumerate() {
            if region.length == 0 {
                bail!(
                    "key `memory[{i}].length`: region `{}` is empty",
                    region.name
                );
            }
            if region.origin.checked_add(region.length).is_none() {
                bail!(
                    "key `memory[{i}].length`: region `{}` wraps past the end of the address space",
                    region.name
                );
            }
        }
        if self.run == RunKind::Qemu && self.ram().origin != QEMU_VIRT_RAM {
            bail!(
                "key `memory[0].origin`: QEMU's virt machine has its RAM at {QEMU_VIRT_RAM:#x}, not {:#x}",
                self.ram().origin
            );
        }
        if self.linker_script.trim().is_empty() {
            bail!("key `linker-script`: must not be empty");
        }
        Ok(())
    }

    /// The main RAM region (the first memory region).
    pub fn ram(&self) -> &MemoryRegion {
        &self.memory[0]
    }

    /// True when `[addr, addr + len)` lies inside one memory region.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        self.memory.iter().any(|r| r.contains(addr, len))
    }

    /// The text of this board's memory-map linker script.
    pub fn linker_script_text(&self) -> Result<String> {
        match &self.source {
            BoardSource::BuiltIn => builtin_script(&self.linker_script)
                .map(str::to_owned)
                .with_context(|| format!("no built-in linker script `{}`", self.linker_script)),
            BoardSource::File(path) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                let script = dir.join(&self.linker_script);
                if !script.exists()
                    && let Some(text) = builtin_script(&self.linker_script)
                {
                    return Ok(text.to_owned());
                }
                diag::read_text(&script, "linker script")
                    .with_context(|| format!("board file {}: key `linker-script`", path.display()))
            }
        }
    }
}

/// A built-in linker script by file name (`sim.x`, `qemu-virt.x`, `sections.ld`).
pub fn builtin_script(name: &str) -> Option<&'static str> {
    BUILTIN_SCRIPTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// Turns a toml error into one line: "line L, column C: message".
fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim().to_owned();
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            let snippet = text[span.start.min(text.len())..span.end.min(text.len())].trim();
            let key = key_at(text, line);
            let key = key.map(|k| format!("key `{k}`: ")).unwrap_or_default();
            if snippet.is_empty() || snippet.contains('\n') {
                format!("line {line}, column {col}: {key}{message}")
            } else {
                format!("line {line}, column {col}: {key}{message} (at `{snippet}`)")
            }
        }
        None => message,
    }
}

/// The dotted key assigned on 1-based `line` (`memory.origin`), if that line assigns one.
fn key_at(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?;
    let (key, _) = here.split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.contains(['[', '#']) {
        return None;
    }
    let table = lines[..line - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_owned(),
    })
}

/// The built-in boards.
pub fn builtin_boards() -> Result<Vec<Board>> {
    BUILTIN_BOARDS
        .iter()
        .map(|(file, text)| Board::parse(text, file))
        .collect()
}

/// All boards visible from here: `extra` files, then `./boards/*.toml`, then the built-ins.
/// Earlier entries take precedence when names collide.
pub fn all_boards(extra: &[PathBuf]) -> Result<Vec<Board>> {
    let mut boards = Vec::new();
    for path in extra {
        boards.push(Board::from_file(path)?);
    }
    let local = Path::new("boards");
    if local.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(local)
            .with_context(|| format!("cannot list {}", local.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for path in files {
            boards.push(Board::from_file(&path)?);
        }
    }
    boards.extend(builtin_boards()?);
    Ok(boards)
}

/// Finds the board to use: `name` if given; else the last `--board-file`'s board; else `sim`.
pub fn select(name: Option<&str>, extra: &[PathBuf]) -> Result<Board> {
    let boards = all_boards(extra)?;
    let wanted = match name {
        Some(name) => name.to_owned(),
        None if !extra.is_empty() => {
            // The last --board-file is the one the user means.
            return Ok(boards[extra.len() - 1].clone());
        }
        None => DEFAULT_BOARD.to_owned(),
    };
    if let Some(board) = boards.iter().find(|b| b.name == wanted) {
        return Ok(board.clone());
    }
    let mut names: Vec<&str> = boards.iter().map(|b| b.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    bail!(
        "unknown board `{wanted}` (known boards: {}; add one with --board-file PATH or a boards/ folder)",
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_boards_parse() {
        let boards = builtin_boards().unwrap();
        let sim = boards.iter().find(|b| b.name == "sim").unwrap();
        assert_eq!(sim.run, RunKind::Sim);
        assert_eq!(sim.ram().origin, 0x8000_0000);
        assert_eq!(sim.ram().length, 128 << 20);
        let qemu = boards.iter().find(|b| b.name == "qemu-virt").unwrap();
        assert_eq!(qemu.run, RunKind::Qemu);
        assert_eq!(qemu.console, Console::Uart16550(0x1000_0000));
        assert_eq!(qemu.exit, ExitProtocol::SifiveTest(0x10_0000));
        for b in &boards {
            assert!(
                b.linker_script_text()
                    .unwrap()
                    .contains("REGION_ALIAS(\"REGION_STACK\"")
            );
        }
    }

    #[test]
    fn unknown_key_names_file_key_and_line() {
        let text = include_str!("../boards/sim.toml").replace("run = \"sim\"", "runn = \"sim\"");
        let err = format!("{:#}", Board::parse(&text, "my.toml").unwrap_err());
        assert!(err.contains("my.toml"), "{err}");
        assert!(err.contains("runn"), "{err}");
        assert!(err.contains("line "), "{err}");
    }

    #[test]
    fn bad_values_are_errors() {
        let base = include_str!("../boards/sim.toml");
        let bad_run = base.replace("run = \"sim\"", "run = \"jtag\"");
        let err = format!("{:#}", Board::parse(&bad_run, "b.toml").unwrap_err());
        assert!(err.contains("b.toml") && err.contains("jtag"), "{err}");
        let bad_isa = base.replace("isa = \"rv64", "isa = \"rv32");
        let err = format!("{:#}", Board::parse(&bad_isa, "b.toml").unwrap_err());
        assert!(err.contains("`isa`"), "{err}");
        let bad_len = base.replace("length = 0x0800_0000", "length = 0");
        let err = format!("{:#}", Board::parse(&bad_len, "b.toml").unwrap_err());
        assert!(err.contains("memory[0].length"), "{err}");
        let bad_type = base.replace("run = \"sim\"", "run = 3");
        let err = format!("{:#}", Board::parse(&bad_type, "b.toml").unwrap_err());
        assert!(err.contains("key `run`"), "{err}");
        let bad_origin = base.replace("origin = 0x8000_0000", "origin = -1");
        let err = format!("{:#}", Board::parse(&bad_origin, "b.toml").unwrap_err());
        assert!(err.contains("key `memory.origin`"), "{err}");
        let unknown_mem_key = base.replace("length = 0x0800_0000", "length = 1\nflags = 3");
        let err = format!(
            "{:#}",
            Board::parse(&unknown_mem_key, "b.toml").unwrap_err()
        );
        assert!(err.contains("flags"), "{err}");
    }

    #[test]
    fn unknown_board_lists_known_ones() {
        let err = format!("{:#}", select(Some("nope"), &[]).unwrap_err());
        assert!(err.contains("nope") && err.contains("qemu-virt"), "{err}");
    }

    #[test]
    fn region_contains() {
        let r = MemoryRegion {
            name: "RAM".into(),
            origin: 0x8000_0000,
            length: 0x1000,
        };
        assert!(r.contains(0x8000_0000, 0x1000));
        assert!(!r.contains(0x8000_0001, 0x1000));
        assert!(!r.contains(0x7fff_ffff, 1));
        assert!(!r.contains(u64::MAX, 2));
    }
}
