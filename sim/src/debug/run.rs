//! The run loop of a machine with a debug module: the plain loop of `machine` plus, per
//! instruction, single-stepping, execute/load/store triggers and `ebreak` into debug mode.
//!
//! [`Machine::run`] takes this loop only when [`Config::debug`](crate::Config::debug) is set,
//! so a machine without a debug module pays one branch per `run` call, none per instruction.
//! Halt requests need no check here: the DM halts a running hart as soon as it is asked
//! (the hart only executes inside `run`). What a trigger matches is `trigger`'s business,
//! the debug-mode transitions `mode`'s; this loop only asks and acts.

use rvflash_backend::isa::{Inst, Op};

use crate::Stop;
use crate::hart::Hart;
use crate::machine::Machine;
use crate::trap::{Trap, cause};

use super::mode::cause as dcause;
use super::trigger::{Action, EXECUTE, LOAD, STORE};

impl Machine {
    #[cold]
    #[inline(never)]
    pub(crate) fn run_debug(&mut self, max_instructions: u64) -> Stop {
        // A device request made through the debugger (SBA, program buffer) comes first.
        if let Some(stop) = self.bus.event.take() {
            return stop;
        }
        let Some(d) = self.debug.as_deref_mut() else {
            return Stop::Budget;
        };
        // Held in reset, the hart does not run either.
        if d.mode.halted || d.dm.hart_in_reset() {
            return Stop::DebugHalted;
        }
        d.mode.wfi_stalled = false;
        let (step, stepie) = (d.mode.step, d.mode.stepie);
        let breakpoints = !self.breakpoints.is_empty();
        let start_pc = self.hart.pc;
        let mut steps = 0u64;
        while steps < max_instructions {
            if (!step || stepie)
                && self.stats.cycles >= self.next_irq_check
                && let Some(cause) = self.pending_interrupt()
            {
                self.enter_trap(cause, 0);
                if step {
                    // Taking the interrupt was the step: halt on the handler's first
                    // instruction.
                    return self.enter_debug(dcause::STEP);
                }
            }
            let pc = self.hart.pc;
            if breakpoints && (steps != 0 || pc != start_pc) && self.breakpoints.contains(&pc) {
                return Stop::Breakpoint(pc);
            }
            let armed = self.debug.as_deref().map_or(0, |d| d.triggers.armed);
            if armed & EXECUTE != 0 {
                let len = self.instruction_len(pc);
                match self.fire_triggers(EXECUTE, pc, len, pc, step) {
                    Fired::Nothing => {}
                    Fired::Stop(stop) => return stop,
                    Fired::Exception => {
                        steps += 1;
                        continue;
                    }
                }
            }
            steps += 1;
            let entry = match self.bus.code.get(pc.wrapping_sub(self.bus.ram_base)) {
                Some(e) => *e,
                None => match self.fetch_slow(pc) {
                    Ok(e) => e,
                    Err(trap) => match self.after_trap(trap, pc) {
                        Some(stop) => return stop,
                        None if step => return self.enter_debug(dcause::STEP),
                        None => continue,
                    },
                },
            };
            if armed & (LOAD | STORE) != 0
                && let Some((kinds, addr, size)) = data_access(&entry.inst, &self.hart)
                && kinds & armed != 0
            {
                match self.fire_triggers(kinds, addr, size, pc, step) {
                    Fired::Nothing => {}
                    Fired::Stop(stop) => return stop,
                    Fired::Exception => continue,
                }
            }
            match self.execute(&entry.inst, pc, entry.len as u64) {
                Ok(next) => {
                    self.hart.pc = next;
                    self.stats.instructions += 1;
                    self.stats.cycles += 1;
                }
                // `ebreak` with dcsr.ebreakm: dpc is the ebreak itself.
                Err(Trap::Stop(Stop::DebugHalted)) => return self.enter_debug(dcause::EBREAK),
                Err(Trap::Stop(Stop::Idle)) if step => {
                    // Stepping over a wfi that would stall: it acts as a nop.
                    self.hart.pc = pc.wrapping_add(4);
                    self.stats.instructions += 1;
                    self.stats.cycles += 1;
                }
                Err(Trap::Stop(Stop::Idle)) => {
                    if let Some(d) = self.debug.as_deref_mut() {
                        d.mode.wfi_stalled = true;
                    }
                    return Stop::Idle;
                }
                Err(trap) => {
                    if let Some(stop) = self.after_trap(trap, pc) {
                        return stop;
                    }
                }
            }
            if step {
                return self.enter_debug(dcause::STEP);
            }
        }
        Stop::Budget
    }

    /// Fires the triggers that match an access of `kinds` at `addr` by the instruction at
    /// `pc`: enters debug mode, or takes a breakpoint exception (`mtval` = `addr`).
    fn fire_triggers(&mut self, kinds: u8, addr: u64, size: u64, pc: u64, step: bool) -> Fired {
        let Some(d) = self.debug.as_deref_mut() else {
            return Fired::Nothing;
        };
        match d.triggers.fire(kinds, addr, size) {
            None => Fired::Nothing,
            Some(Action::DebugMode) => Fired::Stop(self.enter_debug(dcause::TRIGGER)),
            Some(Action::Breakpoint) => {
                match self.after_trap(Trap::exception(cause::BREAKPOINT, addr), pc) {
                    Some(stop) => Fired::Stop(stop),
                    None if step => Fired::Stop(self.enter_debug(dcause::STEP)),
                    None => Fired::Exception,
                }
            }
        }
    }

    /// The length of the instruction at `pc` (0 if it cannot be fetched).
    fn instruction_len(&self, pc: u64) -> u64 {
        match self.bus.ram_slice(pc, 2) {
            Some(b) if b[0] & 3 == 3 => 4,
            Some(_) => 2,
            None => 0,
        }
    }
}

/// What firing triggers did.
enum Fired {
    Nothing,
    /// The run stops (debug mode, a caught trap, the end of a step).
    Stop(Stop),
    /// A breakpoint exception was taken; execution goes on in the handler.
    Exception,
}

/// The data access `inst` is about to make: (`LOAD`/`STORE` kinds, address, size). FP loads
/// and stores with the FPU off are illegal instructions, which take priority.
fn data_access(inst: &Inst, h: &Hart) -> Option<(u8, u64, u64)> {
    use Op::*;
    let (kinds, size) = match inst.op {
        Lb | Lbu => (LOAD, 1),
        Lh | Lhu => (LOAD, 2),
        Lw | Lwu | LrW => (LOAD, 4),
        Ld | LrD => (LOAD, 8),
        Flw if h.fp_enabled() => (LOAD, 4),
        Fld if h.fp_enabled() => (LOAD, 8),
        Sb => (STORE, 1),
        Sh => (STORE, 2),
        Sw | ScW => (STORE, 4),
        Sd | ScD => (STORE, 8),
        Fsw if h.fp_enabled() => (STORE, 4),
        Fsd if h.fp_enabled() => (STORE, 8),
        AmoswapW | AmoaddW | AmoxorW | AmoandW | AmoorW | AmominW | AmomaxW | AmominuW
        | AmomaxuW => (LOAD | STORE, 4),
        AmoswapD | AmoaddD | AmoxorD | AmoandD | AmoorD | AmominD | AmomaxD | AmominuD
        | AmomaxuD => (LOAD | STORE, 8),
        _ => return None,
    };
    let addr = h.xr(inst.rs1).wrapping_add(inst.imm as i64 as u64);
    Some((kinds, addr, size))
}
