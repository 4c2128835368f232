//! Floating point (F and D) and atomics (A): prints results that sim and QEMU must agree on.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use rvflash_test_firmware::{exit, println, riscv_rt::entry};

static COUNTER: AtomicU64 = AtomicU64::new(40);
static SMALL: AtomicU32 = AtomicU32::new(7);
static FLAG: AtomicBool = AtomicBool::new(false);

fn sqrt(x: f64) -> f64 {
    let r: f64;
    // SAFETY: a pure D-extension instruction.
    unsafe { core::arch::asm!("fsqrt.d {}, {}", out(freg) r, in(freg) x) };
    r
}

fn fma(a: f32, b: f32, c: f32) -> f32 {
    let r: f32;
    // SAFETY: a pure F-extension instruction.
    unsafe {
        core::arch::asm!("fmadd.s {}, {}, {}, {}", out(freg) r, in(freg) a, in(freg) b, in(freg) c)
    };
    r
}

#[entry]
fn main() -> ! {
    let x: f64 = black_box(2.0);
    let y: f32 = black_box(1.5);
    println!("sqrt(2) = {:.12}", sqrt(x));
    println!(
        "fma(1.5, 2.25, -0.125) = {}",
        fma(y, black_box(2.25f32), -0.125)
    );
    println!("1/3 = {:.15}", black_box(1.0f64) / black_box(3.0));
    println!("f32 bits of 0.1 = {:#x}", black_box(0.1f32).to_bits());
    println!(
        "(-7.5 as i32, 3e10 as i32) = ({}, {})",
        black_box(-7.5f64) as i32,
        black_box(3e10f64) as i32
    );
    println!(
        "min/max = {} {}",
        x.min(black_box(-0.0)),
        x.max(black_box(f64::NAN))
    );
    println!("fetch_add -> {}", COUNTER.fetch_add(2, Ordering::SeqCst));
    println!("counter = {}", COUNTER.load(Ordering::SeqCst));
    println!(
        "cas = {:?}",
        SMALL.compare_exchange(7, 9, Ordering::AcqRel, Ordering::Relaxed)
    );
    println!(
        "cas again = {:?}",
        SMALL.compare_exchange(7, 11, Ordering::AcqRel, Ordering::Relaxed)
    );
    println!("fetch_max -> {}", SMALL.fetch_max(100, Ordering::SeqCst));
    println!("swap -> {}", FLAG.swap(true, Ordering::SeqCst));
    println!("flag = {}", FLAG.load(Ordering::SeqCst));
    exit(0)
}
