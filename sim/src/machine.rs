//! [`Machine`]: the public seam (hart + bus) and the run loop.
//!
//! The loop fetches through the decode cache, executes (`exec`), and turns the outcome into
//! retirement, trap entry or a [`Stop`]. Instruction semantics live in `exec`, trap entry in
//! `trap`, CSRs in `csr`; this module only sequences them and answers host requests. A machine
//! with a debug module runs the loop of `debug::run` instead (steps, triggers, debug mode),
//! so this one stays free of debug checks.

use rvflash_backend::isa::decode::decode_bits;
use rvflash_backend::isa::reg::A0;

use crate::bus::Bus;
use crate::debug::DebugState;
use crate::decode_cache::Entry;
use crate::hart::Hart;
use crate::trap::{Trap, cause};
use crate::{Config, Error, Reg, Stats, Stop};

/// The simulated board: one RV64GC hart and the `virt` bus.
pub struct Machine {
    pub(crate) hart: Hart,
    pub(crate) bus: Bus,
    pub(crate) config: Config,
    pub(crate) stats: Stats,
    pub(crate) breakpoints: Vec<u64>,
    /// Cycle count at which interrupts must be re-evaluated (0: at the next instruction).
    pub(crate) next_irq_check: u64,
    /// The debug module, if the board has one (`Config::debug`).
    pub(crate) debug: Option<Box<DebugState>>,
}

impl Machine {
    /// A machine in its reset state with zeroed RAM.
    pub fn new(config: Config) -> Machine {
        let bus = Bus::new(config.ram_base, config.ram_size, config.hart_id);
        let debug = config.debug.as_ref().map(|c| Box::new(DebugState::new(c)));
        let mut m = Machine {
            hart: Hart::new(),
            bus,
            config,
            stats: Stats::default(),
            breakpoints: Vec::new(),
            next_irq_check: 0,
            debug,
        };
        m.reset();
        m
    }

    /// Resets the hart and devices (not RAM): `pc` = `reset_pc`, `a0` = hart id, `a1` = 0.
    /// With a debug module, the hart then halts if the debugger asked for that (see
    /// [`Machine::jtag_cycle`]).
    pub fn reset(&mut self) {
        self.hart = Hart::new();
        self.hart.pc = self.config.reset_pc;
        self.hart.x[A0 as usize] = self.config.hart_id;
        self.bus
            .reset_devices(self.config.hart_id, self.stats.cycles);
        self.bus.code.clear();
        self.next_irq_check = 0;
        self.debug_after_reset();
    }

    /// Copies `bytes` into RAM at `addr`.
    pub fn load(&mut self, addr: u64, bytes: &[u8]) -> Result<(), Error> {
        self.write_memory(addr, bytes)
    }

    /// Reads RAM (devices are not readable from the host: reads have side effects).
    pub fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Error> {
        let len = buf.len() as u64;
        let src = self
            .bus
            .ram_slice(addr, len)
            .ok_or(Error::OutOfRam { addr, len })?;
        buf.copy_from_slice(src);
        Ok(())
    }

    /// Writes RAM.
    pub fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<(), Error> {
        let len = data.len() as u64;
        self.bus
            .write_ram(addr, data)
            .ok_or(Error::OutOfRam { addr, len })
    }

    /// A register's value. Unknown or inaccessible CSRs read as 0 (see [`Machine::try_reg`]).
    pub fn reg(&self, r: Reg) -> u64 {
        self.try_reg(r).unwrap_or(0)
    }

    /// A register's value, or `None` for a register that does not exist.
    pub fn try_reg(&self, r: Reg) -> Option<u64> {
        match r {
            Reg::X(n) => self.hart.x.get(n as usize).copied(),
            Reg::F(n) => self.hart.f.get(n as usize).copied(),
            Reg::Pc => Some(self.hart.pc),
            Reg::Csr(c) => {
                // The host sees the FP CSRs even while the FPU is off.
                match c {
                    0x001 => Some(self.hart.fflags),
                    0x002 => Some(self.hart.frm),
                    0x003 => Some(self.hart.frm << 5 | self.hart.fflags),
                    _ => self.csr_read(c),
                }
            }
        }
    }

    /// Sets a register (writes to x0, read-only and unknown CSRs are ignored; CSR writes keep
    /// only writable bits). `pc` is aligned down to 2 bytes.
    pub fn set_reg(&mut self, r: Reg, v: u64) {
        match r {
            Reg::X(n) if n < 32 => self.hart.set_x(n, v),
            Reg::F(n) if n < 32 => self.hart.f[n as usize] = v,
            Reg::Pc => self.hart.pc = v & !1,
            Reg::Csr(c) if !crate::csr::is_read_only(c) => {
                if matches!(c, 1..=3) {
                    let fs = self.hart.mstatus;
                    self.csr_write(c, v);
                    self.hart.mstatus = fs;
                } else if self.csr_read(c).is_some() {
                    self.csr_write(c, v);
                }
            }
            _ => {}
        }
        self.next_irq_check = 0;
    }

    /// Stops [`Machine::run`] before executing the instruction at `addr`.
    pub fn set_breakpoint(&mut self, addr: u64) {
        if !self.breakpoints.contains(&addr) {
            self.breakpoints.push(addr);
        }
    }

    pub fn clear_breakpoint(&mut self, addr: u64) {
        self.breakpoints.retain(|&a| a != addr);
    }

    /// Bytes the guest wrote to the UART since the last call.
    pub fn take_uart_output(&mut self) -> Vec<u8> {
        self.bus.uart.take_output()
    }

    /// Bytes for the guest to read from the UART.
    pub fn push_uart_input(&mut self, bytes: &[u8]) {
        self.bus.uart.push_input(bytes);
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Completes a [`Stop::Semihosting`]: sets `a0` to the result and moves `pc` past the
    /// `ebreak` (the `ebreak` counts as retired).
    pub fn finish_semihosting(&mut self, result: u64) {
        self.hart.set_x(A0, result);
        self.hart.pc = self.hart.pc.wrapping_add(4);
        self.stats.instructions += 1;
        self.stats.cycles += 1;
    }

    /// Runs until a [`Stop`] or until `max_instructions` steps (retired instructions and
    /// taken exceptions) have been made. A breakpoint at the starting `pc` is ignored, so
    /// running again after [`Stop::Breakpoint`] steps over it. With a debug module, returns
    /// [`Stop::DebugHalted`] at once while the hart is halted (or held in reset).
    pub fn run(&mut self, max_instructions: u64) -> Stop {
        if self.debug.is_some() {
            return self.run_debug(max_instructions);
        }
        let mut steps = 0u64;
        let start_pc = self.hart.pc;
        // Breakpoints cannot change during a run.
        let breakpoints = !self.breakpoints.is_empty();
        while steps < max_instructions {
            if self.stats.cycles >= self.next_irq_check
                && let Some(cause) = self.pending_interrupt()
            {
                self.enter_trap(cause, 0);
            }
            let pc = self.hart.pc;
            if breakpoints && (steps != 0 || pc != start_pc) && self.breakpoints.contains(&pc) {
                return Stop::Breakpoint(pc);
            }
            steps += 1;
            let entry = match self.bus.code.get(pc.wrapping_sub(self.bus.ram_base)) {
                Some(e) => *e,
                None => match self.fetch_slow(pc) {
                    Ok(e) => e,
                    Err(trap) => match self.after_trap(trap, pc) {
                        Some(stop) => return stop,
                        None => continue,
                    },
                },
            };
            match self.execute(&entry.inst, pc, entry.len as u64) {
                Ok(next) => {
                    self.hart.pc = next;
                    self.stats.instructions += 1;
                    self.stats.cycles += 1;
                }
                Err(trap) => {
                    if let Some(stop) = self.after_trap(trap, pc) {
                        return stop;
                    }
                }
            }
        }
        Stop::Budget
    }

    /// Handles an instruction at `pc` that did not simply complete: enters the trap handler
    /// (or stops, with `catch_traps`), or stops as the instruction asked.
    #[cold]
    pub(crate) fn after_trap(&mut self, trap: Trap, pc: u64) -> Option<Stop> {
        match trap {
            Trap::Exception { cause, tval } => {
                if self.config.catch_traps {
                    return Some(Stop::Trap { cause, pc, tval });
                }
                self.enter_trap(cause, tval);
                self.stats.cycles += 1;
                None
            }
            Trap::Stop(stop) => Some(stop),
            Trap::StopAfter(stop, next) => {
                self.hart.pc = next;
                self.stats.instructions += 1;
                self.stats.cycles += 1;
                Some(stop)
            }
        }
    }

    #[cold]
    pub(crate) fn fetch_slow(&mut self, pc: u64) -> Result<Entry, Trap> {
        let bits = self.instruction_bits(pc)?;
        match decode_bits(bits) {
            Ok(inst) => {
                let entry = Entry {
                    inst: inst.expand(),
                    len: inst.len() as u8,
                };
                if let Some(off) = self.bus.ram_offset(pc, entry.len as u64) {
                    self.bus.code.insert(off, entry);
                }
                Ok(entry)
            }
            Err(_) => Err(Trap::exception(cause::ILLEGAL_INSTRUCTION, bits as u64)),
        }
    }

    /// The raw instruction bits at `pc` (16 bits for a compressed instruction), or an
    /// instruction access fault.
    pub(crate) fn instruction_bits(&self, pc: u64) -> Result<u32, Trap> {
        let half = |a: u64| {
            self.bus
                .ram_slice(a, 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as u32)
                .ok_or(Trap::exception(cause::INSTRUCTION_ACCESS, a))
        };
        let low = half(pc)?;
        if low & 3 != 3 {
            return Ok(low);
        }
        Ok(low | half(pc.wrapping_add(2))? << 16)
    }

    /// An illegal-instruction exception for the instruction at `pc` (`mtval` = its bits).
    #[cold]
    pub(crate) fn illegal(&self, pc: u64) -> Trap {
        let bits = self.instruction_bits(pc).unwrap_or(0);
        Trap::exception(cause::ILLEGAL_INSTRUCTION, bits as u64)
    }
}
