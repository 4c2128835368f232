//! The `probe-rs` target: real boards behind a debug probe, driven by the probe-rs crate
//! (0.32), and the simulated board `sim-probe-rs` reached the same way.
//!
//! Below the seam only: rvflash's run loop (semihosting, panics, traps, backtraces, timeouts,
//! exit statuses) is the same as on every board. probe-rs's own semihosting decoder (32-bit
//! only), trap handling and exit codes are not used: the target reads the hart's state itself.
//!
//! `load`: (for `sim-probe-rs`, start `rvflash serve`, see `serve`) open the probe, JTAG,
//! attach to the chip (see `connect`), reset and halt the hart (only halt it when the board
//! has a reset hook, which rvflash has run before; a probe that does not open, a chip that
//! does not attach and a hart that does not halt are [`Unreachable`], worth another try), set
//! `dcsr.ebreakm` (so every `ebreak`, the semihosting one included, halts the hart into debug
//! mode), download and verify (see `load`), pc at the ELF entry, and hardware breakpoints
//! (triggers) on the trap vectors. Code in flash cannot be patched, so every breakpoint is a
//! hardware one.
//!
//! `wait` polls the debug module until the hart halts, then classifies the halt by
//! `dcsr.cause` and pc, without probe-rs's `status()` (which would decode — and answer —
//! semihosting calls itself):
//! - `ebreak` (cause 1) on the semihosting sequence (`slli x0,x0,0x1f` before the `ebreak` at
//!   pc, `srai x0,x0,7` after): [`Stop::Semihosting`]; any other `ebreak`: the breakpoint trap
//!   it would have been without a debugger ([`Stop::Trap`], cause 3);
//! - a trigger (cause 2) at a trap vector (`_start_trap`, `mtvec` at reset and once `main` is
//!   reached): [`Stop::Trap`] from `mcause`/`mepc`/`mtval`, or, for an interrupt (`mcause`
//!   bit 63), a step over the vector and on; at a run-loop breakpoint: [`Stop::Breakpoint`];
//! - a halt request (cause 3): [`Stop::Interrupted`].
//!
//! `resume` from a trigger steps over it first (trigger off, `dcsr.step`, trigger on). Run
//! control (halt, resume, "is it halted") uses probe-rs's RISC-V interface directly, for the
//! same reason as above.
//!
//! Memory while the program runs (RTT polling, [`Target::read_memory_running`]): through the
//! same RISC-V interface, between two looks of `wait`. probe-rs reaches memory through the
//! Debug Module's System Bus Access when it has one (the simulated board's has): the hart
//! runs on, and its run state is not touched. Without it probe-rs goes through the program
//! buffer, which needs a halted hart: it halts the hart, accesses and resumes it (only if it
//! was running). Neither can hide a stop from `wait`: a hart that halted by itself (an
//! `ebreak`, a trigger, a halt request) is left halted, and one halted at the very moment of
//! such an access and resumed by it halts again at once, on the same `ebreak` or trigger.
//!
//! The end: dropping the target detaches from a real board. Our triggers are cleared; unless
//! `--halt-on-exit`, a hart that is not parked on a semihosting call (the program's exit) is
//! resumed with `dcsr.ebreakm` cleared, so the program goes on as it would without a debugger;
//! then probe-rs deactivates the debug module. Ctrl-C on a real board ends the run through
//! `wait` (see `signal`), so the detach happens then too. The simulated board is simply ended
//! with its `rvflash serve`.
//!
//! probe-rs 0.32 panics on some probe failures (a dropped Black Magic Probe connection): every
//! call into it is contained (see `guard`), and after such a panic the session is abandoned and
//! the run ends with the message (status 125).
//!
//! Files: `connect` (chip, probe, attach, the errors users meet), `load` (download and
//! verify), `progress` (the progress bar), `serve` (the simulated board's `rvflash serve`),
//! `signal` (Ctrl-C on real boards), `guard` (probe-rs's panics), `hart_code` (code run on
//! the hart: `fence.i`, the fast verify), `stops` (waiting, classifying halts, resuming),
//! `tests` (on `sim-probe-rs`).

mod connect;
mod guard;
mod hart_code;
mod load;
mod progress;
mod serve;
mod signal;
mod stops;
#[cfg(test)]
mod tests;

pub use connect::{list_lines, permission_denied};

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use probe_rs::architecture::riscv::communication_interface::{MemoryAccessMethod, RiscvBusAccess};
use probe_rs::{MemoryInterface, RegisterId, Session};

use super::{Image, Reg, Stop, Target, TargetOptions, Unreachable, csr};
use crate::board::{Board, BoardSource, ProbeRs};

/// The semihosting sequence: `slli x0,x0,0x1f; ebreak; srai x0,x0,7`.
const SEMIHOSTING: [u32; 3] = [0x01f0_1013, 0x0010_0073, 0x4070_5013];
/// `ebreak` and `c.ebreak`.
const EBREAK: u32 = 0x0010_0073;
const C_EBREAK: u16 = 0x9002;
/// Debug CSRs and `dcsr` fields.
const DCSR: u16 = 0x7b0;
const DPC: u16 = 0x7b1;
const DCSR_EBREAKM: u64 = 1 << 15;
const DCSR_EBREAKS: u64 = 1 << 13;
const DCSR_EBREAKU: u64 = 1 << 12;
const DCSR_STEPIE: u64 = 1 << 11;
const DCSR_STEP: u64 = 1 << 2;
/// `dcsr.cause` values.
const CAUSE_EBREAK: u64 = 1;
const CAUSE_TRIGGER: u64 = 2;
/// Abstract register numbers of x0 and f0 (debug spec).
const REG_X0: u16 = 0x1000;
const REG_F0: u16 = 0x1020;
/// How long a halt, a reset or a single step may take.
const HALT_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause between two looks at a running hart (each is a debug-module read over the probe).
const POLL: Duration = Duration::from_millis(1);
/// The phase (see `guard`) from opening the probe to a halted hart: a connection that drops
/// then is [`Unreachable`], worth another try.
const ATTACHING: &str = "while attaching to the chip";

/// What the command line adds to the board's `probe-rs` table.
#[derive(Debug, Clone, Default)]
pub struct ProbeOptions {
    /// `--probe SELECTOR` (overrides the board's `probe`).
    pub probe: Option<String>,
    /// `--speed KHZ` (overrides the board's `speed`).
    pub speed: Option<u32>,
    /// Read the program back after loading (`--no-verify` turns it off).
    pub verify: bool,
    /// Leave the hart halted when rvflash is done (`--halt-on-exit`).
    pub halt_on_exit: bool,
}

/// What a hardware breakpoint (trigger) is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// The run loop's ([`Target::set_breakpoint`]).
    User,
    /// A trap vector (trap catching).
    Vector,
    /// `main`, where `mtvec` is read again once the runtime has set it.
    MtvecProbe,
}

/// The probe-rs target (see the module docs).
pub struct ProbeRsTarget {
    options: TargetOptions,
    probe: ProbeOptions,
    board: ProbeRs,
    /// The board's memory regions (start, length): `mtvec` outside them gets no trigger.
    memory: Vec<(u64, u64)>,
    /// The board's first RAM region (start, length).
    ram: Option<(u64, u64)>,
    /// The board's ISA has the M extension.
    has_m: bool,
    chip: connect::Chip,
    /// The board has a reset hook, run before the load: halt the hart without resetting it.
    hook_resets: bool,
    verbose: bool,
    deadline: Instant,
    session: Option<Session>,
    /// `rvflash serve`, for the simulated board; dropped after the session.
    serve: Option<serve::Serve>,
    /// One entry per trigger of the hart: the address it breaks at and why.
    triggers: Vec<Option<(u64, Use)>>,
    /// The trigger the last stop was at (stepped over on resume while pc is still there).
    stopped_at: Option<u64>,
    /// A step over a trigger landed on another: the next `wait` reports it.
    arrived: bool,
    running: bool,
    /// The run loop asked for an interrupt while the hart ran.
    requested: bool,
    /// An interrupt was asked for while halted: the next `wait` reports it.
    interrupted: bool,
    /// The last stop was a semihosting call (the hart is parked on its `ebreak`).
    at_semihosting: bool,
    exited: Option<i32>,
    /// probe-rs panicked: the session was abandoned.
    poisoned: bool,
    report: load::Report,
    semihosting_calls: u64,
}

/// The target of a `run = "probe-rs"` board; `deadline` is the run's (it caps starting the
/// simulated board); `verbose` shows serve's log and load figures. The chip is looked up now,
/// so an unknown one fails before anything is started.
pub fn new_target(
    board: &Board,
    options: TargetOptions,
    probe: ProbeOptions,
    deadline: Instant,
    verbose: bool,
) -> Result<ProbeRsTarget> {
    let Some(p) = board.probe_rs.clone() else {
        bail!(
            "board `{}` has `run = \"probe-rs\"` but no `probe-rs` table",
            board.name
        );
    };
    let chip = connect::chip(&p, &board.source).map_err(|e| match &board.source {
        BoardSource::File(path) => e.context(format!("board file {}", path.display())),
        BoardSource::BuiltIn => e.context(format!("board `{}`", board.name)),
    })?;
    if let (Some(serve), Some(sel)) = (&p.serve, &probe.probe) {
        bail!(
            "--probe {sel}: board `{}` is the simulated board `{serve}`, which rvflash starts and \
             reaches through its own probe; --probe is for boards with a real one",
            board.name
        );
    }
    Ok(ProbeRsTarget {
        options,
        probe,
        board: p,
        memory: board.memory.iter().map(|r| (r.origin, r.length)).collect(),
        ram: board
            .memory
            .iter()
            .find(|r| !r.flash)
            .map(|r| (r.origin, r.length)),
        has_m: {
            let isa = board.isa.to_ascii_lowercase();
            let letters = isa
                .split('_')
                .next()
                .unwrap_or("")
                .trim_start_matches("rv64");
            letters.contains('m') || letters.contains('g')
        },
        chip,
        hook_resets: board.reset_hook().is_some(),
        verbose,
        deadline,
        session: None,
        serve: None,
        triggers: Vec::new(),
        stopped_at: None,
        arrived: false,
        running: false,
        requested: false,
        interrupted: false,
        at_semihosting: false,
        exited: None,
        poisoned: false,
        report: load::Report::default(),
        semihosting_calls: 0,
    })
}

impl ProbeRsTarget {
    fn core_index(&self) -> usize {
        self.board.core.unwrap_or(0)
    }

    fn session(&mut self) -> Result<&mut Session> {
        self.session
            .as_mut()
            .ok_or_else(|| anyhow!("not attached to a chip (nothing loaded)"))
    }

    fn core(&mut self) -> Result<probe_rs::Core<'_>> {
        let i = self.core_index();
        self.session()?
            .core(i)
            .map_err(|e| connect::describe(e, "while talking to the core"))
    }

    fn riscv(
        &mut self,
    ) -> Result<
        probe_rs::architecture::riscv::communication_interface::RiscvCommunicationInterface<'_>,
    > {
        let i = self.core_index();
        self.session()?
            .get_riscv_interface(i)
            .map_err(|e| connect::describe(e, "while talking to the debug module"))
    }

    fn say(&self, text: &str) {
        if self.verbose {
            writeln!(std::io::stderr().lock(), "rvflash: {text}").ok();
        }
    }

    /// Forwards what the simulated board's UART printed so far, before a stop is reported.
    fn sync_output(&self) {
        if let Some(s) = &self.serve {
            s.helper.sync_stdout();
        }
    }

    /// The program's status, when `rvflash serve` ended with it (SiFive test finisher).
    fn program_exit(&mut self, within: Duration) -> Option<i32> {
        let serve = self.serve.as_mut()?;
        let status = serve.helper.wait_exit(within)?;
        status.code()
    }

    /// Adds what the simulated board said to an error that ends the run.
    fn explain(&mut self, err: anyhow::Error) -> anyhow::Error {
        match &mut self.serve {
            Some(s) => match s.helper.exit_status() {
                Some(status) => err.context(format!(
                    "rvflash serve exited ({status}){}",
                    s.helper.log_tail(20)
                )),
                None if self.verbose => err,
                None => err.context(format!("rvflash serve is running{}", s.helper.log_tail(10))),
            },
            None => err,
        }
    }

    fn read_reg(&mut self, id: u16) -> Result<u64> {
        self.core()?
            .read_core_reg::<u64>(RegisterId(id))
            .map_err(|e| connect::describe(e, &format!("while reading register {id:#x}")))
    }

    fn write_reg(&mut self, id: u16, value: u64) -> Result<()> {
        self.core()?
            .write_core_reg(RegisterId(id), value)
            .map_err(|e| connect::describe(e, &format!("while writing register {id:#x}")))
    }

    fn connect_and_load(&mut self, image: &Image) -> Result<()> {
        guard::set_phase(ATTACHING);
        let selector = match &self.board.serve {
            Some(board) => {
                let (s, selector) = serve::start(board, self.deadline, self.verbose)?;
                self.serve = Some(s);
                Some(selector)
            }
            None => {
                signal::install();
                self.probe
                    .probe
                    .clone()
                    .or_else(|| self.board.probe.clone())
            }
        };
        let probe = connect::open_probe(selector.as_deref())?;
        let speed = self.probe.speed.or(self.board.speed);
        let session = connect::attach(probe, &self.chip, speed, self.core_index())?;
        self.session = Some(session);
        // A hart that does not halt is a board that hangs: worth another try (a power cycle).
        // With a reset hook, the hook has reset the board: only halt the hart.
        let halted = if self.hook_resets {
            self.core()?
                .halt(HALT_TIMEOUT)
                .map(drop)
                .map_err(|e| connect::describe(e, "while halting the hart"))
        } else {
            self.core()?
                .reset_and_halt(HALT_TIMEOUT)
                .map(drop)
                .map_err(|e| connect::describe(e, "while resetting and halting the hart"))
        };
        halted.map_err(|e| Unreachable::error(format!("{e:#}")))?;
        // Every `ebreak` halts into debug mode: semihosting calls come to rvflash.
        let dcsr = self.read_reg(DCSR)?;
        self.write_reg(DCSR, dcsr | DCSR_EBREAKM | DCSR_EBREAKS | DCSR_EBREAKU)?;
        let i = self.core_index();
        let verify = self.probe.verify;
        let work_area = self.work_area(image);
        self.report = load::load(self.session()?, i, image, verify, work_area)?;
        // A hart with an instruction cache must not run stale code from where the program
        // now is.
        let fenced = self.riscv().and_then(|mut r| hart_code::fence_i(&mut r));
        if let Err(err) = fenced {
            self.say(&format!("note: fence.i after loading: {err:#}"));
        }
        let r = &self.report;
        self.say(&format!(
            "loaded {}{}",
            r.describe_download(),
            match r.verify {
                Some(t) => format!(", verified in {:.3} s", t.as_secs_f64()),
                None => String::new(),
            }
        ));
        if self.verbose {
            let sba = self.riscv().map(|mut r| {
                r.memory_access_config().default_method(RiscvBusAccess::A32)
                    == MemoryAccessMethod::SystemBus
            });
            self.say(if sba.unwrap_or(false) {
                "memory is read while the program runs through System Bus Access"
            } else {
                "note: no System Bus Access: the hart halts briefly for each memory access \
                 while the program runs"
            });
        }
        guard::set_phase("while setting up the run");
        self.write_reg(DPC, image.entry)?;
        let units = self
            .core()?
            .available_breakpoint_units()
            .map_err(|e| connect::describe(e, "while counting the hart's triggers"))?;
        self.triggers = vec![None; units as usize];
        if self.options.catch_traps {
            self.catch_traps(image)?;
        }
        Ok(())
    }

    /// Triggers on the trap vectors: `mtvec` now (if it is in the board's memory),
    /// `_start_trap`, and `main` to read `mtvec` again once the runtime has set it.
    fn catch_traps(&mut self, image: &Image) -> Result<()> {
        let mut vectors = Vec::new();
        let mtvec = self.read_reg(csr::MTVEC)? & !3;
        if self.in_memory(mtvec) {
            vectors.push(mtvec);
        }
        if let Some(addr) = image.symbol("_start_trap") {
            vectors.push(addr);
        }
        vectors.dedup();
        for addr in vectors {
            if let Err(err) = self.insert(addr, Use::Vector) {
                self.say(&format!("note: traps not caught at {addr:#x}: {err:#}"));
            }
        }
        if let Some(main) = image.symbol("main")
            && self.unit_of(main).is_none()
            && let Err(err) = self.insert(main, Use::MtvecProbe)
        {
            self.say(&format!("note: mtvec is not read again at main: {err:#}"));
        }
        Ok(())
    }

    /// Where the fast verify routine may run (see `hart_code`): the top of the board's first
    /// RAM region, if the hart has M (the routine multiplies) and no segment's contents are
    /// there.
    fn work_area(&self, image: &Image) -> Option<u64> {
        let (origin, length) = self.ram?;
        let at = (origin + length).checked_sub(hart_code::WORK_AREA)? & !7;
        let clear = image.segments.iter().all(|s| {
            let end = s.addr + s.data.len() as u64;
            end <= at || s.addr >= at + hart_code::WORK_AREA
        });
        (self.has_m && clear && at >= origin).then_some(at)
    }

    fn in_memory(&self, addr: u64) -> bool {
        self.memory
            .iter()
            .any(|&(start, len)| addr >= start && addr - start < len)
    }

    fn unit_of(&self, addr: u64) -> Option<usize> {
        self.triggers
            .iter()
            .position(|t| t.is_some_and(|(a, _)| a == addr))
    }

    fn use_of(&self, addr: u64) -> Option<Use> {
        self.triggers
            .iter()
            .flatten()
            .find(|(a, _)| *a == addr)
            .map(|&(_, u)| u)
    }

    /// Sets a trigger at `addr` for `why` (a user breakpoint wins over rvflash's own uses).
    fn insert(&mut self, addr: u64, why: Use) -> Result<()> {
        if let Some(i) = self.unit_of(addr) {
            if why == Use::User {
                self.triggers[i] = Some((addr, Use::User));
            }
            return Ok(());
        }
        let Some(i) = self.triggers.iter().position(Option::is_none) else {
            bail!(
                "no hardware breakpoint left for {addr:#x}: the hart has {} trigger(s), used at {}",
                self.triggers.len(),
                self.triggers
                    .iter()
                    .flatten()
                    .map(|(a, _)| format!("{a:#x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        };
        self.core()?.set_hw_breakpoint_unit(i, addr).map_err(|e| {
            connect::describe(e, &format!("while setting a breakpoint at {addr:#x}"))
        })?;
        self.triggers[i] = Some((addr, why));
        Ok(())
    }

    fn remove(&mut self, addr: u64) -> Result<()> {
        if let Some(i) = self.unit_of(addr) {
            self.core()?
                .inner_mut()
                .clear_hw_breakpoint(i)
                .map_err(|e| connect::describe(e, "while clearing a breakpoint"))?;
            self.triggers[i] = None;
        }
        Ok(())
    }

    /// Runs `work` with probe-rs's panics contained (see `guard`): after one, the session is
    /// abandoned (forgotten, since dropping it would talk to the probe again) and every later
    /// call fails.
    fn guarded<T>(&mut self, work: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.poisoned {
            bail!("the connection to the debug probe is gone");
        }
        match guard::contain(|| work(self)) {
            Ok(result) => result.map_err(|e| self.explain(e)),
            Err(message) => {
                self.poisoned = true;
                if let Some(session) = self.session.take() {
                    std::mem::forget(session);
                }
                let what = guard::phase();
                let err = if guard::is_connection_loss(&message) {
                    let text =
                        format!("the connection to the debug probe dropped {what} ({message})");
                    if what == ATTACHING {
                        Unreachable::error(text)
                    } else {
                        anyhow!(text)
                    }
                } else {
                    anyhow!("probe-rs failed {what}: {message}")
                };
                Err(self.explain(err))
            }
        }
    }

    /// Leaves the board as asked: our triggers cleared; unless `--halt-on-exit`, a hart that
    /// is not parked on a semihosting call running, with `ebreak` trapping again.
    fn detach(&mut self) -> Result<()> {
        if self.session.is_none() || self.exited.is_some() {
            return Ok(());
        }
        let set: Vec<u64> = self.triggers.iter().flatten().map(|&(a, _)| a).collect();
        let halted = self.riscv()?.core_halted()?;
        if !halted {
            self.riscv()?.halt(HALT_TIMEOUT)?;
        }
        for addr in set {
            self.remove(addr)?;
        }
        if !self.probe.halt_on_exit && !self.at_semihosting {
            let dcsr = self.read_reg(DCSR)?;
            self.write_reg(
                DCSR,
                dcsr & !(DCSR_EBREAKM | DCSR_EBREAKS | DCSR_EBREAKU | DCSR_STEP),
            )?;
            self.riscv()?.resume_core()?;
        }
        Ok(())
    }
}

fn reg_number(reg: Reg) -> Result<u16> {
    Ok(match reg {
        Reg::X(n) if n < 32 => REG_X0 + u16::from(n),
        Reg::F(n) if n < 32 => REG_F0 + u16::from(n),
        Reg::Pc => DPC,
        Reg::Csr(c) if c < 0x1000 => c,
        other => bail!("no such register {other:?}"),
    })
}

impl Target for ProbeRsTarget {
    fn load(&mut self, image: &Image) -> Result<()> {
        self.guarded(|t| t.connect_and_load(image))
    }

    fn resume(&mut self) -> Result<()> {
        self.guarded(|t| t.resume_inner())
    }

    fn wait(&mut self, deadline: Instant) -> Result<Stop> {
        let stop = self.guarded(|t| t.wait_inner(deadline));
        if stop.is_err()
            && self.poisoned
            && let Some(code) = self.program_exit(Duration::from_secs(5))
        {
            // The program ended the simulated board (SiFive test finisher), which closed the
            // connection under probe-rs.
            self.exited = Some(code);
            return Ok(Stop::Exited(code));
        }
        stop
    }

    fn interrupt(&mut self) -> Result<()> {
        self.guarded(|t| t.interrupt_inner())
    }

    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.guarded(|t| t.read_memory_inner(addr, buf))
    }

    fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.guarded(|t| t.write_memory_inner(addr, data))
    }

    fn read_memory_running(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.guarded(|t| t.read_memory_running_inner(addr, buf))
    }

    fn write_memory_running(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.guarded(|t| t.write_memory_running_inner(addr, data))
    }

    fn register(&mut self, reg: Reg) -> Result<u64> {
        self.guarded(|t| t.read_reg(reg_number(reg)?))
    }

    fn set_register(&mut self, reg: Reg, value: u64) -> Result<()> {
        self.guarded(|t| t.write_reg(reg_number(reg)?, value))
    }

    fn set_breakpoint(&mut self, addr: u64) -> Result<()> {
        self.guarded(|t| t.insert(addr, Use::User))
    }

    fn stats(&mut self) -> Vec<(String, String)> {
        let mut stats = vec![("load".to_owned(), self.report.describe_download())];
        if let Some(t) = self.report.verify {
            stats.push(("verify".into(), load::rate(self.report.bytes, t)));
        }
        stats.push((
            "semihosting calls".into(),
            self.semihosting_calls.to_string(),
        ));
        stats
    }
}

impl ProbeRsTarget {
    fn read_memory_inner(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let mut core = self.core()?;
        for (i, piece) in buf.chunks_mut(load::CHUNK).enumerate() {
            let at = addr + (i * load::CHUNK) as u64;
            load::read_words(&mut core, at, piece)
                .map_err(|e| connect::describe(e, &format!("while reading memory at {at:#x}")))?;
        }
        Ok(())
    }

    fn write_memory_inner(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.core()?
            .write(addr, data)
            .map_err(|e| connect::describe(e, &format!("while writing memory at {addr:#x}")))
    }

    /// Reads memory whether the hart runs or not (see the module docs), through the RISC-V
    /// interface: no core to attach, nothing but the access itself.
    fn read_memory_running_inner(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.check_board_alive()?;
        let mut riscv = self.riscv()?;
        for (i, piece) in buf.chunks_mut(load::CHUNK).enumerate() {
            let at = addr + (i * load::CHUNK) as u64;
            load::read_words(&mut riscv, at, piece)
                .map_err(|e| connect::describe(e, &format!("while reading memory at {at:#x}")))?;
        }
        Ok(())
    }

    fn write_memory_running_inner(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.check_board_alive()?;
        self.riscv()?
            .write(addr, data)
            .map_err(|e| connect::describe(e, &format!("while writing memory at {addr:#x}")))
    }

    /// Fails when the simulated board ended with the program (a SiFive-test-finisher exit):
    /// nothing is left to read, and probe-rs would only time out (or panic) trying.
    fn check_board_alive(&mut self) -> Result<()> {
        if let Some(serve) = &mut self.serve
            && let Some(status) = serve.helper.exit_status()
        {
            bail!("the simulated board has ended ({status}): its memory is gone");
        }
        Ok(())
    }
}

impl Drop for ProbeRsTarget {
    fn drop(&mut self) {
        guard::set_phase("while detaching from the board");
        if self.serve.is_some() {
            // The simulated board goes with rvflash: nothing to leave in a good state, and
            // talking to a board that has ended would only fail (or panic, see `guard`).
            if let Some(session) = self.session.take() {
                std::mem::forget(session);
            }
        }
        if self.session.is_some()
            && let Err(err) = self.guarded(|t| t.detach())
        {
            self.say(&format!("note: detaching from the board: {err:#}"));
        }
        // probe-rs clears the hardware breakpoints and deactivates the debug module; then
        // the simulated board goes.
        if let Some(session) = self.session.take()
            && let Err(message) = guard::contain(move || drop(session))
        {
            self.say(&format!("note: closing the probe-rs session: {message}"));
        }
        self.serve = None;
    }
}
