//! Reaching a chip through a debug probe with the probe-rs crate: the chip's target
//! description, the probe, JTAG at the wanted speed, attaching to the core.
//!
//! - The chip is one of probe-rs's built-in targets, or a variant of a chip-description YAML
//!   (a file next to the board file, or one shipped in rvflash: [`BUILTIN_DESCRIPTIONS`])
//!   added to a [`Registry`] at run time. It is looked up before any probe is opened, so a
//!   misspelt chip fails at once.
//! - The probe is given by a selector, `VID:PID[:SERIAL]` as probe-rs takes it (`--probe`, or
//!   the board's `probe`); without one, the only probe attached is used.
//!
//! Each failure a user can meet here is one message that says what to do (all end the run
//! with status 125): no probe attached; several (listed, with how to pick one); none behind
//! a selector; permission denied on Linux (the udev rule to install, verbatim); an unknown
//! chip (with the chips the description has, or built-in ones of a similar name); a chip
//! that does not answer (power, wiring, speed); a connection that drops ([`describe`]).
//! A probe that does not open (none attached, none behind the selector, an open that fails)
//! and a chip that does not attach are [`Unreachable`]: the run tries again (`--retries`).
//! The others are not: bad input or a setup to fix (permissions) fails at once.
//!
//! This file must not run or load programs (`mod`, `load` do) nor start processes (`serve`).

use std::error::Error as StdError;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use probe_rs::config::Registry;
use probe_rs::probe::list::{Accessibility, Lister, ProbeListItem};
use probe_rs::probe::{DebugProbeError, DebugProbeSelector, Probe, WireProtocol};
use probe_rs::{Permissions, Session};

use crate::board::{BoardSource, ProbeRs};
use crate::target::Unreachable;

/// Chip descriptions shipped in the binary: (file name, YAML).
pub const BUILTIN_DESCRIPTIONS: &[(&str, &str)] = &[
    (
        "rvflash-sim.yaml",
        include_str!("../../../boards/rvflash-sim.yaml"),
    ),
    (
        "hifive-unmatched.yaml",
        include_str!("../../../boards/hifive-unmatched.yaml"),
    ),
];

/// Where probe-rs's udev rules go on Linux.
const UDEV_FILE: &str = "/etc/udev/rules.d/69-probe-rs.rules";

/// A chip, found in probe-rs's registry.
pub struct Chip {
    /// Its name, as probe-rs knows it.
    pub name: String,
    /// The target description to attach with.
    pub target: probe_rs::Target,
}

/// Finds the board's chip: in its chip description when it has one, else among probe-rs's
/// built-in targets.
pub fn chip(p: &ProbeRs, source: &BoardSource) -> Result<Chip> {
    let mut registry = Registry::from_builtin_families();
    let mut described = None;
    if let Some(file) = &p.chip_description {
        let (origin, yaml) = description_text(file, source)?;
        let family = registry.add_target_family_from_yaml(&yaml).map_err(|e| {
            anyhow!("chip description {origin} is not a valid probe-rs target: {e}")
        })?;
        let variants = registry
            .get_targets_by_family_name(&family)
            .unwrap_or_default();
        described = Some((origin, variants));
    }
    match registry.get_target_by_name(&p.chip) {
        Ok(target) => Ok(Chip {
            name: target.name.clone(),
            target,
        }),
        Err(err) => {
            let mut text = format!("unknown chip `{}` ({err})", p.chip);
            match &described {
                Some((origin, variants)) => text.push_str(&format!(
                    ": it is neither in the chip description {origin} (which has {}) nor one \
                     of probe-rs's built-in targets",
                    variants.join(", ")
                )),
                None => {
                    let prefix: String = p.chip.chars().take(4).collect();
                    let mut similar = registry.search_chips(&prefix);
                    similar.sort();
                    similar.dedup();
                    similar.truncate(12);
                    text.push_str(": it is not one of probe-rs's built-in targets");
                    if !similar.is_empty() {
                        text.push_str(&format!(" (similar names: {})", similar.join(", ")));
                    }
                    text.push_str(
                        "; for a chip probe-rs does not know, describe it in a chip-description \
                         YAML next to the board file and name it with \
                         `probe-rs = { chip-description = \"FILE.yaml\", ... }`",
                    );
                }
            }
            bail!("{text}")
        }
    }
}

/// The text of a chip description: next to the board file, else built in.
fn description_text(file: &str, source: &BoardSource) -> Result<(String, String)> {
    if let BoardSource::File(board) = source {
        let path = board.parent().unwrap_or(Path::new(".")).join(file);
        if path.exists() {
            let text = crate::diag::read_text(&path, "YAML").with_context(|| {
                format!(
                    "board file {}: key `probe-rs.chip-description`",
                    board.display()
                )
            })?;
            return Ok((path.display().to_string(), text));
        }
    }
    match BUILTIN_DESCRIPTIONS.iter().find(|(n, _)| *n == file) {
        Some((name, text)) => Ok((format!("{name} (built in)"), (*text).to_owned())),
        None => bail!(
            "key `probe-rs.chip-description`: no file `{file}` next to the board file, and no \
             built-in chip description of that name (built in: {})",
            BUILTIN_DESCRIPTIONS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Opens the probe `selector` names, or the only one attached.
pub fn open_probe(selector: Option<&str>) -> Result<Probe> {
    let lister = Lister::new();
    let Some(text) = selector else {
        let probes = lister.list_all_with_access();
        return match probes.as_slice() {
            [] => Err(Unreachable::error(
                "no debug probe found: plug one in, check its USB cable, or name one with \
                 --probe VID:PID[:SERIAL] (a Black Magic Probe on the network: \
                 --probe 1d50:6018:HOST:PORT); `rvflash probes` lists the attached ones",
            )),
            [only] => {
                if only.accessibility == Accessibility::PermissionDenied {
                    bail!(
                        "{}",
                        permission_denied(
                            &only.info.to_string(),
                            only.info.vendor_id,
                            only.info.product_id
                        )
                    );
                }
                only.info.open().map_err(|e| {
                    Unreachable::error(format!(
                        "cannot open the debug probe {}: {}",
                        only.info,
                        chain(&e)
                    ))
                })
            }
            several => bail!(
                "{} debug probes are attached; pick one with --probe VID:PID:SERIAL (or the \
                 board file's `probe = \"VID:PID:SERIAL\"`):\n{}",
                several.len(),
                list_lines(several)
            ),
        };
    };
    let sel: DebugProbeSelector = text.parse().map_err(|e| {
        anyhow!("`{text}` is not a probe selector ({e}): write VID:PID or VID:PID:SERIAL, with the USB IDs in hexadecimal (1d50:6018, 0403:6010:FT1234)")
    })?;
    match lister.open(sel.clone()) {
        Ok(probe) => Ok(probe),
        Err(err) => Err(explain_open(&lister, &sel, text, &err)),
    }
}

/// Why `selector` opened nothing, and what to do.
fn explain_open(
    lister: &Lister,
    sel: &DebugProbeSelector,
    text: &str,
    err: &DebugProbeError,
) -> anyhow::Error {
    let matching = lister.list_with_access(Some(sel));
    if let Some(denied) = matching
        .iter()
        .find(|p| p.accessibility == Accessibility::PermissionDenied)
    {
        return anyhow!(
            "{}",
            permission_denied(&denied.info.to_string(), sel.vendor_id, sel.product_id)
        );
    }
    if has_io_error(err, std::io::ErrorKind::PermissionDenied) {
        return anyhow!("{}", permission_denied(text, sel.vendor_id, sel.product_id));
    }
    let network = sel.serial_number.as_deref().filter(|s| {
        s.contains(':')
            && s.rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    });
    if let Some(addr) = network {
        return Unreachable::error(format!(
            "no debug probe at `{text}`: nothing accepts connections at {addr} (is the Black \
             Magic Probe, or `rvflash serve --bmp {addr}`, running there?)"
        ));
    }
    let attached = lister.list_all_with_access();
    let what = if attached.is_empty() {
        "no probe is attached".to_owned()
    } else {
        format!("attached:\n{}", list_lines(&attached))
    };
    Unreachable::error(format!(
        "no debug probe matches `{text}` ({}); check the probe's USB cable, or pick another \
         with --probe VID:PID[:SERIAL] — {what}",
        chain(err)
    ))
}

/// The message for a probe Linux does not let this user open, with the udev rule that fixes it.
pub fn permission_denied(probe: &str, vid: u16, pid: u16) -> String {
    format!(
        "permission denied opening the debug probe {probe}: on Linux, let your user reach it \
         with a udev rule. Put this line in {UDEV_FILE}:\n\n{}\n\nthen run `sudo udevadm control \
         --reload && sudo udevadm trigger`, make sure you are in the `plugdev` group, and plug \
         the probe in again",
        udev_rule(vid, pid)
    )
}

/// The udev rule for one probe, as probe-rs's rules file writes them.
pub fn udev_rule(vid: u16, pid: u16) -> String {
    format!(
        "ATTRS{{idVendor}}==\"{vid:04x}\", ATTRS{{idProduct}}==\"{pid:04x}\", MODE=\"660\", \
         GROUP=\"plugdev\", TAG+=\"uaccess\""
    )
}

/// One line per probe: its selector, then what it is.
pub fn list_lines(probes: &[ProbeListItem]) -> String {
    probes
        .iter()
        .map(|p| {
            let i = &p.info;
            let mut sel = format!("{:04x}:{:04x}", i.vendor_id, i.product_id);
            if let Some(serial) = &i.serial_number {
                sel.push(':');
                sel.push_str(serial);
            }
            let denied = if p.accessibility == Accessibility::PermissionDenied {
                "  (permission denied: see the udev rule in the README)"
            } else {
                ""
            };
            format!("  {sel:<32} {}{denied}", i.identifier)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Selects JTAG at `speed_khz`, attaches to `chip` and to core `core`.
pub fn attach(
    mut probe: Probe,
    chip: &Chip,
    speed_khz: Option<u32>,
    core: usize,
) -> Result<Session> {
    let name = probe.get_name();
    probe
        .select_protocol(WireProtocol::Jtag)
        .map_err(|e| anyhow!("the debug probe {name} cannot do JTAG: {}", chain(&e)))?;
    if let Some(khz) = speed_khz {
        probe.set_speed(khz).map_err(|e| {
            anyhow!(
                "the debug probe {name} cannot run JTAG at {khz} kHz: {}",
                chain(&e)
            )
        })?;
    }
    let speed = probe.speed_khz();
    let mut session = probe
        .attach(chip.target.clone(), Permissions::default())
        .map_err(|e| not_answering(&e, &chip.name, speed))?;
    let cores = session.list_cores().len();
    if core >= cores {
        bail!(
            "key `probe-rs.core`: chip `{}` has {cores} core(s), there is no core {core}",
            chip.name
        );
    }
    session
        .core(core)
        .map_err(|e| not_answering(&e, &chip.name, speed))?;
    Ok(session)
}

/// A chip that did not answer: what to check.
fn not_answering(err: &probe_rs::Error, chip: &str, speed: u32) -> anyhow::Error {
    if let Some(lost) = connection_lost(err) {
        return Unreachable::error(format!("{lost} while attaching to chip `{chip}`"));
    }
    Unreachable::error(format!(
        "the chip `{chip}` does not answer over JTAG ({}): check that the board is powered, \
         the probe's wiring (TCK, TMS, TDI, TDO, GND and the reference voltage) and that this \
         is the right chip; a lower clock may help (now {speed} kHz; try --speed 1000)",
        chain(err)
    ))
}

/// If `err` comes from a connection to the probe that went away: a sentence saying so.
pub fn connection_lost(err: &(dyn StdError + 'static)) -> Option<String> {
    use std::io::ErrorKind::*;
    let gone = [
        UnexpectedEof,
        BrokenPipe,
        ConnectionReset,
        ConnectionAborted,
        NotConnected,
    ];
    gone.iter()
        .any(|&k| has_io_error(err, k))
        .then(|| "the connection to the debug probe dropped".to_owned())
}

/// Whether an `io::Error` of `kind` is in `err`'s source chain.
fn has_io_error(err: &(dyn StdError + 'static), kind: std::io::ErrorKind) -> bool {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == kind
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// An error and its sources on one line.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = e.source();
    }
    text
}

/// Describes a probe-rs failure during `what` (downloading, running ...): a dropped connection
/// says so, anything else is the error chain.
pub fn describe(err: probe_rs::Error, what: &str) -> anyhow::Error {
    match connection_lost(&err) {
        Some(lost) => anyhow!("{lost} {what}"),
        None => anyhow!("{what}: {}", chain(&err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn board(chip: &str, description: Option<&str>) -> ProbeRs {
        ProbeRs {
            chip: chip.into(),
            chip_description: description.map(str::to_owned),
            ..ProbeRs::default()
        }
    }

    #[test]
    fn chips_come_from_descriptions_and_the_builtin_database() {
        let sim = chip(
            &board("rvflash-sim", Some("rvflash-sim.yaml")),
            &BoardSource::BuiltIn,
        )
        .unwrap();
        assert_eq!(sim.name, "rvflash-sim");
        let ddr = chip(
            &board("FU740-C000-DDR", Some("hifive-unmatched.yaml")),
            &BoardSource::BuiltIn,
        )
        .unwrap();
        let ddr_ram = ddr.target.memory_map.iter().any(|r| match r {
            probe_rs::config::MemoryRegion::Ram(r) => r.range.start == 0x8000_0000,
            _ => false,
        });
        assert!(ddr_ram, "{:?}", ddr.target.memory_map);
        let builtin = chip(&board("FU740-C000", None), &BoardSource::BuiltIn).unwrap();
        assert_eq!(builtin.name, "FU740-C000");
    }

    #[test]
    fn unknown_chips_say_what_exists() {
        let err = chip(
            &board("rvflash-simm", Some("rvflash-sim.yaml")),
            &BoardSource::BuiltIn,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("unknown chip `rvflash-simm`") && err.contains("which has rvflash-sim"),
            "{err}"
        );
        let err = chip(&board("FU740-X", None), &BoardSource::BuiltIn)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("FU740-C000"), "{err}");
        let err = chip(&board("x", Some("nope.yaml")), &BoardSource::BuiltIn)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("nope.yaml"), "{err}");
    }

    #[test]
    fn selectors_and_udev_rules() {
        let err = open_probe(Some("not-a-probe")).err().unwrap().to_string();
        assert!(err.contains("not a probe selector"), "{err}");
        assert_eq!(
            udev_rule(0x0403, 0x6010),
            r#"ATTRS{idVendor}=="0403", ATTRS{idProduct}=="6010", MODE="660", GROUP="plugdev", TAG+="uaccess""#
        );
        assert!(permission_denied("x", 1, 2).contains(UDEV_FILE));
    }
}
