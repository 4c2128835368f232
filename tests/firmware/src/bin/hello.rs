//! Prints a greeting and exits with 0.
#![no_std]
#![no_main]

use rvflash_test_firmware::{exit, println, riscv_rt::entry};

#[entry]
fn main() -> ! {
    println!("Hello from rvflash test firmware!");
    println!("1 + 2 = {}", 1 + 2);
    exit(0)
}
