//! Executes an illegal instruction (`unimp`): rvflash reports mcause=2 and exits with 134.
#![no_std]
#![no_main]

use rvflash_test_firmware::{exit, println, riscv_rt::entry};

#[inline(never)]
fn do_illegal() {
    // SAFETY: traps on purpose.
    unsafe { core::arch::asm!("unimp") };
}

#[entry]
fn main() -> ! {
    println!("about to execute an illegal instruction");
    do_illegal();
    println!("not reached");
    exit(0)
}
