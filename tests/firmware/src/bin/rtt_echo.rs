//! Plain-text RTT both ways with the `rtt-target` crate: writes a greeting on up-channel 0,
//! reads a line from down-channel 0 (the host's stdin), answers it in upper case on up-channel
//! 0 and exits with 0 at once (so the answer is only seen if the host drains RTT at exit).
#![no_std]
#![no_main]

use riscv as _; // the critical-section implementation rtt-target needs (single hart)
use rvflash_test_firmware::{exit, riscv_rt::entry};

#[entry]
fn main() -> ! {
    let channels = rtt_target::rtt_init! {
        up: { 0: { size: 256, name: "Terminal" } }
        down: { 0: { size: 16, name: "Terminal" } }
    };
    let (mut up, mut down) = (channels.up.0, channels.down.0);
    up.write(b"rtt: hello on channel 0\n");
    // A line longer than the 16-byte down-buffer arrives in pieces.
    let mut line = [0u8; 64];
    let mut len = 0;
    while len < line.len() && (len == 0 || line[len - 1] != b'\n') {
        len += down.read(&mut line[len..]);
    }
    line[..len].make_ascii_uppercase();
    up.write(b"rtt: got ");
    up.write(&line[..len]);
    exit(0)
}
