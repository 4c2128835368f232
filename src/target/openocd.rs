//! OpenOCD, started by rvflash for a `run = "gdb"` board with an `openocd` table.
//!
//! Command line: `openocd -c "bindto 127.0.0.1" -c "gdb_port N" -c "telnet_port disabled"
//! -c "tcl_port disabled" [-s BOARD_DIR] -f CONFIG... -c "catch {riscv set_enable_virt2phys
//! off}" [-c EXTRA...] ARGS...`, with N a free port: only rvflash talks to it, over loopback.
//! A config is a file next to the board file, a built-in config ([`BUILTIN_CONFIGS`], written
//! to the run's temporary directory), or else passed as is for OpenOCD to find among its own
//! scripts (`interface/...`, `target/...`).
//!
//! Address translation is off: rvflash's programs run in machine mode, and OpenOCD decides
//! whether to translate by reading the hart's privilege level, which fails while the hart
//! runs — an error in its log and on the GDB connection for every memory access rvflash makes
//! then (RTT polling, which OpenOCD otherwise serves through System Bus Access without
//! halting). `catch`: an OpenOCD without the command goes on.
//!
//! OpenOCD's stdout and stderr go to `openocd.log` in the run's temporary directory (copied to
//! stderr with `--verbose`, shown when something fails); rvflash waits until the log says
//! OpenOCD listens for GDB, or fails with the log when OpenOCD exits or takes too long — a
//! failure that is [`Unreachable`] when the log says the adapter did not open or the target
//! did not answer ([`CANNOT_REACH`]), so that the run tries again.
//!
//! OpenOCD's own semihosting stays off (its default): semihosting `ebreak`s then halt the hart
//! and rvflash services them. `RVFLASH_OPENOCD` overrides the program.
//!
//! This file must not speak the GDB protocol (`gdb` does) nor start the simulated board
//! (`gdb_server` does).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::Unreachable;
use super::child::{Helper, Spawn, Stderr, Stdout};
use crate::board::{BoardSource, OpenOcd};

/// OpenOCD configs shipped in the binary: (name, text).
pub const BUILTIN_CONFIGS: &[(&str, &str)] = &[
    (
        "sim-openocd.cfg",
        include_str!("../../boards/sim-openocd.cfg"),
    ),
    (
        "visionfive2.cfg",
        include_str!("../../boards/visionfive2.cfg"),
    ),
];

/// How long OpenOCD may take to examine the target and open its GDB port.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// Turns off OpenOCD's virtual-to-physical translation of RISC-V memory accesses (see the
/// module docs).
const VIRT2PHYS_OFF: &str = "catch {riscv set_enable_virt2phys off}";

/// A running OpenOCD and the port of its GDB server.
pub struct Running {
    pub helper: Helper,
    pub gdb_port: u16,
}

/// A free TCP port on the loopback interface (free now; taken by whoever binds it next).
pub fn free_port(what: &str) -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .with_context(|| format!("cannot find a free TCP port for {what}"))?
        .port())
}

/// Starts OpenOCD as `openocd` says; `extra` are `-c` commands after the configs; `dir` holds
/// the log and built-in configs. A port taken by someone else between choosing it and
/// OpenOCD binding it (parallel runs) means another try with another port.
pub fn start(
    openocd: &OpenOcd,
    source: &BoardSource,
    extra: &[String],
    dir: &Path,
    verbose: bool,
    deadline: Instant,
) -> Result<Running> {
    let mut tries = 0;
    loop {
        tries += 1;
        match start_once(openocd, source, extra, dir, verbose, deadline) {
            Err(err) if tries < 3 && format!("{err:#}").contains("Address already in use") => {}
            other => return other,
        }
    }
}

fn start_once(
    openocd: &OpenOcd,
    source: &BoardSource,
    extra: &[String],
    dir: &Path,
    verbose: bool,
    deadline: Instant,
) -> Result<Running> {
    let program = std::env::var_os("RVFLASH_OPENOCD").unwrap_or("openocd".into());
    let gdb_port = free_port("OpenOCD's GDB server")?;
    let mut cmd = Command::new(&program);
    for command in [
        "bindto 127.0.0.1".to_owned(),
        format!("gdb_port {gdb_port}"),
        "telnet_port disabled".to_owned(),
        "tcl_port disabled".to_owned(),
    ] {
        cmd.arg("-c").arg(command);
    }
    let board_dir = match source {
        BoardSource::File(path) => Some(path.parent().unwrap_or(Path::new(".")).to_path_buf()),
        BoardSource::BuiltIn => None,
    };
    if let Some(d) = &board_dir {
        cmd.arg("-s").arg(d);
    }
    for config in &openocd.config {
        cmd.arg("-f")
            .arg(config_path(config, board_dir.as_deref(), dir)?);
    }
    cmd.arg("-c").arg(VIRT2PHYS_OFF);
    for command in extra {
        cmd.arg("-c").arg(command);
    }
    cmd.args(&openocd.args);
    let log = dir.join("openocd.log");
    let mut helper = Helper::spawn(
        cmd,
        Spawn {
            name: "OpenOCD",
            missing: "Debian/Ubuntu: apt install openocd; or set RVFLASH_OPENOCD to its path",
            stdout: Stdout::Log,
            stderr: Stderr::Log,
            log: Some(log),
            verbose,
        },
    )?;
    let listening = format!("Listening on port {gdb_port} for gdb connections");
    // OpenOCD goes on without its GDB server when the port is taken: look for that too.
    let taken = "couldn't bind gdb to socket";
    let line = helper
        .wait_for_line(
            |line| line.contains(&listening) || line.contains(taken),
            deadline.min(Instant::now() + STARTUP_TIMEOUT),
            &format!("listening for GDB on port {gdb_port}"),
        )
        .map_err(|err| {
            // An adapter that does not open or a target that does not answer is worth
            // another try (a power cycle); a bad config is not.
            match helper.find_in_log(|l| cannot_reach(l).then(|| l.trim().to_owned())) {
                Some(why) => err.context(Unreachable(format!(
                    "OpenOCD cannot reach the board ({why})"
                ))),
                None => err,
            }
        })?;
    if line.contains(taken) {
        bail!("OpenOCD could not listen on port {gdb_port}: {line}");
    }
    Ok(Running { helper, gdb_port })
}

/// What OpenOCD logs when its adapter does not open or the target does not answer (lower
/// case): the failures [`start`] marks [`Unreachable`].
const CANNOT_REACH: &[&str] = &[
    "jtag scan chain interrogation failed",
    "examination failed",
    "not examined",
    "libusb_open() failed",
    "unable to open ftdi device",
    "unable to open cmsis-dap device",
    "unable to open hidapi",
    "no device found",
    "no j-link device found",
    "no st-link detected",
    "st-link open failed",
    "unable to connect to the target",
    "could not find or open device",
    "can't find usb jtag interface",
    "can't find a kitprog device",
    "ft232r not found",
    "error connecting dp",
    // remote_bitbang: nobody listens at the adapter's address.
    "failed to connect",
];

/// Whether a line of OpenOCD's log says that it cannot reach its adapter or the target (a
/// permission problem is no reason to try again).
fn cannot_reach(line: &str) -> bool {
    let line = line.to_ascii_lowercase();
    let denied = ["libusb_error_access", "permission"]
        .iter()
        .any(|p| line.contains(p));
    !denied && CANNOT_REACH.iter().any(|p| line.contains(p))
}

/// Where a config named in a board file is: next to the board file, built in (written to
/// `dir`), or OpenOCD's own (the name as it is).
fn config_path(name: &str, board_dir: Option<&Path>, dir: &Path) -> Result<PathBuf> {
    if let Some(d) = board_dir {
        let path = d.join(name);
        if path.exists() {
            return Ok(path);
        }
    }
    if let Some((_, text)) = BUILTIN_CONFIGS.iter().find(|(n, _)| *n == name) {
        let path = dir.join(name);
        crate::diag::write(&path, text)?;
        return Ok(path);
    }
    Ok(PathBuf::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_resolve_next_to_the_board_then_built_in_then_openocd() {
        let boards = tempfile::tempdir().unwrap();
        let run = tempfile::tempdir().unwrap();
        std::fs::write(boards.path().join("mine.cfg"), "# mine").unwrap();
        let mine = config_path("mine.cfg", Some(boards.path()), run.path()).unwrap();
        assert_eq!(mine, boards.path().join("mine.cfg"));
        let builtin = config_path("sim-openocd.cfg", Some(boards.path()), run.path()).unwrap();
        assert_eq!(builtin, run.path().join("sim-openocd.cfg"));
        assert!(
            std::fs::read_to_string(builtin)
                .unwrap()
                .contains("remote_bitbang")
        );
        let theirs = config_path("target/sifive.cfg", None, run.path()).unwrap();
        assert_eq!(theirs, PathBuf::from("target/sifive.cfg"));
    }

    #[test]
    fn adapter_and_target_failures_are_told_from_bad_configs() {
        for line in [
            "Error: JTAG scan chain interrogation failed: all ones",
            "Error: unable to open ftdi device with vid 0403, pid 6010, description '*', \
             serial '*' at bus location '*'",
            "Error: [riscv.cpu] Examination failed",
            "Error: libusb_open() failed with LIBUSB_ERROR_BUSY",
            "Error: No J-Link device found.",
            "Error: Error on socket 'Failed to connect': errno==9, message: Bad file descriptor.",
        ] {
            assert!(cannot_reach(line), "{line}");
        }
        for line in [
            "Error: libusb_open() failed with LIBUSB_ERROR_ACCESS",
            "embedded:startup.tcl:28: Error: Can't find my-board.cfg",
            "Error: invalid command name \"adapter_khz\"",
            "Info : Listening on port 3333 for gdb connections",
        ] {
            assert!(!cannot_reach(line), "{line}");
        }
    }
}
