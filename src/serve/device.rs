//! The simulated board as `rvflash serve`'s protocol servers see it: JTAG pins ([`Pins`]:
//! TCK/TMS/TDI in, TDO out, TRST) and the board's reset line (SRST), and a hart that runs in
//! slices between JTAG activity ([`Device::run_slice`]).
//!
//! The [`Device`] owns the [`Machine`] (built with a Debug Module) and decides when the hart
//! runs: not while it is halted in debug mode, held in reset, deadlocked in `wfi`, or after
//! its program ended through the SiFive test finisher ("parked", until a debugger halts it,
//! resets it or moves its pc: running it would only spin in the program's final loop). Any
//! JTAG or reset activity may have resumed or halted the hart, so after some the next slice
//! runs again and the machine says what it is doing. UART output goes to the console writer
//! after every slice.
//!
//! This file must not know about sockets or wire protocols (`rbb`, `bmp`, `net` do), nor
//! about the Debug Module's registers beyond halting the hart at start.

use std::io::Write;

use anyhow::{Result, bail};
use rvflash_sim::{Config, DebugConfig, Machine, Reg, Stop};

use crate::board::Board;
use crate::image::Image;

/// Instructions per slice when no client is talking: about 0.1 ms of simulation, so that the
/// loop checks its sockets often without costing the simulation much.
pub const SLICE: u64 = 10_000;
/// Instructions per slice while a client is talking: a packet that arrives while the hart
/// runs waits at most this long (about 10 µs), as probe-rs awaits each one-bit packet.
pub const INTERACTIVE_SLICE: u64 = 1_000;

/// DMI addresses and bits used to halt the hart before its first instruction.
mod dm {
    pub const DMCONTROL: u8 = 0x10;
    pub const DMACTIVE: u32 = 1;
    pub const HALTREQ: u32 = 1 << 31;
}

/// The JTAG side of a board: what a probe's pins reach.
pub trait Pins {
    /// One TCK cycle with these TMS and TDI levels; returns TDO as it was before the rising
    /// edge (what a probe samples).
    fn clock(&mut self, tms: bool, tdi: bool) -> bool;
    /// TDO now.
    fn tdo(&self) -> bool;
    /// Drives TRST: while asserted, the TAP is held in Test-Logic-Reset.
    fn set_trst(&mut self, asserted: bool);
    /// Drives the board's reset line: asserting it resets the hart and devices (not RAM, not
    /// the Debug Module); while asserted, the hart does not run.
    fn set_srst(&mut self, asserted: bool);
    /// Whether the reset line is asserted.
    fn srst(&self) -> bool;
}

/// Something the program did that `serve` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The program exited through the SiFive test finisher; the hart is parked.
    Exited(i32),
    /// The program reset the board through the finisher; it was reloaded and runs again.
    Rebooted,
    /// The hart waits in `wfi` for an interrupt that can never arrive (reported once).
    Idle { pc: u64 },
}

/// The simulated board: a [`Machine`] with a Debug Module, its program, and its pins.
pub struct Device {
    machine: Machine,
    image: Option<Image>,
    console: Box<dyn Write>,
    trst: bool,
    srst: bool,
    /// Run the hart: false while it is halted, parked or deadlocked.
    ready: bool,
    /// JTAG or reset activity since the last slice: the hart may have been resumed or halted.
    poked: bool,
    /// The program ended through the finisher at this pc; the hart stays parked there until
    /// a debugger halts it, resets it or moves its pc.
    finished: Option<u64>,
    /// The current `wfi` deadlock was reported.
    idle_reported: bool,
}

impl Device {
    /// A board built from `board` (memory map, `[debug]` table) with `image` loaded (or none),
    /// halted in debug mode at its entry point (or at the reset address without an image).
    pub fn new(board: &Board, image: Option<Image>, console: Box<dyn Write>) -> Result<Device> {
        let mut debug = DebugConfig::default();
        if let Some(hw) = &board.debug {
            debug.idcode = hw.idcode.unwrap_or(debug.idcode);
            debug.triggers = hw.triggers.unwrap_or(debug.triggers);
        }
        let ram = board.ram();
        let machine = Machine::new(Config {
            ram_base: ram.origin,
            ram_size: ram.length,
            reset_pc: image.as_ref().map_or(ram.origin, |i| i.entry),
            // The program's traps are its own, and an ebreak is the debugger's business
            // (dcsr.ebreakm), as on silicon: nothing here services semihosting.
            catch_traps: false,
            semihosting: false,
            debug: Some(debug),
            ..Config::default()
        });
        let mut device = Device {
            machine,
            image,
            console,
            trst: false,
            srst: false,
            ready: false,
            poked: false,
            finished: None,
            idle_reported: false,
        };
        device.load()?;
        device.halt_at_start()?;
        Ok(device)
    }

    fn load(&mut self) -> Result<()> {
        if let Some(image) = &self.image {
            for seg in &image.segments {
                self.machine.load(seg.addr, &seg.data)?;
            }
        }
        Ok(())
    }

    /// Halts the hart before its first instruction, as a debugger's `haltreq` would: the board
    /// starts "halted at reset" for the debugger to take over.
    fn halt_at_start(&mut self) -> Result<()> {
        let entry = self.machine.reg(Reg::Pc);
        // The Debug Module halts a running hart before the dmcontrol write returns.
        self.machine.dmi_write(dm::DMCONTROL, dm::DMACTIVE);
        self.machine
            .dmi_write(dm::DMCONTROL, dm::DMACTIVE | dm::HALTREQ);
        // Clear haltreq, as a debugger does once the hart has halted.
        self.machine.dmi_write(dm::DMCONTROL, dm::DMACTIVE);
        if !self.machine.debug_halted() {
            bail!(
                "the simulator's Debug Module did not halt the hart (dmcontrol.haltreq); \
                 pc is {:#x}",
                self.machine.reg(Reg::Pc)
            );
        }
        let pc = self.machine.reg(Reg::Pc);
        if pc != entry {
            bail!("the hart halted at {pc:#x}, not at its entry point {entry:#x}");
        }
        Ok(())
    }

    /// The hart's pc (for messages).
    pub fn pc(&self) -> u64 {
        self.machine.reg(Reg::Pc)
    }

    /// Whether [`Device::run_slice`] has work to do; when false, `serve` waits for a client.
    pub fn ready(&self) -> bool {
        (self.ready || self.poked) && !self.srst
    }

    /// Bytes for the guest's UART receiver (serve's stdin).
    pub fn push_uart_input(&mut self, bytes: &[u8]) {
        self.machine.push_uart_input(bytes);
    }

    /// Runs the hart for one slice of at most `budget` instructions if it should run, and says
    /// what happened that `serve` reports. UART output is written to the console.
    pub fn run_slice(&mut self, budget: u64) -> Result<Option<Event>> {
        if std::mem::take(&mut self.poked) && !self.srst {
            if let Some(pc) = self.finished {
                // Running a finished program's hart would only spin in its final loop. The
                // Debug Module acts at once, so a debugger's halt, reset (ndmreset, hartreset)
                // or new pc is visible now; anything else leaves it parked.
                if !self.machine.debug_halted() && self.pc() == pc {
                    return Ok(None);
                }
                self.finished = None;
            }
            self.ready = true;
        }
        if !self.ready || self.srst {
            return Ok(None);
        }
        let stop = self.machine.run(budget);
        self.flush_console()?;
        let event = match stop {
            Stop::Budget => {
                self.idle_reported = false;
                None
            }
            Stop::DebugHalted => {
                self.ready = false;
                None
            }
            Stop::Exited(code) => {
                self.ready = false;
                self.finished = Some(self.pc());
                Some(Event::Exited(code))
            }
            Stop::Reset => {
                // As QEMU and the `sim` target do: reset and reload, then run again.
                self.machine.reset();
                self.load()?;
                Some(Event::Rebooted)
            }
            Stop::Idle => {
                self.ready = false;
                (!std::mem::replace(&mut self.idle_reported, true))
                    .then(|| Event::Idle { pc: self.pc() })
            }
            // Semihosting is off and nothing here sets machine breakpoints or catches traps;
            // should the simulator stop anyway, park the hart rather than spin on it.
            Stop::Semihosting | Stop::Breakpoint(_) | Stop::Trap { .. } => {
                self.ready = false;
                None
            }
        };
        Ok(event)
    }

    fn flush_console(&mut self) -> Result<()> {
        let out = self.machine.take_uart_output();
        if !out.is_empty() {
            self.console.write_all(&out)?;
            self.console.flush()?;
        }
        Ok(())
    }

    /// The simulator, for tests that look behind the pins.
    #[cfg(test)]
    pub fn machine(&mut self) -> &mut Machine {
        &mut self.machine
    }
}

impl Pins for Device {
    fn clock(&mut self, tms: bool, tdi: bool) -> bool {
        self.poked = true;
        if self.trst {
            self.machine.jtag_reset();
            return self.machine.jtag_tdo();
        }
        self.machine.jtag_cycle(tms, tdi)
    }

    fn tdo(&self) -> bool {
        self.machine.jtag_tdo()
    }

    fn set_trst(&mut self, asserted: bool) {
        self.trst = asserted;
        if asserted {
            self.machine.jtag_reset();
        }
    }

    fn set_srst(&mut self, asserted: bool) {
        if asserted && !self.srst {
            // Hart and devices reset, RAM and the Debug Module kept (like ndmreset).
            self.machine.reset();
            self.finished = None;
            self.idle_reported = false;
        }
        self.srst = asserted;
        self.poked = true;
    }

    fn srst(&self) -> bool {
        self.srst
    }
}
