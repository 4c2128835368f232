//! Panics, and the panic handler waits for interrupts (none enabled) forever without printing:
//! rvflash must end the run with 101 and show the message itself.
#![no_std]
#![no_main]

use rvflash_test_firmware::{AfterPanic, on_panic, println, riscv_rt::entry};

#[entry]
fn main() -> ! {
    on_panic(AfterPanic::WaitForInterrupt);
    println!("about to panic");
    if core::hint::black_box(true) {
        panic!("nothing left to do");
    }
    rvflash_test_firmware::exit(0)
}
