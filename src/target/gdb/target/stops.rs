//! How a [`GdbTarget`] runs and stops: resuming (stepping over the breakpoint it stopped at),
//! waiting (with nudges for servers that notice a halted hart late, and an eye on the helper
//! that carries the program's exit status), and classifying each stop by pc — trap vector,
//! semihosting `ebreak`, breakpoint, the program's own `ebreak`, or an interruption.
//!
//! This file must not load or connect (`mod.rs` does).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::GdbTarget;
use crate::target::gdb::protocol::{SIGINT, SIGTRAP, StopReply};
use crate::target::{Reg, Stop, Target, csr};

/// How often a waiting target checks on its helpers (has the program's carrier exited?).
const HELPER_POLL: Duration = Duration::from_millis(100);

/// The first and the longest interval between nudges (see [`Settings::nudge`]).
pub(super) const NUDGE_FIRST: Duration = Duration::from_millis(2);
const NUDGE_MAX: Duration = Duration::from_millis(100);

/// How long a step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// `ebreak` and `c.ebreak`.
const EBREAK: [u8; 4] = 0x0010_0073u32.to_le_bytes();
const C_EBREAK: [u8; 2] = 0x9002u16.to_le_bytes();
/// `mstatus` and its bits.
const MSTATUS: u16 = 0x300;
const MSTATUS_MIE: u64 = 1 << 3;
const MSTATUS_MPIE: u64 = 1 << 7;

impl GdbTarget {
    /// Classifies a stop at `pc` with `signal`; `None` when it was handled here and the
    /// program resumed (the `mtvec` probe, an interrupt at a trap vector, a nudge).
    ///
    /// An interrupt that stopped the hart on a breakpoint, trap vector or semihosting `ebreak`
    /// (or a hart that halted there by itself before the server noticed) counts as reaching
    /// it: the instruction there has not run, as after a breakpoint hit.
    fn classify(&mut self, signal: u8) -> Result<Option<Stop>> {
        self.sync_output();
        let pc = self.pc()?;
        let interrupted = signal == SIGINT;
        if interrupted && !self.reaches_stop(pc) {
            if std::mem::take(&mut self.requested) {
                return Ok(Some(Stop::Interrupted));
            }
            // Our own nudge found the program running: let it go on.
            self.nudge_gap = (self.nudge_gap * 2).min(NUDGE_MAX);
            self.resume_inner()?;
            return Ok(None);
        }
        self.stopped_at = self.breakpoints.contains_key(&pc).then_some(pc);
        if self.mtvec_probe == Some(pc) {
            // The runtime has set mtvec by now: catch traps there too.
            self.mtvec_probe = None;
            if !self.breakpoints[&pc].user {
                self.remove(pc)?;
                self.stopped_at = None;
            }
            let vector = self.register(Reg::Csr(csr::MTVEC))? & !3;
            if !self.trap_vectors.contains(&vector) && self.insert(vector, false).is_ok() {
                self.trap_vectors.push(vector);
            }
            if self.breakpoints.get(&pc).is_some_and(|b| b.user) {
                return Ok(Some(Stop::Breakpoint(pc)));
            }
            self.resume()?;
            return Ok(None);
        }
        if self.trap_vectors.contains(&pc) {
            let cause = self.register(Reg::Csr(csr::MCAUSE))?;
            if cause >> 63 != 0 {
                self.resume()?;
                return Ok(None);
            }
            let epc = self.register(Reg::Csr(csr::MEPC))?;
            if cause == 3 && self.is_site(epc) {
                // A semihosting call that trapped into the program: undo the trap.
                let mstatus = self.register(Reg::Csr(MSTATUS))?;
                let mie = if mstatus & MSTATUS_MPIE != 0 {
                    MSTATUS_MIE
                } else {
                    0
                };
                self.set_register(
                    Reg::Csr(MSTATUS),
                    (mstatus & !MSTATUS_MIE) | mie | MSTATUS_MPIE,
                )?;
                self.set_register(Reg::Pc, epc)?;
                return Ok(Some(self.semihosting()));
            }
            let tval = self.register(Reg::Csr(csr::MTVAL))?;
            return Ok(Some(Stop::Trap {
                cause,
                pc: epc,
                tval,
            }));
        }
        if self.is_site(pc) {
            return Ok(Some(self.semihosting()));
        }
        if self.breakpoints.get(&pc).is_some_and(|b| b.user) {
            return Ok(Some(Stop::Breakpoint(pc)));
        }
        // An `ebreak` of the program's own halts the hart under a debugger: report it as
        // the breakpoint trap it would have been.
        let mut inst = [0u8; 4];
        if self.read_memory(pc, &mut inst).is_ok()
            && (inst == EBREAK || inst[..2] == C_EBREAK)
            && !self.breakpoints.contains_key(&pc)
        {
            // mtval 0, as `sim` and QEMU report a breakpoint.
            return Ok(Some(Stop::Trap {
                cause: 3,
                pc,
                tval: 0,
            }));
        }
        // A stop nobody asked for (a server's own reasons): report it as an interruption,
        // which the run loop resumes from.
        Ok(Some(Stop::Interrupted))
    }

    /// Whether a hart halted at `pc` has reached a stop of its own (a breakpoint, a trap
    /// vector, a semihosting `ebreak`), even if an interrupt is what halted it.
    pub(super) fn reaches_stop(&mut self, pc: u64) -> bool {
        self.breakpoints.contains_key(&pc) || self.trap_vectors.contains(&pc) || self.is_site(pc)
    }

    fn semihosting(&mut self) -> Stop {
        self.semihosting_calls += 1;
        self.stopped_at = None;
        Stop::Semihosting
    }

    fn handle_reply(&mut self, reply: StopReply) -> Result<Option<Stop>> {
        self.running = false;
        self.nudge_at = None;
        // An interrupt byte that arrives after this stop is ignored by servers: the hart is
        // halted already.
        self.interrupt_sent = false;
        match reply {
            StopReply::Exited(code) => {
                // QEMU exits with the same status right after; let its output drain.
                let status = self
                    .program_exit(Duration::from_secs(5))
                    .unwrap_or(i32::from(code));
                self.exited = Some(status);
                Ok(Some(Stop::Exited(status)))
            }
            StopReply::Terminated(sig) => {
                bail!("the GDB server reported the program terminated by signal {sig}")
            }
            StopReply::Signal { signal, pc } => {
                self.pc = pc;
                let stop = self.classify(signal)?;
                if stop.is_some() {
                    // A stop for the run loop: it answers any interrupt request, and the
                    // program's next run starts with quick nudges again.
                    self.requested = false;
                    self.nudge_gap = NUDGE_FIRST;
                }
                Ok(stop)
            }
        }
    }

    pub(super) fn resume_inner(&mut self) -> Result<()> {
        if self.exited.is_some() {
            return Ok(());
        }
        let pc = self.pc()?;
        if self.stopped_at == Some(pc)
            && let Some(bp) = self.breakpoints.get(&pc).copied()
        {
            self.pc = None;
            let gdb = self.gdb()?;
            gdb.remove_breakpoint(bp.kind, pc, bp.len)?;
            gdb.step()?;
            let stop = gdb.wait_stop(Instant::now() + STEP_TIMEOUT)?;
            let gdb = self.gdb()?;
            gdb.insert_breakpoint(bp.kind, pc, bp.len)?;
            match stop {
                Some(StopReply::Signal { pc: new_pc, .. }) => {
                    self.pc = new_pc;
                    let new_pc = self.pc()?;
                    if self.breakpoints.contains_key(&new_pc) {
                        // Landed on another breakpoint: that is the next stop.
                        self.stopped_at = None;
                        self.arrived = true;
                        return Ok(());
                    }
                }
                Some(StopReply::Exited(code)) => {
                    self.exited = Some(i32::from(code));
                    return Ok(());
                }
                other => bail!("unexpected reply to a single step: {other:?}"),
            }
        }
        self.stopped_at = None;
        self.pc = None;
        self.gdb()?.cont()?;
        self.running = true;
        if self.settings.nudge {
            self.nudge_at = Some(Instant::now() + self.nudge_gap);
        }
        Ok(())
    }

    pub(super) fn wait_inner(&mut self, deadline: Instant) -> Result<Stop> {
        loop {
            if let Some(code) = self.exited {
                return Ok(Stop::Exited(code));
            }
            if std::mem::take(&mut self.interrupted) {
                self.requested = false;
                return Ok(Stop::Interrupted);
            }
            if std::mem::take(&mut self.arrived) {
                match self.classify(SIGTRAP)? {
                    Some(stop) => return Ok(stop),
                    None => continue,
                }
            }
            let mut until = deadline.min(Instant::now() + HELPER_POLL);
            if let Some(at) = self.nudge_at.filter(|_| !self.interrupt_sent) {
                if Instant::now() >= at {
                    self.nudge_at = None;
                    self.interrupt_sent = true;
                    self.gdb()?.interrupt()?;
                } else {
                    until = until.min(at);
                }
            }
            let reply = self.gdb()?.wait_stop(until);
            let console = self.gdb()?.take_console();
            if !console.is_empty() {
                self.say(&format!(
                    "GDB server says: {}",
                    String::from_utf8_lossy(&console).trim_end()
                ));
            }
            match reply {
                Ok(Some(reply)) => {
                    if let Some(stop) = self.handle_reply(reply)? {
                        return Ok(stop);
                    }
                }
                Ok(None) => {
                    if let Some(code) = self.program_exit(Duration::ZERO) {
                        self.exited = Some(code);
                        return Ok(Stop::Exited(code));
                    }
                    if Instant::now() >= deadline {
                        self.sync_output();
                        return Ok(Stop::Running);
                    }
                }
                Err(err) => {
                    // The program ended its emulator or board (SiFive test finisher), which
                    // closed the connection.
                    if let Some(code) = self.program_exit(Duration::from_secs(5)) {
                        self.exited = Some(code);
                        return Ok(Stop::Exited(code));
                    }
                    return Err(err);
                }
            }
        }
    }
}
