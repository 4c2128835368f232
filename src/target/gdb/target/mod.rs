//! [`GdbTarget`]: the [`Target`] seam over any GDB server — QEMU's gdbstub, OpenOCD, a J-Link
//! GDB server, a board farm's server on the network.
//!
//! What starts the server and connects to it is a [`Start`] (QEMU, OpenOCD, a plain address),
//! called by the first `load`; the processes it started ([`Helper`]s) live as long as the
//! target. Then, with the run's deadline capping every wait: feature negotiation, `?` (a
//! connection that closes until then is [`Unreachable`], worth another try), the
//! board's reset-and-halt monitor command, the target description (register numbers, CSRs
//! included) and memory map, loading and verifying (see `load`), pc set to the ELF entry.
//!
//! Stops: a SIGTRAP stop is classified by pc — a trap vector (trap catching, below), a
//! semihosting `ebreak` ([`Stop::Semihosting`], serviced by rvflash above the seam), a
//! breakpoint of the run loop ([`Stop::Breakpoint`]); any other `ebreak` is reported as a
//! breakpoint trap (cause 3), since under a debugger it halts the hart (`dcsr.ebreakm`) instead
//! of trapping. A SIGINT stop after [`Target::interrupt`] is [`Stop::Interrupted`].
//!
//! Semihosting: an `ebreak` stops to the debugger where the server sets `dcsr.ebreakm`
//! (OpenOCD does); for servers where it traps into the program instead (QEMU), every
//! semihosting `ebreak` of the image in RAM gets a software breakpoint at load, and a trap
//! with cause 3 at a semihosting sequence is undone (pc back to `mepc`, `mstatus.MIE` from
//! `MPIE`; `mepc`/`mcause`/`mtval` keep the trap's values) and reported as semihosting.
//!
//! Breakpoints: hardware (`Z1`) in flash (the board's `flash = true` regions and the server's
//! memory map), software (`Z0`) elsewhere, falling back to hardware when the server cannot
//! write a software one there. Resuming from a breakpoint steps over it (remove, `s`,
//! reinsert); a step that lands on another breakpoint reports it without continuing.
//!
//! Traps (with trap catching on): breakpoints on `_start_trap` (riscv-rt's and rvflash's
//! runtime's vector) when the ELF has it, on `mtvec` at reset, and on `mtvec` when `main` is
//! reached (a one-shot breakpoint there reads it after the runtime set it). A stop there
//! with `mcause`'s interrupt bit clear is [`Stop::Trap`] (`mepc`, `mcause`, `mtval`; the other
//! registers are the trap's); interrupts are stepped over transparently.
//!
//! The program's exit: semihosting `SYS_EXIT` (the run loop sees it); a `W` stop reply (QEMU's
//! own semihosting); or the helper that carries the program's status (QEMU and `rvflash
//! serve` end with it after a SiFive-test-finisher write) ending, which closes or idles the
//! connection.
//!
//! Memory while the program runs (RTT polling): see `running` — directly where the [`Start`]
//! gave a [`DirectMemory`] (QEMU's RAM), through the server where it answers then
//! (OpenOCD), else by halting the hart for the access.
//!
//! This file must not spawn processes or parse board files (`qemu`, `gdb_server`,
//! `openocd` do).

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

use super::client::{ConnectionLost, GdbClient, Refused};
use super::load::{self, LoadReport};
use super::xml::{self, MapRegion};
use crate::target::child::Helper;
use crate::target::{Image, Reg, Stop, Target, TargetOptions, Unreachable, csr};

mod running;
mod stops;

pub use running::{DirectMemory, RunningAccess};
use stops::NUDGE_FIRST;

/// Most semihosting sites that get a software breakpoint at load.
const MAX_PLANTED_SITES: usize = 64;
/// The semihosting sequence: `slli x0,x0,0x1f; ebreak; srai x0,x0,7`.
const SEMIHOSTING: [u8; 12] = {
    let mut s = [0u8; 12];
    let words = [0x01f0_1013u32, 0x0010_0073, 0x4070_5013];
    let mut i = 0;
    while i < 3 {
        let b = words[i].to_le_bytes();
        s[4 * i] = b[0];
        s[4 * i + 1] = b[1];
        s[4 * i + 2] = b[2];
        s[4 * i + 3] = b[3];
        i += 1;
    }
    s
};

/// How a [`GdbTarget`] reaches its server; called once, by the first `load`.
pub trait Start {
    /// Starts whatever serves GDB (if rvflash runs it) and connects (no handshake yet). No
    /// wait may go past `deadline`.
    fn start(&mut self, image: &Image, deadline: Instant) -> Result<Started>;
}

/// A connected server and the processes started for it.
pub struct Started {
    pub client: GdbClient,
    /// Processes rvflash started (killed when the target is dropped, last first).
    pub helpers: Vec<Helper>,
    /// The helper whose exit status is the program's (QEMU, `rvflash serve`).
    pub exit_from: Option<usize>,
    /// A line in that helper's log that announces the program's exit status before the
    /// helper ends (`rvflash serve` lingers a while for its client).
    pub exit_line: Option<fn(&str) -> Option<i32>>,
    /// The server loaded the image itself (QEMU's `-kernel`): no load over GDB.
    pub preloaded: bool,
    /// Target memory rvflash reaches without the server (QEMU's RAM, shared with rvflash).
    pub direct: Option<Box<dyn DirectMemory>>,
}

/// What a board asks of its GDB target.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The monitor command that resets and halts the target before loading (`reset halt`).
    pub reset: Option<String>,
    /// Verify the image after loading.
    pub verify: bool,
    /// rvflash services semihosting (`false`: the server does, as QEMU's own).
    pub semihosting: bool,
    /// The board's flash regions (start, length): hardware breakpoints there.
    pub flash: Vec<(u64, u64)>,
    /// All the board's memory regions (start, length), when known: a breakpoint outside them
    /// (`mtvec` at reset, often 0) is a hardware one, since no software one can go there.
    pub memory: Vec<(u64, u64)>,
    /// The run's deadline: no wait while starting and loading goes past it.
    pub deadline: Option<Instant>,
    /// Say what happens (load figures, the server's messages).
    pub verbose: bool,
    /// Interrupt a running program at growing intervals, so the server looks at a hart that
    /// halted by itself at once (OpenOCD polls only every 100 ms).
    pub nudge: bool,
    /// How memory outside [`Started::direct`] is reached while the program runs.
    pub running_access: RunningAccess,
}

/// A breakpoint rvflash inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Breakpoint {
    /// 0: software, 1: hardware.
    kind: u8,
    /// Length of the instruction under it.
    len: u8,
    /// Set by the run loop ([`Target::set_breakpoint`]), as opposed to rvflash's own.
    user: bool,
}

/// The GDB target (see the module docs).
pub struct GdbTarget {
    options: TargetOptions,
    settings: Settings,
    /// Kept after starting: it may own what the helpers use (their temporary directory).
    start: Box<dyn Start>,
    started: bool,
    gdb: Option<GdbClient>,
    helpers: Vec<Helper>,
    exit_from: Option<usize>,
    exit_line: Option<fn(&str) -> Option<i32>>,
    direct: Option<Box<dyn DirectMemory>>,
    image: Option<Image>,
    regs: HashMap<String, u32>,
    map: Vec<MapRegion>,
    breakpoints: HashMap<u64, Breakpoint>,
    trap_vectors: Vec<u64>,
    /// A one-shot breakpoint (at `main`) where `mtvec` is read again.
    mtvec_probe: Option<u64>,
    /// Addresses of semihosting `ebreak`s known so far.
    sites: Vec<u64>,
    /// pc while stopped (`None`: unknown, read it).
    pc: Option<u64>,
    /// The breakpoint the last stop was at (stepped over on resume, if pc is still there).
    stopped_at: Option<u64>,
    /// A step over a breakpoint landed on another: the next `wait` reports it.
    arrived: bool,
    /// `c` was sent and no stop reply came yet.
    running: bool,
    /// The run loop asked for an interrupt (reported as [`Stop::Interrupted`]).
    requested: bool,
    /// An interrupt was asked for while not running: the next `wait` reports it.
    interrupted: bool,
    /// When to nudge a running program next (see [`Settings::nudge`]), and the interval.
    nudge_at: Option<Instant>,
    nudge_gap: Duration,
    /// An interrupt byte is on its way (ours or the run loop's).
    interrupt_sent: bool,
    exited: Option<i32>,
    report: LoadReport,
    semihosting_calls: u64,
}

impl GdbTarget {
    /// A target that connects through `start` on the first `load`.
    pub fn new(options: TargetOptions, settings: Settings, start: Box<dyn Start>) -> GdbTarget {
        GdbTarget {
            options,
            settings,
            start,
            started: false,
            gdb: None,
            helpers: Vec::new(),
            exit_from: None,
            exit_line: None,
            direct: None,
            image: None,
            regs: HashMap::new(),
            map: Vec::new(),
            breakpoints: HashMap::new(),
            trap_vectors: Vec::new(),
            mtvec_probe: None,
            sites: Vec::new(),
            pc: None,
            stopped_at: None,
            arrived: false,
            running: false,
            requested: false,
            interrupted: false,
            nudge_at: None,
            nudge_gap: NUDGE_FIRST,
            interrupt_sent: false,
            exited: None,
            report: LoadReport::default(),
            semihosting_calls: 0,
        }
    }

    fn gdb(&mut self) -> Result<&mut GdbClient> {
        self.gdb
            .as_mut()
            .ok_or_else(|| anyhow!("not connected to a GDB server (nothing loaded)"))
    }

    /// Adds what the helpers know to an error that ends the run: who exited, their logs.
    fn explain(&mut self, err: anyhow::Error) -> anyhow::Error {
        let mut notes = Vec::new();
        for h in &mut self.helpers {
            match h.exit_status() {
                Some(status) => {
                    notes.push(format!("{} exited ({status}){}", h.name(), h.log_tail(20)))
                }
                None if h.log_path().is_some() => {
                    notes.push(format!("{} is running{}", h.name(), h.log_tail(20)))
                }
                None => {}
            }
        }
        if notes.is_empty() {
            err
        } else {
            err.context(notes.join("\n"))
        }
    }

    /// The program's exit status, if the helper that carries it has announced it or ended.
    fn program_exit(&mut self, within: Duration) -> Option<i32> {
        let i = self.exit_from?;
        let helper = self.helpers.get_mut(i)?;
        if let Some(parse) = self.exit_line
            && let Some(code) = helper.find_in_log(parse)
        {
            helper.sync_stdout();
            return Some(code);
        }
        helper.wait_exit(within)?.code()
    }

    fn sync_output(&self) {
        for h in &self.helpers {
            h.sync_stdout();
        }
    }

    fn say(&self, text: &str) {
        if self.settings.verbose {
            let mut err = std::io::stderr().lock();
            writeln!(err, "rvflash: {text}").ok();
        }
    }

    /// Whether `addr` is outside the board's memory, as far as the board says.
    fn is_unmapped(&self, addr: u64) -> bool {
        !self.settings.memory.is_empty()
            && !self
                .settings
                .memory
                .iter()
                .any(|&(start, len)| addr >= start && addr - start < len)
    }

    fn is_flash(&self, addr: u64) -> bool {
        self.settings
            .flash
            .iter()
            .any(|&(start, len)| addr >= start && addr - start < len)
            || self.map.iter().any(|r| r.flash && r.contains(addr))
    }

    fn reg_number(&self, reg: Reg) -> Result<u32> {
        Ok(match reg {
            Reg::X(n) if n < 32 => u32::from(n),
            Reg::Pc => self.regs.get("pc").copied().unwrap_or(32),
            Reg::F(n) if n < 32 => self
                .regs
                .get(&format!("f{n}"))
                .or_else(|| self.regs.get(FP_ABI_NAMES[n as usize]))
                .copied()
                .unwrap_or(33 + u32::from(n)),
            Reg::Csr(num) => {
                let by_name = csr_name(num).and_then(|name| self.regs.get(name).copied());
                // Servers number CSRs `base + csr number` (GDB's RISC-V numbering has base
                // 65; QEMU's description another) and serve CSRs their description leaves
                // out (QEMU's FP CSRs while `mstatus.FS` was off) by that number.
                let by_offset = || {
                    self.regs
                        .get("mstatus")
                        .map(|&m| m - 0x300 + u32::from(num))
                };
                by_name.or_else(by_offset).unwrap_or(65 + u32::from(num))
            }
            other => bail!("no such register {other:?}"),
        })
    }

    /// The length of the instruction at `addr`: from the image when it covers `addr`, else
    /// from the target (4 when unreadable).
    fn instruction_len(&mut self, addr: u64) -> u8 {
        let mut low = [0u8; 2];
        let from_image = self.image.as_ref().and_then(|img| {
            img.segments.iter().find_map(|s| {
                let off = addr.checked_sub(s.addr)? as usize;
                s.data.get(off..off + 2).map(|b| [b[0], b[1]])
            })
        });
        match from_image {
            Some(b) => low = b,
            None => {
                if self.read_memory(addr, &mut low).is_err() {
                    return 4;
                }
            }
        }
        if low[0] & 3 == 3 { 4 } else { 2 }
    }

    /// Inserts a breakpoint at `addr`: hardware in flash, else software, else hardware.
    fn insert(&mut self, addr: u64, user: bool) -> Result<()> {
        if let Some(bp) = self.breakpoints.get_mut(&addr) {
            bp.user |= user;
            return Ok(());
        }
        let unmapped = self.is_unmapped(addr);
        let len = if unmapped {
            4
        } else {
            self.instruction_len(addr)
        };
        let kinds: &[u8] = if self.is_flash(addr) {
            &[1]
        } else if unmapped {
            &[1, 0]
        } else {
            &[0, 1]
        };
        let mut last = None;
        for &kind in kinds {
            match self.gdb()?.insert_breakpoint(kind, addr, len) {
                Ok(()) => {
                    self.breakpoints
                        .insert(addr, Breakpoint { kind, len, user });
                    return Ok(());
                }
                Err(err) if err.downcast_ref::<Refused>().is_some() => last = Some(err),
                Err(err) => return Err(err),
            }
        }
        Err(last
            .unwrap_or_else(|| anyhow!("no breakpoint kind"))
            .context(format!("cannot set a breakpoint at {addr:#x}")))
    }

    fn remove(&mut self, addr: u64) -> Result<()> {
        if let Some(bp) = self.breakpoints.remove(&addr) {
            self.gdb()?.remove_breakpoint(bp.kind, addr, bp.len)?;
        }
        Ok(())
    }

    /// Whether a semihosting sequence's `ebreak` is at `addr` (remembered once seen).
    fn is_site(&mut self, addr: u64) -> bool {
        if !self.settings.semihosting {
            return false;
        }
        if self.sites.contains(&addr) {
            return true;
        }
        let mut seq = [0u8; 12];
        let found = self.read_memory(addr.wrapping_sub(4), &mut seq).is_ok() && seq == SEMIHOSTING;
        if found {
            self.sites.push(addr);
        }
        found
    }

    /// Semihosting `ebreak`s in the image.
    fn scan_sites(image: &Image) -> Vec<u64> {
        let mut sites = Vec::new();
        for seg in &image.segments {
            let data = &seg.data;
            let mut i = 0;
            while i + SEMIHOSTING.len() <= data.len() {
                if data[i..i + SEMIHOSTING.len()] == SEMIHOSTING {
                    sites.push(seg.addr + i as u64 + 4);
                    i += SEMIHOSTING.len();
                } else {
                    i += 2;
                }
            }
        }
        sites
    }

    fn pc(&mut self) -> Result<u64> {
        if let Some(pc) = self.pc {
            return Ok(pc);
        }
        let num = self.reg_number(Reg::Pc)?;
        let pc = self.gdb()?.read_register(num)?;
        self.pc = Some(pc);
        Ok(pc)
    }

    fn connect_and_load(&mut self, image: &Image) -> Result<()> {
        let cap = self.settings.deadline;
        if std::mem::replace(&mut self.started, true) {
            bail!("this target was loaded already");
        }
        let started = self.start.start(image, cap.unwrap_or_else(far_future))?;
        self.helpers = started.helpers;
        self.exit_from = started.exit_from;
        self.exit_line = started.exit_line;
        self.direct = started.direct;
        self.gdb = Some(started.client);
        self.image = Some(image.clone());
        let gdb = self.gdb()?;
        gdb.set_deadline_cap(cap);
        // A server that closes the connection before rvflash has attached (OpenOCD refuses
        // GDB while it cannot examine the target; a board farm's server whose board is gone)
        // is worth another try; one that answers something else is not.
        if let Err(err) = gdb.handshake().and_then(|()| gdb.halt_reason().map(drop)) {
            return Err(if err.downcast_ref::<ConnectionLost>().is_some() {
                err.context(Unreachable("cannot attach to the target".into()))
            } else {
                err
            });
        }
        if let Some(command) = self.settings.reset.clone() {
            let output = self.gdb()?.monitor(&command)?;
            self.say(&format!("monitor {command}: {}", output.trim()));
        }
        let gdb = self.gdb()?;
        if gdb.features().target_xml {
            // Without a description, GDB's standard RISC-V numbering applies.
            self.regs =
                xml::register_map(|annex| gdb.read_xfer("features", annex)).unwrap_or_default();
        }
        let gdb = self.gdb()?;
        if gdb.features().memory_map {
            self.map = xml::memory_map(&gdb.read_xfer("memory-map", "")?);
        }
        if !started.preloaded {
            let map = self.map.clone();
            let verify = self.settings.verify;
            let gdb = self.gdb()?;
            let mut report = load::load(gdb, image, &map)?;
            if verify {
                load::verify(gdb, image, &mut report)?;
            }
            self.say(&format!(
                "loaded {}{}",
                report.describe_load(),
                if report.verified_by.is_empty() {
                    String::new()
                } else {
                    format!(", verified by {}", report.verified_by)
                }
            ));
            self.report = report;
        }
        // Every board starts at the ELF entry, whatever its reset code would do.
        self.set_register(Reg::Pc, image.entry)?;
        if self.settings.semihosting {
            self.sites = Self::scan_sites(image);
            let planted: Vec<u64> = self
                .sites
                .iter()
                .copied()
                .filter(|&a| !self.is_flash(a))
                .take(MAX_PLANTED_SITES)
                .collect();
            for addr in planted {
                // Best effort: where this fails, `ebreak` halting the hart or the trap fallback
                // still catch the call.
                if let Err(err) = self.insert(addr, false) {
                    self.say(&format!("note: {err:#}"));
                }
            }
        }
        if self.options.catch_traps {
            let mut vectors = vec![self.register(Reg::Csr(csr::MTVEC)).unwrap_or(0) & !3];
            if let Some(addr) = image.symbol("_start_trap") {
                vectors.push(addr);
            }
            vectors.dedup();
            for addr in vectors {
                match self.insert(addr, false) {
                    Ok(()) => self.trap_vectors.push(addr),
                    // `mtvec` at reset may point nowhere a breakpoint can go.
                    Err(err) => self.say(&format!("note: traps not caught there: {err:#}")),
                }
            }
            if let Some(main) = image.symbol("main")
                && !self.breakpoints.contains_key(&main)
            {
                self.insert(main, false)?;
                self.mtvec_probe = Some(main);
            }
        }
        self.gdb()?.set_deadline_cap(None);
        Ok(())
    }
}

/// A deadline that never comes.
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 86400)
}

impl Target for GdbTarget {
    fn load(&mut self, image: &Image) -> Result<()> {
        self.connect_and_load(image).map_err(|e| self.explain(e))
    }

    fn resume(&mut self) -> Result<()> {
        self.resume_inner().map_err(|e| self.explain(e))
    }

    fn wait(&mut self, deadline: Instant) -> Result<Stop> {
        self.wait_inner(deadline).map_err(|e| self.explain(e))
    }

    fn interrupt(&mut self) -> Result<()> {
        if !self.running {
            self.interrupted = true;
            return Ok(());
        }
        self.requested = true;
        self.nudge_at = None;
        // A stop reply kept by a memory access while running: the program has stopped
        // already, and the next `wait` reports that stop.
        let stopped = self.gdb()?.has_kept_stop();
        if !std::mem::replace(&mut self.interrupt_sent, true) && !stopped {
            self.gdb()?.interrupt()?;
        }
        Ok(())
    }

    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.gdb()?.read_memory(addr, buf)
    }

    fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.gdb()?.write_memory(addr, data)
    }

    fn read_memory_running(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.access_running(addr, running::Access::Read(buf))
            .map_err(|e| self.explain(e))
    }

    fn write_memory_running(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.access_running(addr, running::Access::Write(data))
            .map_err(|e| self.explain(e))
    }

    fn register(&mut self, reg: Reg) -> Result<u64> {
        if reg == Reg::Pc {
            return self.pc();
        }
        let num = self.reg_number(reg)?;
        self.gdb()?.read_register(num)
    }

    fn set_register(&mut self, reg: Reg, value: u64) -> Result<()> {
        let num = self.reg_number(reg)?;
        self.gdb()?.write_register(num, value)?;
        if reg == Reg::Pc {
            self.pc = Some(value);
            if self.stopped_at != Some(value) {
                self.stopped_at = None;
            }
        }
        Ok(())
    }

    fn set_breakpoint(&mut self, addr: u64) -> Result<()> {
        self.insert(addr, true)
    }

    fn finish_semihosting(&mut self, result: u64) -> Result<()> {
        self.set_register(Reg::X(10), result)?;
        let pc = self.pc()?;
        self.set_register(Reg::Pc, pc.wrapping_add(8))
    }

    fn stats(&mut self) -> Vec<(String, String)> {
        let mut stats = Vec::new();
        if self.report.bytes > 0 {
            stats.push(("load".into(), self.report.describe_load()));
        }
        if !self.report.verified_by.is_empty() {
            stats.push((
                "verify".into(),
                format!(
                    "{} in {:.3} s",
                    self.report.verified_by,
                    self.report.verify_time.as_secs_f64()
                ),
            ));
        }
        stats.push((
            "semihosting calls".into(),
            self.semihosting_calls.to_string(),
        ));
        stats
    }
}

impl Drop for GdbTarget {
    fn drop(&mut self) {
        // Close the connection before the helpers go, then stop them, the last started first
        // (OpenOCD before the board it drives).
        self.gdb = None;
        while let Some(helper) = self.helpers.pop() {
            drop(helper);
        }
    }
}

/// ABI names of f0..f31, as target descriptions use them.
const FP_ABI_NAMES: [&str; 32] = [
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2",
    "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9",
    "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

fn csr_name(num: u16) -> Option<&'static str> {
    Some(match num {
        0x001 => "fflags",
        0x002 => "frm",
        0x003 => "fcsr",
        0x300 => "mstatus",
        0x301 => "misa",
        0x304 => "mie",
        0x305 => "mtvec",
        0x340 => "mscratch",
        0x341 => "mepc",
        0x342 => "mcause",
        0x343 => "mtval",
        0x344 => "mip",
        0xf14 => "mhartid",
        _ => return None,
    })
}
