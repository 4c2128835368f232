//! The simulated board behind `sim-probe-rs`: `rvflash serve --bmp 127.0.0.1:0
//! --exit-on-finish --board BOARD`, run from this same executable, which probe-rs reaches as a
//! Black Magic Probe on the network (selector `1d50:6018:127.0.0.1:PORT`, the port taken from
//! serve's first stderr line, `rvflash: serving bmp on HOST:PORT`).
//!
//! Serve is a [`Helper`] (src/target/child.rs): its own process group, killed when dropped, by
//! rvflash's signal handlers and by `PR_SET_PDEATHSIG`, so it never outlives rvflash. Its
//! stdout is the board's UART, forwarded to rvflash's stdout; its stderr goes to a log (shown
//! with `--verbose` and when something fails). With `--exit-on-finish` a program that exits
//! through the SiFive test finisher ends serve with its status, which the target passes on.
//!
//! This file must not speak to probes (`connect` does).

use std::time::Instant;

use anyhow::Result;

use crate::target::child::{self, Helper};

/// The Black Magic Probe's USB IDs, which probe-rs's selector for a network BMP carries.
pub const BMP_VID_PID: &str = "1d50:6018";

/// A running `rvflash serve` and its log's directory.
pub struct Serve {
    pub helper: Helper,
    /// Holds the log; lives as long as the helper.
    _dir: tempfile::TempDir,
}

/// Starts `rvflash serve` for `board`; returns it and the probe selector that reaches it.
pub fn start(board: &str, deadline: Instant, verbose: bool) -> Result<(Serve, String)> {
    let dir = crate::diag::temp_dir()?;
    let (helper, addr, _) = child::start_serve(
        "--bmp",
        "bmp",
        "serving the Black Magic Probe protocol",
        board,
        dir.path().join("serve.log"),
        verbose,
        deadline,
    )?;
    Ok((Serve { helper, _dir: dir }, format!("{BMP_VID_PID}:{addr}")))
}
