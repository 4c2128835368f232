//! RV64I and M.

use rvflash_backend::isa::{Inst, Op::*};

use crate::common::*;

tests! {
    upper_immediates_and_i_type {
        let mut p = Prog::new();
        p.i(Inst::u(Auipc, A2, 1)) // at RAM
            .i(Inst::u(Lui, A0, 0x12345))
            .i(Inst::u(Lui, A1, -1))
            .imm(Addi, A3, A0, -1)
            .imm(Slti, A4, A1, 0)
            .imm(Sltiu, A5, A1, 5)
            .imm(Sltiu, A6, A0, -1)
            .imm(Xori, A7, A0, -1)
            .imm(Ori, S0, A0, 0xff)
            .imm(Andi, S1, A1, 0x7ff)
            .imm(Andi, S2, A1, -16)
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A2), 0x8000_1000);
        assert_eq!(x(&m, A0), 0x1234_5000);
        assert_eq!(x(&m, A1), 0xffff_ffff_ffff_f000);
        assert_eq!(x(&m, A3), 0x1234_4fff);
        assert_eq!(x(&m, A4), 1);
        assert_eq!(x(&m, A5), 0);
        assert_eq!(x(&m, A6), 1);
        assert_eq!(x(&m, A7), 0xffff_ffff_edcb_afff);
        assert_eq!(x(&m, S0), 0x1234_50ff);
        assert_eq!(x(&m, S1), 0);
        assert_eq!(x(&m, S2), 0xffff_ffff_ffff_f000);
    }

    shifts {
        let mut p = Prog::new();
        p.li(A0, 0x8000_0000_0000_0001u64 as i64)
            .imm(Slli, A1, A0, 1)
            .imm(Srli, A2, A0, 63)
            .imm(Srai, A3, A0, 62)
            .li(T0, 65)
            .r(Sll, A4, A0, T0)
            .r(Srl, A5, A0, T0)
            .r(Sra, A6, A0, T0)
            .imm(Slliw, A7, A0, 31)
            .li(T1, 0xffff_ffff_8000_0000u64 as i64)
            .imm(Srliw, S0, T1, 4)
            .imm(Sraiw, S1, T1, 4)
            .li(T2, 36)
            .r(Sllw, S2, T1, T2)
            .r(Srlw, S3, T1, T2)
            .r(Sraw, S4, T1, T2)
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A1), 2);
        assert_eq!(x(&m, A2), 1);
        assert_eq!(x(&m, A3), 0xffff_ffff_ffff_fffe);
        assert_eq!(x(&m, A4), 2);
        assert_eq!(x(&m, A5), 0x4000_0000_0000_0000);
        assert_eq!(x(&m, A6), 0xc000_0000_0000_0000);
        assert_eq!(x(&m, A7), 0xffff_ffff_8000_0000);
        assert_eq!(x(&m, S0), 0x0800_0000);
        assert_eq!(x(&m, S1), 0xffff_ffff_f800_0000);
        assert_eq!(x(&m, S2), 0);
        assert_eq!(x(&m, S3), 0x0800_0000);
        assert_eq!(x(&m, S4), 0xffff_ffff_f800_0000);
    }

    register_arithmetic {
        let mut p = Prog::new();
        p.li(A0, 0x7fff_ffff)
            .li(A1, 1)
            .r(Add, A2, A0, A1)
            .r(Addw, A3, A0, A1)
            .imm(Addiw, A4, A0, 1)
            .r(Sub, A5, A1, A0)
            .r(Subw, A6, A1, A0)
            .li(T0, -1)
            .r(Slt, A7, T0, A1)
            .r(Sltu, S0, T0, A1)
            .li(T1, 0xf0f0)
            .li(T2, 0xff00)
            .r(Xor, S1, T1, T2)
            .r(Or, S2, T1, T2)
            .r(And, S3, T1, T2)
            .r(Add, 0, A0, A1) // writes to x0 are discarded
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A2), 0x8000_0000);
        assert_eq!(x(&m, A3), 0xffff_ffff_8000_0000);
        assert_eq!(x(&m, A4), 0xffff_ffff_8000_0000);
        assert_eq!(x(&m, A5), 0xffff_ffff_8000_0002);
        assert_eq!(x(&m, A6), 0xffff_ffff_8000_0002);
        assert_eq!(x(&m, A7), 1);
        assert_eq!(x(&m, S0), 0);
        assert_eq!(x(&m, S1), 0x0ff0);
        assert_eq!(x(&m, S2), 0xfff0);
        assert_eq!(x(&m, S3), 0xf000);
        assert_eq!(x(&m, 0), 0);
    }

    branches {
        // Each case: branch over an `ori` that records "not taken".
        let cases = [
            (Beq, A0, A0), (Beq, A0, A1), (Bne, A0, A1), (Bne, A0, A0),
            (Blt, A0, A1), (Blt, A1, A0), (Bge, A1, A0), (Bge, A0, A1),
            (Bltu, A1, A0), (Bltu, A0, A1), (Bgeu, A0, A1),
        ];
        let mut p = Prog::new();
        p.li(A0, -1).li(A1, 1);
        for (k, (op, r1, r2)) in cases.into_iter().enumerate() {
            p.i(Inst::s(op, r1, r2, 8)).imm(Ori, S0, S0, 1 << k);
        }
        p.i(Inst::s(Bgeu, A1, A0, 8)).imm(Ori, S1, S1, 1);
        p.i(Inst::s(Bge, A1, A1, 8)).imm(Ori, S1, S1, 2);
        // A backward loop: 5 × 3.
        p.li(T0, 5).li(T1, 0).imm(Addi, T1, T1, 3).imm(Addi, T0, T0, -1).i(Inst::s(Bne, T0, 0, -8));
        p.end();
        let m = run(&p);
        assert_eq!(x(&m, S0), 0x2aa);
        assert_eq!(x(&m, S1), 1);
        assert_eq!(x(&m, T1), 15);
    }

    jumps {
        let mut p = Prog::new();
        p.i(Inst::u(Jal, RA, 12)) // 0
            .imm(Addi, A0, 0, 99) // 4
            .end() // 8
            .imm(Addi, A1, 0, 7) // 12
            .i(Inst::i(Jalr, A2, RA, 1)); // 16: target (ra + 1) & !1 = 4
        let m = run(&p);
        assert_eq!(x(&m, RA), RAM + 4);
        assert_eq!(x(&m, A1), 7);
        assert_eq!(x(&m, A2), RAM + 20);
        assert_eq!(x(&m, A0), 99);
        assert_eq!(m.reg(rvflash_sim::Reg::Pc), RAM + 8);
    }

    loads_and_stores {
        let mut p = Prog::new();
        p.li(S0, DATA as i64)
            .li(A0, 0x8877_6655_4433_2211u64 as i64)
            .i(Inst::s(Sd, S0, A0, 0))
            .imm(Lb, A1, S0, 7)
            .imm(Lbu, A2, S0, 7)
            .imm(Lh, A3, S0, 6)
            .imm(Lhu, A4, S0, 6)
            .imm(Lw, A5, S0, 4)
            .imm(Lwu, A6, S0, 4)
            .imm(Ld, A7, S0, 0)
            .li(T0, 0xaabb_ccdd)
            .i(Inst::s(Sb, S0, T0, 8))
            .i(Inst::s(Sh, S0, T0, 10))
            .i(Inst::s(Sw, S0, T0, 12))
            .imm(Ld, S1, S0, 8)
            // Misaligned loads from RAM work (as on QEMU).
            .imm(Lw, S2, S0, 1)
            .imm(Ld, S3, S0, 3)
            .end();
        let mut m = run(&p);
        assert_eq!(x(&m, A1), 0xffff_ffff_ffff_ff88);
        assert_eq!(x(&m, A2), 0x88);
        assert_eq!(x(&m, A3), 0xffff_ffff_ffff_8877);
        assert_eq!(x(&m, A4), 0x8877);
        assert_eq!(x(&m, A5), 0xffff_ffff_8877_6655);
        assert_eq!(x(&m, A6), 0x8877_6655);
        assert_eq!(x(&m, A7), 0x8877_6655_4433_2211);
        assert_eq!(x(&m, S1), 0xaabb_ccdd_ccdd_00dd);
        assert_eq!(x(&m, S2), 0x5544_3322);
        assert_eq!(x(&m, S3), 0xdd00_dd88_7766_5544);
        let mut buf = [0; 4];
        m.read_memory(DATA + 12, &mut buf).unwrap();
        assert_eq!(buf, [0xdd, 0xcc, 0xbb, 0xaa]);
    }

    multiply_divide {
        let mut p = Prog::new();
        p.li(A0, -7)
            .li(A1, 2)
            .r(Mul, A2, A0, A1)
            .r(Div, A3, A0, A1)
            .r(Rem, A4, A0, A1)
            .r(Divu, A5, A0, A1)
            .r(Remu, A6, A0, A1)
            .li(S0, i64::MIN)
            .li(S1, 2)
            .r(Mulh, A7, S0, S1)
            .r(Mulhu, S2, S0, S1)
            .r(Mulhsu, S3, S0, S1)
            .r(Mulhsu, S4, S1, S0)
            // Division by zero.
            .r(Div, S5, A0, 0)
            .r(Divu, S6, A0, 0)
            .r(Rem, S7, A0, 0)
            .r(Remu, S8, A0, 0)
            // Overflow.
            .li(T1, -1)
            .r(Div, S9, S0, T1)
            .r(Rem, S10, S0, T1)
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A2), 0xffff_ffff_ffff_fff2);
        assert_eq!(x(&m, A3), 0xffff_ffff_ffff_fffd);
        assert_eq!(x(&m, A4), u64::MAX);
        assert_eq!(x(&m, A5), 0x7fff_ffff_ffff_fffc);
        assert_eq!(x(&m, A6), 1);
        assert_eq!(x(&m, A7), u64::MAX);
        assert_eq!(x(&m, S2), 1);
        assert_eq!(x(&m, S3), u64::MAX);
        assert_eq!(x(&m, S4), 1);
        assert_eq!(x(&m, S5), u64::MAX);
        assert_eq!(x(&m, S6), u64::MAX);
        assert_eq!(x(&m, S7), (-7i64) as u64);
        assert_eq!(x(&m, S8), (-7i64) as u64);
        assert_eq!(x(&m, S9), 0x8000_0000_0000_0000);
        assert_eq!(x(&m, S10), 0);
    }

    multiply_divide_word {
        let mut p = Prog::new();
        p.li(A0, 0x1_8000_0000)
            .li(A1, -1)
            .li(A2, 3)
            .r(Mulw, A3, A2, A2)
            .r(Mulw, A4, A0, A2)
            .r(Divw, A5, A0, A1)
            .r(Remw, A6, A0, A1)
            .r(Divuw, A7, A0, A2)
            .r(Remuw, S0, A0, A2)
            .r(Divw, S1, A0, 0)
            .r(Divuw, S2, A0, 0)
            .r(Remw, S3, A0, 0)
            .r(Remuw, S4, A0, 0)
            .r(Divw, S5, A1, A2)
            .r(Remw, S6, A1, A2)
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A3), 9);
        assert_eq!(x(&m, A4), 0xffff_ffff_8000_0000);
        assert_eq!(x(&m, A5), 0xffff_ffff_8000_0000);
        assert_eq!(x(&m, A6), 0);
        assert_eq!(x(&m, A7), 0x2aaa_aaaa);
        assert_eq!(x(&m, S0), 2);
        assert_eq!(x(&m, S1), u64::MAX);
        assert_eq!(x(&m, S2), u64::MAX);
        assert_eq!(x(&m, S3), 0xffff_ffff_8000_0000);
        assert_eq!(x(&m, S4), 0xffff_ffff_8000_0000);
        assert_eq!(x(&m, S5), 0);
        assert_eq!(x(&m, S6), u64::MAX);
    }

    fences_and_self_modifying_code {
        let new = rvflash_backend::isa::encode(&Inst::i(Addi, A0, 0, 42)).unwrap().word();
        let mut p = Prog::new();
        p.li(T0, new as i32 as i64)
            .i(Inst { imm: 0xff, ..Inst::new(Fence) })
            .i(Inst::new(FenceTso));
        let base = p.len() as i32;
        p.i(Inst::u(Auipc, T1, 0)) // +0
            .imm(Addi, T1, T1, 32) // +4: slot
            .i(Inst::u(Jal, RA, 24)) // +8: call slot
            .r(Add, S0, A0, 0) // +12
            .i(Inst::s(Sw, T1, T0, 0)) // +16: rewrite slot
            .i(Inst::new(FenceI)) // +20
            .i(Inst::u(Jal, RA, 8)) // +24: call slot
            .i(Inst::u(Jal, 0, 12)) // +28
            .imm(Addi, A0, 0, 1) // +32: slot
            .i(Inst::i(Jalr, 0, RA, 0)) // +36
            .end(); // +40
        let _ = base;
        let m = run(&p);
        assert_eq!(x(&m, S0), 1);
        assert_eq!(x(&m, A0), 42);
    }
}
