//! The `gdb` target: rvflash's client for the GDB remote serial protocol and the [`Target`]
//! over it, for any GDB server — OpenOCD (started by rvflash or already running), QEMU's
//! gdbstub (the `qemu` target is "start QEMU + this"), J-Link's GDB server, a board farm's.
//!
//! Files: `protocol` (encodings: framing, escapes, hex, stop replies, CRC), `client` (the
//! connection and one method per request), `xml` (target description and memory map),
//! `load` (loading and verifying an image), `target` ([`GdbTarget`]: connecting, loading,
//! breakpoints, registers; `target/stops`: resuming, waiting and what each stop means), `tests`
//! (against a scripted server).
//!
//! [`Target`]: crate::target::Target

mod client;
mod load;
mod protocol;
mod target;
#[cfg(test)]
mod tests;
mod xml;

pub use client::GdbClient;
pub use target::{GdbTarget, Settings, Start, Started};
