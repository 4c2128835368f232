//! Loops forever (for timeout tests).
#![no_std]
#![no_main]

use rvflash_test_firmware::{println, riscv_rt::entry};

#[entry]
fn main() -> ! {
    println!("spinning forever");
    loop {
        core::hint::spin_loop();
    }
}
