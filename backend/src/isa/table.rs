//! The instruction table: every RV64GC instruction the project emits or executes.
//!
//! One row per instruction: its [`Op`], objdump mnemonic, [`Format`], register classes, the
//! fixed bits (`bits`; the mask of fixed bits comes from the format) and its extension.
//! Compressed rows also name the 32-bit instruction they expand to. Nothing else in the crate
//! lists instructions one by one: the encoder, decoder and disassembler read this table.

use super::format::{Format, Slot};

/// The ISA extension an instruction belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ext {
    I,
    M,
    A,
    F,
    D,
    Zicsr,
    Zifencei,
    /// Machine/supervisor-mode instructions (`mret`, `sret`, `wfi`).
    Priv,
    C,
}

/// Which operand slots name floating-point registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classes {
    /// All integer registers.
    X,
    /// All floating-point registers.
    F,
    /// rd integer, sources floating-point (`feq.d`, `fcvt.w.d`, `fmv.x.d`, `fclass.d`).
    XF,
    /// rd floating-point, sources integer (`fcvt.d.w`, `fmv.d.x`, `fld`).
    FX,
    /// Floating-point store: rs2 floating-point, rs1 integer.
    FS,
}

impl Classes {
    /// Whether `slot` names a floating-point register.
    pub const fn is_fp(self, slot: Slot) -> bool {
        match (self, slot) {
            (Classes::F, _) => true,
            (Classes::XF, s) => !matches!(s, Slot::Rd),
            (Classes::FX, s) => matches!(s, Slot::Rd),
            (Classes::FS, s) => matches!(s, Slot::Rs2),
            (Classes::X, _) => false,
        }
    }
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Desc {
    pub op: Op,
    /// The mnemonic (objdump's, without aliases).
    pub name: &'static str,
    pub format: Format,
    pub classes: Classes,
    /// The fixed bits; the format's [`fixed_mask`](super::format::Layout::fixed_mask) says which.
    pub bits: u32,
    pub mask: u32,
    pub ext: Ext,
    /// For compressed forms, the 32-bit op they stand for; otherwise the op itself.
    pub expanded: Op,
}

const fn r(opcode: u32, funct3: u32, funct7: u32) -> u32 {
    opcode | funct3 << 12 | funct7 << 25
}
const fn i(opcode: u32, funct3: u32) -> u32 {
    opcode | funct3 << 12
}
/// An OP-FP instruction with a fixed rs2 field (conversions, moves, classify, sqrt).
const fn fp1(funct3: u32, funct7: u32, rs2: u32) -> u32 {
    r(0x53, funct3, funct7) | rs2 << 20
}
const fn amo(funct3: u32, funct5: u32) -> u32 {
    0x2f | funct3 << 12 | funct5 << 27
}
/// A compressed instruction: quadrant (bits 1:0) and funct3 (bits 15:13), plus extra bits.
const fn c(quadrant: u32, funct3: u32, extra: u32) -> u32 {
    quadrant | funct3 << 13 | extra
}

macro_rules! table {
    (
        $( $op:ident $name:literal $fmt:ident $cls:ident $bits:expr, $ext:ident; )*
        ; compressed:
        $( $cop:ident $cname:literal $cfmt:ident $ccls:ident $cbits:expr => $base:ident; )*
    ) => {
        /// An instruction (see the [module docs](self)).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum Op { $($op,)* $($cop,)* }

        /// Every instruction, indexed by `Op as usize`.
        pub const TABLE: &[Desc] = &[
            $(Desc {
                op: Op::$op, name: $name, format: Format::$fmt, classes: Classes::$cls,
                bits: $bits, mask: Format::$fmt.layout().fixed_mask(), ext: Ext::$ext,
                expanded: Op::$op,
            },)*
            $(Desc {
                op: Op::$cop, name: $cname, format: Format::$cfmt, classes: Classes::$ccls,
                bits: $cbits, mask: Format::$cfmt.layout().fixed_mask(), ext: Ext::C,
                expanded: Op::$base,
            },)*
        ];

        impl Op {
            /// Every op, in table order.
            pub const ALL: &[Op] = &[$(Op::$op,)* $(Op::$cop,)*];

            /// The op's format.
            pub const fn format(self) -> Format {
                match self { $(Op::$op => Format::$fmt,)* $(Op::$cop => Format::$cfmt,)* }
            }

            /// The 32-bit op a compressed op stands for; other ops return themselves.
            pub const fn expanded(self) -> Op {
                match self { $(Op::$op => Op::$op,)* $(Op::$cop => Op::$base,)* }
            }
        }
    };
}

table! {
    // RV64I
    Lui "lui" U X 0x37, I;
    Auipc "auipc" U X 0x17, I;
    Jal "jal" Jal X 0x6f, I;
    Jalr "jalr" Jalr X i(0x67, 0), I;
    Beq "beq" Branch X i(0x63, 0), I;
    Bne "bne" Branch X i(0x63, 1), I;
    Blt "blt" Branch X i(0x63, 4), I;
    Bge "bge" Branch X i(0x63, 5), I;
    Bltu "bltu" Branch X i(0x63, 6), I;
    Bgeu "bgeu" Branch X i(0x63, 7), I;
    Lb "lb" Load X i(0x03, 0), I;
    Lh "lh" Load X i(0x03, 1), I;
    Lw "lw" Load X i(0x03, 2), I;
    Ld "ld" Load X i(0x03, 3), I;
    Lbu "lbu" Load X i(0x03, 4), I;
    Lhu "lhu" Load X i(0x03, 5), I;
    Lwu "lwu" Load X i(0x03, 6), I;
    Sb "sb" Store X i(0x23, 0), I;
    Sh "sh" Store X i(0x23, 1), I;
    Sw "sw" Store X i(0x23, 2), I;
    Sd "sd" Store X i(0x23, 3), I;
    Addi "addi" I X i(0x13, 0), I;
    Slti "slti" I X i(0x13, 2), I;
    Sltiu "sltiu" I X i(0x13, 3), I;
    Xori "xori" I X i(0x13, 4), I;
    Ori "ori" I X i(0x13, 6), I;
    Andi "andi" I X i(0x13, 7), I;
    Slli "slli" Shift X r(0x13, 1, 0), I;
    Srli "srli" Shift X r(0x13, 5, 0), I;
    Srai "srai" Shift X r(0x13, 5, 0x20), I;
    Add "add" R X r(0x33, 0, 0), I;
    Sub "sub" R X r(0x33, 0, 0x20), I;
    Sll "sll" R X r(0x33, 1, 0), I;
    Slt "slt" R X r(0x33, 2, 0), I;
    Sltu "sltu" R X r(0x33, 3, 0), I;
    Xor "xor" R X r(0x33, 4, 0), I;
    Srl "srl" R X r(0x33, 5, 0), I;
    Sra "sra" R X r(0x33, 5, 0x20), I;
    Or "or" R X r(0x33, 6, 0), I;
    And "and" R X r(0x33, 7, 0), I;
    Addiw "addiw" I X i(0x1b, 0), I;
    Slliw "slliw" ShiftW X r(0x1b, 1, 0), I;
    Srliw "srliw" ShiftW X r(0x1b, 5, 0), I;
    Sraiw "sraiw" ShiftW X r(0x1b, 5, 0x20), I;
    Addw "addw" R X r(0x3b, 0, 0), I;
    Subw "subw" R X r(0x3b, 0, 0x20), I;
    Sllw "sllw" R X r(0x3b, 1, 0), I;
    Srlw "srlw" R X r(0x3b, 5, 0), I;
    Sraw "sraw" R X r(0x3b, 5, 0x20), I;
    // fence.tso before fence: it is one of fence's (otherwise reserved) fm encodings.
    FenceTso "fence.tso" Fixed X 0x8330_000f, I;
    Fence "fence" Fence X i(0x0f, 0), I;
    Ecall "ecall" Fixed X 0x0000_0073, I;
    Ebreak "ebreak" Fixed X 0x0010_0073, I;
    // Zifencei
    FenceI "fence.i" Fence X i(0x0f, 1), Zifencei;
    // Privileged
    Sret "sret" Fixed X 0x1020_0073, Priv;
    Mret "mret" Fixed X 0x3020_0073, Priv;
    Wfi "wfi" Fixed X 0x1050_0073, Priv;
    // Zicsr
    Csrrw "csrrw" Csr X i(0x73, 1), Zicsr;
    Csrrs "csrrs" Csr X i(0x73, 2), Zicsr;
    Csrrc "csrrc" Csr X i(0x73, 3), Zicsr;
    Csrrwi "csrrwi" CsrI X i(0x73, 5), Zicsr;
    Csrrsi "csrrsi" CsrI X i(0x73, 6), Zicsr;
    Csrrci "csrrci" CsrI X i(0x73, 7), Zicsr;
    // M
    Mul "mul" R X r(0x33, 0, 1), M;
    Mulh "mulh" R X r(0x33, 1, 1), M;
    Mulhsu "mulhsu" R X r(0x33, 2, 1), M;
    Mulhu "mulhu" R X r(0x33, 3, 1), M;
    Div "div" R X r(0x33, 4, 1), M;
    Divu "divu" R X r(0x33, 5, 1), M;
    Rem "rem" R X r(0x33, 6, 1), M;
    Remu "remu" R X r(0x33, 7, 1), M;
    Mulw "mulw" R X r(0x3b, 0, 1), M;
    Divw "divw" R X r(0x3b, 4, 1), M;
    Divuw "divuw" R X r(0x3b, 5, 1), M;
    Remw "remw" R X r(0x3b, 6, 1), M;
    Remuw "remuw" R X r(0x3b, 7, 1), M;
    // A
    LrW "lr.w" Lr X amo(2, 0x02), A;
    ScW "sc.w" Amo X amo(2, 0x03), A;
    AmoswapW "amoswap.w" Amo X amo(2, 0x01), A;
    AmoaddW "amoadd.w" Amo X amo(2, 0x00), A;
    AmoxorW "amoxor.w" Amo X amo(2, 0x04), A;
    AmoandW "amoand.w" Amo X amo(2, 0x0c), A;
    AmoorW "amoor.w" Amo X amo(2, 0x08), A;
    AmominW "amomin.w" Amo X amo(2, 0x10), A;
    AmomaxW "amomax.w" Amo X amo(2, 0x14), A;
    AmominuW "amominu.w" Amo X amo(2, 0x18), A;
    AmomaxuW "amomaxu.w" Amo X amo(2, 0x1c), A;
    LrD "lr.d" Lr X amo(3, 0x02), A;
    ScD "sc.d" Amo X amo(3, 0x03), A;
    AmoswapD "amoswap.d" Amo X amo(3, 0x01), A;
    AmoaddD "amoadd.d" Amo X amo(3, 0x00), A;
    AmoxorD "amoxor.d" Amo X amo(3, 0x04), A;
    AmoandD "amoand.d" Amo X amo(3, 0x0c), A;
    AmoorD "amoor.d" Amo X amo(3, 0x08), A;
    AmominD "amomin.d" Amo X amo(3, 0x10), A;
    AmomaxD "amomax.d" Amo X amo(3, 0x14), A;
    AmominuD "amominu.d" Amo X amo(3, 0x18), A;
    AmomaxuD "amomaxu.d" Amo X amo(3, 0x1c), A;
    // F
    Flw "flw" Load FX i(0x07, 2), F;
    Fsw "fsw" Store FS i(0x27, 2), F;
    FmaddS "fmadd.s" R4 F 0x43, F;
    FmsubS "fmsub.s" R4 F 0x47, F;
    FnmsubS "fnmsub.s" R4 F 0x4b, F;
    FnmaddS "fnmadd.s" R4 F 0x4f, F;
    FaddS "fadd.s" RRm F r(0x53, 0, 0x00), F;
    FsubS "fsub.s" RRm F r(0x53, 0, 0x04), F;
    FmulS "fmul.s" RRm F r(0x53, 0, 0x08), F;
    FdivS "fdiv.s" RRm F r(0x53, 0, 0x0c), F;
    FsqrtS "fsqrt.s" R1Rm F fp1(0, 0x2c, 0), F;
    FsgnjS "fsgnj.s" R F r(0x53, 0, 0x10), F;
    FsgnjnS "fsgnjn.s" R F r(0x53, 1, 0x10), F;
    FsgnjxS "fsgnjx.s" R F r(0x53, 2, 0x10), F;
    FminS "fmin.s" R F r(0x53, 0, 0x14), F;
    FmaxS "fmax.s" R F r(0x53, 1, 0x14), F;
    FcvtWS "fcvt.w.s" R1Rm XF fp1(0, 0x60, 0), F;
    FcvtWuS "fcvt.wu.s" R1Rm XF fp1(0, 0x60, 1), F;
    FcvtLS "fcvt.l.s" R1Rm XF fp1(0, 0x60, 2), F;
    FcvtLuS "fcvt.lu.s" R1Rm XF fp1(0, 0x60, 3), F;
    FmvXW "fmv.x.w" R1 XF fp1(0, 0x70, 0), F;
    FclassS "fclass.s" R1 XF fp1(1, 0x70, 0), F;
    FeqS "feq.s" R XF r(0x53, 2, 0x50), F;
    FltS "flt.s" R XF r(0x53, 1, 0x50), F;
    FleS "fle.s" R XF r(0x53, 0, 0x50), F;
    FcvtSW "fcvt.s.w" R1Rm FX fp1(0, 0x68, 0), F;
    FcvtSWu "fcvt.s.wu" R1Rm FX fp1(0, 0x68, 1), F;
    FcvtSL "fcvt.s.l" R1Rm FX fp1(0, 0x68, 2), F;
    FcvtSLu "fcvt.s.lu" R1Rm FX fp1(0, 0x68, 3), F;
    FmvWX "fmv.w.x" R1 FX fp1(0, 0x78, 0), F;
    // D
    Fld "fld" Load FX i(0x07, 3), D;
    Fsd "fsd" Store FS i(0x27, 3), D;
    FmaddD "fmadd.d" R4 F 0x43 | 1 << 25, D;
    FmsubD "fmsub.d" R4 F 0x47 | 1 << 25, D;
    FnmsubD "fnmsub.d" R4 F 0x4b | 1 << 25, D;
    FnmaddD "fnmadd.d" R4 F 0x4f | 1 << 25, D;
    FaddD "fadd.d" RRm F r(0x53, 0, 0x01), D;
    FsubD "fsub.d" RRm F r(0x53, 0, 0x05), D;
    FmulD "fmul.d" RRm F r(0x53, 0, 0x09), D;
    FdivD "fdiv.d" RRm F r(0x53, 0, 0x0d), D;
    FsqrtD "fsqrt.d" R1Rm F fp1(0, 0x2d, 0), D;
    FsgnjD "fsgnj.d" R F r(0x53, 0, 0x11), D;
    FsgnjnD "fsgnjn.d" R F r(0x53, 1, 0x11), D;
    FsgnjxD "fsgnjx.d" R F r(0x53, 2, 0x11), D;
    FminD "fmin.d" R F r(0x53, 0, 0x15), D;
    FmaxD "fmax.d" R F r(0x53, 1, 0x15), D;
    FcvtSD "fcvt.s.d" R1Rm F fp1(0, 0x20, 1), D;
    FcvtDS "fcvt.d.s" R1Rm F fp1(0, 0x21, 0), D;
    FeqD "feq.d" R XF r(0x53, 2, 0x51), D;
    FltD "flt.d" R XF r(0x53, 1, 0x51), D;
    FleD "fle.d" R XF r(0x53, 0, 0x51), D;
    FclassD "fclass.d" R1 XF fp1(1, 0x71, 0), D;
    FcvtWD "fcvt.w.d" R1Rm XF fp1(0, 0x61, 0), D;
    FcvtWuD "fcvt.wu.d" R1Rm XF fp1(0, 0x61, 1), D;
    FcvtLD "fcvt.l.d" R1Rm XF fp1(0, 0x61, 2), D;
    FcvtLuD "fcvt.lu.d" R1Rm XF fp1(0, 0x61, 3), D;
    FmvXD "fmv.x.d" R1 XF fp1(0, 0x71, 0), D;
    FcvtDW "fcvt.d.w" R1Rm FX fp1(0, 0x69, 0), D;
    FcvtDWu "fcvt.d.wu" R1Rm FX fp1(0, 0x69, 1), D;
    FcvtDL "fcvt.d.l" R1Rm FX fp1(0, 0x69, 2), D;
    FcvtDLu "fcvt.d.lu" R1Rm FX fp1(0, 0x69, 3), D;
    FmvDX "fmv.d.x" R1 FX fp1(0, 0x79, 0), D;

    ; compressed:
    // Quadrant 0
    CAddi4spn "c.addi4spn" CAddi4spn X c(0, 0, 0) => Addi;
    CFld "c.fld" CLd FX c(0, 1, 0) => Fld;
    CLw "c.lw" CLw X c(0, 2, 0) => Lw;
    CLd "c.ld" CLd X c(0, 3, 0) => Ld;
    CFsd "c.fsd" CSd FS c(0, 5, 0) => Fsd;
    CSw "c.sw" CSw X c(0, 6, 0) => Sw;
    CSd "c.sd" CSd X c(0, 7, 0) => Sd;
    // Quadrant 1
    CAddi "c.addi" CAddi X c(1, 0, 0) => Addi;
    CAddiw "c.addiw" CAddiw X c(1, 1, 0) => Addiw;
    CLi "c.li" CLi X c(1, 2, 0) => Addi;
    CAddi16sp "c.addi16sp" CAddi16sp X c(1, 3, 2 << 7) => Addi;
    CLui "c.lui" CLui X c(1, 3, 0) => Lui;
    CSrli "c.srli" CShift X c(1, 4, 0b00 << 10) => Srli;
    CSrai "c.srai" CShift X c(1, 4, 0b01 << 10) => Srai;
    CAndi "c.andi" CAndi X c(1, 4, 0b10 << 10) => Andi;
    CSub "c.sub" CArith X c(1, 4, 0b011 << 10) => Sub;
    CXor "c.xor" CArith X c(1, 4, 0b011 << 10 | 1 << 5) => Xor;
    COr "c.or" CArith X c(1, 4, 0b011 << 10 | 2 << 5) => Or;
    CAnd "c.and" CArith X c(1, 4, 0b011 << 10 | 3 << 5) => And;
    CSubw "c.subw" CArith X c(1, 4, 0b111 << 10) => Subw;
    CAddw "c.addw" CArith X c(1, 4, 0b111 << 10 | 1 << 5) => Addw;
    CJ "c.j" CJ X c(1, 5, 0) => Jal;
    CBeqz "c.beqz" CBranch X c(1, 6, 0) => Beq;
    CBnez "c.bnez" CBranch X c(1, 7, 0) => Bne;
    // Quadrant 2
    CSlli "c.slli" CSlli X c(2, 0, 0) => Slli;
    CFldsp "c.fldsp" CFldsp FX c(2, 1, 0) => Fld;
    CLwsp "c.lwsp" CLwsp X c(2, 2, 0) => Lw;
    CLdsp "c.ldsp" CLdsp X c(2, 3, 0) => Ld;
    CJr "c.jr" CJr X c(2, 4, 0) => Jalr;
    CMv "c.mv" CMv X c(2, 4, 0) => Addi;
    CEbreak "c.ebreak" CFixed X c(2, 4, 1 << 12) => Ebreak;
    CJalr "c.jalr" CJalr X c(2, 4, 1 << 12) => Jalr;
    CAdd "c.add" CAdd X c(2, 4, 1 << 12) => Add;
    CFsdsp "c.fsdsp" CSdsp FS c(2, 5, 0) => Fsd;
    CSwsp "c.swsp" CSwsp X c(2, 6, 0) => Sw;
    CSdsp "c.sdsp" CSdsp X c(2, 7, 0) => Sd;
}

impl Op {
    /// The op's table row.
    #[inline]
    pub fn desc(self) -> &'static Desc {
        &TABLE[self as usize]
    }

    /// The op's mnemonic without aliases (`addi`, `c.addi`, `fadd.d`).
    pub fn name(self) -> &'static str {
        self.desc().name
    }
}

/// Decoder index: for each bucket (see [`bucket`]), the ops that may match, in table order.
pub(super) struct Index {
    /// `start[b]..start[b + 1]` is bucket b's range in `ops`.
    pub start: [u16; BUCKETS + 1],
    pub ops: [Op; TABLE_LEN],
}

pub(super) const TABLE_LEN: usize = Op::ALL.len();

/// 32 major opcodes (bits 6:2 of a 32-bit instruction) and 3 quadrants × 8 funct3 values of
/// the compressed instructions.
pub(super) const BUCKETS: usize = 32 + 24;

/// The decoder bucket of an instruction's low bits (a 16-bit parcel suffices).
#[inline]
pub(super) const fn bucket(bits: u32) -> usize {
    if bits & 3 == 3 {
        ((bits >> 2) & 31) as usize
    } else {
        32 + (bits & 3) as usize * 8 + ((bits >> 13) & 7) as usize
    }
}

pub(super) static INDEX: Index = build_index();

const fn build_index() -> Index {
    let mut start = [0u16; BUCKETS + 1];
    let mut ops = [Op::Lui; TABLE_LEN];
    let mut n = 0;
    let mut b = 0;
    while b < BUCKETS {
        start[b] = n as u16;
        let mut k = 0;
        while k < TABLE_LEN {
            if bucket(TABLE[k].bits) == b {
                ops[n] = TABLE[k].op;
                n += 1;
            }
            k += 1;
        }
        b += 1;
    }
    start[BUCKETS] = n as u16;
    Index { start, ops }
}
