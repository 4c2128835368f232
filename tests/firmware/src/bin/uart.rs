//! Prints through the NS16550A UART at 0x1000_0000, then exits with 0 through semihosting.
#![no_std]
#![no_main]

use rvflash_test_firmware::{exit, riscv_rt::entry};

const UART: usize = 0x1000_0000;
const THR: usize = 0;
const LSR: usize = 5;
const LSR_THRE: u8 = 1 << 5;

fn putc(byte: u8) {
    // SAFETY: the virt board's UART registers.
    unsafe {
        while core::ptr::read_volatile((UART + LSR) as *const u8) & LSR_THRE == 0 {}
        core::ptr::write_volatile((UART + THR) as *mut u8, byte);
    }
}

#[entry]
fn main() -> ! {
    for &b in b"Hello over the 16550 UART\n" {
        putc(b);
    }
    exit(0)
}
