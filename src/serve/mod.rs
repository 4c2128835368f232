//! `rvflash serve [--board NAME] [--remote-bitbang ADDR] [--bmp ADDR] [--exit-on-finish] [FILE]`:
//! the simulated board, with a RISC-V Debug Module behind a JTAG TAP, served to debuggers —
//! OpenOCD over its `remote_bitbang` protocol, probe-rs (or anything that drives a Black Magic
//! Probe) over the BMP remote protocol.
//!
//! The board's memory map and `[debug]` table (IDCODE, triggers) come from its board file;
//! FILE (an ELF executable, checked as `rvflash run` checks it) is loaded and the hart is
//! halted in debug mode at its entry point, or at the RAM base without FILE, for the debugger
//! to take over. Nothing services semihosting: an `ebreak` is the debugger's (`dcsr.ebreakm`)
//! or the program's own trap, as on silicon.
//!
//! Output, for people and for programs that start `serve`: stderr's first lines are
//! `rvflash: serving remote_bitbang on HOST:PORT` and/or `rvflash: serving bmp on HOST:PORT`
//! (port 0 on the command line picks a free port; this says which), then `rvflash: ...`
//! messages (clients connecting, the program exiting). The guest's UART output goes to stdout
//! and stdin goes to its UART.
//!
//! One client at a time (a connection that arrives meanwhile waits its turn). The hart runs
//! between JTAG packets whenever it is not halted; when the program exits through the SiFive
//! test finisher, serve reports it and parks the hart (see `device`), or with
//! `--exit-on-finish` exits with the program's status — once the client has disconnected, or
//! at most a second later, so that the debugger command that resumed the hart gets its
//! replies. A finisher reset reloads FILE and runs it again, as on `sim` and QEMU.
//!
//! Exit status: 0 after SIGINT or SIGTERM; with `--exit-on-finish`, the program's status;
//! 125 when `serve` itself fails (bad arguments, board or file; an address it cannot listen
//! on).
//!
//! Files: `device` (the board: pins, reset, running in slices), `rbb` and `bmp` (the two wire
//! protocols, over [`device::Pins`]), `net` (the event loop: sockets, one client at a time),
//! `signal` (SIGINT/SIGTERM).

mod bmp;
mod device;
mod net;
mod rbb;
mod signal;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::board::{self, Console, ExitProtocol};
use crate::diag;
use crate::image::Image;

use device::Device;
use net::{Listener, Transport};

/// Exit status when `serve` itself fails.
const EXIT_FAILED: u8 = 125;

/// Arguments of `rvflash serve`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Serve the simulated board's JTAG to debuggers: OpenOCD (remote_bitbang) and \
             probe-rs (Black Magic Probe remote protocol), with FILE loaded and the hart halted",
    long_about = "Run the simulated board (memory map and [debug] table from its board file) \
                  with a RISC-V Debug Module behind a JTAG TAP, FILE loaded and the hart \
                  halted at its entry, and serve the TAP over OpenOCD's remote_bitbang protocol \
                  (--remote-bitbang) and/or the Black Magic Probe remote protocol (--bmp; \
                  probe-rs selector 1d50:6018:HOST:PORT). Port 0 picks a free port; stderr's \
                  first lines say `rvflash: serving remote_bitbang on HOST:PORT` / `rvflash: \
                  serving bmp on HOST:PORT`. The guest's UART is on stdout and stdin. One \
                  client at a time; others wait their turn.\n\n\
                  Exit status: 0 after Ctrl-C or SIGTERM; with --exit-on-finish, the program's \
                  status when it exits (SiFive test finisher); 125 serve itself failed."
)]
pub struct Args {
    /// ELF executable to load (without it the board starts empty, halted at its RAM base).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Board to simulate (its memory map and [debug] table; default: sim).
    #[arg(long, env = "RVFLASH_BOARD")]
    pub board: Option<String>,
    /// Extra board definition file(s); without --board, the last one is used.
    #[arg(long = "board-file", value_name = "PATH")]
    pub board_file: Vec<PathBuf>,
    /// Serve OpenOCD's remote_bitbang protocol on HOST:PORT (a bare PORT means 127.0.0.1).
    #[arg(long, value_name = "ADDR")]
    pub remote_bitbang: Option<String>,
    /// Serve the Black Magic Probe remote protocol on HOST:PORT (a bare PORT means 127.0.0.1).
    #[arg(long, value_name = "ADDR")]
    pub bmp: Option<String>,
    /// Exit with the program's status when it exits through the SiFive test finisher, once
    /// the client has disconnected or a second later (otherwise the hart is parked and serving
    /// goes on).
    #[arg(long)]
    pub exit_on_finish: bool,
}

/// Runs `rvflash serve`; never panics on bad input.
pub fn run(args: &Args) -> ExitCode {
    match run_inner(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            diag::error(&format!("{err:#}"));
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Prints one of serve's messages (`rvflash: text`) to stderr.
fn say(text: &str) {
    let mut err = std::io::stderr().lock();
    writeln!(err, "rvflash: {text}").ok();
    err.flush().ok();
}

fn run_inner(args: &Args) -> Result<u8> {
    let mut wanted = Vec::new();
    if let Some(addr) = &args.remote_bitbang {
        wanted.push((
            parse_addr(addr, "--remote-bitbang")?,
            Transport::RemoteBitbang,
        ));
    }
    if let Some(addr) = &args.bmp {
        wanted.push((parse_addr(addr, "--bmp")?, Transport::BlackMagic));
    }
    if wanted.is_empty() {
        bail!(
            "nothing to serve: give --remote-bitbang ADDR and/or --bmp ADDR \
             (e.g. --remote-bitbang 127.0.0.1:9824; port 0 picks a free port)"
        );
    }
    let board = board::select(args.board.as_deref(), &args.board_file)?;
    let image = match &args.file {
        Some(file) => Some(Image::from_file(file, &board).map_err(|e| {
            // IL and objects are `rvflash run`'s to build; serve runs what a debugger loads.
            if file.extension().is_some_and(|x| x == "ssa" || x == "o") {
                anyhow::anyhow!(
                    "{e:#}\nhint: serve takes an ELF executable; build one first: \
                     `rvflash build {} --board {} -o prog.elf`",
                    file.display(),
                    board.name
                )
            } else {
                e
            }
        })?),
        None => None,
    };
    // Before any socket exists, so that a closed fd 0 is not mistaken for a socket later.
    let stdin = stdin_is_open();
    signal::install()?;
    let listeners = wanted
        .into_iter()
        .map(|(addr, transport)| Listener::bind(addr, transport))
        .collect::<Result<Vec<_>>>()?;
    let mut device = Device::new(&board, image, Box::new(std::io::stdout()))
        .with_context(|| format!("cannot start board `{}`", board.name))?;
    for l in &listeners {
        say(&format!("serving {} on {}", l.transport.name(), l.addr));
    }
    let what = match &args.file {
        Some(file) => format!("{} loaded, ", file.display()),
        None => String::new(),
    };
    say(&format!(
        "board `{}`: {what}hart halted at {:#x}",
        board.name,
        device.pc()
    ));
    if board.console == Console::Semihosting || board.exit == ExitProtocol::Semihosting {
        say(&format!(
            "note: board `{}` uses semihosting, which serve does not service: its ebreaks halt \
             the hart for the debugger to service when dcsr.ebreakm is set (as rvflash run \
             does on sim-openocd and sim-probe-rs), else they trap; a board with a UART \
             console and the SiFive finisher (boards/sim-jtag.toml) prints here",
            board.name
        ));
    }
    let options = net::Options {
        exit_on_finish: args.exit_on_finish,
        board: board.name.clone(),
    };
    net::serve(&listeners, &mut device, &options, stdin)
}

/// `HOST:PORT`, `:PORT` or `PORT` (the last two on 127.0.0.1).
fn parse_addr(text: &str, option: &str) -> Result<SocketAddr> {
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if !port_only.is_empty() && port_only.bytes().all(|b| b.is_ascii_digit()) {
        let port: u16 = port_only
            .parse()
            .with_context(|| format!("{option} {text}: not a port number"))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.to_socket_addrs()
        .with_context(|| format!("{option} {text}: not HOST:PORT"))?
        .next()
        .with_context(|| format!("{option} {text}: the host has no address"))
}

/// Whether fd 0 is open (CI may start programs without one).
fn stdin_is_open() -> bool {
    // SAFETY: F_GETFD on fd 0 only queries its flags.
    unsafe { libc::fcntl(0, libc::F_GETFD) != -1 }
}
