//! RISC-V External Debug Support 0.13.2 for the simulated board: a JTAG TAP with the RISC-V
//! DTM, a Debug Module for the one hart, debug mode in the hart, and a trigger module —
//! enough for OpenOCD (`riscv-013`) and probe-rs to treat the simulator as a real board.
//!
//! Everything here is driven through [`Machine`] methods ([`Machine::jtag_cycle`] for pins,
//! [`Machine::dmi_read`]/[`Machine::dmi_write`] for the DMI directly) and only exists when
//! [`Config::debug`](crate::Config::debug) is set. No I/O happens here: transports (OpenOCD's
//! remote_bitbang, the BMP remote protocol) live in the host tool.
//!
//! - `tap`: TAP controller and DTM (`dtmcs`, `dmi`, busy/failed status);
//! - `dm`: DM registers, run control, resets; `command`: abstract commands and the program
//!   buffer; `sba`: System Bus Access;
//! - `mode`: debug mode in the hart and the debug CSRs; `trigger`: the trigger module;
//!   `run`: the run loop of a debuggable machine.
//!
//! # What is modelled (and decided)
//!
//! - **TAP**: 5-bit IR; IDCODE (0x01, the reset instruction), `dtmcs` (0x10), `dmi` (0x11);
//!   BYPASS for 0x1f and every other instruction. Capture-IR loads 0b00001. The default
//!   IDCODE, 0x1000_0913, is version 1, part 0, JEDEC manufacturer 0x489 (bank 10, 0x09).
//!   [`Machine::jtag_reset`] (TRST) resets the TAP only, not the DTM's DMI state.
//! - **DTM**: version 1 (0.13), abits 7, `idle` = `dmi_idle_cycles` (at most 7). A DMI
//!   operation is performed at once at Update-DR but counts as in progress until
//!   `dmi_idle_cycles` TCK cycles have ended in Run-Test/Idle; capturing `dmi` earlier gives
//!   busy (3), sticky — later operations are ignored — until `dmireset`. The reserved op 3 is
//!   the one operation that fails (2, sticky). `dmihardreset` also forgets the operation in
//!   progress. Direct [`Machine::dmi_read`]/[`Machine::dmi_write`] bypass the DTM.
//! - **Time**: the simulator's time only passes when the hart executes, so a halted hart's
//!   counters and `mtime` stand still whatever `dcsr` says (`stoptime` reads 1); abstract
//!   commands and SBA accesses complete within the DMI operation that starts them (see
//!   `command` for long program buffer programs, `sba` for the one busy case).
//! - **Run control**: a halt request halts a running hart before the `dmcontrol` write
//!   returns (`dpc` = the next instruction; a hart stalled in `wfi` completes it first), a
//!   resume request resumes it at once (`resumeack`), the hart runs again with the next
//!   [`Machine::run`]. `dcsr.step` executes one instruction (or takes one trap) and halts
//!   (interrupts are off while stepping unless `stepie`); a stepped `wfi` is a `nop`.
//!   `ebreak`/`c.ebreak` enter debug mode when `dcsr.ebreakm` is set — also the one of the
//!   semihosting sequence, which [`Stop::Semihosting`](crate::Stop::Semihosting) only reports
//!   without it.
//! - **Resets**: `ndmreset` resets everything but the DM as [`Machine::reset`] does (hart and
//!   devices; RAM keeps its contents, so an image a debugger loaded survives); `hartreset`
//!   resets the hart's registers alone. Either holds the hart unavailable until released;
//!   then it halts at the reset `pc` if `haltreq` or the halt-on-reset request
//!   (`hasresethaltreq` = 1; cause 5 wins over 3) is set, else runs. Every reset sets
//!   `havereset`, resets `dcsr`, and leaves debug mode (a hart halted before a reset without
//!   those requests runs after it); triggers keep their settings. `dmactive` = 0 resets the
//!   DM (releasing both resets) but leaves a halted hart halted.
//! - **DM**: one hart (hart 0; any other `hartsel` is nonexistent; `hartsel` has all 20
//!   bits, `hasel` is 0), always authenticated, `datacount` 2, `progbufsize` =
//!   `progbuf_size` (at most 16) with `impebreak`, `hartinfo.nscratch` 2 (`dscratch0..1`;
//!   the data registers are not visible to the hart), `abstractauto` for every data and
//!   progbuf register, the halt summaries, `haltreq` reads 0 (write-only). No hart array
//!   mask, configuration string or next DM. Abstract commands: Access Register only (GPRs,
//!   FPRs and FP CSRs whatever `mstatus.FS` says, all CSRs; 32/64-bit), see `command`; so
//!   `cmderr` 5 (bus) and 7 (other) never occur.
//! - **Triggers**: `triggers` of them, types 2 and 6; see `trigger`. They do not fire in debug
//!   mode (program buffer).

mod command;
mod dm;
mod mode;
mod run;
mod sba;
mod tap;
mod trigger;

use crate::machine::Machine;

use mode::HartDebug;

/// How to build the debug module ([`crate::Config::debug`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugConfig {
    /// The TAP's IDCODE (bit 0 must be 1).
    pub idcode: u32,
    /// Number of triggers in the trigger module (0..=16; larger values are taken as 16).
    pub triggers: usize,
    /// Program buffer size in 32-bit words (0..=16; larger values are taken as 16).
    pub progbuf_size: usize,
    /// Run-Test/Idle cycles a DMI operation needs before the next one may start (and the
    /// `dtmcs.idle` hint, capped at 7).
    pub dmi_idle_cycles: u32,
}

impl Default for DebugConfig {
    fn default() -> DebugConfig {
        DebugConfig {
            idcode: 0x1000_0913,
            triggers: 4,
            progbuf_size: 2,
            dmi_idle_cycles: 1,
        }
    }
}

/// The debug state of a machine: transport, DM, the hart's debug mode and triggers.
pub(crate) struct DebugState {
    tap: tap::Tap,
    dm: dm::Dm,
    sba: sba::Sba,
    mode: HartDebug,
    triggers: trigger::Triggers,
}

impl DebugState {
    pub fn new(c: &DebugConfig) -> DebugState {
        DebugState {
            tap: tap::Tap::new(c.idcode, c.dmi_idle_cycles),
            dm: dm::Dm::new(c.progbuf_size.min(16)),
            sba: sba::Sba::new(),
            mode: HartDebug::new(),
            triggers: trigger::Triggers::new(c.triggers),
        }
    }

    /// Whether `ebreak` enters debug mode (`dcsr.ebreakm`).
    pub fn ebreakm(&self) -> bool {
        self.mode.ebreakm
    }
}

impl Machine {
    /// One JTAG TCK cycle: TMS and TDI are sampled on the rising edge; returns TDO as it was
    /// before the edge (what a probe samples). Without a debug module TDO stays low.
    pub fn jtag_cycle(&mut self, tms: bool, tdi: bool) -> bool {
        let Some(d) = self.debug.as_deref_mut() else {
            return false;
        };
        let (tdo, request) = d.tap.cycle(tms, tdi);
        if let Some(r) = request {
            let data = self.dmi_access(r.addr, r.write);
            if let Some(d) = self.debug.as_deref_mut() {
                d.tap.complete(data);
            }
        }
        tdo
    }

    /// The TDO pin now (for protocols that read it separately from clocking, e.g. OpenOCD
    /// remote_bitbang's `R`).
    pub fn jtag_tdo(&self) -> bool {
        self.debug.as_deref().is_some_and(|d| d.tap.tdo())
    }

    /// TRST: the TAP goes to Test-Logic-Reset (the DTM's `dmihardreset` effect is not
    /// implied).
    pub fn jtag_reset(&mut self) {
        if let Some(d) = self.debug.as_deref_mut() {
            d.tap.reset();
        }
    }

    /// Whether the hart is halted in debug mode.
    pub fn debug_halted(&self) -> bool {
        self.debug.as_deref().is_some_and(|d| d.mode.halted)
    }

    /// Direct DMI read (`addr` is 7 bits): the same effect as a DMI read through JTAG
    /// (without the DTM's pacing and status). 0 without a debug module.
    pub fn dmi_read(&mut self, addr: u8) -> u32 {
        self.dmi_access(addr, None)
    }

    /// Direct DMI write: the same effect as a DMI write through JTAG.
    pub fn dmi_write(&mut self, addr: u8, value: u32) {
        self.dmi_access(addr, Some(value));
    }
}
