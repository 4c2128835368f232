//! The trigger module: `tselect`, `tdata1..3`, `tinfo`, and address matching for execute,
//! load and store triggers of type 2 (`mcontrol`, debug spec 0.13.2) and type 6
//! (`mcontrol6`, 1.0).
//!
//! What each trigger supports (everything else is WARL and reads back as the legal value):
//! address matching only (`select` = 0, `timing` = 0: a trigger fires before the instruction
//! or access), match kinds 0 (equal), 1 (NAPOT), 2 (>=), 3 (<), 4 and 5 (masked halves),
//! sizes any / 8 / 16 / 32 / 64 bits, `chain` = 0, actions 0 (breakpoint exception) and 1
//! (debug mode, only with `dmode`), `hit`; `m` enables a trigger (the hart only runs in
//! M-mode) while `s`/`u` are stored as written without effect. A load or store matches on
//! the address it starts at. `tdata3` reads 0. Writing an unsupported `type` gives a
//! disabled `mcontrol`, so both debuggers can always reuse a trigger after clearing it.
//!
//! This module only answers CSR accesses and match questions; firing (entering debug mode
//! or raising the exception) is the run loop's business (`debug::run`).

/// `tinfo`: types 2 and 6 supported.
const TINFO: u64 = 1 << 2 | 1 << 6;
const TYPE_SHIFT: u32 = 60;
const DMODE: u64 = 1 << 59;
/// `mcontrol.maskmax`: NAPOT ranges up to 2^63 bytes.
const MASKMAX: u64 = 63 << 53;
const MC_HIT: u64 = 1 << 20;
const MC6_HIT: u64 = 1 << 22;
const ACTION_SHIFT: u32 = 12;
const MATCH_SHIFT: u32 = 7;
const M: u64 = 1 << 6;
const S: u64 = 1 << 4;
const U: u64 = 1 << 3;

/// Access kinds, as the `execute`/`store`/`load` bits of `mcontrol`.
pub(crate) const EXECUTE: u8 = 1 << 2;
pub(crate) const STORE: u8 = 1 << 1;
pub(crate) const LOAD: u8 = 1;

/// What a firing trigger asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Action 0: a breakpoint exception.
    Breakpoint,
    /// Action 1: enter debug mode.
    DebugMode,
}

#[derive(Clone, Copy, Debug)]
struct Trigger {
    tdata1: u64,
    tdata2: u64,
}

/// Most triggers a machine has (more in [`DebugConfig::triggers`](super::DebugConfig) are
/// taken as this many); debuggers enumerate them one `tselect` write at a time.
pub const MAX_TRIGGERS: usize = 16;

/// A disabled `mcontrol`: the reset value and what unsupported writes become.
const DISABLED: u64 = 2 << TYPE_SHIFT | MASKMAX;

pub(crate) struct Triggers {
    select: usize,
    list: heapless::Vec<Trigger, MAX_TRIGGERS>,
    /// Union of the kinds (`EXECUTE`/`STORE`/`LOAD`) some enabled trigger watches.
    pub armed: u8,
}

impl Triggers {
    pub fn new(count: usize) -> Triggers {
        Triggers {
            select: 0,
            list: core::iter::repeat_n(
                Trigger {
                    tdata1: DISABLED,
                    tdata2: 0,
                },
                count.min(MAX_TRIGGERS),
            )
            .collect(),
            armed: 0,
        }
    }

    /// Reads `tselect` (0x7a0) .. `tinfo` (0x7a4); `None` for other numbers.
    pub fn read(&self, csr: u16) -> Option<u64> {
        let t = self.list.get(self.select);
        Some(match csr {
            0x7a0 => self.select as u64,
            0x7a1 => t.map_or(0, |t| t.tdata1),
            0x7a2 => t.map_or(0, |t| t.tdata2),
            0x7a3 => 0,
            // With no triggers at all the selected one does not exist: tinfo says 1.
            0x7a4 => t.map_or(1, |_| TINFO),
            _ => return None,
        })
    }

    /// Writes one of the trigger CSRs; `debug_mode` says whether the write comes from debug
    /// mode (which alone may write `dmode` and triggers that have it set).
    pub fn write(&mut self, csr: u16, v: u64, debug_mode: bool) {
        if csr == 0x7a0 {
            // WARL: an index past the last trigger is ignored, so reading back tells the
            // debugger it does not exist (both OpenOCD and probe-rs stop counting there).
            if (v as usize as u64) == v && (v as usize) < self.list.len() {
                self.select = v as usize;
            }
            return;
        }
        let Some(t) = self.list.get_mut(self.select) else {
            return;
        };
        if t.tdata1 & DMODE != 0 && !debug_mode {
            return;
        }
        match csr {
            0x7a1 => t.tdata1 = legalize(v, debug_mode),
            0x7a2 => t.tdata2 = v,
            _ => {}
        }
        self.armed = self.list.iter().fold(0, |a, t| a | watches(t.tdata1));
    }

    /// The action of the triggers that fire on an access of kinds `kinds` (a mask of
    /// `EXECUTE`/`LOAD`/`STORE`) at `addr`, `size` bytes long (0: unknown, only size-any
    /// triggers match); sets their `hit` bits. Entering debug mode wins over the exception
    /// when both fire (the spec's minimal behaviour; the exception trigger still shows `hit`).
    pub fn fire(&mut self, kinds: u8, addr: u64, size: u64) -> Option<Action> {
        let mut action = None;
        for t in &mut self.list {
            if watches(t.tdata1) & kinds == 0 || !size_ok(t.tdata1, size) {
                continue;
            }
            if !matches((t.tdata1 >> MATCH_SHIFT) & 0xf, addr, t.tdata2) {
                continue;
            }
            t.tdata1 |= hit_bit(t.tdata1);
            let this = if (t.tdata1 >> ACTION_SHIFT) & 0xf == 1 {
                Action::DebugMode
            } else {
                Action::Breakpoint
            };
            if action != Some(Action::DebugMode) {
                action = Some(this);
            }
        }
        action
    }
}

fn kind(tdata1: u64) -> u64 {
    tdata1 >> TYPE_SHIFT
}

fn hit_bit(tdata1: u64) -> u64 {
    if kind(tdata1) == 6 { MC6_HIT } else { MC_HIT }
}

/// The access kinds an enabled trigger watches (0 if it is off in M-mode).
fn watches(tdata1: u64) -> u8 {
    if tdata1 & M == 0 {
        0
    } else {
        (tdata1 & 7) as u8
    }
}

/// The `size` field (sizehi:sizelo for type 2, size for type 6).
fn size_field(tdata1: u64) -> u64 {
    if kind(tdata1) == 6 {
        (tdata1 >> 16) & 7
    } else {
        ((tdata1 >> 21) & 3) << 2 | (tdata1 >> 16) & 3
    }
}

/// Whether an access of `size` bytes (0: unknown) satisfies the trigger's size condition.
fn size_ok(tdata1: u64, size: u64) -> bool {
    match size_field(tdata1) {
        0 => true,
        1 => size == 1,
        2 => size == 2,
        3 => size == 4,
        5 => size == 8,
        _ => false,
    }
}

fn matches(kind: u64, v: u64, t2: u64) -> bool {
    match kind {
        0 => v == t2,
        1 => {
            // The top XLEN-1-k bits match, k = index of tdata2's lowest 0 bit.
            let mask = (!0u64).checked_shl(t2.trailing_ones() + 1).unwrap_or(0);
            v & mask == t2 & mask
        }
        2 => v >= t2,
        3 => v < t2,
        4 => (v & 0xffff_ffff) & (t2 >> 32) == t2 & 0xffff_ffff,
        5 => (v >> 32) & (t2 >> 32) == t2 & 0xffff_ffff,
        _ => false,
    }
}

/// The legal `tdata1` value closest to a write of `v`.
fn legalize(v: u64, debug_mode: bool) -> u64 {
    let (hit, size_mask, extra) = match kind(v) {
        2 => (MC_HIT, 3 << 21 | 3 << 16, MASKMAX),
        6 => (MC6_HIT, 7 << 16, 0),
        _ => return DISABLED,
    };
    let dmode = if debug_mode { v & DMODE } else { 0 };
    let mut out = kind(v) << TYPE_SHIFT | dmode | extra | v & (hit | M | S | U | 7);
    if matches!(size_field(v), 1 | 2 | 3 | 5) {
        out |= v & size_mask;
    }
    let action = (v >> ACTION_SHIFT) & 0xf;
    if action == 1 && dmode != 0 {
        out |= 1 << ACTION_SHIFT;
    }
    let kind_of_match = (v >> MATCH_SHIFT) & 0xf;
    if kind_of_match <= 5 {
        out |= kind_of_match << MATCH_SHIFT;
    }
    out
}
