//! `rvflash`: compile, link, load and run programs on bare-metal RV64GC boards.
//!
//! This file only parses the command line and maps failures to exit statuses; each subcommand
//! lives in its own module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod board;
mod disasm;
mod image;
mod run;
mod semihosting;
mod target;

/// Exit status when rvflash itself fails (bad arguments, unreadable input, ...).
const EXIT_RVFLASH_FAILED: u8 = 125;

#[derive(Parser)]
#[command(
    name = "rvflash",
    version,
    about = "Compile, link, load and run programs on bare-metal RV64GC boards",
    long_about = "rvflash is a toolchain component for bare-metal 64-bit RISC-V (RV64GC, LP64D) \
                  boards. This version provides the RV64GC disassembler; compiling, linking and \
                  running come next (see README.md).\n\n\
                  Exit status: 0 on success, 125 when rvflash itself fails (bad arguments, \
                  unreadable or malformed input). Clap's own usage errors exit with 2."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Disasm(disasm::Args),
    Run(run::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Disasm(args) => disasm::run(&args),
        Command::Run(args) => return run::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_RVFLASH_FAILED)
        }
    }
}
