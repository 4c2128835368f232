//! The trigger module: enumeration as OpenOCD and probe-rs do it, WARL legalisation,
//! execute/load/store matching for types 2 and 6, both actions.

use rvflash_backend::isa::{Inst, Op};
use rvflash_sim::{Config, DebugConfig, Machine, Reg, Stop, cause};

use crate::common::*;

const T2: u64 = 2 << 60;
const T6: u64 = 6 << 60;
const DMODE: u64 = 1 << 59;
const MASKMAX63: u64 = 63 << 53;
const ACTION_DEBUG: u64 = 1 << 12;
const M: u64 = 1 << 6;
const U: u64 = 1 << 3;
const S: u64 = 1 << 4;
const EXECUTE: u64 = 1 << 2;
const STORE: u64 = 1 << 1;
const LOAD: u64 = 1;
const HIT2: u64 = 1 << 20;
const HIT6: u64 = 1 << 22;

fn match_kind(k: u64) -> u64 {
    k << 7
}

/// Sets trigger `i` (from debug mode).
fn set_trigger(m: &mut Machine, i: u64, tdata1: u64, tdata2: u64) {
    write_reg(m, TSELECT, i).unwrap();
    write_reg(m, TDATA1, 0).unwrap();
    write_reg(m, TDATA2, tdata2).unwrap();
    write_reg(m, TDATA1, tdata1).unwrap();
}

/// A program: a0 = DATA; nop; lw a1, 0(a0); sw a1, 8(a0); nop; spin.
fn program() -> Machine {
    let mut m = with_code(&[
        Inst::u(Op::Auipc, A0, 0x100), // 0: a0 = DATA
        nop(),                         // 4
        Inst::i(Op::Lw, A1, A0, 0),    // 8
        Inst::s(Op::Sw, A0, A1, 8),    // 12
        nop(),                         // 16
        Inst::u(Op::Jal, 0, 0),        // 20
    ]);
    m.load(DATA, &[0x11, 0x22, 0x33, 0x44]).unwrap();
    halt(&mut m);
    write_reg(&mut m, MTVEC, RAM + 0x100).unwrap();
    m
}

#[test]
fn enumeration_stops_at_the_configured_count() {
    for count in [0usize, 1, 4, 9] {
        let mut m = machine_with(DebugConfig {
            triggers: count,
            ..DebugConfig::default()
        });
        halt(&mut m);
        // probe-rs: write tselect, read back, read tinfo (1 = no trigger).
        let mut found = 0;
        loop {
            write_reg(&mut m, TSELECT, found).unwrap();
            if read_reg(&mut m, TSELECT).unwrap() != found {
                break;
            }
            let tinfo = read_reg(&mut m, TINFO).unwrap();
            if tinfo & 0xffff == 1 {
                break;
            }
            assert_eq!(tinfo, 1 << 2 | 1 << 6, "types 2 and 6");
            // OpenOCD: the type in tdata1 must not be 0.
            assert_eq!(read_reg(&mut m, TDATA1).unwrap() >> 60, 2);
            found += 1;
            assert!(found < 100);
        }
        assert_eq!(found, count as u64);
        // An index past the end is not taken: tselect keeps the last valid one.
        write_reg(&mut m, TSELECT, count as u64 + 5).unwrap();
        assert_eq!(
            read_reg(&mut m, TSELECT),
            Ok(count.saturating_sub(1) as u64)
        );
    }
}

#[test]
fn tdata_warl() {
    let mut m = machine();
    halt(&mut m);
    write_reg(&mut m, TSELECT, 1).unwrap();
    assert_eq!(
        read_reg(&mut m, TDATA1),
        Ok(T2 | MASKMAX63),
        "reset: a disabled mcontrol"
    );
    // OpenOCD's maybe_add_trigger_t2 reads back exactly what it wrote.
    let t = read_reg(&mut m, TDATA1).unwrap() | DMODE | ACTION_DEBUG | M | EXECUTE | LOAD | STORE;
    write_reg(&mut m, TDATA1, t).unwrap();
    assert_eq!(read_reg(&mut m, TDATA1), Ok(t));
    // Writing 0 (both debuggers clear a trigger this way) or an unsupported type: disabled
    // mcontrol again, still usable.
    for v in [0, 1 << 60, 3 << 60, 15 << 60 | 0x7f] {
        write_reg(&mut m, TDATA1, v).unwrap();
        assert_eq!(read_reg(&mut m, TDATA1), Ok(T2 | MASKMAX63), "{v:#x}");
    }
    // type 6 as written (mcontrol6 has no maskmax); s and u are stored as written.
    let t6 = T6 | DMODE | ACTION_DEBUG | M | S | U | EXECUTE;
    write_reg(&mut m, TDATA1, t6).unwrap();
    assert_eq!(read_reg(&mut m, TDATA1), Ok(t6));
    // Unsupported fields read back legal: select/timing 0, chain 0, match > 5 -> 0,
    // size 4 (48-bit) -> any, action > 1 -> 0.
    write_reg(
        &mut m,
        TDATA1,
        T2 | DMODE | 1 << 19 | 1 << 18 | 1 << 11 | match_kind(9) | 2 << 12 | M,
    )
    .unwrap();
    assert_eq!(read_reg(&mut m, TDATA1), Ok(T2 | MASKMAX63 | DMODE | M));
    write_reg(&mut m, TDATA1, T6 | 4 << 16 | M | match_kind(3)).unwrap();
    assert_eq!(read_reg(&mut m, TDATA1), Ok(T6 | M | match_kind(3)));
    write_reg(&mut m, TDATA1, T2 | 1 << 21 | 1 << 16 | M).unwrap(); // size 5 = 64-bit
    assert_eq!(
        read_reg(&mut m, TDATA1),
        Ok(T2 | MASKMAX63 | 1 << 21 | 1 << 16 | M)
    );
    // action 1 needs dmode.
    write_reg(&mut m, TDATA1, T2 | ACTION_DEBUG | M).unwrap();
    assert_eq!(read_reg(&mut m, TDATA1), Ok(T2 | MASKMAX63 | M));
    // tdata2 holds any value; tdata3 reads 0.
    write_reg(&mut m, TDATA2, u64::MAX).unwrap();
    assert_eq!(read_reg(&mut m, TDATA2), Ok(u64::MAX));
    write_reg(&mut m, TDATA3, 0x1234).unwrap();
    assert_eq!(read_reg(&mut m, TDATA3), Ok(0));
    // Each trigger has its own registers.
    write_reg(&mut m, TSELECT, 2).unwrap();
    assert_eq!(read_reg(&mut m, TDATA2), Ok(0));
}

#[test]
fn dmode_is_only_writable_from_debug_mode() {
    // M-mode code: csrw tselect, 0; csrw tdata1, t0; csrr a1, tdata1; csrw tselect, 1;
    // csrw tdata1, t0 (trigger 1 has dmode: ignored); csrw tdata2, t1 (ignored); spin.
    let mut m = with_code(&[
        csr(Op::Csrrw, 0, TSELECT, 0),
        csr(Op::Csrrw, 0, TDATA1, T0),
        csr(Op::Csrrs, A1, TDATA1, 0),
        li(A0, 1),
        csr(Op::Csrrw, 0, TSELECT, A0),
        csr(Op::Csrrw, 0, TDATA1, T0),
        csr(Op::Csrrw, 0, TDATA2, T1),
        Inst::u(Op::Jal, 0, 0),
    ]);
    halt(&mut m);
    set_trigger(&mut m, 1, T2 | DMODE | ACTION_DEBUG | M | EXECUTE, 0x1234);
    write_reg(
        &mut m,
        gpr(T0 as u16),
        T2 | DMODE | ACTION_DEBUG | M | STORE,
    )
    .unwrap();
    write_reg(&mut m, gpr(T1 as u16), 0x9999).unwrap();
    resume(&mut m);
    assert_eq!(m.run(20), Stop::Budget);
    // dmode (and so action 1) dropped for M-mode's write.
    assert_eq!(x(&m, A1), T2 | MASKMAX63 | M | STORE);
    halt(&mut m);
    write_reg(&mut m, TSELECT, 1).unwrap();
    assert_eq!(
        read_reg(&mut m, TDATA1),
        Ok(T2 | MASKMAX63 | DMODE | ACTION_DEBUG | M | EXECUTE)
    );
    assert_eq!(read_reg(&mut m, TDATA2), Ok(0x1234));
}

#[test]
fn execute_trigger_enters_debug_mode() {
    for (t, hit) in [(T2, HIT2), (T6, HIT6)] {
        let mut m = program();
        set_trigger(&mut m, 2, t | DMODE | ACTION_DEBUG | M | EXECUTE, RAM + 12);
        resume(&mut m);
        assert_eq!(m.run(100), Stop::DebugHalted);
        let dcsr = read_reg(&mut m, DCSR).unwrap();
        assert_eq!(dcsr_cause(dcsr), 2);
        assert_eq!(
            read_reg(&mut m, DPC),
            Ok(RAM + 12),
            "before the instruction"
        );
        assert_eq!(mem64(&mut m, DATA + 8), 0, "the store did not run");
        assert_ne!(read_reg(&mut m, TDATA1).unwrap() & hit, 0, "hit");
        // probe-rs: on a hardware breakpoint, disable (m = u = 0), step, re-enable.
        let t1 = read_reg(&mut m, TDATA1).unwrap();
        write_reg(&mut m, TDATA1, t1 & !(M | U)).unwrap();
        let d = read_reg(&mut m, DCSR).unwrap();
        write_reg(&mut m, DCSR, d | STEP).unwrap();
        resume(&mut m);
        assert_eq!(m.run(100), Stop::DebugHalted);
        assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 16));
        write_reg(&mut m, DCSR, d & !STEP).unwrap();
        write_reg(&mut m, TDATA1, t1).unwrap();
        resume(&mut m);
        assert_eq!(m.run(100), Stop::Budget, "past the trigger");
    }
}

#[test]
fn load_and_store_triggers() {
    for (t, hit) in [(T2, HIT2), (T6, HIT6)] {
        // Load of DATA: halts before the load (a1 not written).
        let mut m = program();
        set_trigger(&mut m, 0, t | DMODE | ACTION_DEBUG | M | LOAD, DATA);
        resume(&mut m);
        assert_eq!(m.run(100), Stop::DebugHalted);
        assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 8));
        assert_eq!(dcsr_cause(read_reg(&mut m, DCSR).unwrap()), 2);
        assert_eq!(x(&m, A1), 0);
        assert_ne!(read_reg(&mut m, TDATA1).unwrap() & hit, 0);
        // Store to DATA + 8: the store did not happen.
        let mut m = program();
        set_trigger(&mut m, 3, t | DMODE | ACTION_DEBUG | M | STORE, DATA + 8);
        resume(&mut m);
        assert_eq!(m.run(100), Stop::DebugHalted);
        assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 12));
        assert_eq!(x(&m, A1), 0x4433_2211);
        assert_eq!(mem64(&mut m, DATA + 8), 0);
        // A load trigger does not fire on the store to the same address, nor the reverse.
        let mut m = program();
        set_trigger(&mut m, 0, t | DMODE | ACTION_DEBUG | M | LOAD, DATA + 8);
        set_trigger(&mut m, 1, t | DMODE | ACTION_DEBUG | M | STORE, DATA);
        resume(&mut m);
        assert_eq!(m.run(100), Stop::Budget);
        // Disabled in M-mode (m = 0): never fires.
        let mut m = program();
        set_trigger(&mut m, 0, t | DMODE | ACTION_DEBUG | U | LOAD, DATA);
        resume(&mut m);
        assert_eq!(m.run(100), Stop::Budget);
    }
}

#[test]
fn action_0_raises_a_breakpoint_exception() {
    let mut m = program();
    set_trigger(&mut m, 0, T2 | M | LOAD, DATA);
    resume(&mut m);
    m.run(3); // auipc, nop, then the trap instead of the load
    assert_eq!(pc(&m), RAM + 0x100);
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::BREAKPOINT);
    assert_eq!(m.reg(Reg::Csr(MEPC)), RAM + 8);
    assert_eq!(m.reg(Reg::Csr(MTVAL)), DATA);
    assert_eq!(x(&m, A1), 0);
    // With catch_traps the trap is reported instead; execute trigger, type 6.
    let mut m = Machine::new(Config {
        catch_traps: true,
        ..config(DebugConfig::default())
    });
    m.load(RAM, &asm(&[nop(), nop(), nop()])).unwrap();
    m.dmi_write(DMCONTROL, DMACTIVE);
    halt(&mut m);
    set_trigger(&mut m, 0, T6 | M | EXECUTE, RAM + 4);
    resume(&mut m);
    assert_eq!(
        m.run(100),
        Stop::Trap {
            cause: cause::BREAKPOINT,
            pc: RAM + 4,
            tval: RAM + 4
        }
    );
    // Both actions at once: debug mode wins, both hits are set.
    let mut m = program();
    set_trigger(&mut m, 0, T2 | M | EXECUTE, RAM + 4);
    set_trigger(&mut m, 1, T2 | DMODE | ACTION_DEBUG | M | EXECUTE, RAM + 4);
    resume(&mut m);
    assert_eq!(m.run(100), Stop::DebugHalted);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4));
    for i in 0..2 {
        write_reg(&mut m, TSELECT, i).unwrap();
        assert_ne!(read_reg(&mut m, TDATA1).unwrap() & HIT2, 0);
    }
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), 0);
}

#[test]
fn match_kinds_and_sizes() {
    // Each case: (tdata1 extra bits, tdata2, whether the load at DATA (4 bytes) fires).
    let cases = [
        (match_kind(2), DATA, true),       // >=
        (match_kind(2), DATA + 1, false),  //
        (match_kind(3), DATA + 1, true),   // <
        (match_kind(3), DATA, false),      //
        (match_kind(1), DATA | 0x7, true), // NAPOT: 16 bytes at DATA
        (match_kind(1), (DATA + 16) | 0x7, false),
        (match_kind(1), DATA | 0x7ff, true), // 4 KiB
        (
            match_kind(4),
            0xffff_0000_u64 << 32 | (DATA & 0xffff_0000),
            true,
        ), // low half masked
        (match_kind(4), 0xffff_ffff_u64 << 32 | (DATA + 4), false),
        (match_kind(5), 0, true),         // high half & 0 == 0
        (3 << 16, DATA, true),            // size 32-bit
        (2 << 16, DATA, false),           // size 16-bit
        (1 << 21 | 1 << 16, DATA, false), // size 64-bit
    ];
    for (extra, tdata2, fires) in cases {
        let mut m = program();
        set_trigger(
            &mut m,
            0,
            T2 | DMODE | ACTION_DEBUG | M | LOAD | extra,
            tdata2,
        );
        resume(&mut m);
        let stop = m.run(100);
        assert_eq!(stop == Stop::DebugHalted, fires, "{extra:#x} {tdata2:#x}");
        if fires {
            assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 8));
        }
    }
    // Execute size: the 4-byte instruction matches size 32, not 16.
    for (size, fires) in [(3u64, true), (2, false)] {
        let mut m = program();
        set_trigger(
            &mut m,
            0,
            T6 | DMODE | ACTION_DEBUG | M | EXECUTE | size << 16,
            RAM + 4,
        );
        resume(&mut m);
        assert_eq!(m.run(100) == Stop::DebugHalted, fires);
    }
}

#[test]
fn a_trigger_on_the_stepped_instruction_reports_trigger() {
    let mut m = program();
    set_trigger(&mut m, 0, T2 | DMODE | ACTION_DEBUG | M | EXECUTE, RAM + 4);
    let d = read_reg(&mut m, DCSR).unwrap();
    write_reg(&mut m, DCSR, d | STEP).unwrap();
    resume(&mut m);
    assert_eq!(m.run(10), Stop::DebugHalted);
    assert_eq!(
        dcsr_cause(read_reg(&mut m, DCSR).unwrap()),
        4,
        "auipc stepped"
    );
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4));
    resume(&mut m);
    assert_eq!(m.run(10), Stop::DebugHalted);
    assert_eq!(
        dcsr_cause(read_reg(&mut m, DCSR).unwrap()),
        2,
        "trigger beats step"
    );
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4));
}

#[test]
fn amo_and_fp_accesses_match() {
    let mut m = with_code(&[
        Inst::u(Op::Auipc, A0, 0x100),
        Inst::r(Op::AmoaddW, A1, A0, 0),
        Inst::u(Op::Jal, 0, 0),
    ]);
    halt(&mut m);
    set_trigger(&mut m, 0, T2 | DMODE | ACTION_DEBUG | M | STORE, DATA);
    resume(&mut m);
    assert_eq!(m.run(10), Stop::DebugHalted);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4));
    // fld with the FPU off is an illegal instruction, which wins over the trigger.
    let mut m = with_code(&[Inst::u(Op::Auipc, A0, 0x100), Inst::i(Op::Fld, 1, A0, 0)]);
    halt(&mut m);
    write_reg(&mut m, MTVEC, RAM + 0x100).unwrap();
    set_trigger(&mut m, 0, T2 | DMODE | ACTION_DEBUG | M | LOAD, DATA);
    resume(&mut m);
    m.run(2);
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::ILLEGAL_INSTRUCTION);
}
