//! The program buffer: execution in debug mode, postexec, autoexec, exceptions, and the busy
//! state of a program that keeps running.

use rvflash_backend::isa::{Inst, Op};
use rvflash_sim::{DebugConfig, Reg, Stop};

use crate::common::*;

const EBREAK: u32 = 0x0010_0073;

fn lw(rd: u8, base: u8, off: i32) -> u32 {
    word(Inst::i(Op::Lw, rd, base, off))
}

fn ld(rd: u8, base: u8, off: i32) -> u32 {
    word(Inst::i(Op::Ld, rd, base, off))
}

fn sw(src: u8, base: u8, off: i32) -> u32 {
    word(Inst::s(Op::Sw, base, src, off))
}

fn addi(rd: u8, rs1: u8, imm: i32) -> u32 {
    word(Inst::i(Op::Addi, rd, rs1, imm))
}

fn jal(rd: u8, off: i32) -> u32 {
    word(Inst::u(Op::Jal, rd, off))
}

#[test]
fn postexec_runs_after_the_transfer() {
    let mut m = machine();
    halt(&mut m);
    progbuf(&mut m, &[addi(S1, S0, 1), addi(S1, S1, 1)]);
    // Write s0 = 40, then run the buffer: s1 = s0 + 2 (the implicit ebreak ends it).
    m.dmi_write(DATA0, 40);
    m.dmi_write(DATA1, 0);
    assert_eq!(
        command(
            &mut m,
            AARSIZE64 | TRANSFER | WRITE | POSTEXEC | gpr(8) as u32
        ),
        0
    );
    assert_eq!(x(&m, S1), 42);
    // Transfer = 0: only the program.
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(x(&m, S1), 42);
    // The hart is still halted; dpc and the trap CSRs did not move.
    assert!(m.debug_halted());
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM));
}

#[test]
fn memory_reads_and_writes_like_openocd() {
    let mut m = machine();
    halt(&mut m);
    m.load(DATA, &(0..64u8).collect::<Vec<_>>()).unwrap();
    // Read: s0 = address; progbuf: lw s1, 0(s0); addi s0, s0, 4. Command: read s1 + postexec,
    // repeated by autoexec on data0 reads.
    progbuf(&mut m, &[lw(S1, S0, 0), addi(S0, S0, 4)]);
    write_reg(&mut m, gpr(8), DATA).unwrap();
    write_reg(&mut m, gpr(9), 0).unwrap();
    m.dmi_write(COMMAND, AARSIZE32 | TRANSFER | POSTEXEC | gpr(9) as u32);
    m.dmi_write(ABSTRACTAUTO, 1);
    let mut words = Vec::new();
    for _ in 0..8 {
        words.push(m.dmi_read(DATA0));
    }
    m.dmi_write(ABSTRACTAUTO, 0);
    assert_eq!(cmderr(&mut m), 0);
    // The first read returns s1 from before the first load; then one word per read.
    assert_eq!(words[0], 0);
    assert_eq!(
        words[1..],
        [
            0x0302_0100,
            0x0706_0504,
            0x0b0a_0908,
            0x0f0e_0d0c,
            0x1312_1110,
            0x1716_1514,
            0x1b1a_1918
        ]
    );

    // Write: sw s1, 0(s0); addi s0, s0, 4, with autoexec on data0 writes.
    progbuf(&mut m, &[sw(S1, S0, 0), addi(S0, S0, 4)]);
    write_reg(&mut m, gpr(8), DATA + 0x100).unwrap();
    m.dmi_write(DATA0, 0xaaaa_0000);
    m.dmi_write(
        COMMAND,
        AARSIZE32 | TRANSFER | WRITE | POSTEXEC | gpr(9) as u32,
    );
    m.dmi_write(ABSTRACTAUTO, 1);
    m.dmi_write(DATA0, 0xaaaa_0001);
    m.dmi_write(DATA0, 0xaaaa_0002);
    m.dmi_write(ABSTRACTAUTO, 0);
    assert_eq!(cmderr(&mut m), 0);
    assert_eq!(mem64(&mut m, DATA + 0x100), 0xaaaa_0001_aaaa_0000);
    assert_eq!(mem64(&mut m, DATA + 0x108) as u32, 0xaaaa_0002);
}

#[test]
fn an_exception_ends_the_program_with_cmderr_3_and_changes_nothing() {
    let mut m = machine();
    halt(&mut m);
    let before = [MEPC, MCAUSE, MTVAL, MSTATUS].map(|c| m.reg(Reg::Csr(c)));
    write_reg(&mut m, gpr(8), 0x5000_0000).unwrap(); // unmapped
    write_reg(&mut m, gpr(9), 7).unwrap();
    progbuf(&mut m, &[ld(S1, S0, 0), addi(S1, S1, 1)]);
    assert_eq!(exec_progbuf(&mut m), 3);
    assert_eq!(x(&m, S1), 7, "nothing after the fault ran");
    assert_eq!(
        [MEPC, MCAUSE, MTVAL, MSTATUS].map(|c| m.reg(Reg::Csr(c))),
        before
    );
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM));
    assert!(m.debug_halted());
    // Illegal instructions, ecall, and FP with the FPU off fault too.
    for w in [
        0,
        0x0000_0073,
        0x3020_0073,
        0x7b20_0073,
        word(Inst::r(Op::FaddD, 1, 2, 3)),
    ] {
        progbuf(&mut m, &[w, EBREAK]);
        assert_eq!(exec_progbuf(&mut m), 3, "{w:#x}");
    }
    // A store fault does not store.
    write_reg(&mut m, gpr(8), rvflash_sim::map::CLINT_BASE + 0x1000).unwrap();
    progbuf(&mut m, &[sw(S1, S0, 0), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 0, "an inert CLINT word");
    write_reg(&mut m, gpr(8), 0x10).unwrap();
    assert_eq!(exec_progbuf(&mut m), 3);
}

#[test]
fn ebreak_ends_the_program_early_and_compressed_instructions_work() {
    let mut m = machine_with(DebugConfig {
        progbuf_size: 4,
        ..DebugConfig::default()
    });
    halt(&mut m);
    write_reg(&mut m, gpr(8), 0).unwrap();
    let c_addi = word(Inst {
        rd: S0,
        rs1: S0,
        imm: 3,
        ..Inst::new(Op::CAddi)
    });
    let c_ebreak = word(Inst::new(Op::CEbreak));
    // c.addi s0, 3; c.addi s0, 3 | c.ebreak; c.addi (never) | ebreak ...
    progbuf(
        &mut m,
        &[
            c_addi | c_addi << 16,
            c_ebreak | c_addi << 16,
            addi(S0, S0, 100),
            EBREAK,
        ],
    );
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(x(&m, S0), 6);
    // A 32-bit instruction straddling two words.
    progbuf(
        &mut m,
        &[
            c_addi | (addi(S0, S0, 10) & 0xffff) << 16,
            addi(S0, S0, 10) >> 16 | 0x0001 << 16,
            EBREAK,
            EBREAK,
        ],
    );
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(x(&m, S0), 6 + 3 + 10);
}

#[test]
fn csrs_fences_wfi_and_jumps_inside() {
    let mut m = machine_with(DebugConfig {
        progbuf_size: 6,
        ..DebugConfig::default()
    });
    halt(&mut m);
    // csrr s0, dcsr works in debug mode.
    progbuf(&mut m, &[word(csr(Op::Csrrs, S0, DCSR, 0)), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(x(&m, S0) >> 28, 4);
    // fence, fence.i and wfi (a nop here).
    progbuf(
        &mut m,
        &[
            word(Inst {
                imm: 0xff,
                ..Inst::new(Op::Fence)
            }),
            word(Inst::new(Op::FenceI)),
            word(Inst::new(Op::Wfi)),
            EBREAK,
        ],
    );
    assert_eq!(exec_progbuf(&mut m), 0);
    // A loop inside the buffer: s0 = 10; do { s1 += 2; s0 -= 1 } while s0 != 0.
    write_reg(&mut m, gpr(8), 10).unwrap();
    write_reg(&mut m, gpr(9), 0).unwrap();
    progbuf(
        &mut m,
        &[
            addi(S1, S1, 2),
            addi(S0, S0, -1),
            word(Inst::s(Op::Bne, S0, 0, -8)),
            EBREAK,
        ],
    );
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(x(&m, S1), 20);
    // auipc sees the buffer's address (0), so pc-relative loads fault.
    progbuf(&mut m, &[word(Inst::u(Op::Auipc, S0, 0)), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(x(&m, S0), 0);
    // Jumps out of the buffer are illegal and do not write rd.
    write_reg(&mut m, gpr(1), 5).unwrap();
    progbuf(&mut m, &[jal(1, 0x100), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 3);
    assert_eq!(x(&m, 1), 5);
    write_reg(&mut m, gpr(8), RAM).unwrap();
    progbuf(&mut m, &[word(Inst::i(Op::Jalr, 1, S0, 0)), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 3);
    // A jump to the implicit ebreak is inside: with 6 words it sits at 24.
    progbuf(&mut m, &[jal(1, 24)]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(x(&m, 1), 4);
}

#[test]
fn running_off_the_end_hits_the_implicit_ebreak() {
    let mut m = machine();
    halt(&mut m);
    write_reg(&mut m, gpr(8), 0).unwrap();
    progbuf(&mut m, &[addi(S0, S0, 1), addi(S0, S0, 1)]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(x(&m, S0), 2);
}

#[test]
fn triggers_do_not_fire_in_the_program_buffer() {
    let mut m = machine();
    halt(&mut m);
    // A load trigger on DATA, debug action.
    write_reg(&mut m, TSELECT, 0).unwrap();
    write_reg(&mut m, TDATA2, DATA).unwrap();
    write_reg(&mut m, TDATA1, 2 << 60 | 1 << 59 | 1 << 12 | 1 << 6 | 1).unwrap();
    write_reg(&mut m, gpr(8), DATA).unwrap();
    progbuf(&mut m, &[lw(S1, S0, 0), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(read_reg(&mut m, TDATA1).unwrap() & 1 << 20, 0, "no hit");
}

#[test]
fn busy_program_and_every_busy_cmderr() {
    let mut m = machine();
    halt(&mut m);
    // j . : runs forever.
    progbuf(&mut m, &[jal(0, 0), EBREAK]);
    m.dmi_write(DATA0, 0x77);
    m.dmi_write(COMMAND, POSTEXEC);
    let busy = |m: &mut rvflash_sim::Machine| m.dmi_read(ABSTRACTCS) & 1 << 12 != 0;
    assert!(busy(&mut m));
    assert_eq!(cmderr(&mut m), 0);
    // Each of these sets cmderr 1 (busy) and changes nothing.
    type Access = fn(&mut rvflash_sim::Machine);
    let accesses: [(&str, Access); 9] = [
        ("write command", |m| {
            m.dmi_write(COMMAND, AARSIZE64 | TRANSFER | gpr(1) as u32)
        }),
        ("write abstractcs", |m| m.dmi_write(ABSTRACTCS, 7 << 8)),
        ("write abstractauto", |m| m.dmi_write(ABSTRACTAUTO, 3)),
        ("write data0", |m| m.dmi_write(DATA0, 1)),
        ("write data1", |m| m.dmi_write(DATA1, 1)),
        ("write progbuf0", |m| m.dmi_write(PROGBUF0, 1)),
        ("read data0", |m| {
            m.dmi_read(DATA0);
        }),
        ("read data1", |m| {
            m.dmi_read(DATA1);
        }),
        ("read progbuf1", |m| {
            m.dmi_read(PROGBUF0 + 1);
        }),
    ];
    for (what, access) in accesses {
        access(&mut m);
        assert_eq!(cmderr(&mut m), 1, "{what}");
        // cmderr cannot be cleared while busy either.
        m.dmi_write(ABSTRACTCS, 7 << 8);
        assert_eq!(cmderr(&mut m), 1, "{what}");
        assert!(busy(&mut m));
        // Pulse dmactive to clear it (which also abandons the program), then restart it.
        m.dmi_write(DMCONTROL, 0);
        m.dmi_write(DMCONTROL, DMACTIVE);
        assert!(!busy(&mut m) && cmderr(&mut m) == 0, "{what}");
        assert!(m.debug_halted(), "a DM reset leaves the hart halted");
        progbuf(&mut m, &[jal(0, 0), EBREAK]);
        m.dmi_write(DATA0, 0x77);
        m.dmi_write(COMMAND, POSTEXEC);
        assert!(busy(&mut m));
    }
    assert_eq!(m.dmi_read(ABSTRACTAUTO), 0);
    // A hart reset abandons the command: cmderr 4.
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ | HARTRESET);
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert!(!busy(&mut m));
    assert_eq!(cmderr(&mut m), 4);
    clear_cmderr(&mut m);
    assert!(m.debug_halted());
    assert_eq!(m.dmi_read(DATA0), 0x77);
    // The hart cannot be resumed while busy; it can once the program is gone.
    progbuf(&mut m, &[jal(0, 0), EBREAK]);
    m.dmi_write(COMMAND, POSTEXEC);
    resume(&mut m);
    assert!(m.debug_halted());
    assert_eq!(m.run(10), Stop::DebugHalted);
}

#[test]
fn a_long_program_is_busy_until_it_ends() {
    let mut m = machine();
    halt(&mut m);
    // s0 = 3000; loop: s0 -= 1; bnez s0, loop  (6000 instructions)
    write_reg(&mut m, gpr(8), 3000).unwrap();
    progbuf(
        &mut m,
        &[addi(S0, S0, -1), word(Inst::s(Op::Bne, S0, 0, -4))],
    );
    m.dmi_write(COMMAND, POSTEXEC);
    let mut polls = 0;
    while m.dmi_read(ABSTRACTCS) & 1 << 12 != 0 {
        polls += 1;
        assert!(polls < 100);
    }
    assert!(polls >= 2, "{polls}");
    assert_eq!(cmderr(&mut m), 0);
    assert_eq!(x(&m, S0), 0);
}

#[test]
fn autoexec_on_progbuf_writes() {
    let mut m = machine();
    halt(&mut m);
    write_reg(&mut m, gpr(8), 0).unwrap();
    progbuf(&mut m, &[addi(S0, S0, 1), EBREAK]);
    m.dmi_write(COMMAND, POSTEXEC);
    assert_eq!(x(&m, S0), 1);
    m.dmi_write(ABSTRACTAUTO, 1 << 16 | 1 << 17);
    m.dmi_write(PROGBUF0, addi(S0, S0, 10)); // runs again
    assert_eq!(x(&m, S0), 11);
    m.dmi_read(PROGBUF0 + 1); // and on reads
    assert_eq!(x(&m, S0), 21);
    m.dmi_write(ABSTRACTAUTO, 0);
    m.dmi_write(PROGBUF0, addi(S0, S0, 100));
    assert_eq!(x(&m, S0), 21);
}

#[test]
fn counters_and_stopcount() {
    let mut m = machine();
    halt(&mut m);
    let cycle0 = read_reg(&mut m, 0xb00).unwrap();
    let instret0 = read_reg(&mut m, 0xb02).unwrap();
    progbuf(&mut m, &[nop_word(), nop_word()]);
    assert_eq!(exec_progbuf(&mut m), 0);
    // stopcount = 1 (reset value): nothing counted.
    assert_eq!(read_reg(&mut m, 0xb00), Ok(cycle0));
    assert_eq!(read_reg(&mut m, 0xb02), Ok(instret0));
    // csrw mcycle from the buffer sets exactly that value.
    write_reg(&mut m, gpr(8), 500).unwrap();
    progbuf(&mut m, &[word(csr(Op::Csrrw, 0, 0xb00, S0)), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(read_reg(&mut m, 0xb00), Ok(500));
    // stopcount = 0: each instruction counts (the ebreak does not).
    let dcsr = read_reg(&mut m, DCSR).unwrap();
    write_reg(&mut m, DCSR, dcsr & !STOPCOUNT).unwrap();
    progbuf(&mut m, &[nop_word(), nop_word()]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(read_reg(&mut m, 0xb00), Ok(502));
    assert_eq!(read_reg(&mut m, 0xb02), Ok(instret0 + 2));
    progbuf(&mut m, &[word(csr(Op::Csrrw, 0, 0xb00, S0)), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(read_reg(&mut m, 0xb00), Ok(500));
    // Time does not pass in debug mode.
    let time = read_reg(&mut m, 0xc01).unwrap();
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(read_reg(&mut m, 0xc01), Ok(time));
}

fn nop_word() -> u32 {
    addi(0, 0, 0)
}

#[test]
fn finisher_write_from_the_buffer_is_reported_by_run() {
    let mut m = machine();
    halt(&mut m);
    write_reg(&mut m, gpr(8), rvflash_sim::map::FINISHER_BASE).unwrap();
    write_reg(&mut m, gpr(9), 0x5555).unwrap();
    progbuf(&mut m, &[sw(S1, S0, 0), EBREAK]);
    assert_eq!(exec_progbuf(&mut m), 0);
    assert_eq!(m.run(10), Stop::Exited(0));
    assert_eq!(m.run(10), Stop::DebugHalted);
}
