//! The SiFive test finisher (`sifive_test` in QEMU): a write of `0x5555` exits with 0,
//! `(code << 16) | 0x3333` exits with `code`, `0x7777` resets; other values are ignored.
//! Reads return 0. It only reports what was asked; the machine stops.

use crate::Stop;

/// What a write to the finisher asks for, if anything.
pub(crate) fn write(offset: u64, value: u64) -> Option<Stop> {
    if offset != 0 {
        return None;
    }
    let code = ((value >> 16) & 0xffff) as i32;
    match value & 0xffff {
        0x3333 => Some(Stop::Exited(code)),
        0x5555 => Some(Stop::Exited(0)),
        0x7777 => Some(Stop::Reset),
        _ => None,
    }
}
