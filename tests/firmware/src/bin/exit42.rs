//! Exits with status 42.
#![no_std]
#![no_main]

use rvflash_test_firmware::{exit, riscv_rt::entry};

#[entry]
fn main() -> ! {
    exit(42)
}
