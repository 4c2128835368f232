//! Instruction formats: where each operand of an [`Inst`](super::Inst) lives in the bits.
//!
//! A [`Format`] is both a bit layout ([`Layout`]: register fields, one scattered immediate,
//! operands implied by the form) and a hint for the disassembler's operand syntax. The bits a
//! layout does not claim are the instruction's fixed bits, so the decoder's masks are derived
//! here rather than written in the table.

/// An operand slot of [`Inst`](super::Inst).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Rd,
    Rs1,
    Rs2,
    Rs3,
}

/// A register operand's bit field.
#[derive(Clone, Copy, Debug)]
pub struct RegField {
    pub slot: Slot,
    /// Lowest instruction bit of the field.
    pub lsb: u8,
    /// A 3-bit field of the compressed forms that names register 8 + n.
    pub compact: bool,
    /// Registers the form reserves (bit n set: register n is not allowed).
    pub forbid: u32,
}

/// A run of immediate bits: `len` bits at instruction bit `at` hold immediate bits from `imm`.
#[derive(Clone, Copy, Debug)]
pub struct Piece {
    pub at: u8,
    pub len: u8,
    pub imm: u8,
}

/// An immediate scattered over the instruction.
#[derive(Clone, Copy, Debug)]
pub struct ImmField {
    pub pieces: &'static [Piece],
    /// Sign-extended from its top bit.
    pub signed: bool,
    /// Zero is reserved.
    pub nonzero: bool,
}

impl ImmField {
    /// Number of immediate bits including the implied low zero bits.
    pub const fn width(&self) -> u32 {
        let mut w = 0;
        let mut i = 0;
        while i < self.pieces.len() {
            let top = (self.pieces[i].imm + self.pieces[i].len) as u32;
            if top > w {
                w = top;
            }
            i += 1;
        }
        w
    }

    /// Number of low immediate bits that are implied zero (the immediate's alignment).
    pub const fn scale(&self) -> u32 {
        let mut s = 32;
        let mut i = 0;
        while i < self.pieces.len() {
            if (self.pieces[i].imm as u32) < s {
                s = self.pieces[i].imm as u32;
            }
            i += 1;
        }
        s
    }

    /// Smallest and largest value the field holds (before the alignment check).
    pub const fn range(&self) -> (i64, i64) {
        let w = self.width();
        if self.signed {
            (-(1i64 << (w - 1)), (1i64 << (w - 1)) - 1)
        } else {
            (0, (1i64 << w) - 1)
        }
    }

    /// Instruction bits covered by the field.
    pub const fn mask(&self) -> u32 {
        let mut m = 0;
        let mut i = 0;
        while i < self.pieces.len() {
            m |= ((1u32 << self.pieces[i].len) - 1) << self.pieces[i].at;
            i += 1;
        }
        m
    }

    /// Gathers the immediate from instruction bits.
    #[inline]
    pub fn extract(&self, bits: u32) -> i32 {
        let mut v = 0u32;
        for p in self.pieces {
            v |= ((bits >> p.at) & ((1 << p.len) - 1)) << p.imm;
        }
        if self.signed {
            let shift = 32 - self.width();
            ((v << shift) as i32) >> shift
        } else {
            v as i32
        }
    }

    /// Scatters an in-range immediate into instruction bits.
    pub fn insert(&self, value: i32) -> u32 {
        let v = value as u32;
        let mut bits = 0;
        for p in self.pieces {
            bits |= ((v >> p.imm) & ((1 << p.len) - 1)) << p.at;
        }
        bits
    }
}

/// An operand the form fixes instead of encoding.
#[derive(Clone, Copy, Debug)]
pub enum Implied {
    /// The slot holds this register.
    Reg(Slot, u8),
    /// The slot repeats another slot (`c.addi rd` is also its `rs1`).
    Same(Slot, Slot),
}

/// Where a format's operands live.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Encoded size in bytes.
    pub size: u8,
    pub regs: &'static [RegField],
    pub imm: Option<ImmField>,
    pub implied: &'static [Implied],
    /// Rounding mode in bits 14:12.
    pub rm: bool,
    /// aq/rl in bits 26:25.
    pub aqrl: bool,
}

const RM_BITS: u32 = 0b111 << 12;
const AQRL_BITS: u32 = 0b11 << 25;

impl Layout {
    /// Bits that hold operands; the rest are the instruction's fixed bits.
    pub const fn operand_bits(&self) -> u32 {
        let mut m = 0;
        let mut i = 0;
        while i < self.regs.len() {
            let width = if self.regs[i].compact { 3 } else { 5 };
            m |= ((1u32 << width) - 1) << self.regs[i].lsb;
            i += 1;
        }
        if let Some(imm) = &self.imm {
            m |= imm.mask();
        }
        if self.rm {
            m |= RM_BITS;
        }
        if self.aqrl {
            m |= AQRL_BITS;
        }
        m
    }

    /// The mask of the fixed bits (within the instruction's size).
    pub const fn fixed_mask(&self) -> u32 {
        let all = if self.size == 2 { 0xffff } else { 0xffff_ffff };
        all & !self.operand_bits()
    }
}

const fn reg(slot: Slot, lsb: u8) -> RegField {
    RegField {
        slot,
        lsb,
        compact: false,
        forbid: 0,
    }
}
const fn reg_nz(slot: Slot, lsb: u8, forbid: u32) -> RegField {
    RegField {
        slot,
        lsb,
        compact: false,
        forbid,
    }
}
const fn creg(slot: Slot, lsb: u8) -> RegField {
    RegField {
        slot,
        lsb,
        compact: true,
        forbid: 0,
    }
}
const fn p(at: u8, len: u8, imm: u8) -> Piece {
    Piece { at, len, imm }
}
const fn simm(pieces: &'static [Piece]) -> Option<ImmField> {
    Some(ImmField {
        pieces,
        signed: true,
        nonzero: false,
    })
}
const fn uimm(pieces: &'static [Piece]) -> Option<ImmField> {
    Some(ImmField {
        pieces,
        signed: false,
        nonzero: false,
    })
}
const fn nzimm(pieces: &'static [Piece], signed: bool) -> Option<ImmField> {
    Some(ImmField {
        pieces,
        signed,
        nonzero: true,
    })
}

use Slot::{Rd, Rs1, Rs2, Rs3};

const RD: RegField = reg(Rd, 7);
const RS1: RegField = reg(Rs1, 15);
const RS2: RegField = reg(Rs2, 20);
const RS3: RegField = reg(Rs3, 27);
const X0: u32 = 1 << 0;
const SP: u32 = 1 << 2;

const fn layout(regs: &'static [RegField], imm: Option<ImmField>) -> Layout {
    Layout {
        size: 4,
        regs,
        imm,
        implied: &[],
        rm: false,
        aqrl: false,
    }
}
const fn compressed(
    regs: &'static [RegField],
    imm: Option<ImmField>,
    implied: &'static [Implied],
) -> Layout {
    Layout {
        size: 2,
        regs,
        imm,
        implied,
        rm: false,
        aqrl: false,
    }
}

/// The immediate of c.addi, c.addiw, c.li, c.andi (signed) and the shifts (unsigned).
const CI_IMM: &[Piece] = &[p(12, 1, 5), p(2, 5, 0)];
/// Offsets of c.ld/c.sd/c.fld/c.fsd.
const CL_D_IMM: &[Piece] = &[p(10, 3, 3), p(5, 2, 6)];
/// Offsets of c.lw/c.sw.
const CL_W_IMM: &[Piece] = &[p(10, 3, 3), p(6, 1, 2), p(5, 1, 6)];
/// Offsets of c.ldsp/c.fldsp.
const CI_DSP_IMM: &[Piece] = &[p(12, 1, 5), p(5, 2, 3), p(2, 3, 6)];

/// Instruction formats. The name says the operand syntax; [`Format::layout`] the bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `rd, rs1, rs2`
    R,
    /// `rd, rs1, rs2[, rm]`
    RRm,
    /// `rd, rs1` (rs2 fixed)
    R1,
    /// `rd, rs1[, rm]` (rs2 fixed)
    R1Rm,
    /// `rd, rs1, rs2, rs3[, rm]`
    R4,
    /// `rd, rs1, imm`
    I,
    /// `rd, imm(rs1)`
    Load,
    /// `rs2, imm(rs1)`
    Store,
    /// `rd, rs1, shamt` (6-bit)
    Shift,
    /// `rd, rs1, shamt` (5-bit, the `*w` shifts)
    ShiftW,
    /// `rs1, rs2, offset`
    Branch,
    /// `rd, imm20`
    U,
    /// `rd, offset`
    Jal,
    /// `rd, imm(rs1)`
    Jalr,
    /// `rd, csr, rs1`
    Csr,
    /// `rd, csr, uimm5` (the immediate in the rs1 slot)
    CsrI,
    /// `rd, rs2, (rs1)` with aq/rl
    Amo,
    /// `rd, (rs1)` with aq/rl
    Lr,
    /// `pred, succ` (`fence`); nothing (`fence.i`). The `fm`, `rd` and `rs1` fields are reserved
    /// and must be ignored (the spec): they are kept (`imm` = fm:pred:succ) so encoding is exact.
    Fence,
    /// No operands.
    Fixed,

    // Compressed forms (16-bit).
    /// c.addi4spn: `rd', sp, nzuimm`
    CAddi4spn,
    /// c.lw: `rd', uimm(rs1')`
    CLw,
    /// c.ld, c.fld: `rd', uimm(rs1')`
    CLd,
    /// c.sw: `rs2', uimm(rs1')`
    CSw,
    /// c.sd, c.fsd: `rs2', uimm(rs1')`
    CSd,
    /// c.addi: `rd, imm` (rd is also rs1)
    CAddi,
    /// c.addiw: `rd, imm` (rd ≠ x0)
    CAddiw,
    /// c.li: `rd, imm`
    CLi,
    /// c.lui: `rd, nzimm` (rd ≠ sp)
    CLui,
    /// c.addi16sp: `sp, nzimm`
    CAddi16sp,
    /// c.slli: `rd, shamt`
    CSlli,
    /// c.srli, c.srai: `rd', shamt`
    CShift,
    /// c.andi: `rd', imm`
    CAndi,
    /// c.sub, c.xor, c.or, c.and, c.subw, c.addw: `rd', rs2'`
    CArith,
    /// c.j: `offset`
    CJ,
    /// c.beqz, c.bnez: `rs1', offset`
    CBranch,
    /// c.lwsp: `rd, uimm(sp)` (rd ≠ x0)
    CLwsp,
    /// c.ldsp: `rd, uimm(sp)` (rd ≠ x0)
    CLdsp,
    /// c.fldsp: `rd, uimm(sp)`
    CFldsp,
    /// c.swsp: `rs2, uimm(sp)`
    CSwsp,
    /// c.sdsp, c.fsdsp: `rs2, uimm(sp)`
    CSdsp,
    /// c.jr: `rs1` (≠ x0)
    CJr,
    /// c.mv: `rd, rs2` (rs2 ≠ x0; kept in the rs1 slot, as `addi rd, rs, 0`)
    CMv,
    /// c.jalr: `rs1` (≠ x0)
    CJalr,
    /// c.add: `rd, rs2` (rs2 ≠ x0)
    CAdd,
    /// c.ebreak
    CFixed,
}

impl Format {
    /// Encoded size in bytes.
    pub const fn size(self) -> usize {
        self.layout().size as usize
    }

    pub const fn layout(self) -> Layout {
        use Format::*;
        use Implied::{Reg, Same};
        const I12: &[Piece] = &[p(20, 12, 0)];
        match self {
            R => {
                const L: Layout = layout(&[RD, RS1, RS2], None);
                L
            }
            RRm => {
                const L: Layout = Layout {
                    rm: true,
                    ..layout(&[RD, RS1, RS2], None)
                };
                L
            }
            R1 => {
                const L: Layout = layout(&[RD, RS1], None);
                L
            }
            R1Rm => {
                const L: Layout = Layout {
                    rm: true,
                    ..layout(&[RD, RS1], None)
                };
                L
            }
            R4 => {
                const L: Layout = Layout {
                    rm: true,
                    ..layout(&[RD, RS1, RS2, RS3], None)
                };
                L
            }
            I | Load | Jalr => {
                const L: Layout = layout(&[RD, RS1], simm(I12));
                L
            }
            Store => {
                const L: Layout = layout(&[RS1, RS2], simm(&[p(25, 7, 5), p(7, 5, 0)]));
                L
            }
            Shift => {
                const L: Layout = layout(&[RD, RS1], uimm(&[p(20, 6, 0)]));
                L
            }
            ShiftW => {
                const L: Layout = layout(&[RD, RS1], uimm(&[p(20, 5, 0)]));
                L
            }
            Branch => {
                const L: Layout = layout(
                    &[RS1, RS2],
                    simm(&[p(31, 1, 12), p(25, 6, 5), p(8, 4, 1), p(7, 1, 11)]),
                );
                L
            }
            U => {
                const L: Layout = layout(&[RD], simm(&[p(12, 20, 0)]));
                L
            }
            Jal => {
                const L: Layout = layout(
                    &[RD],
                    simm(&[p(31, 1, 20), p(21, 10, 1), p(20, 1, 11), p(12, 8, 12)]),
                );
                L
            }
            Csr => {
                const L: Layout = layout(&[RD, RS1], uimm(I12));
                L
            }
            CsrI => {
                const L: Layout = layout(&[RD, RS1], uimm(I12));
                L
            }
            Amo => {
                const L: Layout = Layout {
                    aqrl: true,
                    ..layout(&[RD, RS1, RS2], None)
                };
                L
            }
            Lr => {
                const L: Layout = Layout {
                    aqrl: true,
                    ..layout(&[RD, RS1], None)
                };
                L
            }
            Fence => {
                const L: Layout = layout(&[RD, RS1], uimm(I12));
                L
            }
            Fixed => {
                const L: Layout = layout(&[], None);
                L
            }
            CAddi4spn => {
                const L: Layout = compressed(
                    &[creg(Rd, 2)],
                    nzimm(&[p(11, 2, 4), p(7, 4, 6), p(6, 1, 2), p(5, 1, 3)], false),
                    &[Reg(Rs1, 2)],
                );
                L
            }
            CLw => {
                const L: Layout = compressed(&[creg(Rd, 2), creg(Rs1, 7)], uimm(CL_W_IMM), &[]);
                L
            }
            CLd => {
                const L: Layout = compressed(&[creg(Rd, 2), creg(Rs1, 7)], uimm(CL_D_IMM), &[]);
                L
            }
            CSw => {
                const L: Layout = compressed(&[creg(Rs2, 2), creg(Rs1, 7)], uimm(CL_W_IMM), &[]);
                L
            }
            CSd => {
                const L: Layout = compressed(&[creg(Rs2, 2), creg(Rs1, 7)], uimm(CL_D_IMM), &[]);
                L
            }
            CAddi => {
                const L: Layout = compressed(&[reg(Rd, 7)], simm(CI_IMM), &[Same(Rs1, Rd)]);
                L
            }
            CAddiw => {
                const L: Layout = compressed(&[reg_nz(Rd, 7, X0)], simm(CI_IMM), &[Same(Rs1, Rd)]);
                L
            }
            CLi => {
                const L: Layout = compressed(&[reg(Rd, 7)], simm(CI_IMM), &[Reg(Rs1, 0)]);
                L
            }
            CLui => {
                const L: Layout = compressed(&[reg_nz(Rd, 7, SP)], nzimm(CI_IMM, true), &[]);
                L
            }
            CAddi16sp => {
                const L: Layout = compressed(
                    &[],
                    nzimm(
                        &[p(12, 1, 9), p(6, 1, 4), p(5, 1, 6), p(3, 2, 7), p(2, 1, 5)],
                        true,
                    ),
                    &[Reg(Rd, 2), Reg(Rs1, 2)],
                );
                L
            }
            CSlli => {
                const L: Layout = compressed(&[reg(Rd, 7)], uimm(CI_IMM), &[Same(Rs1, Rd)]);
                L
            }
            CShift => {
                const L: Layout = compressed(&[creg(Rd, 7)], uimm(CI_IMM), &[Same(Rs1, Rd)]);
                L
            }
            CAndi => {
                const L: Layout = compressed(&[creg(Rd, 7)], simm(CI_IMM), &[Same(Rs1, Rd)]);
                L
            }
            CArith => {
                const L: Layout = compressed(&[creg(Rd, 7), creg(Rs2, 2)], None, &[Same(Rs1, Rd)]);
                L
            }
            CJ => {
                const L: Layout = compressed(
                    &[],
                    simm(&[
                        p(12, 1, 11),
                        p(11, 1, 4),
                        p(9, 2, 8),
                        p(8, 1, 10),
                        p(7, 1, 6),
                        p(6, 1, 7),
                        p(3, 3, 1),
                        p(2, 1, 5),
                    ]),
                    &[Reg(Rd, 0)],
                );
                L
            }
            CBranch => {
                const L: Layout = compressed(
                    &[creg(Rs1, 7)],
                    simm(&[p(12, 1, 8), p(10, 2, 3), p(5, 2, 6), p(3, 2, 1), p(2, 1, 5)]),
                    &[Reg(Rs2, 0)],
                );
                L
            }
            CLwsp => {
                const L: Layout = compressed(
                    &[reg_nz(Rd, 7, X0)],
                    uimm(&[p(12, 1, 5), p(4, 3, 2), p(2, 2, 6)]),
                    &[Reg(Rs1, 2)],
                );
                L
            }
            CLdsp => {
                const L: Layout =
                    compressed(&[reg_nz(Rd, 7, X0)], uimm(CI_DSP_IMM), &[Reg(Rs1, 2)]);
                L
            }
            CFldsp => {
                const L: Layout = compressed(&[reg(Rd, 7)], uimm(CI_DSP_IMM), &[Reg(Rs1, 2)]);
                L
            }
            CSwsp => {
                const L: Layout = compressed(
                    &[reg(Rs2, 2)],
                    uimm(&[p(9, 4, 2), p(7, 2, 6)]),
                    &[Reg(Rs1, 2)],
                );
                L
            }
            CSdsp => {
                const L: Layout = compressed(
                    &[reg(Rs2, 2)],
                    uimm(&[p(10, 3, 3), p(7, 3, 6)]),
                    &[Reg(Rs1, 2)],
                );
                L
            }
            CJr => {
                const L: Layout = compressed(&[reg_nz(Rs1, 7, X0)], None, &[Reg(Rd, 0)]);
                L
            }
            CMv => {
                const L: Layout = compressed(&[reg(Rd, 7), reg_nz(Rs1, 2, X0)], None, &[]);
                L
            }
            CJalr => {
                const L: Layout = compressed(&[reg_nz(Rs1, 7, X0)], None, &[Reg(Rd, 1)]);
                L
            }
            CAdd => {
                const L: Layout =
                    compressed(&[reg(Rd, 7), reg_nz(Rs2, 2, X0)], None, &[Same(Rs1, Rd)]);
                L
            }
            CFixed => {
                const L: Layout = compressed(&[], None, &[]);
                L
            }
        }
    }
}
