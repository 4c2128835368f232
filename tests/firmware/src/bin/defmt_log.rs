//! Logs through defmt over RTT (defmt-rtt's `_SEGGER_RTT` control block, up-channel 0
//! "defmt"): one message at each level, then a burst of `FRAMES` numbered frames, far more than
//! the 1 KiB RTT buffer holds, then exits with 0 at once. A host that puts the channel in
//! blocking mode (and drains it after the exit) gets every frame, in order; otherwise defmt-rtt
//! drops what does not fit.
//!
//! Tests check the `file:line` of the messages (levels: lines 34-38, frames: line 40; see
//! tests/firmware/README.md): keep them on these lines.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use defmt_rtt as _; // the global logger
use riscv as _; // the critical-section implementation defmt-rtt needs (single hart)
use rvflash_test_firmware::{exit, riscv_rt::entry};

/// Number of `frame {=u32}` messages in the burst, numbered 0 to `FRAMES - 1`.
const FRAMES: u32 = 2000;

/// The defmt timestamp: the frame's sequence number (0, 1, 2, ...), the same on every board.
static STAMP: AtomicU32 = AtomicU32::new(0);
defmt::timestamp!("{=u32}", STAMP.fetch_add(1, Ordering::Relaxed));

#[derive(defmt::Format)]
struct Point {
    x: i32,
    y: i32,
}

#[entry]
fn main() -> ! {
    let point = core::hint::black_box(Point { x: 3, y: -4 });
    defmt::trace!("trace: value {=u8}", core::hint::black_box(1));
    defmt::debug!("debug: name {=str}", core::hint::black_box("rvflash"));
    defmt::info!("info: ratio {=f32}", core::hint::black_box(0.5));
    defmt::warn!("warn: point {}", point);
    defmt::error!("error: code {=i32}", core::hint::black_box(-7));
    for i in 0..FRAMES {
        defmt::info!("frame {=u32}", i);
    }
    exit(0)
}
