//! The `sim` target: the built-in simulator (`rvflash_sim::Machine`), in process.
//!
//! The machine runs in slices of [`SLICE`] instructions; the deadline is checked between
//! slices. UART output is streamed to the console writer after every slice and stop. A
//! finisher reset reloads the image and starts again, as QEMU does. A deadlocked hart
//! (`wfi` with no interrupt that can ever arrive) stops with [`Stop::Idle`], since it would
//! otherwise only end at the timeout.

use std::io::Write;
use std::time::Instant;

use anyhow::{Result, anyhow};
use rvflash_sim::{Config, Machine};

use super::{Image, Reg, Stop, Target, TargetOptions};

/// Instructions run between deadline checks.
pub const SLICE: u64 = 200_000;

/// The `sim` target.
pub struct SimTarget {
    options: TargetOptions,
    ram_base: u64,
    ram_size: u64,
    machine: Option<Machine>,
    image: Option<Image>,
    breakpoints: Vec<u64>,
    console: Box<dyn Write>,
    /// An [`Target::interrupt`] request the next `wait` reports.
    interrupted: bool,
}

impl SimTarget {
    /// A simulator with RAM at `ram_base` of `ram_size` bytes; UART output goes to `console`.
    pub fn new(
        options: TargetOptions,
        ram_base: u64,
        ram_size: u64,
        console: Box<dyn Write>,
    ) -> SimTarget {
        SimTarget {
            options,
            ram_base,
            ram_size,
            machine: None,
            image: None,
            breakpoints: Vec::new(),
            console,
            interrupted: false,
        }
    }

    fn machine(&mut self) -> Result<&mut Machine> {
        self.machine
            .as_mut()
            .ok_or_else(|| anyhow!("no program loaded into the simulator"))
    }

    fn flush_uart(&mut self) -> Result<()> {
        if let Some(m) = self.machine.as_mut() {
            let out = m.take_uart_output();
            if !out.is_empty() {
                self.console.write_all(&out)?;
                self.console.flush()?;
            }
        }
        Ok(())
    }

    fn boot(&mut self, image: &Image) -> Result<()> {
        let mut machine = Machine::new(Config {
            ram_base: self.ram_base,
            ram_size: self.ram_size,
            reset_pc: image.entry,
            catch_traps: self.options.catch_traps,
            semihosting: true,
            ..Config::default()
        });
        for seg in &image.segments {
            machine.load(seg.addr, &seg.data)?;
        }
        for &bp in &self.breakpoints {
            machine.set_breakpoint(bp);
        }
        self.machine = Some(machine);
        Ok(())
    }
}

impl Target for SimTarget {
    fn load(&mut self, image: &Image) -> Result<()> {
        self.boot(image)?;
        self.image = Some(image.clone());
        Ok(())
    }

    fn resume(&mut self) -> Result<()> {
        self.machine()?;
        Ok(())
    }

    fn wait(&mut self, deadline: Instant) -> Result<Stop> {
        if std::mem::take(&mut self.interrupted) {
            return Ok(Stop::Interrupted);
        }
        loop {
            let stop = self.machine()?.run(SLICE);
            self.flush_uart()?;
            return Ok(match stop {
                rvflash_sim::Stop::Budget => {
                    if Instant::now() >= deadline {
                        Stop::Running
                    } else {
                        continue;
                    }
                }
                rvflash_sim::Stop::Semihosting => Stop::Semihosting,
                rvflash_sim::Stop::Breakpoint(pc) => Stop::Breakpoint(pc),
                rvflash_sim::Stop::Trap { cause, pc, tval } => Stop::Trap { cause, pc, tval },
                rvflash_sim::Stop::Exited(code) => Stop::Exited(code),
                rvflash_sim::Stop::Reset => {
                    let image = self
                        .image
                        .clone()
                        .ok_or_else(|| anyhow!("reset without an image"))?;
                    self.boot(&image)?;
                    continue;
                }
                rvflash_sim::Stop::Idle => Stop::Idle {
                    pc: self.machine()?.reg(rvflash_sim::Reg::Pc),
                },
                // Never happens: this target builds its machine without a debug module.
                rvflash_sim::Stop::DebugHalted => {
                    return Err(anyhow!("the simulator halted in debug mode"));
                }
            });
        }
    }

    fn interrupt(&mut self) -> Result<()> {
        // The simulator only runs inside `wait`, so it is already stopped: just report it.
        self.interrupted = true;
        Ok(())
    }

    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        Ok(self.machine()?.read_memory(addr, buf)?)
    }

    fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        Ok(self.machine()?.write_memory(addr, data)?)
    }

    fn register(&mut self, reg: Reg) -> Result<u64> {
        let m = self.machine()?;
        m.try_reg(sim_reg(reg))
            .ok_or_else(|| anyhow!("the simulator has no register {reg:?}"))
    }

    fn set_register(&mut self, reg: Reg, value: u64) -> Result<()> {
        self.machine()?.set_reg(sim_reg(reg), value);
        Ok(())
    }

    fn set_breakpoint(&mut self, addr: u64) -> Result<()> {
        if !self.breakpoints.contains(&addr) {
            self.breakpoints.push(addr);
        }
        if let Some(m) = self.machine.as_mut() {
            m.set_breakpoint(addr);
        }
        Ok(())
    }

    fn finish_semihosting(&mut self, result: u64) -> Result<()> {
        self.machine()?.finish_semihosting(result);
        Ok(())
    }

    fn stats(&mut self) -> Vec<(String, String)> {
        match self.machine.as_ref() {
            Some(m) => {
                let s = m.stats();
                vec![
                    ("instructions".into(), s.instructions.to_string()),
                    ("cycles".into(), s.cycles.to_string()),
                ]
            }
            None => Vec::new(),
        }
    }
}

fn sim_reg(reg: Reg) -> rvflash_sim::Reg {
    match reg {
        Reg::X(n) => rvflash_sim::Reg::X(n),
        Reg::F(n) => rvflash_sim::Reg::F(n),
        Reg::Pc => rvflash_sim::Reg::Pc,
        Reg::Csr(c) => rvflash_sim::Reg::Csr(c),
    }
}
