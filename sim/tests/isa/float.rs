//! F and D: results, rounding modes, flags, NaN-boxing, canonical NaNs, FS and frm rules.

use rvflash_backend::isa::format::Slot;
use rvflash_backend::isa::{Format, Inst, Op, Op::*, rm};
use rvflash_sim::{Reg, Stop, cause};

use crate::common::*;

const NV: u64 = 0x10;
const DZ: u64 = 0x08;
const OF: u64 = 0x04;
const UF: u64 = 0x02;
const NX: u64 = 0x01;

/// A NaN-boxed single.
const fn s(bits: u32) -> u64 {
    0xffff_ffff_0000_0000 | bits as u64
}

const S1_0: u64 = s(0x3f80_0000);
const S2_0: u64 = s(0x4000_0000);
const S3_0: u64 = s(0x4040_0000);
const SM1_0: u64 = s(0xbf80_0000);
const SQNAN: u64 = s(0x7fc0_0000);
const SSNAN: u64 = s(0x7f80_0001);
const D1_0: u64 = 0x3ff0_0000_0000_0000;
const D2_0: u64 = 0x4000_0000_0000_0000;
const D3_0: u64 = 0x4008_0000_0000_0000;
const DM1_0: u64 = 0xbff0_0000_0000_0000;
const DQNAN: u64 = 0x7ff8_0000_0000_0000;
const DSNAN: u64 = 0x7ff0_0000_0000_0001;

/// One instruction: rs1 = f1 (or a1 = `a` for integer sources), rs2 = f2, rs3 = f3.
#[derive(Clone, Copy)]
struct Case {
    op: Op,
    rm: u8,
    a: u64,
    b: u64,
    c: u64,
    want: u64,
    flags: u64,
}

const fn t(op: Op, rm: u8, a: u64, b: u64, c: u64, want: u64, flags: u64) -> Case {
    Case {
        op,
        rm,
        a,
        b,
        c,
        want,
        flags,
    }
}

fn check(cases: &[Case]) {
    for (k, case) in cases.iter().enumerate() {
        check_with_frm(case, 0, k);
    }
}

fn check_with_frm(case: &Case, frm: u8, k: usize) {
    let desc = case.op.desc();
    let layout = desc.format.layout();
    let has = |slot: Slot| layout.regs.iter().any(|r| r.slot == slot);
    let fp = |slot: Slot| desc.classes.is_fp(slot);
    let mut inst = Inst::new(case.op);
    inst.rd = if fp(Slot::Rd) { 4 } else { A0 };
    inst.rs1 = if fp(Slot::Rs1) { 1 } else { A1 };
    if has(Slot::Rs2) {
        inst.rs2 = 2;
    }
    if has(Slot::Rs3) {
        inst.rs3 = 3;
    }
    if matches!(desc.format, Format::RRm | Format::R1Rm | Format::R4) {
        inst.rm = case.rm;
    }
    let mut p = Prog::new();
    p.fpu_on()
        .fli(1, case.a)
        .fli(2, case.b)
        .fli(3, case.c)
        .li(A1, case.a as i64)
        .li(T0, frm as i64)
        .csr(Csrrw, 0, 0x002, T0)
        .i(inst)
        .csr(Csrrs, A2, 0x001, 0)
        .end();
    let m = run(&p);
    let got = if fp(Slot::Rd) { f(&m, 4) } else { x(&m, A0) };
    let what = format!(
        "case {k}: {} rm={} a={:#x} b={:#x} c={:#x}",
        case.op.name(),
        case.rm,
        case.a,
        case.b,
        case.c
    );
    assert_eq!(
        got, case.want,
        "{what}: result {got:#x}, want {:#x}",
        case.want
    );
    assert_eq!(x(&m, A2), case.flags, "{what}: fflags");
}

const RNE: u8 = rm::RNE;
const RTZ: u8 = rm::RTZ;
const RDN: u8 = rm::RDN;
const RUP: u8 = rm::RUP;
const RMM: u8 = rm::RMM;

tests! {
    single_arithmetic_and_rounding {
        let third = [(RNE, 0x3eaa_aaab), (RTZ, 0x3eaa_aaaa), (RDN, 0x3eaa_aaaa), (RUP, 0x3eaa_aaab), (RMM, 0x3eaa_aaab)];
        let mut cases = vec![
            t(FaddS, RNE, S1_0, S2_0, 0, S3_0, 0),
            t(FsubS, RNE, S1_0, S2_0, 0, SM1_0, 0),
            t(FmulS, RNE, S2_0, S3_0, 0, s(0x40c0_0000), 0),
            t(FdivS, RDN, SM1_0, S3_0, 0, s(0xbeaa_aaab), NX),
            t(FdivS, RUP, SM1_0, S3_0, 0, s(0xbeaa_aaaa), NX),
            t(FdivS, RNE, S1_0, s(0), 0, s(0x7f80_0000), DZ),
            t(FdivS, RNE, SM1_0, s(0), 0, s(0xff80_0000), DZ),
            t(FdivS, RNE, s(0), s(0), 0, SQNAN, NV),
            t(FsqrtS, RNE, s(0x4080_0000), 0, 0, S2_0, 0),
            t(FsqrtS, RNE, S2_0, 0, 0, s(0x3fb5_04f3), NX),
            t(FsqrtS, RUP, S2_0, 0, 0, s(0x3fb5_04f4), NX),
            t(FsqrtS, RNE, SM1_0, 0, 0, SQNAN, NV),
            t(FsqrtS, RNE, s(0x8000_0000), 0, 0, s(0x8000_0000), 0),
            t(FmaddS, RNE, S2_0, S3_0, S1_0, s(0x40e0_0000), 0),
            t(FmsubS, RNE, S2_0, S3_0, S1_0, s(0x40a0_0000), 0),
            t(FnmsubS, RNE, S2_0, S3_0, S1_0, s(0xc0a0_0000), 0),
            t(FnmaddS, RNE, S2_0, S3_0, S1_0, s(0xc0e0_0000), 0),
            // Arithmetic on a quiet NaN with a payload gives the canonical NaN, no flags;
            // on a signaling NaN, NV.
            t(FaddS, RNE, s(0x7fc1_2345), S1_0, 0, SQNAN, 0),
            t(FmulS, RNE, SSNAN, S1_0, 0, SQNAN, NV),
        ];
        for (mode, want) in third {
            cases.push(t(FdivS, mode, S1_0, S3_0, 0, s(want), NX));
        }
        check(&cases);
        // Dynamic rounding through frm.
        check_with_frm(&t(FdivS, rm::DYN, S1_0, S3_0, 0, s(0x3eaa_aaaa), NX), RTZ, 100);
        check_with_frm(&t(FdivS, rm::DYN, S1_0, S3_0, 0, s(0x3eaa_aaab), NX), RUP, 101);
    }

    single_sign_minmax_compare_class {
        let sm2 = s(0xc000_0000);
        let (nz, pz) = (s(0x8000_0000), s(0));
        check(&[
            t(FsgnjS, RNE, S1_0, sm2, 0, SM1_0, 0),
            t(FsgnjnS, RNE, S1_0, sm2, 0, S1_0, 0),
            t(FsgnjxS, RNE, S1_0, sm2, 0, SM1_0, 0),
            t(FsgnjxS, RNE, SM1_0, sm2, 0, S1_0, 0),
            t(FminS, RNE, S1_0, S2_0, 0, S1_0, 0),
            t(FmaxS, RNE, S1_0, S2_0, 0, S2_0, 0),
            t(FminS, RNE, nz, pz, 0, nz, 0),
            t(FminS, RNE, pz, nz, 0, nz, 0),
            t(FmaxS, RNE, nz, pz, 0, pz, 0),
            t(FminS, RNE, SQNAN, S1_0, 0, S1_0, 0),
            t(FmaxS, RNE, S1_0, SSNAN, 0, S1_0, NV),
            t(FmaxS, RNE, SQNAN, s(0x7fc1_2345), 0, SQNAN, 0),
            t(FeqS, RNE, S1_0, S1_0, 0, 1, 0),
            t(FeqS, RNE, nz, pz, 0, 1, 0),
            t(FltS, RNE, S1_0, S2_0, 0, 1, 0),
            t(FltS, RNE, S2_0, S1_0, 0, 0, 0),
            t(FleS, RNE, S2_0, S1_0, 0, 0, 0),
            t(FleS, RNE, S1_0, S1_0, 0, 1, 0),
            t(FeqS, RNE, SQNAN, S1_0, 0, 0, 0),
            t(FeqS, RNE, SSNAN, S1_0, 0, 0, NV),
            t(FltS, RNE, SQNAN, S1_0, 0, 0, NV),
            t(FleS, RNE, S1_0, SQNAN, 0, 0, NV),
            t(FclassS, RNE, s(0xff80_0000), 0, 0, 1 << 0, 0),
            t(FclassS, RNE, SM1_0, 0, 0, 1 << 1, 0),
            t(FclassS, RNE, s(0x8000_0001), 0, 0, 1 << 2, 0),
            t(FclassS, RNE, nz, 0, 0, 1 << 3, 0),
            t(FclassS, RNE, pz, 0, 0, 1 << 4, 0),
            t(FclassS, RNE, s(1), 0, 0, 1 << 5, 0),
            t(FclassS, RNE, S1_0, 0, 0, 1 << 6, 0),
            t(FclassS, RNE, s(0x7f80_0000), 0, 0, 1 << 7, 0),
            t(FclassS, RNE, SSNAN, 0, 0, 1 << 8, 0),
            t(FclassS, RNE, SQNAN, 0, 0, 1 << 9, 0),
            // An improperly boxed single is the canonical NaN.
            t(FclassS, RNE, 0x3f80_0000, 0, 0, 1 << 9, 0),
        ]);
    }

    single_conversions {
        let (p15, p25, m15) = (s(0x3fc0_0000), s(0x4020_0000), s(0xbfc0_0000));
        let e3 = s(0x4f32_d05e); // 3.0e9
        check(&[
            t(FcvtWS, RNE, p15, 0, 0, 2, NX),
            t(FcvtWS, RNE, p25, 0, 0, 2, NX),
            t(FcvtWS, RMM, p25, 0, 0, 3, NX),
            t(FcvtWS, RTZ, m15, 0, 0, u64::MAX, NX),
            t(FcvtWS, RDN, m15, 0, 0, (-2i64) as u64, NX),
            t(FcvtWS, RUP, p15, 0, 0, 2, NX),
            t(FcvtWS, RNE, SQNAN, 0, 0, 0x7fff_ffff, NV),
            t(FcvtWS, RNE, e3, 0, 0, 0x7fff_ffff, NV),
            t(FcvtWS, RNE, s(0xff80_0000), 0, 0, 0xffff_ffff_8000_0000, NV),
            t(FcvtWuS, RNE, e3, 0, 0, 0xffff_ffff_b2d0_5e00, 0),
            t(FcvtWuS, RNE, SM1_0, 0, 0, 0, NV),
            t(FcvtWuS, RTZ, s(0xbf00_0000), 0, 0, 0, NX),
            t(FcvtWuS, RNE, SQNAN, 0, 0, u64::MAX, NV),
            t(FcvtLS, RNE, s(0xff80_0000), 0, 0, 1 << 63, NV),
            t(FcvtLS, RNE, SQNAN, 0, 0, i64::MAX as u64, NV),
            t(FcvtLS, RNE, s(0xc040_0000), 0, 0, (-3i64) as u64, 0),
            t(FcvtLuS, RNE, s(0x7f80_0000), 0, 0, u64::MAX, NV),
            t(FcvtLuS, RNE, e3, 0, 0, 0xb2d0_5e00, 0),
            t(FcvtSW, RNE, (-3i64) as u64, 0, 0, s(0xc040_0000), 0),
            t(FcvtSW, RNE, 0x1_0000_0003, 0, 0, S3_0, 0),
            t(FcvtSWu, RNE, 0x1234_5678_ffff_ffff, 0, 0, s(0x4f80_0000), NX),
            t(FcvtSWu, RTZ, 0xffff_ffff, 0, 0, s(0x4f7f_ffff), NX),
            t(FcvtSL, RNE, u64::MAX, 0, 0, SM1_0, 0),
            t(FcvtSLu, RNE, u64::MAX, 0, 0, s(0x5f80_0000), NX),
            t(FmvXW, RNE, SM1_0, 0, 0, 0xffff_ffff_bf80_0000, 0),
            t(FmvXW, RNE, 0x1234_5678_3f80_0000, 0, 0, 0x3f80_0000, 0),
            t(FmvWX, RNE, 0x1234_5678_3f80_0000, 0, 0, S1_0, 0),
            t(FcvtSD, RNE, 0x3fd5_5555_5555_5555, 0, 0, s(0x3eaa_aaab), NX),
            t(FcvtSD, RNE, 0x7e37_e43c_8800_759c, 0, 0, s(0x7f80_0000), OF | NX),
            t(FcvtSD, RTZ, 0x7e37_e43c_8800_759c, 0, 0, s(0x7f7f_ffff), OF | NX),
            t(FcvtSD, RNE, DSNAN, 0, 0, SQNAN, NV),
            t(FcvtDS, RNE, p15, 0, 0, 0x3ff8_0000_0000_0000, 0),
            t(FcvtDS, RNE, SSNAN, 0, 0, DQNAN, NV),
            t(FcvtDS, RNE, 0x3f80_0000, 0, 0, DQNAN, 0),
        ]);
    }

    double_arithmetic_and_rounding {
        let tiny = 0x3ca0_0000_0000_0000; // 2^-53: 1 + tiny is a tie
        check(&[
            t(FaddD, RNE, D1_0, D2_0, 0, D3_0, 0),
            t(FsubD, RNE, D1_0, D2_0, 0, DM1_0, 0),
            t(FmulD, RNE, D2_0, D3_0, 0, 0x4018_0000_0000_0000, 0),
            t(FdivD, RNE, D2_0, D3_0, 0, 0x3fe5_5555_5555_5555, NX),
            t(FdivD, RUP, D2_0, D3_0, 0, 0x3fe5_5555_5555_5556, NX),
            t(FdivD, RNE, D1_0, 0, 0, 0x7ff0_0000_0000_0000, DZ),
            t(FaddD, RNE, D1_0, tiny, 0, D1_0, NX),
            t(FaddD, RMM, D1_0, tiny, 0, D1_0 + 1, NX),
            t(FaddD, RUP, D1_0, tiny, 0, D1_0 + 1, NX),
            t(FaddD, RDN, D1_0, tiny, 0, D1_0, NX),
            t(FaddD, RTZ, D1_0, tiny, 0, D1_0, NX),
            t(FaddD, RNE, DSNAN, D1_0, 0, DQNAN, NV),
            t(FaddD, RNE, 0x7ff8_0000_0000_0123, D1_0, 0, DQNAN, 0),
            t(FsqrtD, RNE, D2_0, 0, 0, 0x3ff6_a09e_667f_3bcd, NX),
            t(FsqrtD, RTZ, D2_0, 0, 0, 0x3ff6_a09e_667f_3bcc, NX),
            t(FsqrtD, RDN, D2_0, 0, 0, 0x3ff6_a09e_667f_3bcc, NX),
            t(FsqrtD, RNE, 0x4010_0000_0000_0000, 0, 0, D2_0, 0),
            t(FsqrtD, RNE, 1, 0, 0, 0x1e60_0000_0000_0000, 0),
            t(FsqrtD, RNE, 0xfff0_0000_0000_0000, 0, 0, DQNAN, NV),
            t(FmaddD, RNE, D2_0, D3_0, D1_0, 0x401c_0000_0000_0000, 0),
            t(FmsubD, RNE, D2_0, D3_0, D1_0, 0x4014_0000_0000_0000, 0),
            t(FnmsubD, RNE, D2_0, D3_0, D1_0, 0xc014_0000_0000_0000, 0),
            t(FnmaddD, RNE, D2_0, D3_0, D1_0, 0xc01c_0000_0000_0000, 0),
            // ∞ · 0 + qNaN is invalid.
            t(FmaddD, RNE, 0x7ff0_0000_0000_0000, 0, DQNAN, DQNAN, NV),
            // Underflow and overflow.
            t(FmulD, RNE, 1, 0x3fe0_0000_0000_0000, 0, 0, UF | NX),
            t(FmulD, RNE, 0x0010_0000_0000_0000, 0x3fe0_0000_0000_0000, 0, 0x0008_0000_0000_0000, 0),
            // Tininess is detected after rounding with an unbounded exponent: (1 - 2^-53) ·
            // 2^-1022 rounds to 2^-1022 but is tiny (its unbounded rounding is itself).
            t(FmulD, RNE, 0x3fef_ffff_ffff_ffff, 0x0010_0000_0000_0000, 0, 0x0010_0000_0000_0000, UF | NX),
            t(FmulD, RUP, 0x3fef_ffff_ffff_ffff, 0x0010_0000_0000_0000, 0, 0x0010_0000_0000_0000, UF | NX),
            // (1 + 2^-52)(2^-1022 - 2^-1074) = 2^-1022 - 2^-1126: rounds to 2^-1022 either way.
            t(FmulD, RNE, 0x3ff0_0000_0000_0001, 0x000f_ffff_ffff_ffff, 0, 0x0010_0000_0000_0000, NX),
            t(FmulD, RNE, 0x7fef_ffff_ffff_ffff, D2_0, 0, 0x7ff0_0000_0000_0000, OF | NX),
            t(FmulD, RTZ, 0x7fef_ffff_ffff_ffff, D2_0, 0, 0x7fef_ffff_ffff_ffff, OF | NX),
        ]);
    }

    double_sign_minmax_compare_class_conversions {
        let dm2 = 0xc000_0000_0000_0000;
        let nz = 1u64 << 63;
        check(&[
            t(FsgnjD, RNE, D1_0, dm2, 0, DM1_0, 0),
            t(FsgnjnD, RNE, D1_0, dm2, 0, D1_0, 0),
            t(FsgnjxD, RNE, D1_0, dm2, 0, DM1_0, 0),
            t(FminD, RNE, D1_0, D2_0, 0, D1_0, 0),
            t(FmaxD, RNE, D1_0, D2_0, 0, D2_0, 0),
            t(FminD, RNE, 0, nz, 0, nz, 0),
            t(FmaxD, RNE, nz, 0, 0, 0, 0),
            t(FminD, RNE, DSNAN, DQNAN, 0, DQNAN, NV),
            t(FeqD, RNE, D1_0, D1_0, 0, 1, 0),
            t(FltD, RNE, DM1_0, D1_0, 0, 1, 0),
            t(FleD, RNE, D2_0, D1_0, 0, 0, 0),
            t(FltD, RNE, DQNAN, D1_0, 0, 0, NV),
            t(FeqD, RNE, DQNAN, DQNAN, 0, 0, 0),
            t(FclassD, RNE, 0xfff0_0000_0000_0000, 0, 0, 1 << 0, 0),
            t(FclassD, RNE, nz, 0, 0, 1 << 3, 0),
            t(FclassD, RNE, 1, 0, 0, 1 << 5, 0),
            t(FclassD, RNE, D1_0, 0, 0, 1 << 6, 0),
            t(FclassD, RNE, DSNAN, 0, 0, 1 << 8, 0),
            t(FclassD, RNE, DQNAN, 0, 0, 1 << 9, 0),
            t(FcvtWD, RNE, 0x4004_0000_0000_0000, 0, 0, 2, NX),
            t(FcvtWD, RMM, 0xc004_0000_0000_0000, 0, 0, (-3i64) as u64, NX),
            t(FcvtWD, RNE, 0x7e37_e43c_8800_759c, 0, 0, 0x7fff_ffff, NV),
            t(FcvtWuD, RNE, 0x41ef_ffff_ffe0_0000, 0, 0, u64::MAX, 0),
            t(FcvtLD, RNE, 0x43e0_0000_0000_0000, 0, 0, i64::MAX as u64, NV),
            t(FcvtLD, RNE, 0xc3e0_0000_0000_0000, 0, 0, 1 << 63, 0),
            t(FcvtLuD, RNE, 0x43e0_0000_0000_0000, 0, 0, 1 << 63, 0),
            t(FcvtLuD, RNE, DM1_0, 0, 0, 0, NV),
            t(FmvXD, RNE, 0x1234_5678_9abc_def0, 0, 0, 0x1234_5678_9abc_def0, 0),
            t(FmvDX, RNE, 0x1234_5678_9abc_def0, 0, 0, 0x1234_5678_9abc_def0, 0),
            t(FcvtDW, RNE, (-3i64) as u64, 0, 0, 0xc008_0000_0000_0000, 0),
            t(FcvtDWu, RNE, 0xffff_ffff, 0, 0, 0x41ef_ffff_ffe0_0000, 0),
            t(FcvtDL, RNE, (1 << 53) + 1, 0, 0, 0x4340_0000_0000_0000, NX),
            t(FcvtDLu, RNE, u64::MAX, 0, 0, 0x43f0_0000_0000_0000, NX),
        ]);
    }

    fp_loads_stores_and_nan_boxing {
        let mut p = Prog::new();
        p.fpu_on()
            .li(S0, DATA as i64)
            .li(T0, 0x4000_0000_3f80_0000)
            .i(Inst::s(Sd, S0, T0, 0))
            .imm(Flw, 1, S0, 0)
            .imm(Fld, 2, S0, 0)
            .i(Inst::s(Fsw, S0, 1, 8))
            .i(Inst::s(Fsd, S0, 2, 16))
            .imm(Ld, A0, S0, 8)
            .imm(Ld, A1, S0, 16)
            // f3 holds a double: as a single operand it is the canonical NaN.
            .fli(3, 0x0000_0000_4000_0000)
            .r(FsgnjS, 4, 3, 3)
            .i(Inst { rm: 0, ..Inst::r(FaddS, 5, 3, 1) })
            .csr(Csrrs, A2, 0x001, 0)
            .end();
        let m = run(&p);
        assert_eq!(f(&m, 1), S1_0);
        assert_eq!(f(&m, 2), 0x4000_0000_3f80_0000);
        assert_eq!(x(&m, A0), 0x3f80_0000);
        assert_eq!(x(&m, A1), 0x4000_0000_3f80_0000);
        assert_eq!(f(&m, 4), SQNAN);
        assert_eq!(f(&m, 5), SQNAN);
        assert_eq!(x(&m, A2), 0);
    }

    fflags_frm_fcsr_and_fs {
        let mut p = Prog::new();
        p.fpu_on()
            .csr(Csrrs, A0, 0x300, 0) // mstatus: FS = Initial
            .fli(1, D1_0)
            .fli(2, D3_0)
            .r(FdivD, 3, 1, 2) // NX
            .fli(4, 0)
            .r(FdivD, 5, 1, 4) // DZ
            .csr(Csrrs, A1, 0x001, 0)
            .li(T0, 0b010_00000 | 0x1f)
            .csr(Csrrw, A2, 0x003, T0) // fcsr: old value (frm 0, flags NX|DZ)
            .csr(Csrrs, A3, 0x002, 0) // frm = 2
            .csr(Csrrs, A4, 0x001, 0) // fflags = 0x1f
            .i(Inst { rd: 0, rs1: 0b00001, imm: 0x001, ..Inst::new(Csrrci) }) // clear NX
            .i(Inst { rd: A5, rs1: 0b00011, imm: 0x002, ..Inst::new(Csrrwi) })
            .csr(Csrrs, A6, 0x003, 0)
            .csr(Csrrs, A7, 0x300, 0)
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A0) & (3 << 13), 1 << 13);
        assert_eq!(x(&m, A1), NX | DZ);
        assert_eq!(x(&m, A2), NX | DZ);
        assert_eq!(x(&m, A3), 2);
        assert_eq!(x(&m, A4), 0x1f);
        assert_eq!(x(&m, A5), 2);
        assert_eq!(x(&m, A6), 3 << 5 | 0x1e);
        // FS is Dirty and SD is set.
        assert_eq!(x(&m, A7) & (3 << 13 | 1 << 63), 3 << 13 | 1 << 63);
    }

    fp_is_illegal_when_fs_is_off_or_rm_is_reserved {
        // FS = Off at reset: an F instruction and the FP CSRs trap.
        for inst in [Inst::r(FaddD, 1, 2, 3), Inst { rd: A0, imm: 0x003, ..Inst::new(Csrrs) }] {
            let mut p = Prog::new();
            p.i(inst);
            let mut m = machine(true);
            let word = rvflash_backend::isa::encode(&inst).unwrap().word() as u64;
            assert_eq!(
                run_until(&mut m, &p, 10),
                Stop::Trap { cause: cause::ILLEGAL_INSTRUCTION, pc: RAM, tval: word }
            );
        }
        // Dynamic rounding with frm = 5 (reserved).
        let mut p = Prog::new();
        p.fpu_on().li(T0, 5).csr(Csrrw, 0, 0x002, T0);
        let at = RAM + p.len();
        p.i(Inst { rm: rm::DYN, ..Inst::r(FaddS, 1, 2, 3) });
        let mut m = machine(true);
        assert!(matches!(run_until(&mut m, &p, 100), Stop::Trap { cause: cause::ILLEGAL_INSTRUCTION, pc, .. } if pc == at));
        // A static reserved rounding mode (rm = 5) does not decode.
        let mut p = Prog::new();
        let word = 0x0000_0053 | 1 << 7 | 5 << 12 | 2 << 15 | 3 << 20;
        p.fpu_on();
        let at = RAM + p.len();
        p.word(word);
        let mut m = machine(true);
        assert_eq!(
            run_until(&mut m, &p, 100),
            Stop::Trap { cause: cause::ILLEGAL_INSTRUCTION, pc: at, tval: word as u64 }
        );
        assert_eq!(m.reg(Reg::F(1)), 0);
    }
}
