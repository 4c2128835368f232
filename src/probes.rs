//! `rvflash probes`: the debug probes attached to this machine, as probe-rs finds them (like
//! `probe-rs list`), each with the selector that picks it (`--probe VID:PID:SERIAL`, or a
//! board file's `probe = "..."`). A probe Linux does not let this user open is marked, with
//! the udev rule that fixes it. Black Magic Probes on the network are not discovered: they are
//! named by address (`1d50:6018:HOST:PORT`).
//!
//! This file must not open probes (the probe-rs target does).

use anyhow::Result;

/// Arguments of `rvflash probes`.
#[derive(clap::Args, Debug)]
#[command(
    about = "List the debug probes attached to this machine (as probe-rs finds them), with the \
             selector that picks each one (--probe VID:PID:SERIAL)"
)]
pub struct Args {}

/// Without the `probe-rs` feature there is nothing to list probes with.
#[cfg(not(feature = "probe-rs"))]
pub fn run(_args: &Args) -> Result<()> {
    anyhow::bail!("{}", crate::target::NO_PROBE_RS)
}

/// Lists the probes; exits 0 even when there are none.
#[cfg(feature = "probe-rs")]
pub fn run(_args: &Args) -> Result<()> {
    use probe_rs::probe::list::{Accessibility, Lister};
    use std::io::Write;

    use crate::target::probe_rs::{list_lines, permission_denied};

    let probes = Lister::new().list_all_with_access();
    let mut out = std::io::stdout().lock();
    if probes.is_empty() {
        writeln!(out, "no debug probes found")?;
    } else {
        writeln!(
            out,
            "{} debug probe(s) (selector, then what it is):",
            probes.len()
        )?;
        writeln!(out, "{}", list_lines(&probes))?;
        writeln!(
            out,
            "pick one with `rvflash run --probe SELECTOR` or `probe = \"SELECTOR\"` in the \
             board file's `probe-rs` table"
        )?;
    }
    writeln!(
        out,
        "(a Black Magic Probe on the network is not listed: select it as 1d50:6018:HOST:PORT)"
    )?;
    for p in probes
        .iter()
        .filter(|p| p.accessibility == Accessibility::PermissionDenied)
    {
        let i = &p.info;
        writeln!(
            out,
            "\n{}",
            permission_denied(&i.to_string(), i.vendor_id, i.product_id)
        )?;
    }
    Ok(())
}
