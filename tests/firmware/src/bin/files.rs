//! Reads `input.txt` and writes `output.txt` through semihosting: host files, which rvflash
//! opens only below its `--semihosting-dir`.
#![no_std]
#![no_main]

use rvflash_test_firmware::{exit, println, riscv_rt::entry, semihosting};

const SYS_CLOSE: usize = 0x02;
const SYS_READ: usize = 0x06;
const SYS_FLEN: usize = 0x0c;
/// fopen modes "r" and "w".
const MODE_R: usize = 0;
const MODE_W: usize = 4;

#[entry]
fn main() -> ! {
    let input = semihosting::open("input.txt", MODE_R);
    if input < 0 {
        println!("cannot open input.txt");
        exit(1);
    }
    let input = input as usize;
    // SAFETY: the blocks match SYS_FLEN's, SYS_READ's and SYS_CLOSE's; the buffer outlives
    // the calls.
    let (len, text) = unsafe {
        let len = semihosting::call(SYS_FLEN, [input].as_ptr() as usize);
        let mut buf = [0u8; 128];
        let want = len.min(buf.len());
        let block = [input, buf.as_mut_ptr() as usize, want];
        let left = semihosting::call(SYS_READ, block.as_ptr() as usize);
        semihosting::call(SYS_CLOSE, [input].as_ptr() as usize);
        (
            len,
            buf.get(..want - left.min(want)).map(|b| {
                let mut copy = [0u8; 128];
                copy[..b.len()].copy_from_slice(b);
                (copy, b.len())
            }),
        )
    };
    let Some((bytes, n)) = text else { exit(1) };
    let text = core::str::from_utf8(&bytes[..n]).unwrap_or("(not UTF-8)");
    println!("input.txt has {len} bytes: {}", text.trim_end());
    let output = semihosting::open("output.txt", MODE_W);
    if output < 0 {
        println!("cannot open output.txt");
        exit(1);
    }
    let left = semihosting::write(output as usize, b"written by the firmware\n");
    // SAFETY: the block matches SYS_CLOSE's.
    unsafe { semihosting::call(SYS_CLOSE, [output as usize].as_ptr() as usize) };
    exit(if left == 0 { 0 } else { 1 })
}
