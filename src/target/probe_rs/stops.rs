//! Run control of the probe-rs target: waiting for the hart to halt, saying why it halted
//! (semihosting, trap, breakpoint, interruption; see the parent module's docs), resuming with
//! a step over the trigger it stopped at, and halting it on request.
//!
//! Everything here reads `dcsr`/`dpc` itself and uses probe-rs's RISC-V interface for halt and
//! resume: probe-rs's `status()`, `step()` and `run()` would decode (and answer) semihosting
//! calls with its 32-bit decoder.
//!
//! This file must not attach or load (`connect`, `load`, the parent do).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{
    C_EBREAK, CAUSE_EBREAK, CAUSE_TRIGGER, DCSR, DCSR_STEP, DCSR_STEPIE, DPC, EBREAK, HALT_TIMEOUT,
    POLL, ProbeRsTarget, SEMIHOSTING, Use, connect, guard, signal,
};
use crate::target::{Stop, csr};

impl ProbeRsTarget {
    /// Whether a semihosting sequence's `ebreak` is at `pc`.
    fn is_semihosting(&mut self, pc: u64) -> bool {
        let mut bytes = [0u8; 12];
        if pc < 4 || self.read_memory_inner(pc - 4, &mut bytes).is_err() {
            return false;
        }
        let words: Vec<u32> = bytes
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        words == SEMIHOSTING
    }

    /// Says why the hart halted; `None` when it was handled here and the hart runs again.
    fn classify(&mut self, trigger: bool) -> Result<Option<Stop>> {
        self.sync_output();
        let dcsr = self.read_reg(DCSR)?;
        let cause = if trigger {
            CAUSE_TRIGGER
        } else {
            (dcsr >> 6) & 7
        };
        let pc = self.read_reg(DPC)?;
        self.stopped_at = None;
        let stop = match cause {
            CAUSE_EBREAK => {
                if self.is_semihosting(pc) {
                    self.semihosting_calls += 1;
                    self.at_semihosting = true;
                    Stop::Semihosting
                } else {
                    // Without a debugger this `ebreak` would have trapped: report that trap
                    // (mtval 0, as `sim` and QEMU report a breakpoint).
                    let mut inst = [0u8; 4];
                    self.read_memory_inner(pc, &mut inst).ok();
                    let is_ebreak = u32::from_le_bytes(inst) == EBREAK
                        || u16::from_le_bytes([inst[0], inst[1]]) == C_EBREAK;
                    if !is_ebreak {
                        self.say(&format!(
                            "note: the hart halted for an ebreak at {pc:#x}, which holds none"
                        ));
                    }
                    Stop::Trap {
                        cause: 3,
                        pc,
                        tval: 0,
                    }
                }
            }
            CAUSE_TRIGGER => match self.use_of(pc) {
                Some(Use::MtvecProbe) => {
                    self.remove(pc)?;
                    let vector = self.read_reg(csr::MTVEC)? & !3;
                    if self.unit_of(vector).is_none()
                        && let Err(err) = self.insert(vector, Use::Vector)
                    {
                        self.say(&format!("note: traps not caught at {vector:#x}: {err:#}"));
                    }
                    self.resume_inner()?;
                    return Ok(None);
                }
                Some(Use::Vector) => {
                    self.stopped_at = Some(pc);
                    let mcause = self.read_reg(csr::MCAUSE)?;
                    if mcause >> 63 != 0 {
                        // An interrupt: the program's handler takes it.
                        self.resume_inner()?;
                        return Ok(None);
                    }
                    let mepc = self.read_reg(csr::MEPC)?;
                    let tval = self.read_reg(csr::MTVAL)?;
                    Stop::Trap {
                        cause: mcause,
                        pc: mepc,
                        tval,
                    }
                }
                Some(Use::User) => {
                    self.stopped_at = Some(pc);
                    Stop::Breakpoint(pc)
                }
                None => Stop::Interrupted,
            },
            // A halt request (ours), a step or a reset: an interruption.
            _ => Stop::Interrupted,
        };
        self.requested = false;
        Ok(Some(stop))
    }

    /// Resumes the hart, stepping over the trigger it stopped at first.
    pub(super) fn resume_inner(&mut self) -> Result<()> {
        if self.exited.is_some() {
            return Ok(());
        }
        self.at_semihosting = false;
        if let Some(at) = self.stopped_at.take()
            && self.read_reg(DPC)? == at
            && self.unit_of(at).is_some()
        {
            self.step_over(at)?;
            if self.arrived {
                return Ok(());
            }
        }
        self.riscv()?
            .resume_core()
            .map_err(|e| connect::describe(e.into(), "while resuming the hart"))?;
        self.running = true;
        Ok(())
    }

    /// Executes the instruction at `at`, whose trigger is set, with that trigger off.
    fn step_over(&mut self, at: u64) -> Result<()> {
        let unit = self.unit_of(at).expect("a trigger at the stop");
        self.core()?
            .inner_mut()
            .clear_hw_breakpoint(unit)
            .map_err(|e| connect::describe(e, "while stepping over a breakpoint"))?;
        let dcsr = self.read_reg(DCSR)?;
        self.write_reg(DCSR, (dcsr | DCSR_STEP) & !DCSR_STEPIE)?;
        let stepped = self.step_once();
        let after = self.read_reg(DCSR)?;
        self.write_reg(
            DCSR,
            (after & !(DCSR_STEP | DCSR_STEPIE)) | (dcsr & DCSR_STEPIE),
        )?;
        self.core()?
            .set_hw_breakpoint_unit(unit, at)
            .map_err(|e| connect::describe(e, "while stepping over a breakpoint"))?;
        stepped?;
        let pc = self.read_reg(DPC)?;
        if self.unit_of(pc).is_some() {
            // Landed on another breakpoint (or the trap vector): that is the next stop.
            self.arrived = true;
        }
        Ok(())
    }

    fn step_once(&mut self) -> Result<()> {
        let mut riscv = self.riscv()?;
        riscv
            .resume_core()
            .map_err(|e| connect::describe(e.into(), "while single-stepping"))?;
        let until = Instant::now() + HALT_TIMEOUT;
        loop {
            if riscv
                .core_halted()
                .map_err(|e| connect::describe(e.into(), "while single-stepping"))?
            {
                return Ok(());
            }
            if Instant::now() >= until {
                riscv.halt(HALT_TIMEOUT).ok();
                bail!("a single step did not end in {} s", HALT_TIMEOUT.as_secs());
            }
        }
    }

    pub(super) fn wait_inner(&mut self, deadline: Instant) -> Result<Stop> {
        guard::set_phase("while the program ran");
        loop {
            if let Some(code) = self.exited {
                return Ok(Stop::Exited(code));
            }
            if std::mem::take(&mut self.interrupted) {
                self.requested = false;
                return Ok(Stop::Interrupted);
            }
            if std::mem::take(&mut self.arrived) {
                self.running = false;
                match self.classify(true)? {
                    Some(stop) => return Ok(stop),
                    None => continue,
                }
            }
            if let Some(sig) = signal::received() {
                bail!(
                    "stopped by {sig}; detached from the board ({})",
                    if self.probe.halt_on_exit {
                        "the hart is left halted"
                    } else {
                        "the program is left running"
                    }
                );
            }
            if let Some(code) = self.program_exit(Duration::ZERO) {
                self.exited = Some(code);
                return Ok(Stop::Exited(code));
            }
            let halted = self.riscv().and_then(|mut r| {
                r.core_halted()
                    .map_err(|e| connect::describe(e.into(), "while the program ran"))
            });
            match halted {
                Ok(true) => {
                    self.running = false;
                    if let Some(stop) = self.classify(false)? {
                        return Ok(stop);
                    }
                }
                Ok(false) => {
                    if Instant::now() >= deadline {
                        self.sync_output();
                        return Ok(Stop::Running);
                    }
                    std::thread::sleep(POLL);
                }
                Err(err) => {
                    // The program ended the simulated board (SiFive test finisher), which
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

    pub(super) fn interrupt_inner(&mut self) -> Result<()> {
        if !self.running || self.exited.is_some() {
            self.interrupted = true;
            return Ok(());
        }
        self.requested = true;
        let halted = self.riscv()?.halt(HALT_TIMEOUT);
        match halted {
            Ok(()) => Ok(()),
            Err(err) => {
                if let Some(code) = self.program_exit(Duration::from_secs(1)) {
                    self.exited = Some(code);
                    return Ok(());
                }
                Err(connect::describe(err.into(), "while halting the hart"))
            }
        }
    }
}
