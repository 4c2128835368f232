//! Memory access while the program runs, for RTT polling ([`Target::read_memory_running`]):
//! the run loop reads and writes small buffers every few milliseconds between `wait`s that
//! returned [`Stop::Running`], and the program must go on as if nobody looked. Three ways,
//! cheapest first:
//!
//! - **direct**: memory the [`Start`] reaches without the server ([`DirectMemory`]: QEMU's
//!   RAM, which rvflash shares with QEMU), whether the program runs, is stopped or has ended;
//! - **packets** ([`RunningAccess::Packets`]): `m`/`X` requests while the program runs, for
//!   servers that answer them — OpenOCD does, through the Debug Module's System Bus Access
//!   (a stop reply that comes first is kept for the next `wait`, see `client`). A refusal
//!   (a Debug Module that can reach memory only through a halted hart) switches to halting;
//! - **halting** ([`RunningAccess::Halt`], any server, e.g. one rvflash did not start, or
//!   QEMU's gdbstub outside RAM, which stops the machine on any byte it receives while it
//!   runs): interrupt, wait for the stop, access, resume — the hart stops for a few round
//!   trips. The stop that comes may not be the interruption: the program may have made a
//!   semihosting call, hit a breakpoint or exited meanwhile, or the run loop may have asked
//!   for the interruption itself. Only a plain interruption of a running program is resumed
//!   here; any other stop is kept, untouched, for the next `wait` to report (`wait`'s
//!   contract: no stop is lost, and none is invented).
//!
//! When the program is stopped (or has exited), memory is read the ordinary way.
//!
//! This file must not classify stops (`stops` does) nor start servers.
//!
//! [`Target::read_memory_running`]: crate::target::Target::read_memory_running
//! [`Stop::Running`]: crate::target::Stop::Running
//! [`Start`]: super::Start

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::GdbTarget;
use crate::target::gdb::client::Refused;
use crate::target::gdb::protocol::{SIGINT, StopReply};

/// How long a running program may take to stop for a halting access.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Target memory rvflash reaches itself, without the server, while the program runs or not
/// (QEMU's RAM, shared with rvflash). Accesses are copies the program may race with: a
/// reader sees each aligned word either before or after a write of the program's.
pub trait DirectMemory {
    /// Whether all `len` bytes at `addr` are in it.
    fn covers(&self, addr: u64, len: usize) -> bool;
    /// Copies `buf.len()` bytes at `addr` (covered) into `buf`; later accesses are not
    /// reordered before it (a read of a write pointer, then of the data it covers).
    fn read(&self, addr: u64, buf: &mut [u8]);
    /// Copies `data` to `addr` (covered), after everything earlier accesses wrote is visible
    /// (data, then the write pointer that publishes it).
    fn write(&self, addr: u64, data: &[u8]);
}

/// How a [`GdbTarget`] reaches memory outside its [`DirectMemory`] while the program runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RunningAccess {
    /// Interrupt, access, resume (any server): the hart halts for the access.
    #[default]
    Halt,
    /// The server answers memory requests while the program runs (OpenOCD).
    Packets,
}

/// A read into, or a write from, a buffer.
pub(super) enum Access<'a> {
    Read(&'a mut [u8]),
    Write(&'a [u8]),
}

impl Access<'_> {
    fn len(&self) -> usize {
        match self {
            Access::Read(buf) => buf.len(),
            Access::Write(data) => data.len(),
        }
    }
}

impl GdbTarget {
    /// A memory access while the program may be running (see the module docs).
    pub(super) fn access_running(&mut self, addr: u64, mut access: Access<'_>) -> Result<()> {
        if let Some(direct) = &self.direct
            && direct.covers(addr, access.len())
        {
            match access {
                Access::Read(buf) => direct.read(addr, buf),
                Access::Write(data) => direct.write(addr, data),
            }
            return Ok(());
        }
        // Stopped: no `c` outstanding, or its stop reply already came (kept for `wait`).
        if !self.running || self.exited.is_some() || self.gdb()?.has_kept_stop() {
            return self.access_stopped(addr, &mut access);
        }
        if self.settings.running_access == RunningAccess::Packets {
            match self.access_packets(addr, &mut access) {
                Err(err) if err.downcast_ref::<Refused>().is_some() => {
                    // Memory the server reaches only through a halted hart (a Debug Module
                    // without System Bus Access, or not for this address): halt for it. If
                    // that works, halt from now on rather than be refused every time.
                    self.access_halting(addr, &mut access)?;
                    self.settings.running_access = RunningAccess::Halt;
                    self.say(&format!(
                        "note: the GDB server cannot reach memory while the program runs \
                         ({err:#}); the hart now halts briefly for each access"
                    ));
                    return Ok(());
                }
                Err(err) => return Err(self.lost_during_access(err)),
                Ok(()) => return Ok(()),
            }
        }
        self.access_halting(addr, &mut access)
    }

    /// An access while the hart is halted.
    fn access_stopped(&mut self, addr: u64, access: &mut Access<'_>) -> Result<()> {
        match access {
            Access::Read(buf) => self.gdb()?.read_memory(addr, buf),
            Access::Write(data) => self.gdb()?.write_memory(addr, data),
        }
    }

    /// An access through a server that answers while the program runs.
    fn access_packets(&mut self, addr: u64, access: &mut Access<'_>) -> Result<()> {
        match access {
            Access::Read(buf) => self.gdb()?.read_memory_running(addr, buf),
            Access::Write(data) => self.gdb()?.write_memory_running(addr, data),
        }
    }

    /// Interrupt, access, resume — unless the stop that came is one for `wait` to report.
    fn access_halting(&mut self, addr: u64, access: &mut Access<'_>) -> Result<()> {
        // An interrupt byte already on its way (a nudge, the run loop's) brings the stop.
        if !std::mem::replace(&mut self.interrupt_sent, true) {
            self.gdb()?.interrupt()?;
        }
        self.nudge_at = None;
        let reply = match self.gdb()?.wait_stop(Instant::now() + STOP_TIMEOUT) {
            Ok(Some(reply)) => reply,
            Ok(None) => bail!(
                "the program did not stop within {} s for a memory access at {addr:#x}",
                STOP_TIMEOUT.as_secs()
            ),
            Err(err) => return Err(self.lost_during_access(err)),
        };
        let ours = !self.requested
            && match reply {
                StopReply::Signal { signal, pc } if signal == SIGINT => {
                    self.pc = pc;
                    // Unknown pc: not ours to judge; `wait` will.
                    self.pc().is_ok_and(|pc| !self.reaches_stop(pc))
                }
                _ => false,
            };
        let result = self.access_stopped(addr, access);
        if ours {
            // Back to how it was: running, nothing outstanding.
            self.pc = None;
            self.interrupt_sent = false;
            self.gdb()?.cont()?;
            if self.settings.nudge {
                self.nudge_at = Some(Instant::now() + self.nudge_gap);
            }
        } else {
            // The hart stays halted and the interrupt counts as sent: later accesses are
            // plain ones until `wait` takes this stop.
            self.gdb()?.keep_stop(reply);
        }
        result
    }

    /// The error of an access that failed on the connection: when the program's carrier
    /// ended (a SiFive-test-finisher exit), the next `wait` reports the exit.
    fn lost_during_access(&mut self, err: anyhow::Error) -> anyhow::Error {
        if let Some(code) = self.program_exit(Duration::from_secs(1)) {
            self.exited = Some(code);
            return err.context(format!("the program exited with status {code}"));
        }
        err
    }
}
