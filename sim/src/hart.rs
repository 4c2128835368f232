//! The hart's architectural state: registers, `pc`, and the CSR storage.
//!
//! Plain data with small accessors (x0 stays zero, singles are NaN-boxed). What CSR
//! reads/writes mean lives in `csr`, trap entry in `trap`; nothing here executes.

/// `mstatus` bits this machine implements.
pub(crate) mod mstatus {
    pub const MIE: u64 = 1 << 3;
    pub const MPIE: u64 = 1 << 7;
    pub const MPP: u64 = 3 << 11;
    pub const FS: u64 = 3 << 13;
    pub const FS_DIRTY: u64 = 3 << 13;
    pub const SD: u64 = 1 << 63;
    /// Bits software can write (MPP is hard-wired to M).
    pub const WRITABLE: u64 = MIE | MPIE | FS;
}

/// Interrupt bits of `mip`/`mie` (and their cause numbers).
pub(crate) mod irq {
    pub const MSI: u64 = 1 << 3;
    pub const MTI: u64 = 1 << 7;
    pub const MEI: u64 = 1 << 11;
    pub const ALL: u64 = MSI | MTI | MEI;
}

/// A canonical single-precision NaN.
pub(crate) const CANONICAL_NAN_S: u64 = 0x7fc0_0000;
const BOX: u64 = 0xffff_ffff_0000_0000;

#[derive(Clone, Debug)]
pub(crate) struct Hart {
    pub x: [u64; 32],
    pub f: [u64; 32],
    pub pc: u64,
    pub fflags: u64,
    pub frm: u64,
    /// Only the [`mstatus::WRITABLE`] bits are stored.
    pub mstatus: u64,
    pub mie: u64,
    pub mtvec: u64,
    pub mscratch: u64,
    pub mepc: u64,
    pub mcause: u64,
    pub mtval: u64,
    /// `minstret` = retired instructions + this (wrapping).
    pub minstret_offset: u64,
    /// `mcycle` = cycles + this (wrapping).
    pub mcycle_offset: u64,
    /// LR reservation: address and the value loaded.
    pub reservation: Option<(u64, u64)>,
}

impl Hart {
    pub fn new() -> Hart {
        Hart {
            x: [0; 32],
            f: [0; 32],
            pc: 0,
            fflags: 0,
            frm: 0,
            mstatus: 0,
            mie: 0,
            mtvec: 0,
            mscratch: 0,
            mepc: 0,
            mcause: 0,
            mtval: 0,
            minstret_offset: 0,
            mcycle_offset: 0,
            reservation: None,
        }
    }

    #[inline(always)]
    pub fn set_x(&mut self, rd: u8, value: u64) {
        if rd != 0 {
            self.x[(rd & 31) as usize] = value;
        }
    }

    #[inline(always)]
    pub fn xr(&self, r: u8) -> u64 {
        self.x[(r & 31) as usize]
    }

    /// Whether the FPU is on (`mstatus.FS` ≠ Off).
    #[inline]
    pub fn fp_enabled(&self) -> bool {
        self.mstatus & mstatus::FS != 0
    }

    /// Marks the floating-point state dirty.
    #[inline]
    pub fn fs_dirty(&mut self) {
        self.mstatus |= mstatus::FS_DIRTY;
    }

    /// A single operand: the low 32 bits if properly NaN-boxed, else the canonical NaN.
    #[inline]
    pub fn f32_of(&self, r: u8) -> u64 {
        let v = self.f[r as usize];
        if v & BOX == BOX {
            v & 0xffff_ffff
        } else {
            CANONICAL_NAN_S
        }
    }

    /// Writes a single (NaN-boxed) or a double.
    #[inline]
    pub fn set_f(&mut self, rd: u8, bits: u64, double: bool) {
        self.f[rd as usize] = if double {
            bits
        } else {
            BOX | (bits & 0xffff_ffff)
        };
        self.fs_dirty();
    }

    /// Reads an operand of the given precision.
    #[inline]
    pub fn f_of(&self, r: u8, double: bool) -> u64 {
        if double {
            self.f[r as usize]
        } else {
            self.f32_of(r)
        }
    }

    /// ORs floating-point exception flags into `fflags`.
    #[inline]
    pub fn accrue(&mut self, flags: u64) {
        if flags != 0 {
            self.fflags |= flags;
            self.fs_dirty();
        }
    }
}
