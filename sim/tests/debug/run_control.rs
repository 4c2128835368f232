//! Halt, resume, single step, ebreak into debug mode, and the resets.

use rvflash_backend::isa::{Inst, Op};
use rvflash_sim::{Config, DebugConfig, Machine, Reg, Stop, cause};

use crate::common::*;

fn dcsr(m: &mut Machine) -> u64 {
    read_reg(m, DCSR).unwrap()
}

fn set_dcsr(m: &mut Machine, bits: u64) {
    let v = dcsr(m);
    write_reg(m, DCSR, v | bits).unwrap();
}

/// Resumes with dcsr.step set and runs; returns the stop.
fn step(m: &mut Machine) -> Stop {
    resume(m);
    m.run(1000)
}

#[test]
fn halt_and_resume() {
    let mut m = with_code(&[li(A0, 1), li(A0, 2), li(A0, 3), Inst::u(Op::Jal, 0, 0)]);
    assert_eq!(m.run(1), Stop::Budget);
    assert_eq!(
        status(&mut m) & (ALLRUNNING | ANYRUNNING | ALLHALTED),
        ALLRUNNING | ANYRUNNING
    );
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    // Halted before the write returned.
    let s = status(&mut m);
    assert_eq!(
        s & (ALLHALTED | ANYHALTED | ALLRUNNING | ANYRUNNING),
        ALLHALTED | ANYHALTED
    );
    assert!(m.debug_halted());
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert_eq!(dcsr_cause(dcsr(&mut m)), 3);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4));
    // run() returns at once without executing.
    let stats = m.stats();
    assert_eq!(m.run(100), Stop::DebugHalted);
    assert_eq!(m.stats(), stats);
    assert_eq!(x(&m, A0), 1);
    // A second halt request to a halted hart changes nothing.
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    m.dmi_write(DMCONTROL, DMACTIVE);
    // Resume: resumeack, running, and the program continues from dpc.
    assert_eq!(status(&mut m) & ALLRESUMEACK, 0);
    m.dmi_write(DMCONTROL, DMACTIVE | RESUMEREQ);
    let s = status(&mut m);
    assert_eq!(
        s & (ALLRESUMEACK | ANYRESUMEACK | ALLRUNNING),
        ALLRESUMEACK | ANYRESUMEACK | ALLRUNNING
    );
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert!(!m.debug_halted());
    assert_eq!(m.run(2), Stop::Budget);
    assert_eq!(x(&m, A0), 3);
    // resumereq to a running hart: ignored, and resumeack is cleared.
    m.dmi_write(DMCONTROL, DMACTIVE | RESUMEREQ);
    assert_eq!(status(&mut m) & (ALLRESUMEACK | ALLRUNNING), ALLRUNNING);
    // haltreq and resumereq together: the resume is ignored.
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ | RESUMEREQ);
    assert!(m.debug_halted());
}

#[test]
fn halting_a_hart_stalled_in_wfi_completes_the_wfi() {
    let mut m = with_code(&[nop(), Inst::new(Op::Wfi), li(A0, 9)]);
    assert_eq!(m.run(100), Stop::Idle);
    assert_eq!(pc(&m), RAM + 4);
    halt(&mut m);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 8));
    resume(&mut m);
    m.run(1);
    assert_eq!(x(&m, A0), 9);
    // A hart that is not stalled halts where it is.
    let mut m = with_code(&[nop(), Inst::new(Op::Wfi), li(A0, 9)]);
    m.run(1);
    halt(&mut m);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4));
}

#[test]
fn single_step() {
    let mut m = with_code(&[
        li(A0, 1),                  // 0
        Inst::s(Op::Beq, 0, 0, 12), // 4 -> 16
        li(A0, 99),                 // 8
        li(A0, 99),                 // 12
        li(A0, 2),                  // 16
        Inst::u(Op::Jal, 0, 0),     // 20
    ]);
    halt(&mut m);
    set_dcsr(&mut m, STEP);
    let mut pcs = Vec::new();
    for _ in 0..4 {
        assert_eq!(step(&mut m), Stop::DebugHalted);
        assert_eq!(dcsr_cause(dcsr(&mut m)), 4);
        pcs.push(read_reg(&mut m, DPC).unwrap() - RAM);
    }
    assert_eq!(pcs, [4, 16, 20, 20]);
    assert_eq!(x(&m, A0), 2);
    assert_eq!(m.stats().instructions, 4);
    // Clearing step: it runs freely.
    let v = dcsr(&mut m);
    write_reg(&mut m, DCSR, v & !STEP).unwrap();
    resume(&mut m);
    assert_eq!(m.run(50), Stop::Budget);
}

#[test]
fn stepping_over_a_trap_lands_on_the_handler() {
    let mut m = with_code(&[Inst::new(Op::Ecall), nop()]);
    halt(&mut m);
    write_reg(&mut m, MTVEC, RAM + 0x40).unwrap();
    set_dcsr(&mut m, STEP);
    assert_eq!(step(&mut m), Stop::DebugHalted);
    assert_eq!(dcsr_cause(dcsr(&mut m)), 4);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 0x40));
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::ECALL_M);
    assert_eq!(m.reg(Reg::Csr(MEPC)), RAM);
    // An instruction fetch fault too.
    write_reg(&mut m, DPC, 0x10).unwrap();
    assert_eq!(step(&mut m), Stop::DebugHalted);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 0x40));
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::INSTRUCTION_ACCESS);
    assert_eq!(m.reg(Reg::Csr(MTVAL)), 0x10);
}

#[test]
fn stepping_masks_interrupts_unless_stepie() {
    let mut m = with_code(&[nop(); 40]);
    halt(&mut m);
    write_reg(&mut m, MTVEC, RAM + 0x80).unwrap();
    write_reg(&mut m, 0x304, 1 << 7).unwrap(); // MTIE; mtimecmp = 0: pending
    write_reg(&mut m, MSTATUS, 1 << 3).unwrap();
    set_dcsr(&mut m, STEP);
    assert_eq!(step(&mut m), Stop::DebugHalted);
    assert_eq!(
        read_reg(&mut m, DPC),
        Ok(RAM + 4),
        "no interrupt while stepping"
    );
    set_dcsr(&mut m, STEPIE);
    assert_eq!(step(&mut m), Stop::DebugHalted);
    assert_eq!(
        read_reg(&mut m, DPC),
        Ok(RAM + 0x80),
        "the interrupt was the step"
    );
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::MACHINE_TIMER);
    assert_eq!(m.reg(Reg::Csr(MEPC)), RAM + 4);
}

#[test]
fn stepping_over_wfi_is_a_nop() {
    let mut m = with_code(&[Inst::new(Op::Wfi), nop()]);
    halt(&mut m);
    set_dcsr(&mut m, STEP);
    assert_eq!(step(&mut m), Stop::DebugHalted);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4));
}

#[test]
fn ebreak_enters_debug_mode_with_ebreakm() {
    let mut m = with_code(&[nop(), Inst::new(Op::Ebreak), Inst::new(Op::CEbreak), nop()]);
    halt(&mut m);
    write_reg(&mut m, MTVEC, RAM + 0x40).unwrap();
    set_dcsr(&mut m, EBREAKM);
    resume(&mut m);
    let stats = m.stats();
    assert_eq!(m.run(100), Stop::DebugHalted);
    assert_eq!(dcsr_cause(dcsr(&mut m)), 1);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4), "dpc is the ebreak");
    assert_eq!(
        m.stats().instructions,
        stats.instructions + 1,
        "the ebreak did not retire"
    );
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), 0, "no exception");
    // c.ebreak too.
    write_reg(&mut m, DPC, RAM + 8).unwrap();
    resume(&mut m);
    assert_eq!(m.run(100), Stop::DebugHalted);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 8));
    // Without ebreakm: the breakpoint exception.
    let v = dcsr(&mut m);
    write_reg(&mut m, DCSR, v & !EBREAKM).unwrap();
    resume(&mut m);
    m.run(1);
    assert_eq!(pc(&m), RAM + 0x40);
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::BREAKPOINT);
    // Stepping onto an ebreak with ebreakm: cause ebreak (higher priority than step).
    let mut m = with_code(&[Inst::new(Op::Ebreak)]);
    halt(&mut m);
    set_dcsr(&mut m, EBREAKM | STEP);
    assert_eq!(step(&mut m), Stop::DebugHalted);
    assert_eq!(dcsr_cause(dcsr(&mut m)), 1);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM));
}

#[test]
fn semihosting_ebreak_goes_to_the_debugger_with_ebreakm() {
    // slli x0, x0, 0x1f; ebreak; srai x0, x0, 7
    let code = [
        Inst::i(Op::Slli, 0, 0, 0x1f),
        Inst::new(Op::Ebreak),
        Inst::i(Op::Srai, 0, 0, 7),
    ];
    let mut m = with_code(&code);
    assert_eq!(m.run(10), Stop::Semihosting, "without ebreakm, as before");
    let mut m = with_code(&code);
    halt(&mut m);
    set_dcsr(&mut m, EBREAKM);
    resume(&mut m);
    assert_eq!(m.run(10), Stop::DebugHalted);
    assert_eq!(dcsr_cause(dcsr(&mut m)), 1);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 4));
}

#[test]
fn debug_csrs_are_not_visible_to_m_mode_code() {
    // csrr a0, dcsr traps as illegal; a handler at 0x40 spins.
    let mut m = with_code(&[csr(Op::Csrrs, A0, DCSR, 0)]);
    m.set_reg(Reg::Csr(MTVEC), RAM + 0x40);
    m.run(1);
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::ILLEGAL_INSTRUCTION);
    for c in [DPC, 0x7b2, 0x7b3] {
        let mut m = with_code(&[csr(Op::Csrrs, A0, c, 0)]);
        m.set_reg(Reg::Csr(MTVEC), RAM + 0x40);
        m.run(1);
        assert_eq!(
            m.reg(Reg::Csr(MCAUSE)),
            cause::ILLEGAL_INSTRUCTION,
            "{c:#x}"
        );
    }
}

#[test]
fn halt_on_reset_with_ndmreset() {
    let mut m = with_code(&[li(A0, 7), Inst::u(Op::Jal, 0, 0)]);
    m.load(DATA, &[0xab]).unwrap();
    m.run(5);
    m.push_uart_input(b"x");
    m.dmi_write(DMCONTROL, DMACTIVE | SETRESETHALTREQ);
    m.dmi_write(DMCONTROL, DMACTIVE | ACKHAVERESET);
    m.dmi_write(DMCONTROL, DMACTIVE | NDMRESET);
    // Held in reset: unavailable, not running; run() does nothing.
    let s = status(&mut m);
    assert_eq!(
        s & (ALLUNAVAIL | ANYUNAVAIL | ALLRUNNING | ALLHALTED),
        ALLUNAVAIL | ANYUNAVAIL
    );
    assert_ne!(s & ALLHAVERESET, 0);
    assert_eq!(m.run(10), Stop::DebugHalted);
    assert_eq!(read_reg(&mut m, gpr(10)), Err(4));
    m.dmi_write(DMCONTROL, DMACTIVE);
    // Released: halted at the reset pc with cause 5; registers reset; RAM kept.
    assert!(m.debug_halted());
    assert_eq!(dcsr_cause(dcsr(&mut m)), 5);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM));
    assert_eq!(x(&m, A0), 0);
    let mut b = [0];
    m.read_memory(DATA, &mut b).unwrap();
    assert_eq!(b, [0xab]);
    // Devices were reset: the UART's input is gone (LSR data-ready clear).
    m.dmi_write(SBCS, 0);
    m.dmi_write(SBADDRESS1, 0);
    m.dmi_write(SBCS, 1 << 20);
    m.dmi_write(SBADDRESS0, rvflash_sim::map::UART_BASE as u32 + 5);
    assert_eq!(m.dmi_read(SBDATA0) & 1, 0);
    // clrresethaltreq: the next reset runs.
    m.dmi_write(DMCONTROL, DMACTIVE | CLRRESETHALTREQ);
    m.dmi_write(DMCONTROL, DMACTIVE | NDMRESET);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert!(!m.debug_halted());
    assert_eq!(m.run(1), Stop::Budget);
    assert_eq!(x(&m, A0), 7);
    // setresethaltreq together with clrresethaltreq: clear wins.
    m.dmi_write(DMCONTROL, DMACTIVE | SETRESETHALTREQ | CLRRESETHALTREQ);
    m.dmi_write(DMCONTROL, DMACTIVE | NDMRESET);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert!(!m.debug_halted());
    // The host's reset (after the finisher asked for one) halts too.
    m.dmi_write(DMCONTROL, DMACTIVE | SETRESETHALTREQ);
    m.reset();
    assert!(m.debug_halted());
    assert_eq!(dcsr_cause(dcsr(&mut m)), 5);
}

#[test]
fn haltreq_held_through_hartreset_halts_at_the_reset_pc() {
    // probe-rs's reset_hart_and_halt.
    let mut m = with_code(&[li(A0, 7), Inst::u(Op::Jal, 0, 0)]);
    m.run(5);
    m.set_reg(Reg::Csr(MSCRATCH), 5);
    m.dmi_write(DMCONTROL, DMACTIVE | ACKHAVERESET);
    m.dmi_write(DMCONTROL, DMACTIVE | HARTRESET | HALTREQ);
    let readback = m.dmi_read(DMCONTROL);
    assert_ne!(readback & HARTRESET, 0, "hartreset is implemented");
    m.dmi_write(DMCONTROL, (readback & !HARTRESET) | HALTREQ | DMACTIVE);
    let s = status(&mut m);
    assert_eq!(s & (ALLHAVERESET | ALLHALTED), ALLHAVERESET | ALLHALTED);
    m.dmi_write(DMCONTROL, DMACTIVE | ACKHAVERESET);
    assert_eq!(status(&mut m) & ALLHAVERESET, 0);
    assert_eq!(dcsr_cause(dcsr(&mut m)), 3);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM));
    assert_eq!(x(&m, A0), 0);
    assert_eq!(m.reg(Reg::Csr(MSCRATCH)), 0);
    // dcsr is back to its reset value.
    assert_eq!(dcsr(&mut m) & (EBREAKM | STEP), 0);
}

#[test]
fn openocd_reset_sequence() {
    // assert_reset: haltreq + ndmreset; deassert_reset: haltreq alone, wait for !allunavail.
    let mut m = with_code(&[li(A0, 7), Inst::u(Op::Jal, 0, 0)]);
    m.run(5);
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ | NDMRESET);
    assert_ne!(status(&mut m) & ALLUNAVAIL, 0);
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    let s = status(&mut m);
    assert_eq!(
        s & (ALLUNAVAIL | ALLHALTED | ALLHAVERESET),
        ALLHALTED | ALLHAVERESET
    );
    m.dmi_write(DMCONTROL, DMACTIVE | ACKHAVERESET);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM));
    // `reset run`: no haltreq, the hart runs after the reset even if it was halted.
    m.dmi_write(DMCONTROL, DMACTIVE | NDMRESET);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert!(!m.debug_halted());
    assert_eq!(m.run(1), Stop::Budget);
    assert_eq!(x(&m, A0), 7);
}

#[test]
fn hartreset_resets_the_hart_only() {
    let mut m = with_code(&[nop(); 4]);
    halt(&mut m);
    write_reg(&mut m, gpr(5), 3).unwrap();
    // mtimecmp (CLINT) survives a hart reset, not an ndmreset.
    m.dmi_write(SBCS, 3 << 17);
    m.dmi_write(SBADDRESS0, rvflash_sim::map::CLINT_BASE as u32 + 0x4000);
    m.dmi_write(SBDATA1, 0);
    m.dmi_write(SBDATA0, 1234);
    m.dmi_write(DMCONTROL, DMACTIVE | HARTRESET);
    assert!(!m.debug_halted());
    assert_ne!(status(&mut m) & ALLUNAVAIL, 0);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert_eq!(x(&m, 5), 0);
    m.dmi_write(SBCS, 3 << 17 | 1 << 20);
    m.dmi_write(SBADDRESS0, rvflash_sim::map::CLINT_BASE as u32 + 0x4000);
    assert_eq!(m.dmi_read(SBDATA0), 1234);
    m.dmi_write(DMCONTROL, DMACTIVE | NDMRESET);
    m.dmi_write(DMCONTROL, DMACTIVE);
    m.dmi_write(SBADDRESS0, rvflash_sim::map::CLINT_BASE as u32 + 0x4000);
    assert_eq!(m.dmi_read(SBDATA0), 0);
}

#[test]
fn dmactive_low_releases_resets_and_clears_requests() {
    let mut m = with_code(&[li(A0, 7), Inst::u(Op::Jal, 0, 0)]);
    m.dmi_write(
        DMCONTROL,
        DMACTIVE | NDMRESET | HARTRESET | HALTREQ | SETRESETHALTREQ,
    );
    m.dmi_write(DMCONTROL, 0);
    // Out of reset with no halt request left: running.
    assert_eq!(m.dmi_read(DMCONTROL), 0);
    assert_eq!(m.dmi_read(DMSTATUS) & (ALLRUNNING | ALLUNAVAIL), ALLRUNNING);
    assert_eq!(m.run(1), Stop::Budget);
    assert_eq!(x(&m, A0), 7);
    // And the halt-on-reset request is gone.
    m.dmi_write(DMCONTROL, DMACTIVE);
    m.reset();
    assert!(!m.debug_halted());
}

#[test]
fn without_a_debug_module_run_is_unchanged() {
    let mut m = Machine::new(Config::default());
    m.load(RAM, &asm(&[Inst::new(Op::Ebreak)])).unwrap();
    m.set_reg(Reg::Csr(MTVEC), RAM + 0x40);
    m.run(1);
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::BREAKPOINT);
    assert!(!m.debug_halted());
    // And a debug module that nobody talks to changes nothing either.
    let mut m = Machine::new(config(DebugConfig::default()));
    m.load(RAM, &asm(&[Inst::new(Op::Ebreak)])).unwrap();
    m.set_reg(Reg::Csr(MTVEC), RAM + 0x40);
    m.run(1);
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), cause::BREAKPOINT);
}

#[test]
fn host_breakpoints_still_work() {
    let mut m = with_code(&[nop(), nop(), nop()]);
    m.set_breakpoint(RAM + 8);
    assert_eq!(m.run(100), Stop::Breakpoint(RAM + 8));
    assert_eq!(m.run(1), Stop::Budget);
    assert_eq!(pc(&m), RAM + 12);
}
