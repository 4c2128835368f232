//! The target seam: one trait for every machine rvflash runs programs on.
//!
//! A [`Target`] loads an [`Image`], runs, stops, reads and writes memory and registers, and
//! reports why it stopped ([`Stop`]). Everything above the seam (the semihosting service,
//! timeouts, panics, traps, backtraces, exit statuses) lives in `crate::run` and
//! `crate::semihosting` and sees only this trait.
//!
//! Implementations: [`sim::SimTarget`] (the built-in simulator, in process) and
//! [`gdb::GdbTarget`] (any GDB server, see [`gdb`]), which [`qemu::QemuTarget`] (QEMU's `virt`
//! machine, started by rvflash) and [`gdb_server`] (`run = "gdb"` boards: a running server, or
//! OpenOCD started by rvflash, see [`openocd`]) build on; [`probe_rs::ProbeRsTarget`] (real
//! boards behind a debug probe, and `sim-probe-rs`, through the probe-rs crate). Processes a
//! target starts are [`child::Helper`]s, which never outlive rvflash.
//!
//! Conventions every implementation follows:
//! - `resume` after a stop at a breakpoint steps over that breakpoint.
//! - `wait` returns [`Stop::Running`] when the deadline passes with the program still running
//!   (it may still be running; [`Target::interrupt`] and `wait` stop it).
//! - [`Stop::Trap`] carries the trapping instruction's pc (`mepc`), `mcause` and `mtval`; the
//!   general registers read afterwards are those at the trap, so a backtrace can start there.
//! - [`Stop::Semihosting`] leaves pc on the semihosting sequence's `ebreak`; the service
//!   calls [`Target::finish_semihosting`] with the result.
//! - A failure to reach the board — a probe that does not open, a chip or hart that does not
//!   attach, a GDB server that refuses the connection or closes it before rvflash has
//!   attached, OpenOCD that cannot reach its adapter or target — is marked [`Unreachable`]
//!   (as the error or its context), which `crate::run` retries (`--retries`). Nothing else
//!   is: bad input (board file, ELF, chip name, selector), missing programs, and whatever
//!   happens once rvflash is attached (loading, the program) fail at once.

pub mod child;
pub mod gdb;
pub mod gdb_server;
pub mod openocd;
#[cfg(feature = "probe-rs")]
pub mod probe_rs;

/// Why a `probe-rs` board cannot run in a build without the `probe-rs` feature.
#[cfg(not(feature = "probe-rs"))]
pub const NO_PROBE_RS: &str = "this rvflash was built without probe-rs support (the `probe-rs` \
     feature, off by default to keep builds fast): install it with `cargo install --locked \
     --path . --features probe-rs`";
pub mod qemu;
pub mod sim;
#[cfg(test)]
mod sim_vs_qemu_tests;

use std::fmt;
use std::time::Instant;

use anyhow::Result;

pub use crate::image::Image;

/// A register of an RV64GC hart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reg {
    /// Integer register x0..x31.
    X(u8),
    /// The program counter.
    Pc,
    /// Floating-point register f0..f31 (raw 64 bits).
    #[allow(dead_code)] // part of the seam; the run loop reads only integer registers so far
    F(u8),
    /// A CSR by number (`mcause` = 0x342, ...).
    Csr(u16),
}

/// CSR numbers used above the seam.
pub mod csr {
    /// Machine trap-vector base address.
    pub const MTVEC: u16 = 0x305;
    /// Machine exception pc.
    pub const MEPC: u16 = 0x341;
    /// Machine trap cause.
    pub const MCAUSE: u16 = 0x342;
    /// Machine trap value.
    pub const MTVAL: u16 = 0x343;
}

/// Why a target stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Still running when the deadline passed.
    Running,
    /// The program made a semihosting call (pc is on its `ebreak`).
    Semihosting,
    /// Stopped at a breakpoint set with [`Target::set_breakpoint`].
    Breakpoint(u64),
    /// The program took an exception (caught before its handler runs).
    Trap {
        /// `mcause`.
        cause: u64,
        /// Address of the trapping instruction (`mepc`).
        pc: u64,
        /// `mtval`.
        tval: u64,
    },
    /// The program exited (exit device or the target's own semihosting) with this status.
    Exited(i32),
    /// Stopped because [`Target::interrupt`] asked it to.
    Interrupted,
    /// The hart waits for an interrupt that can never arrive (`wfi` with none enabled), as
    /// far as the target can tell; it would never go on by itself.
    Idle {
        /// The pc of the `wfi`.
        pc: u64,
    },
}

/// Options every target understands.
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    /// Stop with [`Stop::Trap`] on exceptions instead of letting the program's handler run.
    pub catch_traps: bool,
}

/// A machine that runs programs: the one seam between rvflash and simulators, emulators and
/// boards.
pub trait Target {
    /// Loads an image (segments and entry point) and makes the hart ready to start at entry.
    fn load(&mut self, image: &Image) -> Result<()>;
    /// Lets the program run (stepping over a breakpoint at the current pc).
    fn resume(&mut self) -> Result<()>;
    /// Waits until the program stops or `deadline` passes ([`Stop::Running`]).
    fn wait(&mut self, deadline: Instant) -> Result<Stop>;
    /// Asks a running program to stop; the next `wait` (without a `resume`) reports the stop:
    /// [`Stop::Interrupted`], or whatever stopped the program first.
    fn interrupt(&mut self) -> Result<()>;
    /// Reads target memory.
    fn read_memory(&mut self, addr: u64, buf: &mut [u8]) -> Result<()>;
    /// Writes target memory.
    fn write_memory(&mut self, addr: u64, data: &[u8]) -> Result<()>;
    /// Reads memory while the program may be running (after a `wait` that returned
    /// [`Stop::Running`]), without stopping it where the target can: RTT polling. Also works
    /// when the program is stopped. The simulator only runs inside `wait`, so plain memory
    /// access is right for it (the default).
    fn read_memory_running(&mut self, addr: u64, buf: &mut [u8]) -> Result<()> {
        self.read_memory(addr, buf)
    }
    /// Writes memory while the program may be running (RTT read pointers, down-channels);
    /// see [`Target::read_memory_running`].
    fn write_memory_running(&mut self, addr: u64, data: &[u8]) -> Result<()> {
        self.write_memory(addr, data)
    }
    /// Reads a register.
    fn register(&mut self, reg: Reg) -> Result<u64>;
    /// Writes a register.
    fn set_register(&mut self, reg: Reg, value: u64) -> Result<()>;
    /// Stops the program with [`Stop::Breakpoint`] when it reaches `addr`.
    fn set_breakpoint(&mut self, addr: u64) -> Result<()>;
    /// Completes a semihosting call the service handled: `a0` = `result`, pc past the
    /// sequence (`slli x0,x0,0x1f; ebreak; srai x0,x0,7`, pc being on the `ebreak`).
    fn finish_semihosting(&mut self, result: u64) -> Result<()> {
        self.set_register(Reg::X(10), result)?;
        let pc = self.register(Reg::Pc)?;
        self.set_register(Reg::Pc, pc.wrapping_add(8))
    }
    /// Statistics for `--stats` (name, value), if the target keeps any.
    fn stats(&mut self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// A failure to reach the board, worth another try (see the module docs): the message of an
/// error, or the context over the error that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable(pub String);

impl Unreachable {
    /// An error that says `message`, marked as a failure to reach the board.
    #[cfg_attr(not(feature = "probe-rs"), allow(dead_code))] // the probe-rs target's
    pub fn error(message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Unreachable(message.into()))
    }
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

/// Whether `err` is (or was caused by) a failure to reach the board.
pub fn is_unreachable(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Unreachable>().is_some() || err.chain().any(|e| e.is::<Unreachable>())
}

/// Reads a little-endian u64 from target memory.
pub fn read_u64(target: &mut dyn Target, addr: u64) -> Result<u64> {
    let mut buf = [0u8; 8];
    target.read_memory(addr, &mut buf)?;
    Ok(u64::from_le_bytes(buf))
}

/// The ABI names of x0..x31.
pub const ABI_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

#[cfg(test)]
mod tests {
    use anyhow::{Context, anyhow};

    use super::*;

    #[test]
    fn unreachable_is_found_under_context() {
        let root = Unreachable::error("no debug probe found");
        assert!(is_unreachable(&root));
        assert!(is_unreachable(&root.context("board `b`").context("more")));
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let ctx = Err::<(), _>(io)
            .context(Unreachable(
                "cannot connect to the GDB server at h:1".into(),
            ))
            .unwrap_err()
            .context("board `b`");
        assert!(is_unreachable(&ctx));
        assert_eq!(
            format!("{ctx:#}"),
            "board `b`: cannot connect to the GDB server at h:1: connection refused"
        );
        assert!(!is_unreachable(
            &anyhow!("unknown chip").context("board `b`")
        ));
    }
}
