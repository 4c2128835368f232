//! Access Register abstract commands and every cmderr they produce.

use rvflash_sim::{DebugConfig, Reg};

use crate::common::*;

#[test]
fn gprs_64_and_32_bit() {
    let mut m = machine();
    halt(&mut m);
    write_reg(&mut m, gpr(8), 0x0123_4567_89ab_cdef).unwrap();
    assert_eq!(x(&m, 8), 0x0123_4567_89ab_cdef);
    assert_eq!(read_reg(&mut m, gpr(8)), Ok(0x0123_4567_89ab_cdef));
    // a0 holds the hart id after reset.
    assert_eq!(read_reg(&mut m, gpr(10)), Ok(0));
    // 32-bit read: the low half in data0, data1 untouched.
    m.dmi_write(DATA1, 0x5555_5555);
    assert_eq!(command(&mut m, AARSIZE32 | TRANSFER | gpr(8) as u32), 0);
    assert_eq!(m.dmi_read(DATA0), 0x89ab_cdef);
    assert_eq!(m.dmi_read(DATA1), 0x5555_5555);
    // 32-bit write: zero-extended.
    m.dmi_write(DATA0, 0x8000_0001);
    assert_eq!(
        command(&mut m, AARSIZE32 | TRANSFER | WRITE | gpr(9) as u32),
        0
    );
    assert_eq!(x(&m, 9), 0x8000_0001);
    // x0 stays 0.
    write_reg(&mut m, gpr(0), 7).unwrap();
    assert_eq!(read_reg(&mut m, gpr(0)), Ok(0));
    // Every GPR.
    for n in 1..32 {
        write_reg(&mut m, gpr(n), 1000 + n as u64).unwrap();
    }
    for n in 1..32 {
        assert_eq!(x(&m, n as u8), 1000 + n as u64);
        assert_eq!(read_reg(&mut m, gpr(n)), Ok(1000 + n as u64));
    }
}

#[test]
fn fprs_even_with_the_fpu_off() {
    let mut m = machine();
    halt(&mut m);
    assert_eq!(read_reg(&mut m, MSTATUS).unwrap() & 3 << 13, 0, "FS off");
    write_reg(&mut m, fpr(3), 0x4009_21fb_5444_2d18).unwrap();
    assert_eq!(m.reg(Reg::F(3)), 0x4009_21fb_5444_2d18);
    assert_eq!(read_reg(&mut m, fpr(3)), Ok(0x4009_21fb_5444_2d18));
    // 32-bit write of a single: NaN-boxed.
    m.dmi_write(DATA0, 0x3f80_0000);
    assert_eq!(
        command(&mut m, AARSIZE32 | TRANSFER | WRITE | fpr(31) as u32),
        0
    );
    assert_eq!(m.reg(Reg::F(31)), 0xffff_ffff_3f80_0000);
    assert_eq!(command(&mut m, AARSIZE32 | TRANSFER | fpr(31) as u32), 0);
    assert_eq!(m.dmi_read(DATA0), 0x3f80_0000);
    // The FP CSRs too, and mstatus is left alone.
    write_reg(&mut m, 0x003, 0xff).unwrap(); // fcsr
    assert_eq!(read_reg(&mut m, 0x001), Ok(0x1f)); // fflags
    assert_eq!(read_reg(&mut m, 0x002), Ok(7)); // frm
    assert_eq!(read_reg(&mut m, MSTATUS).unwrap() & 3 << 13, 0);
}

#[test]
fn csrs() {
    let mut m = machine();
    halt(&mut m);
    write_reg(&mut m, MSCRATCH, 0xfeed_f00d_dead_beef).unwrap();
    assert_eq!(m.reg(Reg::Csr(MSCRATCH)), 0xfeed_f00d_dead_beef);
    assert_eq!(read_reg(&mut m, MSCRATCH), Ok(0xfeed_f00d_dead_beef));
    // misa: RV64 IMAFDC.
    assert_eq!(read_reg(&mut m, 0x301), Ok(2 << 62 | 0x112d));
    // WARL: mtvec mode 2 is ignored, as for csrw.
    write_reg(&mut m, MTVEC, RAM + 0x102).unwrap();
    assert_eq!(read_reg(&mut m, MTVEC), Ok(0));
    // mcycle and minstret take the value written.
    write_reg(&mut m, 0xb00, 1000).unwrap();
    write_reg(&mut m, 0xb02, 2000).unwrap();
    assert_eq!(read_reg(&mut m, 0xb00), Ok(1000));
    assert_eq!(read_reg(&mut m, 0xb02), Ok(2000));
    assert_eq!(read_reg(&mut m, 0xc00), Ok(1000)); // cycle
}

#[test]
fn dcsr_and_dpc() {
    let mut m = with_code(&[nop(), nop(), li(A0, 5), nop()]);
    assert_eq!(m.run(2), rvflash_sim::Stop::Budget);
    halt(&mut m);
    let dcsr = read_reg(&mut m, DCSR).unwrap();
    assert_eq!(dcsr >> 28, 4, "xdebugver");
    assert_eq!(dcsr_cause(dcsr), 3, "haltreq");
    assert_eq!(dcsr & 3, 3, "prv M");
    assert_eq!(
        dcsr & (1 << 9 | 1 << 10),
        1 << 9 | 1 << 10,
        "stoptime, stopcount"
    );
    assert_eq!(dcsr & EBREAKM, 0);
    assert_eq!(read_reg(&mut m, DPC), Ok(RAM + 8));
    // dpc is where the hart resumes: skip the li.
    write_reg(&mut m, DPC, RAM + 12).unwrap();
    resume(&mut m);
    m.run(1);
    assert_eq!(x(&m, A0), 0);
    assert_eq!(pc(&m), RAM + 16);
    // Writable dcsr bits: ebreakm, stepie, stopcount, step; the rest stays.
    halt(&mut m);
    write_reg(&mut m, DCSR, 0xffff_ffff).unwrap();
    let dcsr = read_reg(&mut m, DCSR).unwrap();
    assert_eq!(
        dcsr,
        4 << 28 | EBREAKM | STEPIE | STOPCOUNT | 1 << 9 | 3 << 6 | STEP | 3
    );
    write_reg(&mut m, DCSR, 0).unwrap();
    assert_eq!(read_reg(&mut m, DCSR), Ok(4 << 28 | 1 << 9 | 3 << 6 | 3));
    // dscratch0/1 exist in debug mode.
    write_reg(&mut m, 0x7b2, 11).unwrap();
    write_reg(&mut m, 0x7b3, 12).unwrap();
    assert_eq!(read_reg(&mut m, 0x7b2), Ok(11));
    assert_eq!(read_reg(&mut m, 0x7b3), Ok(12));
}

#[test]
fn nonexistent_registers_fail_with_exception() {
    let mut m = machine();
    halt(&mut m);
    for regno in [
        0x7c0, 0x5a5, 0x3a1, 0x7a5, 0x7b4, 0x1040, 0x2000, 0xc000, 0xffff,
    ] {
        assert_eq!(read_reg(&mut m, regno), Err(3), "read {regno:#x}");
        assert_eq!(write_reg(&mut m, regno, 0), Err(3), "write {regno:#x}");
    }
    // Read-only CSRs can be read, not written.
    assert_eq!(read_reg(&mut m, 0xf14), Ok(0)); // mhartid
    assert_eq!(write_reg(&mut m, 0xf14, 1), Err(3));
    assert_eq!(write_reg(&mut m, 0xc00, 1), Err(3)); // cycle
}

#[test]
fn not_supported_commands() {
    let mut m = machine();
    halt(&mut m);
    // aarsize 128 and the reserved sizes.
    for size in [0, 1, 4, 5, 6, 7] {
        assert_eq!(
            command(&mut m, size << 20 | TRANSFER | gpr(1) as u32),
            2,
            "{size}"
        );
    }
    // Without transfer the size does not matter.
    assert_eq!(command(&mut m, 7 << 20 | gpr(1) as u32), 0);
    // Quick Access, Access Memory, and undefined command types.
    for cmdtype in [1u32, 2, 3, 0xff] {
        assert_eq!(command(&mut m, cmdtype << 24), 2, "cmdtype {cmdtype}");
    }
    // Not supported wins over halt/resume: the hart runs now.
    resume(&mut m);
    assert_eq!(command(&mut m, 2 << 24), 2);
    assert_eq!(command(&mut m, 4 << 20 | TRANSFER | gpr(1) as u32), 2);
    // postexec without a program buffer.
    let mut m = machine_with(DebugConfig {
        progbuf_size: 0,
        ..DebugConfig::default()
    });
    halt(&mut m);
    assert_eq!(command(&mut m, POSTEXEC), 2);
    assert_eq!(command(&mut m, AARSIZE64 | TRANSFER | gpr(1) as u32), 0);
}

#[test]
fn commands_need_a_halted_hart() {
    let mut m = machine();
    assert_eq!(read_reg(&mut m, gpr(1)), Err(4));
    assert_eq!(write_reg(&mut m, gpr(1), 1), Err(4));
    assert_eq!(command(&mut m, POSTEXEC), 4);
    assert_eq!(command(&mut m, 0), 4);
    // Held in reset the hart is unavailable: halt/resume too.
    m.dmi_write(DMCONTROL, DMACTIVE | HARTRESET);
    assert_eq!(read_reg(&mut m, gpr(1)), Err(4));
}

#[test]
fn cmderr_blocks_commands_until_cleared() {
    let mut m = machine();
    halt(&mut m);
    m.dmi_write(COMMAND, AARSIZE64 | TRANSFER | 0x7c0);
    assert_eq!(cmderr(&mut m), 3);
    // Ignored: the read of s0 does not happen.
    m.dmi_write(DATA0, 0);
    m.dmi_write(DATA1, 0);
    m.dmi_write(COMMAND, AARSIZE64 | TRANSFER | WRITE | gpr(8) as u32);
    m.dmi_write(DATA0, 99);
    m.dmi_write(COMMAND, AARSIZE64 | TRANSFER | WRITE | gpr(8) as u32);
    assert_eq!(x(&m, 8), 0);
    assert_eq!(cmderr(&mut m), 3, "the first error stays");
    // W1C: writing 0 bits changes nothing, writing the bits clears.
    m.dmi_write(ABSTRACTCS, 0);
    assert_eq!(cmderr(&mut m), 3);
    m.dmi_write(ABSTRACTCS, 1 << 8);
    assert_eq!(cmderr(&mut m), 2);
    m.dmi_write(ABSTRACTCS, 2 << 8);
    assert_eq!(cmderr(&mut m), 0);
    m.dmi_write(COMMAND, AARSIZE64 | TRANSFER | WRITE | gpr(8) as u32);
    assert_eq!(x(&m, 8), 99);
}

#[test]
fn postincrement_with_autoexec_reads_a_register_range() {
    let mut m = machine();
    halt(&mut m);
    for n in 1..8 {
        m.set_reg(Reg::X(n), 0x100 * n as u64);
    }
    m.dmi_write(
        COMMAND,
        AARSIZE64 | TRANSFER | AARPOSTINCREMENT | gpr(1) as u32,
    );
    assert_eq!(cmderr(&mut m), 0);
    m.dmi_write(ABSTRACTAUTO, 1); // autoexecdata[0]
    // Each read of data0 returns the value, then runs the command for the next register.
    let mut got = Vec::new();
    for _ in 1..7 {
        got.push(m.dmi_read(DATA0));
    }
    m.dmi_write(ABSTRACTAUTO, 0);
    got.push(m.dmi_read(DATA0));
    assert_eq!(got, [0x100, 0x200, 0x300, 0x400, 0x500, 0x600, 0x700]);
    assert_eq!(cmderr(&mut m), 0);

    // Burst writes through autoexec on data0 writes.
    m.dmi_write(DATA1, 0);
    m.dmi_write(DATA0, 0xa);
    m.dmi_write(
        COMMAND,
        AARSIZE64 | TRANSFER | WRITE | AARPOSTINCREMENT | gpr(10) as u32,
    );
    m.dmi_write(ABSTRACTAUTO, 1);
    m.dmi_write(DATA0, 0xb);
    m.dmi_write(DATA0, 0xc);
    m.dmi_write(ABSTRACTAUTO, 0);
    assert_eq!((x(&m, 10), x(&m, 11), x(&m, 12)), (0xa, 0xb, 0xc));
}

#[test]
fn autoexec_on_data1_and_regno_wrap() {
    let mut m = machine();
    halt(&mut m);
    m.set_reg(Reg::X(31), 3);
    m.dmi_write(
        COMMAND,
        AARSIZE64 | TRANSFER | AARPOSTINCREMENT | gpr(31) as u32,
    );
    // regno 0x101f + 1 = 0x1020: f0.
    m.set_reg(Reg::F(0), 77);
    m.dmi_write(ABSTRACTAUTO, 2); // autoexecdata[1]
    assert_eq!(m.dmi_read(DATA0), 3);
    m.dmi_read(DATA1); // runs the command again: f0
    m.dmi_write(ABSTRACTAUTO, 0);
    assert_eq!(m.dmi_read(DATA0), 77);
    // A register that does not exist fails before the increment.
    m.dmi_write(COMMAND, AARSIZE64 | TRANSFER | AARPOSTINCREMENT | 0xffff);
    assert_eq!(cmderr(&mut m), 3);
}

#[test]
fn csr_writes_have_m_mode_side_effects() {
    // Enabling the timer interrupt through the debugger takes effect after resuming.
    let mut m = with_code(&[nop(); 80]);
    halt(&mut m);
    write_reg(&mut m, MTVEC, RAM + 0x100).unwrap();
    write_reg(&mut m, 0x304, 1 << 7).unwrap(); // mie.MTIE
    write_reg(&mut m, MSTATUS, 1 << 3).unwrap(); // MIE
    resume(&mut m);
    m.run(1);
    // mtimecmp is 0 after reset, so the timer interrupt was pending: taken at once.
    assert_eq!(m.reg(Reg::Csr(MCAUSE)), 1 << 63 | 7);
    assert_eq!(pc(&m), RAM + 0x104);
}
