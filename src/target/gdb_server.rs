//! The target of `run = "gdb"` boards: a [`GdbTarget`] that reaches its server in one of three
//! ways, by the board's keys:
//!
//! - `gdb-server = "HOST:PORT"`: a server that is already running (OpenOCD on a lab machine,
//!   a J-Link GDB server, a remote QEMU); rvflash only connects.
//! - `openocd = { config = [...], args = [...] }`: rvflash starts OpenOCD (see `openocd`) and
//!   connects to its GDB server; OpenOCD goes when rvflash does.
//! - `openocd = { ..., serve = "BOARD" }` (the built-in `sim-openocd`): first `rvflash serve
//!   --remote-bitbang 127.0.0.1:0 --board BOARD --exit-on-finish` (this same executable), whose
//!   port (its first stderr line, `rvflash: serving remote_bitbang on HOST:PORT`) OpenOCD's
//!   `remote_bitbang` adapter is given. The simulated board's UART is serve's stdout, forwarded
//!   to rvflash's; a SiFive-test-finisher exit ends serve with the program's status, which
//!   becomes rvflash's.
//!
//! Semihosting is rvflash's on every one of them. The board's `reset` (default `monitor reset
//! halt` with OpenOCD, none with a plain server), `verify` (default on) and flash regions go
//! to [`Settings`].
//!
//! Memory while the program runs (RTT): OpenOCD started by rvflash answers memory requests
//! then, through the Debug Module's System Bus Access ([`RunningAccess::Packets`]; rvflash
//! starts it with virtual-to-physical translation off, see `openocd`). A server rvflash did
//! not start may stop the program on any byte it receives while the program runs (QEMU's
//! gdbstub does), so the hart is halted briefly for each access there
//! ([`RunningAccess::Halt`]).
//!
//! This file must not speak the GDB protocol (`gdb` does).

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use super::child::{self, Helper};
use super::gdb::{GdbClient, GdbTarget, RunningAccess, Settings, Start, Started};
use super::openocd;
use super::{Image, TargetOptions};
use crate::board::{Board, BoardSource, OpenOcd};

/// How long connecting to a running server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The target for a `run = "gdb"` board; `deadline` is the run's (it caps starting and
/// loading); `verbose` shows OpenOCD's log and load figures.
pub fn new_target(
    board: &Board,
    options: TargetOptions,
    deadline: Instant,
    verbose: bool,
) -> Result<GdbTarget> {
    let settings = Settings {
        reset: board.reset_command(),
        verify: board.verify.unwrap_or(true),
        semihosting: true,
        flash: board
            .memory
            .iter()
            .filter(|r| r.flash)
            .map(|r| (r.origin, r.length))
            .collect(),
        memory: board.memory.iter().map(|r| (r.origin, r.length)).collect(),
        deadline: Some(deadline),
        verbose,
        // OpenOCD notices a hart that halted by itself only when it polls, every 100 ms.
        nudge: board.openocd.is_some(),
        running_access: if board.openocd.is_some() && board.gdb_server.is_none() {
            RunningAccess::Packets
        } else {
            RunningAccess::Halt
        },
    };
    let start: Box<dyn Start> = match (&board.gdb_server, &board.openocd) {
        (Some(addr), _) => Box::new(Remote { addr: addr.clone() }),
        (None, Some(openocd)) => Box::new(WithOpenOcd {
            openocd: openocd.clone(),
            source: board.source.clone(),
            verbose,
            dir: crate::diag::temp_dir()?,
        }),
        (None, None) => {
            return Err(anyhow!(
                "board `{}` has `run = \"gdb\"` but neither `gdb-server` nor `openocd`",
                board.name
            ));
        }
    };
    Ok(GdbTarget::new(options, settings, start))
}

/// A server that is already running.
struct Remote {
    addr: String,
}

impl Start for Remote {
    fn start(&mut self, _image: &Image, deadline: Instant) -> Result<Started> {
        let server = format!("the GDB server at {}", self.addr);
        let deadline = deadline.min(Instant::now() + CONNECT_TIMEOUT);
        Ok(Started {
            client: GdbClient::connect(&self.addr, &server, deadline)?,
            helpers: Vec::new(),
            exit_from: None,
            exit_line: None,
            preloaded: false,
            direct: None,
        })
    }
}

/// OpenOCD started by rvflash, after `rvflash serve` for a simulated board.
struct WithOpenOcd {
    openocd: OpenOcd,
    source: BoardSource,
    verbose: bool,
    /// OpenOCD's log, serve's log and built-in configs; lives as long as the target.
    dir: tempfile::TempDir,
}

impl Start for WithOpenOcd {
    fn start(&mut self, _image: &Image, deadline: Instant) -> Result<Started> {
        let mut helpers = Vec::new();
        let mut extra = Vec::new();
        let mut exit_from = None;
        if let Some(board) = &self.openocd.serve {
            let (serve, port) = self.serve(board, deadline)?;
            exit_from = Some(helpers.len());
            helpers.push(serve);
            extra.push("remote_bitbang host 127.0.0.1".to_owned());
            extra.push(format!("remote_bitbang port {port}"));
        }
        let running = openocd::start(
            &self.openocd,
            &self.source,
            &extra,
            self.dir.path(),
            self.verbose,
            deadline,
        )?;
        let addr = format!("127.0.0.1:{}", running.gdb_port);
        helpers.push(running.helper);
        let server = format!("OpenOCD's GDB server ({addr})");
        let client = GdbClient::connect(
            &addr,
            &server,
            deadline.min(Instant::now() + CONNECT_TIMEOUT),
        );
        match client {
            Ok(client) => Ok(Started {
                client,
                helpers,
                exit_from,
                exit_line: Some(serve_exit_line),
                preloaded: false,
                direct: None,
            }),
            Err(err) => {
                let log = helpers.last().map(|h| h.log_tail(30)).unwrap_or_default();
                Err(err.context(format!("OpenOCD is running{log}")))
            }
        }
    }
}

/// `rvflash: the program exited with status N`: serve's announcement of a SiFive-test-finisher
/// exit (it then lingers a while for its client before it ends with that status).
fn serve_exit_line(line: &str) -> Option<i32> {
    line.strip_prefix("rvflash: the program exited with status ")?
        .split(|c: char| !c.is_ascii_digit() && c != '-')
        .next()?
        .parse()
        .ok()
}

impl WithOpenOcd {
    /// Starts `rvflash serve` for `board`; returns it and its remote_bitbang port.
    fn serve(&self, board: &str, deadline: Instant) -> Result<(Helper, u16)> {
        let (serve, _, port) = child::start_serve(
            "--remote-bitbang",
            "remote_bitbang",
            "serving remote_bitbang",
            board,
            self.dir.path().join("serve.log"),
            self.verbose,
            deadline,
        )?;
        Ok((serve, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serve_announces_exits() {
        assert_eq!(
            serve_exit_line("rvflash: the program exited with status 42"),
            Some(42)
        );
        assert_eq!(
            serve_exit_line("rvflash: the program exited with status 3; the hart is parked"),
            Some(3)
        );
        assert_eq!(
            serve_exit_line("rvflash: serving remote_bitbang on 127.0.0.1:1"),
            None
        );
    }
}
