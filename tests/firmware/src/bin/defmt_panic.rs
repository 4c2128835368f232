//! Logs a defmt line over RTT (line 14), then panics: the panic handler (src/lib.rs) prints
//! `panicked at src/bin/defmt_panic.rs:15:5: boom: defmt value 7` through semihosting and
//! exits with 101.
#![no_std]
#![no_main]

use defmt_rtt as _; // the global logger
use riscv as _; // the critical-section implementation defmt-rtt needs (single hart)
use rvflash_test_firmware::riscv_rt::entry;

#[entry]
fn main() -> ! {
    let value = core::hint::black_box(7u32);
    defmt::info!("about to panic with {=u32}", value);
    panic!("boom: defmt value {value}");
}
