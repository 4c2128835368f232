//! Zicsr, privileged behaviour (traps, interrupts, mret, wfi), devices, semihosting and the
//! host API.

use rvflash_backend::isa::{Inst, Op::*, encode};
use rvflash_sim::map::*;
use rvflash_sim::{Reg, Stop, cause};

use crate::common::*;

const MSTATUS: u16 = 0x300;
const MISA: u16 = 0x301;
const MIE: u16 = 0x304;
const MTVEC: u16 = 0x305;
const MSCRATCH: u16 = 0x340;
const MEPC: u16 = 0x341;
const MCAUSE: u16 = 0x342;
const MTVAL: u16 = 0x343;
const MIP: u16 = 0x344;

/// Handler at RAM + 0x400: a0 = mcause, a1 = mepc, a2 = mtval, then exit(0) via the finisher.
fn with_handler(p: &mut Prog) {
    p.at(0x400)
        .csr(Csrrs, A0, MCAUSE, 0)
        .csr(Csrrs, A1, MEPC, 0)
        .csr(Csrrs, A2, MTVAL, 0)
        .li(T0, FINISHER_BASE as i64)
        .li(T1, 0x5555)
        .i(Inst::s(Sw, T0, T1, 0));
}

/// Code that sets mtvec to the handler (uses t0).
fn set_mtvec(p: &mut Prog, mode: u64) {
    p.li(T0, (RAM + 0x400 + mode) as i64)
        .csr(Csrrw, 0, MTVEC, T0);
}

/// Runs `p` with trap vectoring; expects the handler's exit and returns (mcause, mepc, mtval).
fn trap_of(p: &Prog) -> (u64, u64, u64) {
    let mut m = machine(false);
    let stop = run_until(&mut m, p, 10_000);
    assert_eq!(
        stop,
        Stop::Exited(0),
        "mcause {:#x} pc {:#x}",
        m.reg(Reg::Csr(MCAUSE)),
        m.reg(Reg::Pc)
    );
    (x(&m, A0), x(&m, A1), x(&m, A2))
}

tests! {
    csr_instructions {
        let mut p = Prog::new();
        p.li(T0, 0x1234)
            .csr(Csrrw, A0, MSCRATCH, T0) // old 0
            .li(T1, 0xff00)
            .csr(Csrrs, A1, MSCRATCH, T1) // old 0x1234
            .li(T1, 0x0034)
            .csr(Csrrc, A2, MSCRATCH, T1) // old 0xff34
            .csr(Csrrs, A3, MSCRATCH, 0) // 0xff00
            .i(Inst { rd: A4, rs1: 0x15, imm: MSCRATCH as i32, ..Inst::new(Csrrwi) })
            .i(Inst { rd: A5, rs1: 0x0a, imm: MSCRATCH as i32, ..Inst::new(Csrrsi) })
            .i(Inst { rd: A6, rs1: 0x01, imm: MSCRATCH as i32, ..Inst::new(Csrrci) })
            .csr(Csrrs, A7, MSCRATCH, 0)
            .csr(Csrrs, S0, MISA, 0)
            .csr(Csrrw, 0, MISA, 0) // WARL: ignored
            .csr(Csrrs, S1, MISA, 0)
            .csr(Csrrs, S2, 0xf14, 0) // mhartid
            .csr(Csrrs, S3, 0xf11, 0) // mvendorid
            .li(T0, 0x80)
            .csr(Csrrw, 0, MSTATUS, T0)
            .csr(Csrrs, S4, MSTATUS, 0)
            .li(T0, RAM as i64 + 0x102)
            .csr(Csrrw, 0, MTVEC, T0) // mode 2 is reserved: ignored
            .csr(Csrrs, S5, MTVEC, 0)
            .li(T0, 0x1235)
            .csr(Csrrw, 0, MEPC, T0)
            .csr(Csrrs, S6, MEPC, 0)
            .li(T0, -1)
            .csr(Csrrw, 0, MIE, T0)
            .csr(Csrrs, S7, MIE, 0)
            .csr(Csrrs, S8, MIP, 0)
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A0), 0);
        assert_eq!(x(&m, A1), 0x1234);
        assert_eq!(x(&m, A2), 0xff34);
        assert_eq!(x(&m, A3), 0xff00);
        assert_eq!(x(&m, A4), 0xff00);
        assert_eq!(x(&m, A5), 0x15);
        assert_eq!(x(&m, A6), 0x1f);
        assert_eq!(x(&m, A7), 0x1e);
        // RV64 (MXL = 2) IMAFDC.
        assert_eq!(x(&m, S0), 0x8000_0000_0000_112d);
        assert_eq!(x(&m, S1), 0x8000_0000_0000_112d);
        assert_eq!(x(&m, S2), 0);
        assert_eq!(x(&m, S3), 0);
        // MPIE, MPP hard-wired to M.
        assert_eq!(x(&m, S4), 0x1880);
        assert_eq!(x(&m, S5), 0);
        assert_eq!(x(&m, S6), 0x1234);
        assert_eq!(x(&m, S7), 0x888);
        // mtimecmp is 0 after reset (as on QEMU), so the timer interrupt is pending.
        assert_eq!(x(&m, S8), 0x80);
    }

    counters {
        let mut p = Prog::new();
        p.csr(Csrrs, A0, 0xb02, 0) // minstret = 0 (nothing retired before)
            .imm(Addi, 0, 0, 0)
            .imm(Addi, 0, 0, 0)
            .csr(Csrrs, A1, 0xc02, 0) // instret: 3 retired before
            .csr(Csrrs, A2, 0xc00, 0) // cycle: 4
            .csr(Csrrs, A3, 0xb00, 0) // mcycle: 5
            .li(T0, 1000)
            .csr(Csrrw, 0, 0xb02, T0) // minstret := 1000
            .csr(Csrrs, A4, 0xb02, 0) // the next instruction sees 1000
            .csr(Csrrs, A5, 0xc01, 0) // time
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A0), 0);
        assert_eq!(x(&m, A1), 3);
        assert_eq!(x(&m, A2), 4);
        assert_eq!(x(&m, A3), 5);
        assert_eq!(x(&m, A4), 1000);
        // 9 instructions retired before the read of time: mtime = 9 / 10.
        assert_eq!(x(&m, A5), 0);
        assert_eq!(m.stats().instructions, 9 + 1 - 1 + 1);
    }

    csr_faults {
        // Writes to read-only CSRs and any access to unknown CSRs are illegal.
        let insts = [
            Inst { rd: 0, rs1: T0, imm: 0xf14, ..Inst::new(Csrrw) },
            Inst { rd: A0, rs1: 1, imm: 0xc00, ..Inst::new(Csrrsi) },
            Inst { rd: A0, rs1: 0, imm: 0x7c0, ..Inst::new(Csrrs) },
            Inst::new(Sret),
        ];
        for inst in insts {
            let mut p = Prog::new();
            p.i(inst);
            let word = encode(&inst).unwrap().word() as u64;
            let mut m = machine(true);
            assert_eq!(
                run_until(&mut m, &p, 10),
                Stop::Trap { cause: cause::ILLEGAL_INSTRUCTION, pc: RAM, tval: word },
                "{inst:?}"
            );
        }
        // Reading a read-only CSR (csrrs with x0) is fine.
        let mut p = Prog::new();
        p.csr(Csrrs, A0, 0xf14, 0).end();
        run(&p);
    }

    exceptions_vector_to_mtvec {
        // Each case: code after mtvec is set; expected cause, mepc offset, mtval.
        let illegal = 0x0000_0057u32; // OP-V: not RV64GC
        let ebreak_at = |p: &Prog| RAM + p.len();
        let mut cases: Vec<(Prog, u64, u64, u64)> = Vec::new();

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        let at = RAM + p.len();
        p.word(illegal);
        with_handler(&mut p);
        cases.push((p, cause::ILLEGAL_INSTRUCTION, at, illegal as u64));

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        p.li(T1, 0x1000).i(Inst::i(Jalr, 0, T1, 0));
        with_handler(&mut p);
        cases.push((p, cause::INSTRUCTION_ACCESS, 0x1000, 0x1000));

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        p.li(T1, 0x10);
        let at = RAM + p.len();
        p.imm(Ld, A3, T1, 0);
        with_handler(&mut p);
        cases.push((p, cause::LOAD_ACCESS, at, 0x10));

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        p.li(T1, 0x20);
        let at = RAM + p.len();
        p.i(Inst::s(Sd, T1, A3, 0));
        with_handler(&mut p);
        cases.push((p, cause::STORE_ACCESS, at, 0x20));

        // Misaligned device access faults.
        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        p.li(T1, (CLINT_BASE + 0x4001) as i64);
        let at = RAM + p.len();
        p.imm(Lw, A3, T1, 0);
        with_handler(&mut p);
        cases.push((p, cause::LOAD_ACCESS, at, CLINT_BASE + 0x4001));

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        p.li(S0, (DATA + 1) as i64);
        let at = RAM + p.len();
        p.i(Inst { rd: A3, rs1: S0, ..Inst::new(LrW) });
        with_handler(&mut p);
        cases.push((p, cause::LOAD_MISALIGNED, at, DATA + 1));

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        p.li(S0, (DATA + 1) as i64);
        let at = RAM + p.len();
        p.i(Inst { rd: A3, rs1: S0, rs2: A3, ..Inst::new(AmoorW) });
        with_handler(&mut p);
        cases.push((p, cause::STORE_MISALIGNED, at, DATA + 1));

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        let at = RAM + p.len();
        p.i(Inst::new(Ecall));
        with_handler(&mut p);
        cases.push((p, cause::ECALL_M, at, 0));

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        let at = ebreak_at(&p);
        p.i(Inst::new(Ebreak));
        with_handler(&mut p);
        cases.push((p, cause::BREAKPOINT, at, 0));

        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        let at = ebreak_at(&p);
        p.i(Inst::new(CEbreak));
        with_handler(&mut p);
        cases.push((p, cause::BREAKPOINT, at, 0));

        // Vectored mode: exceptions still go to the base.
        let mut p = Prog::new();
        set_mtvec(&mut p, 1);
        let at = RAM + p.len();
        p.i(Inst::new(Ecall));
        with_handler(&mut p);
        cases.push((p, cause::ECALL_M, at, 0));

        for (k, (p, cause, epc, tval)) in cases.iter().enumerate() {
            assert_eq!(trap_of(p), (*cause, *epc, *tval), "case {k}");
        }
    }

    mret_returns_and_restores_mie {
        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        p.li(T0, 0x8) // MIE
            .csr(Csrrs, 0, MSTATUS, T0)
            .i(Inst::new(Ecall))
            .csr(Csrrs, A5, MSTATUS, 0)
            .li(T0, FINISHER_BASE as i64)
            .li(T1, 7 << 16 | 0x3333)
            .i(Inst::s(Sw, T0, T1, 0));
        // Handler: record mstatus, skip the ecall, mret.
        p.at(0x400)
            .csr(Csrrs, A4, MSTATUS, 0)
            .csr(Csrrs, T2, MEPC, 0)
            .imm(Addi, T2, T2, 4)
            .csr(Csrrw, 0, MEPC, T2)
            .i(Inst::new(Mret));
        let mut m = machine(false);
        assert_eq!(run_until(&mut m, &p, 1000), Stop::Exited(7));
        // In the handler: MIE = 0, MPIE = 1, MPP = M.
        assert_eq!(x(&m, A4) & 0x1888, 0x1880);
        // After mret: MIE = 1, MPIE = 1.
        assert_eq!(x(&m, A5) & 0x1888, 0x1888);
    }

    timer_interrupt_vectored_with_wfi {
        let mut p = Prog::new();
        set_mtvec(&mut p, 1);
        p.li(S0, CLINT_BASE as i64)
            .li(T1, 0xbff8)
            .r(Add, T1, S0, T1)
            .imm(Ld, A3, T1, 0) // mtime
            .imm(Addi, A3, A3, 1000)
            .li(T1, 0x4000)
            .r(Add, T1, S0, T1)
            .i(Inst::s(Sd, T1, A3, 0)) // mtimecmp = mtime + 1000
            .li(T0, 0x80)
            .csr(Csrrw, 0, MIE, T0) // MTIE
            .li(T0, 0x8)
            .csr(Csrrs, 0, MSTATUS, T0) // MIE
            .i(Inst::new(Wfi))
            .i(Inst::u(Jal, 0, 0)); // spin (never reached)
        // Vector table at 0x400: exceptions → exit(1); entry 7 → timer handler.
        p.at(0x400).i(Inst::u(Jal, 0, 0x100)); // → 0x500
        p.at(0x400 + 4 * 7).i(Inst::u(Jal, 0, 0x200 - 28)); // → 0x600
        p.at(0x500).li(T0, FINISHER_BASE as i64).li(T1, 1 << 16 | 0x3333).i(Inst::s(Sw, T0, T1, 0));
        p.at(0x600)
            .csr(Csrrs, A0, MCAUSE, 0)
            .csr(Csrrs, A1, MIP, 0)
            .li(T1, 0xbff8)
            .r(Add, T1, S0, T1)
            .imm(Ld, A2, T1, 0)
            .li(T0, FINISHER_BASE as i64)
            .li(T1, 0x5555)
            .i(Inst::s(Sw, T0, T1, 0));
        let mut m = machine(false);
        assert_eq!(run_until(&mut m, &p, 10_000), Stop::Exited(0));
        assert_eq!(x(&m, A0), 1 << 63 | 7);
        assert_eq!(x(&m, A1) & 0x80, 0x80);
        assert!(x(&m, A2) >= x(&m, A3), "mtime {} < mtimecmp {}", x(&m, A2), x(&m, A3));
        // The wfi skipped time: ~1000 ticks = ~10000 cycles, with few instructions.
        assert!(m.stats().cycles >= 10_000);
        assert!(m.stats().instructions < 100);
    }

    software_interrupt_and_wfi_without_mie {
        // msip with MSIE + MIE: interrupt cause 3.
        let mut p = Prog::new();
        set_mtvec(&mut p, 0);
        p.li(T0, 0x8).csr(Csrrw, 0, MIE, T0).li(T0, 0x8).csr(Csrrs, 0, MSTATUS, T0)
            .li(S0, CLINT_BASE as i64).li(T1, 1).i(Inst::s(Sw, S0, T1, 0))
            .i(Inst::u(Jal, 0, 0));
        with_handler(&mut p);
        let (mcause, _, _) = trap_of(&p);
        assert_eq!(mcause, 1 << 63 | 3);

        // wfi with the timer enabled in mie but mstatus.MIE = 0: wakes at the deadline and
        // continues without trapping.
        let mut p = Prog::new();
        p.li(S0, CLINT_BASE as i64)
            .li(T1, 0x4000).r(Add, T1, S0, T1)
            .li(A3, 500).i(Inst::s(Sd, T1, A3, 0))
            .li(T0, 0x80).csr(Csrrw, 0, MIE, T0)
            .i(Inst::new(Wfi))
            .csr(Csrrs, A0, 0xc01, 0)
            .csr(Csrrs, A1, MIP, 0)
            .end();
        let m = run(&p);
        assert!(x(&m, A0) >= 500);
        assert_eq!(x(&m, A1), 0x80);

        // wfi with nothing that can wake it: a deadlock is reported.
        let mut p = Prog::new();
        p.imm(Addi, A0, 0, 1);
        let at = RAM + p.len();
        p.i(Inst::new(Wfi));
        let mut m = machine(true);
        assert_eq!(run_until(&mut m, &p, 100), Stop::Idle);
        assert_eq!(m.reg(Reg::Pc), at);
    }

    clint_and_plic_registers {
        let mut p = Prog::new();
        p.li(S0, CLINT_BASE as i64)
            .li(S1, (CLINT_BASE + 0x4000) as i64)
            .li(T0, 0x1234_5678)
            .i(Inst::s(Sw, S1, T0, 0)) // mtimecmp low half
            .li(T0, 0x9)
            .i(Inst::s(Sw, S1, T0, 4)) // mtimecmp high half
            .imm(Ld, A0, S1, 0)
            .imm(Lwu, A1, S1, 4)
            .li(T1, 0xbff8)
            .r(Add, T1, S0, T1)
            .li(T0, 1_000_000)
            .i(Inst::s(Sd, T1, T0, 0)) // mtime := 1_000_000
            .csr(Csrrs, A2, 0xc01, 0) // time
            .li(T0, 1)
            .i(Inst::s(Sw, S0, T0, 0)) // msip
            .imm(Lw, A3, S0, 0)
            .csr(Csrrs, A4, MIP, 0)
            .i(Inst::s(Sw, S0, 0, 0))
            .li(T1, PLIC_BASE as i64)
            .li(T0, 7)
            .i(Inst::s(Sw, T1, T0, 4))
            .imm(Lw, A5, T1, 4)
            .end();
        let m = run(&p);
        assert_eq!(x(&m, A0), 0x9_1234_5678);
        assert_eq!(x(&m, A1), 9);
        assert!((1_000_000..1_000_002).contains(&x(&m, A2)), "time {}", x(&m, A2));
        assert_eq!(x(&m, A3), 1);
        assert_eq!(x(&m, A4), 0x8);
        assert_eq!(x(&m, A5), 0);
        // The CLINT takes only 32- and 64-bit accesses.
        let mut p = Prog::new();
        p.li(S0, CLINT_BASE as i64);
        let at = RAM + p.len();
        p.imm(Lb, A0, S0, 0);
        let mut m = machine(true);
        assert_eq!(run_until(&mut m, &p, 100), Stop::Trap { cause: cause::LOAD_ACCESS, pc: at, tval: CLINT_BASE });
    }

    uart {
        let mut p = Prog::new();
        p.li(S0, UART_BASE as i64)
            .imm(Lbu, A0, S0, 5) // LSR: THRE | TEMT | DR (input is waiting)
            .li(T0, b'H' as i64).i(Inst::s(Sb, S0, T0, 0))
            .li(T0, b'i' as i64).i(Inst::s(Sb, S0, T0, 0))
            // Divisor latch access: DLL/DLM do not transmit.
            .li(T0, 0x83).i(Inst::s(Sb, S0, T0, 3))
            .li(T0, 1).i(Inst::s(Sb, S0, T0, 0)).i(Inst::s(Sb, S0, 0, 1))
            .imm(Lbu, A1, S0, 0)
            .li(T0, 0x03).i(Inst::s(Sb, S0, T0, 3))
            .imm(Lbu, A2, S0, 5) // LSR with input: DR
            .imm(Lbu, A3, S0, 0) // RBR
            .imm(Lbu, A4, S0, 5)
            .li(T0, 0x5a).i(Inst::s(Sb, S0, T0, 7))
            .imm(Lbu, A5, S0, 7) // scratch
            .imm(Lbu, A6, S0, 2) // IIR: no interrupt
            .li(T0, 2)
            .i(Inst::s(Sb, S0, T0, 1)) // IER: THR empty
            .imm(Lbu, A7, S0, 2) // IIR: THR empty (and reading clears it)
            .imm(Lbu, S1, S0, 2) // IIR: no interrupt
            .end();
        let mut m = machine(true);
        m.push_uart_input(b"x");
        assert!(matches!(run_until(&mut m, &p, 1000), Stop::Trap { cause: cause::ECALL_M, .. }));
        assert_eq!(m.take_uart_output(), b"Hi");
        assert!(m.take_uart_output().is_empty());
        assert_eq!(x(&m, A0), 0x61);
        assert_eq!(x(&m, A1), 1);
        assert_eq!(x(&m, A2), 0x61);
        assert_eq!(x(&m, A3), b'x' as u64);
        assert_eq!(x(&m, A4), 0x60);
        assert_eq!(x(&m, A5), 0x5a);
        assert_eq!(x(&m, A6), 0x01);
        assert_eq!(x(&m, A7), 0x02);
        assert_eq!(x(&m, S1), 0x01);
    }

    finisher {
        for (value, stop) in [
            (0x5555u32, Stop::Exited(0)),
            (42 << 16 | 0x3333, Stop::Exited(42)),
            (0x7777, Stop::Reset),
        ] {
            let mut p = Prog::new();
            p.li(S0, FINISHER_BASE as i64).li(T0, value as i64).i(Inst::s(Sw, S0, T0, 0)).end();
            let mut m = machine(true);
            assert_eq!(run_until(&mut m, &p, 100), stop);
            if stop == Stop::Reset {
                m.reset();
                assert_eq!(m.reg(Reg::Pc), RAM);
                assert_eq!(m.reg(Reg::X(S0)), 0);
            }
        }
    }

    semihosting {
        let mut p = Prog::new();
        p.li(A0, 0x18).li(A1, 0x20);
        let at = RAM + p.len() + 4;
        p.imm(Slli, 0, 0, 0x1f).i(Inst::new(Ebreak)).imm(Srai, 0, 0, 7)
            .r(Add, A2, A0, 0)
            .end();
        let mut m = machine(true);
        assert_eq!(run_until(&mut m, &p, 100), Stop::Semihosting);
        assert_eq!(m.reg(Reg::Pc), at);
        assert_eq!((m.reg(Reg::X(A0)), m.reg(Reg::X(A1))), (0x18, 0x20));
        m.finish_semihosting(5);
        assert!(matches!(m.run(100), Stop::Trap { cause: cause::ECALL_M, .. }));
        assert_eq!(m.reg(Reg::X(A2)), 5);

        // With semihosting off, the sequence's ebreak is an ordinary breakpoint.
        let mut m = rvflash_sim::Machine::new(rvflash_sim::Config {
            catch_traps: true,
            semihosting: false,
            ..Default::default()
        });
        assert_eq!(run_until(&mut m, &p, 100), Stop::Trap { cause: cause::BREAKPOINT, pc: at, tval: 0 });

        // Without the marker instructions it is an ordinary ebreak.
        let mut p = Prog::new();
        p.imm(Slli, 0, 0, 0x1f).i(Inst::new(Ebreak)).imm(Srai, 0, 0, 6);
        let mut m = machine(true);
        assert_eq!(run_until(&mut m, &p, 100), Stop::Trap { cause: cause::BREAKPOINT, pc: RAM + 4, tval: 0 });
    }

    host_api {
        let mut p = Prog::new();
        p.imm(Addi, A0, 0, 1) // 0
            .imm(Addi, A0, A0, 1) // 4
            .imm(Addi, A0, A0, 1) // 8
            .i(Inst::u(Jal, 0, -4)); // 12 → 8
        let mut m = machine(true);
        m.load(RAM, &p.code).unwrap();
        m.set_breakpoint(RAM + 8);
        assert_eq!(m.run(100), Stop::Breakpoint(RAM + 8));
        assert_eq!(m.reg(Reg::X(A0)), 2);
        // Resuming steps over the breakpoint and stops there again after one loop.
        assert_eq!(m.run(100), Stop::Breakpoint(RAM + 8));
        assert_eq!(m.reg(Reg::X(A0)), 3);
        m.clear_breakpoint(RAM + 8);
        assert_eq!(m.run(10), Stop::Budget);
        assert_eq!(m.stats().instructions, 2 + 2 + 10);
        m.set_reg(Reg::X(A0), 100);
        m.set_reg(Reg::X(0), 100);
        m.set_reg(Reg::Csr(MSCRATCH), 9);
        assert_eq!(m.reg(Reg::X(A0)), 100);
        assert_eq!(m.reg(Reg::X(0)), 0);
        assert_eq!(m.reg(Reg::Csr(MSCRATCH)), 9);
        assert!(m.load(RAM + (4 << 20) - 2, &[0; 4]).is_err());
        assert!(m.load(0, &[0; 4]).is_err());
        let mut buf = [0u8; 4];
        assert!(m.read_memory(UART_BASE, &mut buf).is_err());
        m.write_memory(DATA, &[1, 2, 3, 4]).unwrap();
        m.read_memory(DATA, &mut buf).unwrap();
        assert_eq!(buf, [1, 2, 3, 4]);
        // A trap loop still honours the budget (mtvec = 0 is unmapped).
        let mut m = machine(false);
        m.set_reg(Reg::Pc, 0x1000);
        assert_eq!(m.run(50), Stop::Budget);
        assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::INSTRUCTION_ACCESS);
    }
}
