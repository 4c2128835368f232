//! Support code for rvflash's test firmware: a tiny RV64 semihosting client (console output
//! and exit), `print!`/`println!`, a panic handler, and the benchmarks' workload.
//!
//! The panic handler prints `panicked at FILE:LINE:COL: MESSAGE` and exits with status
//! [`PANIC_EXIT_CODE`] (101, like a panicking Rust test process). rvflash stops at
//! `rust_begin_unwind` first and prints a backtrace, then lets this handler run.
#![no_std]

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicUsize, Ordering};

pub use riscv_rt;

pub mod workload;

/// Exit status of a panicking firmware.
pub const PANIC_EXIT_CODE: i32 = 101;

/// RISC-V semihosting calls (a0 = operation, a1 = pointer to 64-bit parameter words).
pub mod semihosting {
    const SYS_OPEN: usize = 0x01;
    const SYS_WRITE: usize = 0x05;
    const SYS_EXIT: usize = 0x18;
    const ADP_STOPPED_APPLICATION_EXIT: usize = 0x20026;

    /// Makes a semihosting call.
    ///
    /// # Safety
    /// `arg` must be what the operation expects (usually a pointer to its parameter block).
    #[inline(never)]
    pub unsafe fn call(op: usize, arg: usize) -> usize {
        let mut a0 = op;
        // SAFETY: the magic sequence traps to the debugger/simulator, which reads the block.
        unsafe {
            core::arch::asm!(
                ".balign 16",
                ".option push",
                ".option norvc",
                "slli x0, x0, 0x1f",
                "ebreak",
                "srai x0, x0, 7",
                ".option pop",
                inout("a0") a0,
                in("a1") arg,
                options(nostack),
            );
        }
        a0
    }

    /// Opens `name` (`:tt` is the console) with an fopen-style mode number.
    pub fn open(name: &str, mode: usize) -> isize {
        let block = [name.as_ptr() as usize, mode, name.len()];
        // SAFETY: the block matches SYS_OPEN's.
        unsafe { call(SYS_OPEN, block.as_ptr() as usize) as isize }
    }

    /// Writes bytes to a handle; returns the number of bytes not written.
    pub fn write(handle: usize, bytes: &[u8]) -> usize {
        let block = [handle, bytes.as_ptr() as usize, bytes.len()];
        // SAFETY: the block matches SYS_WRITE's.
        unsafe { call(SYS_WRITE, block.as_ptr() as usize) }
    }

    /// Ends the program with `code` (ADP_Stopped_ApplicationExit + subcode, the RV64 form).
    pub fn exit(code: i32) -> ! {
        let block = [ADP_STOPPED_APPLICATION_EXIT, code as isize as usize];
        // SAFETY: the block matches SYS_EXIT's.
        unsafe {
            call(SYS_EXIT, block.as_ptr() as usize);
        }
        loop {
            core::hint::spin_loop();
        }
    }
}

static STDOUT: AtomicUsize = AtomicUsize::new(usize::MAX);

fn stdout() -> usize {
    let h = STDOUT.load(Ordering::Relaxed);
    if h != usize::MAX {
        return h;
    }
    let h = semihosting::open(":tt", 4) as usize;
    STDOUT.store(h, Ordering::Relaxed);
    h
}

/// Console output through semihosting, buffered per `print!` call.
pub struct Console {
    buf: [u8; 256],
    len: usize,
}

impl Console {
    pub const fn new() -> Console {
        Console {
            buf: [0; 256],
            len: 0,
        }
    }

    pub fn flush(&mut self) {
        if self.len > 0 {
            semihosting::write(stdout(), &self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl Default for Console {
    fn default() -> Self {
        Console::new()
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments<'_>) {
    let mut c = Console::new();
    c.write_fmt(args).ok();
    c.flush();
}

/// Prints through semihosting.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::_print(format_args!($($arg)*)) };
}

/// Prints a line through semihosting.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::_print(format_args!("{}\n", format_args!($($arg)*))) };
}

fn riscv_wfi() {
    // SAFETY: `wfi` only waits; no interrupt is enabled, so it waits forever.
    unsafe { core::arch::asm!("csrci mstatus, 8", "wfi", options(nostack)) }
}

/// Exits with `code`.
pub fn exit(code: i32) -> ! {
    semihosting::exit(code)
}

/// What the panic handler does after a panic (see [`on_panic`]).
#[derive(Clone, Copy)]
pub enum AfterPanic {
    /// Print the message and exit with [`PANIC_EXIT_CODE`] (the default).
    PrintAndExit,
    /// Loop forever without printing, like `panic-halt`.
    Halt,
    /// Wait for interrupts (none enabled) forever without printing.
    WaitForInterrupt,
}

static AFTER_PANIC: AtomicUsize = AtomicUsize::new(AfterPanic::PrintAndExit as usize);

/// Chooses what the panic handler does.
pub fn on_panic(after: AfterPanic) {
    AFTER_PANIC.store(after as usize, Ordering::Relaxed);
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match AFTER_PANIC.load(Ordering::Relaxed) {
        x if x == AfterPanic::Halt as usize => loop {
            core::sync::atomic::compiler_fence(Ordering::SeqCst);
        },
        x if x == AfterPanic::WaitForInterrupt as usize => loop {
            riscv_wfi();
        },
        _ => {}
    }
    let mut c = Console::new();
    match info.location() {
        Some(loc) => write!(
            c,
            "panicked at {}:{}:{}: ",
            loc.file(),
            loc.line(),
            loc.column()
        ),
        None => write!(c, "panicked: "),
    }
    .ok();
    writeln!(c, "{}", info.message()).ok();
    c.flush();
    exit(PANIC_EXIT_CODE)
}
