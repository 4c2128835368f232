//! `rvflash boards`: every board `--board` can name here — the built-in ones, `./boards/*.toml`
//! and `--board-file`s — with its description, where it comes from and how rvflash runs
//! programs on it. A board that overrides another of the same name hides it (said so).
//!
//! This file must not parse board files (`board` does).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;

use crate::board::{self, Board, RunKind};

/// Arguments of `rvflash boards`.
#[derive(clap::Args, Debug)]
#[command(
    about = "List the boards: built-in ones, ./boards/*.toml and --board-file files, with their \
             descriptions and how each one runs programs"
)]
pub struct Args {
    /// Extra board definition file(s), as `rvflash run` takes them.
    #[arg(long = "board-file", value_name = "PATH")]
    pub board_file: Vec<PathBuf>,
}

/// Lists the boards (a reader that goes away early, like `head`, is not an error).
pub fn run(args: &Args) -> Result<()> {
    let boards = board::all_boards(&args.board_file)?;
    match list(&boards) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn list(boards: &[Board]) -> std::io::Result<()> {
    // The first of a name wins (--board-file, then ./boards, then built-in).
    let mut shown: Vec<(&Board, Vec<&Board>)> = Vec::new();
    for b in boards {
        match shown.iter_mut().find(|(s, _)| s.name == b.name) {
            Some((_, hidden)) => hidden.push(b),
            None => shown.push((b, Vec::new())),
        }
    }
    shown.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let mut out = std::io::stdout().lock();
    for (b, hidden) in &shown {
        let default = if b.name == board::DEFAULT_BOARD {
            ", the default"
        } else {
            ""
        };
        writeln!(out, "{} ({}{default})", b.name, b.source)?;
        writeln!(out, "    {}", b.description)?;
        writeln!(out, "    runs on: {}", how_it_runs(b))?;
        writeln!(out, "    isa {}, memory {}", b.isa, memory(b))?;
        for h in hidden.iter().filter(|h| !same_board(b, h)) {
            writeln!(
                out,
                "    (overrides the board of this name from {})",
                h.source
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "use one with `rvflash run --board NAME` (or RVFLASH_BOARD); add boards with \
         --board-file PATH or a boards/ folder in the current directory"
    )?;
    Ok(())
}

/// Whether two definitions say the same, wherever they come from (the repository's
/// `boards/` folder holds copies of the built-in boards).
fn same_board(a: &Board, b: &Board) -> bool {
    let mut a = a.clone();
    a.source = b.source.clone();
    a == *b
}

/// How programs run on `b`, in a few words.
fn how_it_runs(b: &Board) -> String {
    match b.run {
        RunKind::Sim => "the built-in simulator, in process (nothing to install)".into(),
        RunKind::Qemu => "QEMU (qemu-system-riscv64 -machine virt), driven over GDB".into(),
        RunKind::Gdb => match (&b.gdb_server, &b.openocd) {
            (Some(addr), _) => format!("the GDB server at {addr}"),
            (None, Some(o)) if o.serve.is_some() => format!(
                "OpenOCD (started by rvflash) driving the simulated board `{}` (rvflash serve \
                 --remote-bitbang)",
                o.serve.as_deref().unwrap_or_default()
            ),
            (None, Some(o)) => format!("OpenOCD (started by rvflash) with {}", o.config.join(", ")),
            (None, None) => "a GDB server".into(),
        },
        RunKind::ProbeRs => match &b.probe_rs {
            Some(p) => {
                let probe = match (&p.serve, &p.probe) {
                    (Some(serve), _) => format!(
                        "the simulated board `{serve}` as a network Black Magic Probe (rvflash \
                         serve --bmp)"
                    ),
                    (None, Some(sel)) => format!("probe {sel}"),
                    (None, None) => "the only probe attached".into(),
                };
                let described = p
                    .chip_description
                    .as_deref()
                    .map(|d| format!(" of {d}"))
                    .unwrap_or_else(|| " (probe-rs built-in)".into());
                format!("probe-rs: chip {}{described}, through {probe}", p.chip)
            }
            None => "probe-rs".into(),
        },
    }
}

fn memory(b: &Board) -> String {
    b.memory
        .iter()
        .map(|r| {
            format!(
                "{} {:#x}..{:#x}{}",
                r.name,
                r.origin,
                r.origin + r.length,
                if r.flash { " (flash)" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
