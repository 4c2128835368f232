//! Boards: what rvflash knows about a machine it runs programs on.
//!
//! A board is described by a TOML file (`boards/NAME.toml`):
//!
//! ```toml
//! name = "qemu-virt"
//! description = "QEMU virt machine"
//! isa = "rv64imafdc_zicsr_zifencei"
//! linker-script = "qemu-virt.x"          # memory map, riscv-rt `memory.x` convention
//! run = "qemu"                           # "sim" | "qemu" | "gdb"
//! console = { uart16550 = 0x1000_0000 }  # "semihosting" | { uart16550 = ADDR }
//! exit = { sifive-test = 0x10_0000 }     # "semihosting" | { sifive-test = ADDR }
//!
//! [[memory]]
//! name = "RAM"
//! origin = 0x8000_0000
//! length = 0x0800_0000
//! ```
//!
//! Boards with `run = "gdb"` are behind a GDB server: `gdb-server = "HOST:PORT"` (one that
//! is already running) or `openocd = { config = [...], args = [...] }` (OpenOCD, started by
//! rvflash), with `reset = "monitor reset halt"` (or `"none"`), `verify = true` and
//! `flash = true` on `[[memory]]` regions that are flash.
//!
//! Boards with `run = "probe-rs"` are reached through a debug probe by the probe-rs crate:
//! `probe-rs = { chip = "NAME", chip-description = "FILE.yaml", probe = "VID:PID[:SERIAL]",
//! speed = KHZ }` (see [`ProbeRs`]).
//!
//! Boards of both kinds may have hooks, commands rvflash runs (see `crate::hooks`):
//! `power-cycle = ["CMD", "ARG", ...]` (with `--power-cycle`, and once per run when the board
//! does not answer) and `reset = ["CMD", ...]` (before each load, instead of the debugger's
//! reset; the string form of `reset` is the `gdb` boards' debugger reset above), each bounded
//! by `hook-timeout = SECS` (default [`DEFAULT_HOOK_TIMEOUT`]).
//!
//! The built-in boards (`sim`, the default, `qemu-virt`, `sim-openocd`, `visionfive2`,
//! `sim-probe-rs`, `hifive-unmatched`) are compiled into the binary.
//! More come from a `boards/` folder in the current directory and from `--board-file PATH`;
//! when names collide, `--board-file` wins over `./boards/`, which wins over the built-ins.
//! Unknown keys and bad values are errors naming the file, the key and, where the TOML parser
//! knows it, the line and column. A board file's `linker-script` is a path relative to the
//! board file, or, when no such file exists, the name of a built-in script (`sim.x`,
//! `qemu-virt.x`, `sections.ld`, the files of `linker-scripts/`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    (
        "boards/sim-openocd.toml",
        include_str!("../boards/sim-openocd.toml"),
    ),
    (
        "boards/visionfive2.toml",
        include_str!("../boards/visionfive2.toml"),
    ),
    (
        "boards/sim-probe-rs.toml",
        include_str!("../boards/sim-probe-rs.toml"),
    ),
    (
        "boards/hifive-unmatched.toml",
        include_str!("../boards/hifive-unmatched.toml"),
    ),
];

/// Built-in linker scripts: (file name, text).
const BUILTIN_SCRIPTS: &[(&str, &str)] = &[
    ("sim.x", include_str!("../linker-scripts/sim.x")),
    ("qemu-virt.x", include_str!("../linker-scripts/qemu-virt.x")),
    ("sections.ld", include_str!("../linker-scripts/sections.ld")),
    (
        "visionfive2.x",
        include_str!("../linker-scripts/visionfive2.x"),
    ),
    (
        "hifive-unmatched.x",
        include_str!("../linker-scripts/hifive-unmatched.x"),
    ),
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
    /// Any GDB server: one already running (`gdb-server`) or OpenOCD started by rvflash
    /// (`openocd`).
    Gdb,
    /// A debug probe driven by the probe-rs crate (`probe-rs = { chip = ... }`).
    ProbeRs,
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
    /// Flash (`flash = true`): debuggers set hardware breakpoints there.
    #[serde(default)]
    pub flash: bool,
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
    /// The debug hardware `rvflash serve` puts behind the simulated board's JTAG TAP
    /// (`[debug]`; absent: the simulator's defaults).
    #[serde(default)]
    pub debug: Option<DebugHardware>,
    /// `run = "gdb"`: a GDB server that is already running, `HOST:PORT`.
    #[serde(default)]
    pub gdb_server: Option<String>,
    /// `run = "gdb"`: OpenOCD, started by rvflash (`openocd = { config = [...] }`).
    #[serde(default)]
    pub openocd: Option<OpenOcd>,
    /// How the target is reset before loading. A string (`run = "gdb"`): the debugger's reset,
    /// `"monitor CMD"` (default with `openocd`: `monitor reset halt`) or `"none"` (default with
    /// `gdb-server`). An array (`run = "gdb"` or `"probe-rs"`): the reset hook, a command run
    /// before each load instead of the debugger's reset.
    #[serde(default)]
    pub reset: Option<Reset>,
    /// `run = "gdb"` or `"probe-rs"`: the power-cycle hook, a command that power-cycles the
    /// board (run with `--power-cycle`, and once per run when the board does not answer).
    #[serde(default)]
    pub power_cycle: Option<Hook>,
    /// How long a hook may run (default [`DEFAULT_HOOK_TIMEOUT`]).
    #[serde(default, deserialize_with = "seconds")]
    pub hook_timeout: Option<Duration>,
    /// `run = "gdb"`: verify the image after loading (default true).
    #[serde(default)]
    pub verify: Option<bool>,
    /// `run = "probe-rs"`: the chip, its description, the probe and its speed.
    #[serde(default)]
    pub probe_rs: Option<ProbeRs>,
    /// Where this board came from (a path, or `built-in`); not part of the file.
    #[serde(skip)]
    pub source: BoardSource,
}

/// How long a hook may run when the board file does not say (`hook-timeout`).
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// A board's `reset` key: the debugger's reset (a string), or the reset hook (an array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reset {
    /// `run = "gdb"`: `"monitor CMD"` or `"none"`.
    Debugger(String),
    /// A command that resets the board, run before each load.
    Hook(Hook),
}

impl<'de> Deserialize<'de> for Reset {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Reset, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Reset;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a string (the debugger's reset: \"monitor COMMAND\" or \"none\") or an array \
                     of strings (a command that resets the board: [\"PROGRAM\", \"ARG\", ...])",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Reset, E> {
                Ok(Reset::Debugger(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Reset, A::Error> {
                Ok(Reset::Hook(Hook::from_seq(seq)?))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A hook: a command (program and arguments) rvflash runs for a board (see `crate::hooks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook(pub Vec<String>);

impl Hook {
    fn from_seq<'de, A: serde::de::SeqAccess<'de>>(mut seq: A) -> Result<Hook, A::Error> {
        let mut words = Vec::new();
        while let Some(word) = seq.next_element::<String>()? {
            words.push(word);
        }
        Ok(Hook(words))
    }

    /// The command as a shell would show it (words with spaces or quotes quoted).
    pub fn display(&self) -> String {
        self.0
            .iter()
            .map(|w| {
                if !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
                {
                    w.clone()
                } else {
                    format!("'{}'", w.replace('\'', "'\\''"))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl<'de> Deserialize<'de> for Hook {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hook, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Hook;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of strings (the command: [\"PROGRAM\", \"ARG\", ...])")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Hook, A::Error> {
                Hook::from_seq(seq)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

/// `hook-timeout = SECS`: a positive number of seconds (an integer or not).
fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let secs = f64::deserialize(d)?;
    if !(secs.is_finite() && secs > 0.0 && secs <= 1e9) {
        return Err(serde::de::Error::custom(format!(
            "`{secs}` is not a positive number of seconds"
        )));
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}

/// Most triggers a `[debug]` table may ask for (`triggers`): OpenOCD and probe-rs enumerate
/// them one `tselect` write at a time, and no RISC-V core ships more than a handful.
pub const MAX_TRIGGERS: usize = 16;

/// A board's `[debug]` table: what a debugger finds on its JTAG chain.
///
/// ```toml
/// [debug]
/// idcode = 0x1000_0913   # the TAP's IDCODE (bit 0 set, as IEEE 1149.1 wants)
/// triggers = 4           # hardware breakpoints/watchpoints (mcontrol triggers), 0..=16
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugHardware {
    /// The TAP's IDCODE (absent: the simulator's default).
    pub idcode: Option<u32>,
    /// Number of hardware triggers (absent: the simulator's default).
    pub triggers: Option<usize>,
}

impl DebugHardware {
    fn validate(&self) -> Result<()> {
        if let Some(idcode) = self.idcode {
            // IEEE 1149.1: bit 0 of an IDCODE is 1 (a 0 there means "BYPASS, no IDCODE"), and
            // manufacturer code 0x7f is reserved so that all-ones reads as "no device".
            if idcode & 1 == 0 {
                bail!(
                    "key `debug.idcode`: {idcode:#010x} has bit 0 clear; a JTAG IDCODE always ends in 1"
                );
            }
            if (idcode >> 1) & 0x7ff == 0x7f {
                bail!(
                    "key `debug.idcode`: {idcode:#010x} has the reserved manufacturer code 0x7f \
                     (IEEE 1149.1), which debuggers read as an empty chain"
                );
            }
        }
        if let Some(triggers) = self.triggers
            && triggers > MAX_TRIGGERS
        {
            bail!(
                "key `debug.triggers`: {triggers} triggers; at most {MAX_TRIGGERS} are supported"
            );
        }
        Ok(())
    }
}

/// A board's `openocd` table (`run = "gdb"`): OpenOCD, started by rvflash, whose GDB server
/// rvflash drives.
///
/// ```toml
/// openocd = { config = ["interface/ftdi/olimex-arm-usb-tiny-h.cfg", "my-board.cfg"], args = [] }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenOcd {
    /// Config files (`-f`), in order: a path relative to the board file, a built-in config
    /// (`sim-openocd.cfg`, `visionfive2.cfg`), or one of OpenOCD's own scripts.
    #[serde(default)]
    pub config: Vec<String>,
    /// More OpenOCD arguments, after the config files (`["-c", "adapter speed 4000"]`).
    #[serde(default)]
    pub args: Vec<String>,
    /// A simulated board for `rvflash serve --remote-bitbang` to run first, whose port
    /// OpenOCD's `remote_bitbang` adapter is given (the built-in `sim-openocd`).
    #[serde(default)]
    pub serve: Option<String>,
}

impl Board {
    /// Checks the keys of `run = "gdb"` boards, and that other boards have none of them.
    fn validate_gdb(&self) -> Result<()> {
        if self.run != RunKind::Gdb {
            for (key, set) in [
                ("gdb-server", self.gdb_server.is_some()),
                ("openocd", self.openocd.is_some()),
                ("verify", self.verify.is_some()),
            ] {
                if set {
                    bail!("key `{key}`: only boards with `run = \"gdb\"` have it");
                }
            }
            if let Some(Reset::Debugger(reset)) = &self.reset {
                bail!(
                    "key `reset`: `{reset}` is a debugger's reset, which only boards with `run = \
                     \"gdb\"` have (a reset hook is a command: `reset = [\"PROGRAM\", \"ARG\", ...]`)"
                );
            }
            return Ok(());
        }
        match (&self.gdb_server, &self.openocd) {
            (None, None) => bail!(
                "key `run`: a `gdb` board needs `gdb-server = \"HOST:PORT\"` (a running GDB \
                 server) or `openocd = {{ config = [...] }}` (OpenOCD, started by rvflash)"
            ),
            (Some(_), Some(_)) => {
                bail!("keys `gdb-server` and `openocd`: give one of them, not both")
            }
            (Some(addr), None) => {
                let port = addr
                    .rsplit_once(':')
                    .map(|(host, port)| (host, port.parse::<u16>()));
                if !matches!(port, Some((host, Ok(p))) if !host.is_empty() && p != 0) {
                    bail!("key `gdb-server`: `{addr}` is not HOST:PORT");
                }
            }
            (None, Some(openocd)) => {
                if openocd.config.is_empty() && openocd.args.is_empty() {
                    bail!("key `openocd.config`: name at least one OpenOCD config file");
                }
                if openocd.serve.as_ref().is_some_and(|b| b.trim().is_empty()) {
                    bail!("key `openocd.serve`: must name a board");
                }
            }
        }
        if let Some(Reset::Debugger(reset)) = &self.reset
            && reset != "none"
            && reset
                .strip_prefix("monitor ")
                .is_none_or(|cmd| cmd.trim().is_empty())
        {
            bail!(
                "key `reset`: `{reset}` is neither `monitor COMMAND` nor `none` (a reset hook \
                 is a command: `reset = [\"PROGRAM\", \"ARG\", ...]`)"
            );
        }
        Ok(())
    }

    /// `run = "gdb"`: the monitor command that resets and halts the target, if any. A board
    /// with a reset hook has none: the hook resets it, and the server halts the hart when
    /// rvflash attaches.
    pub fn reset_command(&self) -> Option<String> {
        match &self.reset {
            Some(Reset::Hook(_)) => None,
            Some(Reset::Debugger(reset)) if reset == "none" => None,
            Some(Reset::Debugger(reset)) => {
                reset.strip_prefix("monitor ").map(|c| c.trim().to_owned())
            }
            None if self.openocd.is_some() => Some("reset halt".to_owned()),
            None => None,
        }
    }

    /// The reset hook (`reset = ["CMD", ...]`), if the board has one.
    pub fn reset_hook(&self) -> Option<&Hook> {
        match &self.reset {
            Some(Reset::Hook(hook)) => Some(hook),
            _ => None,
        }
    }

    /// How long a hook may run.
    pub fn hook_timeout(&self) -> Duration {
        self.hook_timeout.unwrap_or(DEFAULT_HOOK_TIMEOUT)
    }

    /// The directory hooks run in and relative paths of the board file are resolved against:
    /// the board file's (the current directory for built-in boards).
    pub fn dir(&self) -> PathBuf {
        match &self.source {
            BoardSource::File(path) => match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                _ => PathBuf::from("."),
            },
            BoardSource::BuiltIn => PathBuf::from("."),
        }
    }

    /// Checks the hooks: only boards behind a probe or a GDB server have them, and each is a
    /// command.
    fn validate_hooks(&self) -> Result<()> {
        let hooks = [
            ("power-cycle", self.power_cycle.as_ref()),
            ("reset", self.reset_hook()),
        ];
        let behind_debugger = matches!(self.run, RunKind::Gdb | RunKind::ProbeRs);
        for (key, hook) in hooks {
            let Some(hook) = hook else { continue };
            if !behind_debugger {
                bail!(
                    "key `{key}`: only boards behind a probe or a GDB server (`run = \"gdb\"` \
                     or `run = \"probe-rs\"`) have hooks"
                );
            }
            match hook.0.first() {
                None => {
                    bail!("key `{key}`: the command is empty; write [\"PROGRAM\", \"ARG\", ...]")
                }
                Some(program) if program.trim().is_empty() => {
                    bail!("key `{key}`: the program (the array's first string) is empty")
                }
                Some(_) => {}
            }
        }
        if self.hook_timeout.is_some() && !behind_debugger {
            bail!(
                "key `hook-timeout`: only boards behind a probe or a GDB server (`run = \"gdb\"` \
                 or `run = \"probe-rs\"`) have hooks"
            );
        }
        Ok(())
    }
}

/// A board's `probe-rs` table (`run = "probe-rs"`): how the probe-rs target reaches the chip.
///
/// ```toml
/// probe-rs = { chip = "FU740-C000-DDR", chip-description = "hifive-unmatched.yaml", probe = "0403:6010", speed = 4000 }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProbeRs {
    /// The chip: one of probe-rs's built-in targets, or a variant of `chip-description`.
    pub chip: String,
    /// A probe-rs chip-description (target) YAML, added to probe-rs's registry at run time: a
    /// path relative to the board file, or a built-in one (`rvflash-sim.yaml`,
    /// `hifive-unmatched.yaml`).
    #[serde(default)]
    pub chip_description: Option<String>,
    /// The probe, as probe-rs selects one: `VID:PID[:SERIAL]` (`--probe` overrides it).
    #[serde(default)]
    pub probe: Option<String>,
    /// JTAG clock in kHz (`--speed` overrides it; default: the probe's).
    #[serde(default)]
    pub speed: Option<u32>,
    /// Which of the chip's cores runs the program (default 0).
    #[serde(default)]
    pub core: Option<usize>,
    /// A simulated board for `rvflash serve --bmp` to run first, reached as a network Black
    /// Magic Probe (the built-in `sim-probe-rs`).
    #[serde(default)]
    pub serve: Option<String>,
}

impl Board {
    /// Checks the `probe-rs` table of `run = "probe-rs"` boards, and that other boards have none.
    fn validate_probe_rs(&self) -> Result<()> {
        let Some(p) = &self.probe_rs else {
            if self.run == RunKind::ProbeRs {
                bail!(
                    "key `run`: a `probe-rs` board needs `probe-rs = {{ chip = \"NAME\" }}` (a \
                     probe-rs built-in chip, or one from `chip-description = \"FILE.yaml\"`)"
                );
            }
            return Ok(());
        };
        if self.run != RunKind::ProbeRs {
            bail!("key `probe-rs`: only boards with `run = \"probe-rs\"` have it");
        }
        if p.chip.trim().is_empty() {
            bail!("key `probe-rs.chip`: must name a chip");
        }
        #[cfg(feature = "probe-rs")]
        if let Some(probe) = &p.probe
            && probe
                .parse::<probe_rs::probe::DebugProbeSelector>()
                .is_err()
        {
            bail!("key `probe-rs.probe`: `{probe}` is not VID:PID[:SERIAL] (hexadecimal IDs)");
        }
        if p.speed == Some(0) {
            bail!("key `probe-rs.speed`: 0 kHz");
        }
        if p.serve.as_ref().is_some_and(|b| b.trim().is_empty()) {
            bail!("key `probe-rs.serve`: must name a board");
        }
        if p.serve.is_some() && p.probe.is_some() {
            bail!("keys `probe-rs.serve` and `probe-rs.probe`: give one of them, not both");
        }
        Ok(())
    }

    /// Whether the ISA string has the F and D extensions (rvflash's IL code needs both).
    pub fn has_float(&self) -> bool {
        let isa = self.isa.to_ascii_lowercase();
        let base = isa.split('_').next().unwrap_or("");
        let letters = base.strip_prefix("rv64").unwrap_or("");
        letters.contains('g') || (letters.contains('f') && letters.contains('d'))
    }
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
        self.validate_gdb()?;
        self.validate_probe_rs()?;
        self.validate_hooks()?;
        if let Some(debug) = &self.debug {
            debug.validate()?;
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
    fn debug_table_parses_and_validates() {
        let base = include_str!("../boards/sim.toml");
        let board = Board::parse(base, "b.toml").unwrap();
        assert_eq!(board.debug, None);
        let with = format!("{base}\n[debug]\nidcode = 0x1000_0913\ntriggers = 2\n");
        let board = Board::parse(&with, "b.toml").unwrap();
        assert_eq!(
            board.debug,
            Some(DebugHardware {
                idcode: Some(0x1000_0913),
                triggers: Some(2)
            })
        );
        let partial = format!("{base}\n[debug]\ntriggers = 0\n");
        let board = Board::parse(&partial, "b.toml").unwrap();
        assert_eq!(board.debug.unwrap().idcode, None);
        for (bad, key) in [
            ("idcode = 0x1000_0912", "debug.idcode"),
            ("idcode = 0x0000_00ff", "debug.idcode"),
            ("idcode = 0x1_0000_0001", "debug.idcode"),
            ("idcode = \"x\"", "debug.idcode"),
            ("triggers = 17", "debug.triggers"),
            ("triggers = -1", "debug.triggers"),
            ("trigers = 1", "trigers"),
        ] {
            let text = format!("{base}\n[debug]\n{bad}\n");
            let err = format!("{:#}", Board::parse(&text, "b.toml").unwrap_err());
            assert!(err.contains("b.toml") && err.contains(key), "{bad}: {err}");
        }
    }

    #[test]
    fn gdb_boards_parse() {
        let boards = builtin_boards().unwrap();
        let openocd = boards.iter().find(|b| b.name == "sim-openocd").unwrap();
        assert_eq!(openocd.run, RunKind::Gdb);
        let table = openocd.openocd.as_ref().unwrap();
        assert_eq!(table.config, ["sim-openocd.cfg"]);
        assert_eq!(table.serve.as_deref(), Some("sim"));
        assert_eq!(openocd.reset_command().as_deref(), Some("reset halt"));
        // The documented real board: OpenOCD with an adapter and the SoC config, DDR.
        let vf2 = boards.iter().find(|b| b.name == "visionfive2").unwrap();
        assert_eq!(vf2.run, RunKind::Gdb);
        let table = vf2.openocd.as_ref().unwrap();
        assert_eq!(
            table.config.last().map(String::as_str),
            Some("visionfive2.cfg")
        );
        assert_eq!(table.serve, None);
        assert_eq!(vf2.reset_command().as_deref(), Some("halt"));
        assert!(vf2.ram().origin >= 0x4000_0000 && vf2.verify == Some(true));
        assert!(
            vf2.linker_script_text()
                .unwrap()
                .contains("ORIGIN = 0x44000000")
        );
    }

    #[test]
    fn gdb_keys_are_checked() {
        let base = include_str!("../boards/sim.toml");
        let gdb = base.replace("run = \"sim\"", "run = \"gdb\"");
        // Top-level keys go before the first table.
        let with = |keys: &str| gdb.replacen("[[memory]]", &format!("{keys}\n[[memory]]"), 1);
        let board = Board::parse(&with("gdb-server = \"lab:3333\""), "b.toml").unwrap();
        assert_eq!(board.gdb_server.as_deref(), Some("lab:3333"));
        assert_eq!(board.reset_command(), None);
        let flash = with("gdb-server = \"h:1\"")
            .replace("length = 0x0800_0000", "length = 0x0800_0000\nflash = true");
        assert!(Board::parse(&flash, "b.toml").unwrap().memory[0].flash);
        for (keys, wanted) in [
            ("", "`gdb-server = \"HOST:PORT\"`"),
            ("gdb-server = \"nohost\"", "key `gdb-server`"),
            ("gdb-server = \"h:0\"", "key `gdb-server`"),
            (
                "gdb-server = \"h:1\"\nopenocd = { config = [\"a.cfg\"] }",
                "not both",
            ),
            ("openocd = { config = [] }", "key `openocd.config`"),
            ("openocd = { config = [\"a.cfg\"], bogus = 1 }", "bogus"),
            (
                "openocd = { config = [\"a.cfg\"], serve = \" \" }",
                "openocd.serve",
            ),
            (
                "gdb-server = \"h:1\"\nreset = \"reset halt\"",
                "key `reset`",
            ),
            ("gdb-server = \"h:1\"\nverify = \"yes\"", "verify"),
        ] {
            let err = format!("{:#}", Board::parse(&with(keys), "b.toml").unwrap_err());
            assert!(
                err.contains("b.toml") && err.contains(wanted),
                "{keys}: {err}"
            );
        }
        let ok = Board::parse(&with("gdb-server = \"h:1\"\nreset = \"none\""), "b.toml").unwrap();
        assert_eq!(ok.reset_command(), None);
        let ok = Board::parse(
            &with("openocd = { config = [\"a.cfg\"] }\nreset = \"monitor reset init\""),
            "b.toml",
        )
        .unwrap();
        assert_eq!(ok.reset_command().as_deref(), Some("reset init"));
        // Other boards have none of these keys.
        let stray = base.replacen("[[memory]]", "gdb-server = \"h:1\"\n[[memory]]", 1);
        let err = format!("{:#}", Board::parse(&stray, "b.toml").unwrap_err());
        assert!(
            err.contains("key `gdb-server`") && err.contains("gdb"),
            "{err}"
        );
    }

    #[test]
    fn hooks_parse_and_validate() {
        let base = include_str!("../boards/sim.toml");
        let gdb = base.replace("run = \"sim\"", "run = \"gdb\"");
        let with = |keys: &str| {
            gdb.replacen(
                "[[memory]]",
                &format!("gdb-server = \"h:1\"\n{keys}\n[[memory]]"),
                1,
            )
        };
        let board = Board::parse(
            &with(
                "power-cycle = [\"./pdu.sh\", \"off on\", \"4\"]\nreset = [\"reset-board\"]\n\
                 hook-timeout = 2.5",
            ),
            "b.toml",
        )
        .unwrap();
        let power = board.power_cycle.as_ref().unwrap();
        assert_eq!(power.0, ["./pdu.sh", "off on", "4"]);
        assert_eq!(power.display(), "./pdu.sh 'off on' 4");
        assert_eq!(board.reset_hook().unwrap().0, ["reset-board"]);
        // A reset hook replaces the debugger's reset.
        assert_eq!(board.reset_command(), None);
        assert_eq!(board.hook_timeout(), Duration::from_millis(2500));
        // Defaults; the string form of `reset` keeps its meaning.
        let plain = Board::parse(&with("reset = \"monitor reset halt\""), "b.toml").unwrap();
        assert_eq!(plain.reset_hook(), None);
        assert_eq!(plain.reset_command().as_deref(), Some("reset halt"));
        assert_eq!(plain.power_cycle, None);
        assert_eq!(plain.hook_timeout(), DEFAULT_HOOK_TIMEOUT);
        let whole = Board::parse(&with("hook-timeout = 5"), "b.toml").unwrap();
        assert_eq!(whole.hook_timeout(), Duration::from_secs(5));
        // OpenOCD's default `monitor reset halt` goes too.
        let openocd = gdb.replacen(
            "[[memory]]",
            "openocd = { config = [\"a.cfg\"] }\nreset = [\"./reset.sh\"]\n[[memory]]",
            1,
        );
        assert_eq!(
            Board::parse(&openocd, "b.toml").unwrap().reset_command(),
            None
        );
        // probe-rs boards have hooks too.
        let probe = base.replace("run = \"sim\"", "run = \"probe-rs\"").replacen(
            "[[memory]]",
            "probe-rs = { chip = \"c\" }\npower-cycle = [\"p\"]\nreset = [\"r\", \"1\"]\n[[memory]]",
            1,
        );
        let probe = Board::parse(&probe, "b.toml").unwrap();
        assert_eq!(probe.reset_hook().unwrap().0, ["r", "1"]);
        for (keys, wanted) in [
            ("power-cycle = \"./pdu.sh\"", "key `power-cycle`"),
            ("power-cycle = [\"./pdu.sh\", 4]", "key `power-cycle`"),
            (
                "power-cycle = []",
                "key `power-cycle`: the command is empty",
            ),
            ("power-cycle = [\" \"]", "key `power-cycle`: the program"),
            ("power-cycle = { cmd = \"x\" }", "key `power-cycle`"),
            ("reset = 3", "key `reset`"),
            ("reset = [true]", "key `reset`"),
            ("reset = []", "key `reset`: the command is empty"),
            ("reset = \"./reset.sh\"", "key `reset`"),
            ("hook-timeout = \"60\"", "key `hook-timeout`"),
            ("hook-timeout = 0", "key `hook-timeout`"),
            ("hook-timeout = -1", "key `hook-timeout`"),
            ("hook-timeout = nan", "key `hook-timeout`"),
            ("power_cycle = [\"x\"]", "power_cycle"),
        ] {
            let err = format!("{:#}", Board::parse(&with(keys), "b.toml").unwrap_err());
            assert!(
                err.contains("b.toml") && err.contains(wanted),
                "{keys}: {err}"
            );
        }
        // Boards rvflash runs itself have no hooks.
        for keys in [
            "power-cycle = [\"x\"]",
            "reset = [\"x\"]",
            "hook-timeout = 3",
        ] {
            let stray = base.replacen("[[memory]]", &format!("{keys}\n[[memory]]"), 1);
            let err = format!("{:#}", Board::parse(&stray, "b.toml").unwrap_err());
            assert!(err.contains("hooks"), "{keys}: {err}");
        }
        let stray = base.replacen("[[memory]]", "reset = \"none\"\n[[memory]]", 1);
        let err = format!("{:#}", Board::parse(&stray, "b.toml").unwrap_err());
        assert!(err.contains("key `reset`"), "{err}");
    }

    #[test]
    fn hook_dir_is_the_board_files() {
        let mut board = Board::parse(include_str!("../boards/sim.toml"), "b.toml").unwrap();
        assert_eq!(board.dir(), PathBuf::from("."));
        board.source = BoardSource::File(PathBuf::from("lab/boards/b.toml"));
        assert_eq!(board.dir(), PathBuf::from("lab/boards"));
        board.source = BoardSource::File(PathBuf::from("b.toml"));
        assert_eq!(board.dir(), PathBuf::from("."));
    }

    #[test]
    fn region_contains() {
        let r = MemoryRegion {
            name: "RAM".into(),
            origin: 0x8000_0000,
            length: 0x1000,
            flash: false,
        };
        assert!(r.contains(0x8000_0000, 0x1000));
        assert!(!r.contains(0x8000_0001, 0x1000));
        assert!(!r.contains(0x7fff_ffff, 1));
        assert!(!r.contains(u64::MAX, 2));
    }
}
