//! RTT throughput benchmark (`benches/rtt.rs` in the rvflash crate): logs `COUNT` defmt frames
//! `sample {=u32} {=u32}` (INFO, no timestamp) over defmt-rtt as fast as it can, then exits
//! with 0. Frame `i` carries `i` and `i.wrapping_mul(SPREAD)`, so the host can check that every
//! frame arrived, in order, and work out each frame's size on the wire.
//!
//! `COUNT` is the last argument on the command line (semihosting SYS_GET_CMDLINE, e.g.
//! `rvflash run --board sim rtt_bench 50000`); [`DEFAULT_COUNT`] without one.
#![no_std]
#![no_main]

use defmt_rtt as _; // the global logger
use riscv as _; // the critical-section implementation defmt-rtt needs (single hart)
use rvflash_test_firmware::{exit, riscv_rt::entry, semihosting};

/// Frames logged without a count on the command line.
const DEFAULT_COUNT: u32 = 200_000;
/// The second value of frame `i` is `i.wrapping_mul(SPREAD)` (Knuth's multiplicative hash).
const SPREAD: u32 = 2_654_435_761;

const SYS_GET_CMDLINE: usize = 0x15;

/// The last word of the command line as a number, when there are at least two words.
fn count_from_cmdline() -> Option<u32> {
    let mut buf = [0u8; 256];
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: the block matches SYS_GET_CMDLINE's; the buffer outlives the call.
    if unsafe { semihosting::call(SYS_GET_CMDLINE, block.as_mut_ptr() as usize) } != 0 {
        return None;
    }
    let text = core::str::from_utf8(&buf[..block[1].min(buf.len())]).ok()?;
    let mut words = text.split_ascii_whitespace();
    words.next()?; // the program
    words.last()?.parse().ok()
}

#[entry]
fn main() -> ! {
    let count = count_from_cmdline().unwrap_or(DEFAULT_COUNT);
    for i in 0..count {
        defmt::info!("sample {=u32} {=u32}", i, i.wrapping_mul(SPREAD));
    }
    exit(0)
}
