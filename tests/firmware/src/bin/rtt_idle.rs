//! The cost of RTT polling (`benches/rtt.rs` in the rvflash crate): `bench`'s CPU-bound
//! workload (`rvflash_test_firmware::workload`) in a program that links defmt-rtt, so that
//! rvflash finds `_SEGGER_RTT` and polls it for the whole run, but logs nothing until the
//! workload is done. It prints the same `checksum: HEX` line as `bench` (semihosting), then
//! logs one defmt line `rtt_idle done: checksum HEX`, and exits with 0.
#![no_std]
#![no_main]

use defmt_rtt as _; // the global logger
use riscv as _; // the critical-section implementation defmt-rtt needs (single hart)
use rvflash_test_firmware::{exit, println, riscv_rt::entry, workload};

#[entry]
fn main() -> ! {
    let checksum = workload::run();
    println!("checksum: {checksum:016x}");
    defmt::info!("rtt_idle done: checksum {=u64:x}", checksum);
    exit(0)
}
