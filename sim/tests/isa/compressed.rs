//! The compressed (RVC) forms, executed as the instructions they expand to.

use rvflash_backend::isa::{Inst, Op::*};

use crate::common::*;

fn c(op: rvflash_backend::isa::Op, rd: u8, rs1: u8, rs2: u8, imm: i32) -> Inst {
    Inst {
        rd,
        rs1,
        rs2,
        imm,
        ..Inst::new(op)
    }
}

tests! {
    compressed_loads_stores_and_arithmetic {
        let mut p = Prog::new();
        p.fpu_on()
            .li(SP, DATA as i64)
            .li(A0, 0x1122_3344_5566_7788)
            .i(c(CAddi4spn, S0, SP, 0, 16))
            .i(c(CSdsp, 0, SP, A0, 0))
            .i(c(CLdsp, A1, SP, 0, 0))
            .i(c(CLwsp, A2, SP, 0, 0))
            .i(c(CLi, A3, 0, 0, -1))
            .i(c(CSwsp, 0, SP, A3, 8))
            .i(c(CMv, S1, SP, 0, 0))
            .i(c(CLw, A4, S1, 0, 8))
            .i(c(CLd, A5, S1, 0, 0))
            .i(c(CSw, 0, S1, A2, 16))
            .i(c(CSd, 0, S1, A0, 24))
            .imm(Ld, S2, S1, 16)
            .imm(Ld, S3, S1, 24)
            .fli(1, 0x4008_0000_0000_0000)
            .i(c(CFsdsp, 0, SP, 1, 32))
            .i(c(CFldsp, 2, SP, 0, 32))
            .fli(9, 0x3ff8_0000_0000_0000)
            .i(c(CFsd, 0, S1, 9, 40))
            .i(c(CFld, 10, S1, 0, 40))
            .end();
        let m = run(&p);
        assert_eq!(x(&m, S0), DATA + 16);
        assert_eq!(x(&m, A1), 0x1122_3344_5566_7788);
        assert_eq!(x(&m, A2), 0x5566_7788);
        assert_eq!(x(&m, A4), u64::MAX);
        assert_eq!(x(&m, A5), 0x1122_3344_5566_7788);
        assert_eq!(x(&m, S2), 0x5566_7788);
        assert_eq!(x(&m, S3), 0x1122_3344_5566_7788);
        assert_eq!(f(&m, 2), 0x4008_0000_0000_0000);
        assert_eq!(f(&m, 10), 0x3ff8_0000_0000_0000);
    }

    compressed_alu {
        let mut p = Prog::new();
        p.li(SP, DATA as i64)
            .i(c(CLi, A0, 0, 0, 5))
            .i(c(CAddi, A0, A0, 0, -3))
            .li(A1, 0x7fff_ffff)
            .i(c(CAddiw, A1, A1, 0, 1))
            .i(c(CLui, A2, 0, 0, 1))
            .i(c(CSlli, A2, A2, 0, 4))
            .i(c(CSrli, A2, A2, 0, 8))
            .li(A3, -256)
            .i(c(CSrai, A3, A3, 0, 4))
            .i(c(CAndi, A3, A3, 0, 31))
            .i(c(CLi, S0, 0, 0, 12))
            .i(c(CLi, S1, 0, 0, 10))
            .i(c(CMv, A4, S0, 0, 0))
            .i(c(CSub, A4, A4, S1, 0))
            .i(c(CMv, A5, S0, 0, 0))
            .i(c(CXor, A5, A5, S1, 0))
            .i(c(CMv, T0, S0, 0, 0))
            .i(c(CMv, T1, S0, 0, 0))
            .r(Add, S2, S0, 0)
            .i(c(CMv, S3, S0, 0, 0))
            .end();
        // c.or / c.and / c.subw / c.addw / c.add need x8..x15 destinations: second program.
        let m = run(&p);
        assert_eq!(x(&m, A0), 2);
        assert_eq!(x(&m, A1), 0xffff_ffff_8000_0000);
        assert_eq!(x(&m, A2), 0x100);
        assert_eq!(x(&m, A3), 16);
        assert_eq!(x(&m, A4), 2);
        assert_eq!(x(&m, A5), 6);

        let mut p = Prog::new();
        p.li(SP, DATA as i64)
            .i(c(CLi, S1, 0, 0, 10))
            .i(c(CLi, A0, 0, 0, 12))
            .i(c(COr, A0, A0, S1, 0))
            .i(c(CLi, A1, 0, 0, 12))
            .i(c(CAnd, A1, A1, S1, 0))
            .li(A2, 0x1_0000_0000)
            .i(c(CSubw, A2, A2, S1, 0))
            .li(A3, 0x7fff_ffff)
            .i(c(CAddw, A3, A3, S1, 0))
            .i(c(CLi, A4, 0, 0, 12))
            .i(c(CAdd, A4, A4, S1, 0))
            .i(c(CAddi16sp, SP, SP, 0, 32))
            .r(Add, A5, SP, 0)
            .i(c(CAddi16sp, SP, SP, 0, -32))
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A0), 14);
        assert_eq!(x(&m, A1), 8);
        assert_eq!(x(&m, A2), 0xffff_ffff_ffff_fff6);
        assert_eq!(x(&m, A3), 0xffff_ffff_8000_0009);
        assert_eq!(x(&m, A4), 22);
        assert_eq!(x(&m, A5), DATA + 32);
        assert_eq!(x(&m, SP), DATA);
    }

    compressed_control_flow {
        let mut p = Prog::new();
        p.i(c(CLi, A0, 0, 0, 0)) // 0
            .i(c(CBeqz, 0, A0, 0, 4)) // 2: taken → 6
            .i(c(CLi, A1, 0, 0, 1)) // 4: skipped
            .i(c(CBnez, 0, A0, 0, 4)) // 6: not taken
            .i(c(CLi, A2, 0, 0, 1)) // 8
            .i(c(CJ, 0, 0, 0, 4)) // 10: → 14
            .i(c(CLi, A3, 0, 0, 1)) // 12: skipped
            .i(Inst::u(Auipc, T0, 0)) // 14
            .imm(Addi, T0, T0, 16) // 18: t0 = 30
            .i(c(CJalr, RA, T0, 0, 0)) // 22: ra = 24
            .i(c(CLi, A5, 0, 0, 7)) // 24
            .i(c(CJ, 0, 0, 0, 8)) // 26: → 34
            .i(c(CLi, A4, 0, 0, 3)) // 28: never
            .i(c(CLi, A4, 0, 0, 9)) // 30
            .i(c(CJr, 0, RA, 0, 0)) // 32: → 24
            .end(); // 34
        let m = run(&p);
        assert_eq!(x(&m, A1), 0);
        assert_eq!(x(&m, A2), 1);
        assert_eq!(x(&m, A3), 0);
        assert_eq!(x(&m, A4), 9);
        assert_eq!(x(&m, A5), 7);
        assert_eq!(x(&m, RA), RAM + 24);
        assert_eq!(m.reg(rvflash_sim::Reg::Pc), RAM + 34);
    }
}
