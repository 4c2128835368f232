//! The `gdb` target: rvflash's client for the GDB remote serial protocol and the [`Target`]
//! over it, for any GDB server — OpenOCD (started by rvflash or already running), QEMU's
//! gdbstub (the `qemu` target is "start QEMU + this"), J-Link's GDB server, a board farm's.
//!
//! Files: `protocol` (encodings: framing, escapes, hex, stop replies, CRC), `client` (the
//! connection and one method per request), `xml` (target description and memory map),
//! `load` (loading and verifying an image), `target` ([`GdbTarget`]: connecting, loading,
//! breakpoints, registers; `target/stops`: resuming, waiting and what each stop means;
//! `target/running`: memory access while the program runs), `tests` (against a scripted
//! server), `live_tests` (memory access while the program runs, against QEMU and OpenOCD).
//!
//! [`Target`]: crate::target::Target

mod client;
#[cfg(test)]
pub(crate) mod live_tests;
mod load;
mod protocol;
mod target;
#[cfg(test)]
mod tests;
mod xml;

pub use client::GdbClient;
pub use target::{DirectMemory, GdbTarget, RunningAccess, Settings, Start, Started};
