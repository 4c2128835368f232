//! Panics with a message, and the panic handler loops forever without printing (like
//! `panic-halt`): rvflash must end the run with 101 and show the message itself.
#![no_std]
#![no_main]

use rvflash_test_firmware::{AfterPanic, on_panic, println, riscv_rt::entry};

#[inline(never)]
fn explode(value: u32, name: &str) -> u32 {
    if core::hint::black_box(value) > 2 {
        panic!("{name} is {value}, more than {}", 2);
    }
    value
}

#[entry]
fn main() -> ! {
    on_panic(AfterPanic::Halt);
    println!("about to panic");
    let v = explode(core::hint::black_box(7), "the value");
    println!("not reached: {v}");
    rvflash_test_firmware::exit(0)
}
