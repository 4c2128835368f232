//! The CLINT: `msip` (+0 + 4·hart), `mtimecmp` (+0x4000 + 8·hart), `mtime` (+0xbff8).
//!
//! `mtime` is derived from the machine's cycle count (see [`crate::CYCLES_PER_TICK`]), so
//! runs are reproducible; writing it rebases the count. Registers are accessed as 32- or
//! 64-bit aligned words (other sizes fault, as on QEMU). Only `hart_id`'s registers exist;
//! other harts' slots read 0 and ignore writes.

use crate::CYCLES_PER_TICK;

const MTIMECMP: u64 = 0x4000;
const MTIME: u64 = 0xbff8;

#[derive(Debug)]
pub(crate) struct Clint {
    hart_id: u64,
    pub msip: bool,
    pub mtimecmp: u64,
    /// `mtime` was `mtime_base` at cycle `cycle_base`.
    mtime_base: u64,
    cycle_base: u64,
}

impl Clint {
    /// A CLINT just reset at cycle `now`: `mtime` = 0, `mtimecmp` = 0, `msip` = 0.
    pub fn new(hart_id: u64, now: u64) -> Clint {
        Clint {
            hart_id,
            msip: false,
            // As QEMU: mtimecmp is 0 after reset, so MTIP is pending until software sets it.
            mtimecmp: 0,
            mtime_base: 0,
            cycle_base: now,
        }
    }

    /// `mtime` at cycle `now`.
    #[inline]
    pub fn mtime(&self, now: u64) -> u64 {
        self.mtime_base
            .wrapping_add(now.wrapping_sub(self.cycle_base) / CYCLES_PER_TICK)
    }

    /// Whether the timer interrupt is pending at cycle `now`.
    #[inline]
    pub fn mtip(&self, now: u64) -> bool {
        self.mtime(now) >= self.mtimecmp
    }

    /// The first cycle at which `mtime >= mtimecmp`, if the timer is not pending yet and
    /// that cycle is representable.
    pub fn deadline(&self, now: u64) -> Option<u64> {
        let mtime = self.mtime(now);
        if mtime >= self.mtimecmp {
            return Some(now);
        }
        let elapsed_ticks = self.mtimecmp.checked_sub(self.mtime_base)?;
        let cycles = elapsed_ticks.checked_mul(CYCLES_PER_TICK)?;
        self.cycle_base.checked_add(cycles)
    }

    /// Whether `offset`/`size` is an access the CLINT accepts.
    pub fn valid(offset: u64, size: u64) -> bool {
        (size == 4 || size == 8) && offset.is_multiple_of(size)
    }

    /// Reads (the caller checked [`Clint::valid`]).
    pub fn read(&self, offset: u64, size: u64, now: u64) -> u64 {
        let word = offset & !7;
        let full = if offset == self.hart_id * 4 && size == 4 {
            return self.msip as u64;
        } else if word == MTIMECMP + 8 * self.hart_id {
            self.mtimecmp
        } else if word == MTIME {
            self.mtime(now)
        } else {
            return 0;
        };
        if size == 8 {
            full
        } else {
            (full >> (8 * (offset & 4))) & 0xffff_ffff
        }
    }

    /// Writes (the caller checked [`Clint::valid`]).
    pub fn write(&mut self, offset: u64, size: u64, value: u64, now: u64) {
        let word = offset & !7;
        if offset == self.hart_id * 4 && size == 4 {
            self.msip = value & 1 != 0;
            return;
        }
        let merge = |old: u64| {
            if size == 8 {
                value
            } else {
                let shift = 8 * (offset & 4);
                (old & !(0xffff_ffff << shift)) | ((value & 0xffff_ffff) << shift)
            }
        };
        if word == MTIMECMP + 8 * self.hart_id {
            self.mtimecmp = merge(self.mtimecmp);
        } else if word == MTIME {
            self.mtime_base = merge(self.mtime(now));
            self.cycle_base = now;
        }
    }
}
