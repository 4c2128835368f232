//! `rvflash-sim`: a machine-mode RV64GC (IMAFDC + Zicsr + Zifencei) simulator of QEMU's
//! `virt` board as run with `-bios none`, used as rvflash's default board `sim`.
//!
//! The crate is a library with one seam, [`Machine`]: load bytes into RAM, set registers,
//! [`Machine::run`] with an instruction budget, and inspect the [`Stop`] it returns. It has
//! no notion of ELF files, semihosting services or consoles: the host tool's run loop does
//! that above this seam (it services [`Stop::Semihosting`], drains
//! [`Machine::take_uart_output`], ...).
//!
//! ```
//! use rvflash_backend::isa::{Inst, Op, encode};
//! use rvflash_sim::{Config, Machine, Reg, Stop};
//!
//! let mut m = Machine::new(Config::default()); // pc = 0x8000_0000
//! let mut code = Vec::new();
//! for inst in [Inst::i(Op::Addi, 10, 0, 42), Inst::new(Op::Wfi)] {
//!     encode(&inst).unwrap().write_to(&mut code);
//! }
//! m.load(0x8000_0000, &code).unwrap();
//! // A host run loop: run in slices, print output, service stops.
//! let stop = loop {
//!     match m.run(100_000) {
//!         Stop::Budget => {} // check the timeout, drain the UART, ...
//!         Stop::Semihosting => {
//!             let (_op, _param) = (m.reg(Reg::X(10)), m.reg(Reg::X(11)));
//!             m.finish_semihosting(0);
//!         }
//!         other => break other,
//!     }
//! };
//! assert_eq!(stop, Stop::Idle); // wfi with nothing that could wake it
//! assert_eq!(m.reg(Reg::X(10)), 42);
//! assert!(m.take_uart_output().is_empty());
//! ```
//!
//! # What is modelled (and decided)
//!
//! - **Hart**: one hart in machine mode only (no S/U modes, no virtual memory, no PMP
//!   entries: the `pmp*` CSRs read as zero and ignore writes). `misa` reports
//!   RV64 IMAFDC (QEMU also reports S and U); `mstatus.MPP` is hard-wired to M.
//! - **Reset state** (QEMU `virt`, `-bios none`): `pc` = [`Config::reset_pc`], `a0` = hart id,
//!   `a1` = 0 (there is no device tree), `mstatus.FS` = Off — firmware must enable the FPU
//!   (riscv-rt does) or floating-point instructions trap as illegal, as on QEMU. The CLINT
//!   resets `mtime` and `mtimecmp` to 0, so MTIP is pending until firmware programs
//!   `mtimecmp` (QEMU behaves the same).
//! - **Floating point**: exact IEEE 754 through `rustc_apfloat` (all five rounding modes,
//!   all flags) plus an exact integer square root; RISC-V's canonical NaNs, NaN-boxing,
//!   `fmin`/`fmax` (2.2 semantics) and saturating conversions. Where `rustc_apfloat`'s flags
//!   differ from IEEE 754 as RISC-V specifies it (overflow under directed rounding,
//!   tininess detected after rounding with an unbounded exponent) `softfloat` corrects them.
//! - **Misaligned accesses**: ordinary loads and stores to RAM may be misaligned and just
//!   work (QEMU emulates them); misaligned LR/SC/AMOs raise address-misaligned exceptions
//!   (QEMU does too; a misaligned SC without a matching reservation just fails, as in QEMU).
//!   Misaligned accesses to devices raise access faults, and so do LR/SC/AMOs on devices.
//!   With C, instruction addresses are always 2-byte aligned, so instruction-address-
//!   misaligned (cause 0) never happens.
//! - **Traps**: `mtval` is the instruction bits for illegal instructions (16 bits for a
//!   compressed one), the address for access faults and misaligned accesses, 0 for `ebreak`
//!   (QEMU 7.2 leaves it 0; the spec allows 0 or `pc`), `ecall` and interrupts. Interrupt
//!   priority: MEI > MSI > MTI.
//! - **Instruction budget**: [`Machine::run`] counts retired instructions and taken
//!   exceptions, so a guest stuck in a trap loop still returns [`Stop::Budget`].
//! - **LR/SC**: like QEMU, SC succeeds when the reservation address matches and memory still
//!   holds the value LR loaded.
//! - **Time**: deterministic. One instruction = one cycle at a nominal 100 MHz; `mtime`
//!   ticks at QEMU's 10 MHz timebase, i.e. once per [`CYCLES_PER_TICK`] cycles. `wfi` with
//!   the timer interrupt enabled and nothing pending skips time forward to `mtimecmp`
//!   (the skipped cycles count in [`Stats::cycles`] and `mcycle`, not in `minstret`).
//! - **Self-modifying code** is always coherent (decoded instructions are invalidated on
//!   every write to them), so `fence.i` has nothing left to do.
//! - **Devices** at QEMU `virt` addresses (see [`map`]): NS16550A UART, SiFive test finisher,
//!   CLINT, and an inert PLIC (reads 0, writes ignored; nothing raises external interrupts).
//!   Anything else is unmapped: accesses raise access faults.
//! - **Debugging** (only with [`Config::debug`]): RISC-V External Debug Support 0.13.2 — a
//!   JTAG TAP and DTM ([`Machine::jtag_cycle`], or the DMI directly with
//!   [`Machine::dmi_read`]/[`Machine::dmi_write`]), a Debug Module with abstract register
//!   access, a program buffer and System Bus Access, debug mode in the hart
//!   ([`Stop::DebugHalted`]) and a trigger module; what is modelled is listed in the `debug`
//!   module. Without it the trigger and debug CSRs do not exist, as on QEMU's `virt`
//!   without a debugger, and the run loop has no debug checks.

mod bus;
mod csr;
mod debug;
mod decode_cache;
mod devices;
mod exec;
mod hart;
mod machine;
mod softfloat;
mod trap;

use core::fmt;

pub use debug::DebugConfig;
pub use machine::Machine;
pub use trap::cause;

/// Cycles per `mtime` tick: 100 MHz nominal core clock / 10 MHz timebase.
pub const CYCLES_PER_TICK: u64 = 10;

/// The `virt` memory map.
pub mod map {
    /// SiFive test finisher (exit / reset).
    pub const FINISHER_BASE: u64 = 0x10_0000;
    pub const FINISHER_SIZE: u64 = 0x1000;
    /// Core-local interruptor (msip, mtimecmp, mtime).
    pub const CLINT_BASE: u64 = 0x200_0000;
    pub const CLINT_SIZE: u64 = 0x1_0000;
    /// Platform-level interrupt controller (inert here).
    pub const PLIC_BASE: u64 = 0xc00_0000;
    pub const PLIC_SIZE: u64 = 0x60_0000;
    /// NS16550A UART.
    pub const UART_BASE: u64 = 0x1000_0000;
    pub const UART_SIZE: u64 = 0x100;
    /// Default RAM base.
    pub const RAM_BASE: u64 = 0x8000_0000;
}

/// How to build a [`Machine`].
#[derive(Clone, Debug)]
pub struct Config {
    /// Where RAM starts (`virt`: 0x8000_0000).
    pub ram_base: u64,
    /// RAM size in bytes (QEMU's default is 128 MiB).
    pub ram_size: u64,
    /// `mhartid` (the CLINT registers used are this hart's).
    pub hart_id: u64,
    /// Where execution starts after reset (the ELF entry; QEMU's reset ROM jumps to it).
    pub reset_pc: u64,
    /// Stop with [`Stop::Trap`] at an exception instead of vectoring to `mtvec`.
    pub catch_traps: bool,
    /// Recognise the RISC-V semihosting sequence and stop with [`Stop::Semihosting`]
    /// (QEMU with `-semihosting`); when off, its `ebreak` is an ordinary breakpoint trap.
    pub semihosting: bool,
    /// A RISC-V Debug Module behind a JTAG TAP (see [`Machine::jtag_cycle`]); `None`: none.
    pub debug: Option<DebugConfig>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ram_base: map::RAM_BASE,
            ram_size: 128 << 20,
            hart_id: 0,
            reset_pc: map::RAM_BASE,
            catch_traps: false,
            semihosting: true,
            debug: None,
        }
    }
}

/// Why [`Machine::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The instruction budget was used up.
    Budget,
    /// `pc` is at the `ebreak` of a semihosting sequence: `a0` = operation, `a1` = parameter.
    /// Service it, then [`Machine::finish_semihosting`] (sets `a0`, moves `pc` past the
    /// `ebreak`) and run again.
    Semihosting,
    /// `pc` reached a breakpoint (the instruction there has not executed).
    Breakpoint(u64),
    /// An exception, caught before vectoring to `mtvec` (only with [`Config::catch_traps`]).
    /// The machine is unchanged: `pc` is the faulting instruction, the trap CSRs are not
    /// written.
    Trap { cause: u64, pc: u64, tval: u64 },
    /// The SiFive test finisher was told to exit with this code.
    Exited(i32),
    /// The SiFive test finisher was told to reset the machine; call [`Machine::reset`]
    /// (and reload the image, as QEMU does) to continue.
    Reset,
    /// `wfi` with no interrupt pending and none that can ever arrive (no timer interrupt
    /// enabled, or `mtimecmp` out of reach): a deadlock. `pc` is at the `wfi`.
    Idle,
    /// The hart is halted in debug mode, or held in reset by the debugger (only with
    /// [`Config::debug`]); a debugger connected through the TAP resumes it. Meanwhile
    /// [`Machine::run`] returns this at once, without executing.
    DebugHalted,
}

/// Counters since the machine was built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Instructions retired (traps are not retirements).
    pub instructions: u64,
    /// Cycles: one per retired instruction or taken exception, plus cycles skipped by `wfi`.
    pub cycles: u64,
}

/// A register, for [`Machine::reg`] and [`Machine::set_reg`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reg {
    /// Integer register x0..x31.
    X(u8),
    /// Floating-point register f0..f31 (raw 64 bits; singles are NaN-boxed).
    F(u8),
    Pc,
    /// A CSR by number.
    Csr(u16),
}

/// A host-side request that cannot be honoured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The range is not entirely inside RAM.
    OutOfRam { addr: u64, len: u64 },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::OutOfRam { addr, len } => {
                write!(
                    f,
                    "{len} bytes at {addr:#x} are not inside the simulator's RAM"
                )
            }
        }
    }
}

impl std::error::Error for Error {}
