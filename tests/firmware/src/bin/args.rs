//! Prints its command line (semihosting SYS_GET_CMDLINE: program name + runner arguments).
#![no_std]
#![no_main]

use rvflash_test_firmware::{exit, println, riscv_rt::entry, semihosting};

const SYS_GET_CMDLINE: usize = 0x15;

#[entry]
fn main() -> ! {
    let mut buf = [0u8; 256];
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: the block matches SYS_GET_CMDLINE's; the buffer outlives the call.
    let result = unsafe { semihosting::call(SYS_GET_CMDLINE, block.as_mut_ptr() as usize) };
    if result != 0 {
        println!("SYS_GET_CMDLINE failed");
        exit(1);
    }
    let len = block[1].min(buf.len());
    match core::str::from_utf8(&buf[..len]) {
        Ok(text) => println!("cmdline: {text}"),
        Err(_) => println!("cmdline is not UTF-8"),
    }
    exit(0)
}
