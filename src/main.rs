//! `rvflash`: compile, link, load and run programs on bare-metal RV64GC boards.
//!
//! This file only parses the command line and maps failures to exit statuses; each subcommand
//! lives in its own module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod board;
mod board_list;
mod board_lock;
mod build;
mod defmt;
mod diag;
mod disasm;
mod hooks;
mod image;
mod interp;
mod link;
mod new;
mod probes;
mod rtt;
mod run;
mod runtime;
mod semihosting;
mod serve;
mod target;
mod test_runner;

/// Exit status when rvflash itself fails (bad arguments, unreadable input, ...).
const EXIT_RVFLASH_FAILED: u8 = 125;

#[derive(Parser)]
#[command(
    name = "rvflash",
    version,
    about = "Compile, link, load and run programs on bare-metal RV64GC boards",
    long_about = "rvflash is a toolchain component for bare-metal 64-bit RISC-V (RV64GC, LP64D) \
                  boards: it compiles QBE IL to RV64 objects with its own backend, links them \
                  with a board's runtime and linker scripts, runs programs on a board (the \
                  built-in simulator or QEMU's virt machine) and is a Cargo runner for Rust \
                  firmware; `new` starts a firmware project that runs on a board with \
                  `cargo run`; it also interprets IL with the reference interpreter and \
                  disassembles RV64 ELF files like objdump.\n\n\
                  Exit status of `run`: the device's exit code; 101 the device panicked and \
                  halted; 124 timeout; 125 rvflash itself failed (bad arguments or board, \
                  unreadable or malformed input, emulator missing); 134 the device trapped. \
                  `interp` exits with the program's status (see its help); `build`, \
                  `compile`, `disasm`, `new`, `probes` and `boards` exit 0 on success and 125 \
                  on failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Run(run::Args),
    Build(build::BuildArgs),
    Compile(build::CompileArgs),
    Interp(interp::Args),
    Disasm(disasm::Args),
    New(new::Args),
    Serve(serve::Args),
    Probes(probes::Args),
    Boards(board_list::Args),
}

fn main() -> ExitCode {
    // Bad arguments are an rvflash failure (125), like every other failure before the device
    // runs: a Cargo runner's caller must not mistake them for a device exit code.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(EXIT_RVFLASH_FAILED)
            } else {
                ExitCode::SUCCESS // --help, --version
            };
        }
    };
    let result = match cli.command {
        Command::Disasm(args) => disasm::run(&args),
        Command::Probes(args) => probes::run(&args),
        Command::Boards(args) => board_list::run(&args),
        Command::New(args) => new::run(&args),
        Command::Compile(args) => build::compile(&args),
        Command::Build(args) => build::build(&args),
        Command::Interp(args) => return interp::run(&args),
        Command::Run(args) => return run::run(&args),
        Command::Serve(args) => return serve::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            diag::error(&format!("{err:#}"));
            ExitCode::from(EXIT_RVFLASH_FAILED)
        }
    }
}
