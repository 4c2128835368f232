//! Takes a machine timer interrupt from the CLINT (through riscv-rt's trap entry), then exits.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU32, Ordering};

use rvflash_test_firmware::{exit, println, riscv_rt::entry};

const MTIMECMP: usize = 0x200_4000;
const MTIME: usize = 0x200_bff8;
static TICKS: AtomicU32 = AtomicU32::new(0);

/// riscv-rt's handler for the machine timer interrupt (overrides `DefaultHandler`).
#[unsafe(no_mangle)]
extern "C" fn MachineTimer() {
    // SAFETY: the CLINT's mtimecmp; pushing it to the far future clears the interrupt.
    unsafe { core::ptr::write_volatile(MTIMECMP as *mut u64, u64::MAX) };
    TICKS.fetch_add(1, Ordering::SeqCst);
}

#[entry]
fn main() -> ! {
    // SAFETY: CLINT registers and machine-mode CSRs of this hart.
    unsafe {
        let now = core::ptr::read_volatile(MTIME as *const u64);
        core::ptr::write_volatile(MTIMECMP as *mut u64, now + 10_000); // 1 ms at 10 MHz
        core::arch::asm!("csrs mie, {}", in(reg) 1usize << 7); // MTIE
        core::arch::asm!("csrsi mstatus, 8"); // MIE
    }
    while TICKS.load(Ordering::SeqCst) == 0 {
        // SAFETY: waits for the interrupt.
        unsafe { core::arch::asm!("wfi") };
    }
    // SAFETY: interrupts off again.
    unsafe { core::arch::asm!("csrci mstatus, 8") };
    println!(
        "timer interrupt taken: {} tick(s)",
        TICKS.load(Ordering::SeqCst)
    );
    exit(0)
}
