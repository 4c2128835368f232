//! Panics with a message in `explode`; the panic handler exits with 101.
#![no_std]
#![no_main]

use rvflash_test_firmware::{println, riscv_rt::entry};

#[inline(never)]
fn explode(value: u32) -> u32 {
    if core::hint::black_box(value) > 2 {
        panic!("boom: value {value} is too big");
    }
    value
}

#[entry]
fn main() -> ! {
    println!("about to panic");
    let v = explode(core::hint::black_box(7));
    println!("not reached: {v}");
    rvflash_test_firmware::exit(0)
}
