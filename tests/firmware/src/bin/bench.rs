//! A CPU-bound benchmark for `sim` vs QEMU (`benches/sim_vs_qemu.rs` in the rvflash crate):
//! runs the workload of `rvflash_test_firmware::workload`, prints one `checksum: HEX` line (the
//! same on every correct RV64GC machine) and exits with 0.
//!
//! Build it in release mode: the debug build is much slower and would measure the compiler.
#![no_std]
#![no_main]

use rvflash_test_firmware::{exit, println, riscv_rt::entry, workload};

#[entry]
fn main() -> ! {
    println!("checksum: {:016x}", workload::run());
    exit(0)
}
