//! The A extension.

use rvflash_backend::isa::{Inst, Op, Op::*};
use rvflash_sim::{Stop, cause};

use crate::common::*;

fn amo(op: Op, rd: u8, addr: u8, src: u8) -> Inst {
    Inst {
        rd,
        rs1: addr,
        rs2: src,
        aqrl: 0b11,
        ..Inst::new(op)
    }
}

tests! {
    lr_sc {
        let mut p = Prog::new();
        p.li(S0, DATA as i64)
            .li(T0, -5)
            .i(Inst::s(Sd, S0, T0, 0))
            .li(A2, 9)
            .i(Inst { rd: A0, rs1: S0, aqrl: 0b10, ..Inst::new(LrW) })
            .i(amo(ScW, A1, S0, A2)) // succeeds
            .i(amo(ScW, A3, S0, A2)) // no reservation: fails
            .imm(Ld, A4, S0, 0)
            // A store of another value between LR and SC makes SC fail.
            .i(Inst { rd: A5, rs1: S0, ..Inst::new(LrD) })
            .li(T1, 77)
            .i(Inst::s(Sd, S0, T1, 0))
            .i(amo(ScD, A6, S0, A2))
            .imm(Ld, A7, S0, 0)
            // SC to another address than the reservation fails.
            .i(Inst { rd: 0, rs1: S0, ..Inst::new(LrD) })
            .imm(Addi, S1, S0, 8)
            .i(amo(ScD, S2, S1, A2))
            // LR.D / SC.D success.
            .i(Inst { rd: 0, rs1: S0, ..Inst::new(LrD) })
            .i(amo(ScD, S3, S0, A2))
            .imm(Ld, S4, S0, 0)
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A0), (-5i64) as u64);
        assert_eq!(x(&m, A1), 0);
        assert_eq!(x(&m, A3), 1);
        assert_eq!(x(&m, A4), 0xffff_ffff_0000_0009);
        assert_eq!(x(&m, A5), 0xffff_ffff_0000_0009);
        assert_eq!(x(&m, A6), 1);
        assert_eq!(x(&m, A7), 77);
        assert_eq!(x(&m, S2), 1);
        assert_eq!(x(&m, S3), 0);
        assert_eq!(x(&m, S4), 9);
    }

    amo_word {
        // (op, old memory word, source, result in memory)
        let cases: [(Op, u32, u32, u32); 9] = [
            (AmoswapW, 0x8000_0000, 7, 7),
            (AmoaddW, 0xffff_ffff, 2, 1),
            (AmoxorW, 0xf0f0_f0f0, 0xff00_ff00, 0x0ff0_0ff0),
            (AmoandW, 0xf0f0_f0f0, 0xff00_ff00, 0xf000_f000),
            (AmoorW, 0xf0f0_f0f0, 0xff00_ff00, 0xfff0_fff0),
            (AmominW, 0xffff_fffb, 3, 0xffff_fffb),
            (AmomaxW, 0xffff_fffb, 3, 3),
            (AmominuW, 0xffff_fffb, 3, 3),
            (AmomaxuW, 0xffff_fffb, 3, 0xffff_fffb),
        ];
        for (op, old, src, new) in cases {
            let mut p = Prog::new();
            p.li(S0, DATA as i64)
                .li(T0, 0x5555_5555_0000_0000 | old as i64)
                .i(Inst::s(Sd, S0, T0, 0))
                .li(A1, 0x1234_0000_0000_0000 | src as i64)
                .i(amo(op, A0, S0, A1))
                .imm(Ld, A2, S0, 0)
                .end();
            let m = run(&p);
            assert_eq!(x(&m, A0), old as i32 as i64 as u64, "{op:?}: rd");
            assert_eq!(x(&m, A2), 0x5555_5555_0000_0000 | new as u64, "{op:?}: memory");
        }
    }

    amo_doubleword {
        let cases: [(Op, u64, u64, u64); 9] = [
            (AmoswapD, 1 << 63, 7, 7),
            (AmoaddD, u64::MAX, 2, 1),
            (AmoxorD, 0xf0f0, 0xff00, 0x0ff0),
            (AmoandD, 0xf0f0, 0xff00, 0xf000),
            (AmoorD, 0xf0f0, 0xff00, 0xfff0),
            (AmominD, (-5i64) as u64, 3, (-5i64) as u64),
            (AmomaxD, (-5i64) as u64, 3, 3),
            (AmominuD, (-5i64) as u64, 3, 3),
            (AmomaxuD, (-5i64) as u64, 3, (-5i64) as u64),
        ];
        for (op, old, src, new) in cases {
            let mut p = Prog::new();
            p.li(S0, DATA as i64)
                .li(T0, old as i64)
                .i(Inst::s(Sd, S0, T0, 0))
                .li(A1, src as i64)
                .i(amo(op, A0, S0, A1))
                .imm(Ld, A2, S0, 0)
                .end();
            let m = run(&p);
            assert_eq!(x(&m, A0), old, "{op:?}: rd");
            assert_eq!(x(&m, A2), new, "{op:?}: memory");
        }
    }

    atomic_faults {
        // (instruction on address in s0, s0, expected cause)
        let cases = [
            (Inst { rd: A0, rs1: S0, ..Inst::new(LrW) }, DATA + 2, cause::LOAD_MISALIGNED),
            (amo(AmoaddD, A0, S0, A1), DATA + 4, cause::STORE_MISALIGNED),
            (amo(AmoswapW, A0, S0, A1), rvflash_sim::map::UART_BASE, cause::STORE_ACCESS),
            (Inst { rd: A0, rs1: S0, ..Inst::new(LrD) }, 0, cause::LOAD_ACCESS),
        ];
        for (inst, addr, want) in cases {
            let mut p = Prog::new();
            p.li(S0, addr as i64);
            let at = RAM + p.len();
            p.i(inst);
            let mut m = machine(true);
            assert_eq!(run_until(&mut m, &p, 100), Stop::Trap { cause: want, pc: at, tval: addr });
        }
        // A misaligned SC without a reservation just fails (as on QEMU).
        let mut p = Prog::new();
        p.li(S0, (DATA + 1) as i64).i(amo(ScW, A0, S0, A1)).end();
        assert_eq!(x(&run(&p), A0), 1);
    }
}
