//! The TAP state machine and the DTM, driven pin by pin.

use rvflash_backend::isa::{Inst, Op};
use rvflash_sim::{Config, DebugConfig, Machine};

use crate::common::*;

#[test]
fn idcode_is_selected_after_reset() {
    let mut m = machine();
    let mut j = Jtag::new(&mut m);
    // No IR scan: Test-Logic-Reset selected IDCODE.
    assert_eq!(j.dr(0, 32), 0x1000_0913);
    // bit 0 set, manufacturer neither 0 nor 0x7f.
    assert_eq!(0x1000_0913 & 1, 1);
    assert_eq!((0x1000_0913u32 >> 1) & 0x7f, 0x09);

    let mut m = machine_with(DebugConfig {
        idcode: 0x2000_0c01,
        ..DebugConfig::default()
    });
    let mut j = Jtag::new(&mut m);
    j.ir(IR_BYPASS);
    // TRST puts IDCODE back.
    j.m.jtag_reset();
    j.clock(false, false);
    assert_eq!(j.dr(0, 32), 0x2000_0c01);
}

#[test]
fn ir_capture_is_00001() {
    let mut m = machine();
    let mut j = Jtag::new(&mut m);
    assert_eq!(j.ir(IR_DTMCS), 0b00001);
    assert_eq!(j.ir(IR_DMI), 0b00001);
}

#[test]
fn bypass_is_one_bit_and_captures_zero() {
    let mut m = machine();
    let mut j = Jtag::new(&mut m);
    for ir in [IR_BYPASS, 0x00, 0x02, 0x12, 0x1e] {
        j.ir(ir);
        // Shifting 8 bits through a 1-bit register delays them by one, after a captured 0.
        let out = j.dr(0b1011_0110, 8);
        assert_eq!(out, 0b0110_1100, "ir {ir:#x}");
    }
}

#[test]
fn dtmcs_fields() {
    let mut m = machine();
    let mut j = Jtag::new(&mut m);
    let v = j.dtmcs(0);
    assert_eq!(v & 0xf, 1, "version 0.13");
    assert_eq!((v >> 4) & 0x3f, 7, "abits");
    assert_eq!((v >> 10) & 3, 0, "dmistat");
    assert_eq!((v >> 12) & 7, 1, "idle");
    assert_eq!(v >> 15, 0);

    for (cycles, hint) in [(0, 0), (3, 3), (9, 7)] {
        let mut m = machine_with(DebugConfig {
            dmi_idle_cycles: cycles,
            ..DebugConfig::default()
        });
        let mut j = Jtag::new(&mut m);
        assert_eq!((j.dtmcs(0) >> 12) & 7, hint);
    }
}

#[test]
fn dmi_through_the_tap() {
    let mut m = machine();
    let mut j = Jtag::new(&mut m);
    j.ir(IR_DMI);
    j.dmi_write(DATA0, 0xdead_beef);
    assert_eq!(j.dmi_read(DATA0), 0xdead_beef);
    // The capture after a write reports the address and data written.
    j.dmi(DATA1, 0x1234_5678, 2);
    assert_eq!(j.dmi(0, 0, 0), (0, 0x1234_5678, DATA1));
    // A read result carries its address.
    j.dmi(DMSTATUS, 0, 1);
    let (op, data, addr) = j.dmi(0, 0, 0);
    assert_eq!((op, addr), (0, DMSTATUS));
    assert_eq!(data & 0xf, 2, "dmstatus.version");
    assert_eq!(m.dmi_read(DATA1), 0x1234_5678);
}

#[test]
fn every_state_on_the_way_pause_and_exit2() {
    let mut m = machine();
    let mut j = Jtag::new(&mut m);
    // IR scan through Pause-IR and Exit2-IR: shift 3 bits, pause, shift 2.
    j.clock(true, false); // Select-DR
    j.clock(true, false); // Select-IR
    j.clock(false, false); // Capture-IR
    j.clock(false, false); // Shift-IR
    let ir = IR_DMI;
    for i in 0..3 {
        j.clock(i == 2, ir >> i & 1 != 0); // last one -> Exit1-IR
    }
    j.clock(false, false); // Pause-IR
    j.clock(false, false); // Pause-IR
    j.clock(true, false); // Exit2-IR
    j.clock(false, false); // Shift-IR
    for i in 3..5 {
        j.clock(i == 4, ir >> i & 1 != 0);
    }
    j.clock(true, false); // Update-IR
    j.clock(false, false); // Run-Test/Idle
    // DR scan through Pause-DR and Exit2-DR: a dmi write of data0.
    let v = (DATA0 as u64) << 34 | 0xcafe_f00du64 << 2 | 2;
    j.clock(true, false); // Select-DR
    j.clock(false, false); // Capture-DR
    j.clock(false, false); // Shift-DR
    for i in 0..20 {
        j.clock(i == 19, v >> i & 1 != 0);
    }
    j.clock(false, false); // Pause-DR
    j.clock(true, false); // Exit2-DR
    j.clock(false, false); // Shift-DR
    for i in 20..DMI_LEN {
        j.clock(i == DMI_LEN - 1, v >> i & 1 != 0);
    }
    j.clock(false, false); // Pause-DR
    j.clock(true, false); // Exit2-DR
    j.clock(true, false); // Update-DR
    j.clock(false, false); // Run-Test/Idle
    assert_eq!(m.dmi_read(DATA0), 0xcafe_f00d);

    // Exit1 -> Update without pausing, and Update-DR -> Select-DR-Scan directly.
    let mut j = Jtag::new(&mut m);
    j.ir(IR_DMI);
    j.dmi(DATA1, 7, 2);
    j.dr_no_idle(0, DMI_LEN); // a nop
    j.clock(true, false); // Update-DR -> Select-DR-Scan
    j.dr_from_select(0, DMI_LEN);
    j.clock(false, false);
    assert_eq!(m.dmi_read(DATA1), 7);

    // Five TMS=1 reach Test-Logic-Reset from anywhere (here: Shift-DR).
    let mut j = Jtag::new(&mut m);
    j.ir(IR_BYPASS);
    j.clock(true, false);
    j.clock(false, false);
    j.clock(false, false); // Shift-DR
    for _ in 0..5 {
        j.clock(true, false);
    }
    j.clock(false, false);
    assert_eq!(j.dr(0, 32), 0x1000_0913);
}

#[test]
fn tdo_pin_matches_the_cycle_output() {
    let mut m = machine();
    let mut j = Jtag::new(&mut m);
    j.clock(true, false);
    j.clock(false, false); // Capture-DR (IDCODE)
    j.clock(false, false); // Shift-DR: TDO = bit 0
    let id: u32 = 0x1000_0913;
    for i in 0..32 {
        let pin = j.m.jtag_tdo();
        let sampled = j.clock(i == 31, false);
        assert_eq!(pin, sampled);
        assert_eq!(sampled, id >> i & 1 != 0, "bit {i}");
    }
    // Outside the shift states TDO is not driven (low).
    j.clock(true, false);
    assert!(!j.m.jtag_tdo());
}

#[test]
fn dmi_busy_is_sticky_until_dmireset() {
    let mut m = machine_with(DebugConfig {
        dmi_idle_cycles: 3,
        ..DebugConfig::default()
    });
    let mut j = Jtag::new(&mut m);
    j.idle = 3;
    j.ir(IR_DMI);
    j.dmi_write(DATA0, 1);

    // Update-DR -> Select-DR-Scan -> Capture-DR with no Run-Test/Idle cycle in between.
    j.dr_no_idle((DATA0 as u64) << 34 | 3 << 2 | 2, DMI_LEN);
    j.clock(true, false); // Select-DR-Scan
    let out = j.dr_from_select((DATA0 as u64) << 34 | 4 << 2 | 2, DMI_LEN);
    j.clock(false, false);
    j.idle(5);
    assert_eq!(out & 3, 3, "busy");
    // Sticky: the write of 4 was ignored, and so are later operations.
    assert_eq!(j.dmi(DATA0, 5, 2).0, 3);
    assert_eq!(j.dmi(0, 0, 0).0, 3);
    assert_eq!((j.dtmcs(0) >> 10) & 3, 3, "dmistat");
    assert_eq!(j.m.dmi_read(DATA0), 3);
    // dmireset clears it; the DTM works again.
    j.dtmcs(1 << 16);
    assert_eq!((j.dtmcs(0) >> 10) & 3, 0);
    j.dmi_write(DATA0, 6);
    assert_eq!(j.dmi_read(DATA0), 6);
}

#[test]
fn enough_idle_cycles_never_give_busy() {
    for cycles in [0, 1, 2, 5] {
        let mut m = machine_with(DebugConfig {
            dmi_idle_cycles: cycles,
            ..DebugConfig::default()
        });
        let mut j = Jtag::new(&mut m);
        j.idle = cycles;
        j.ir(IR_DMI);
        for k in 0..10 {
            j.dmi_write(DATA0, k);
            assert_eq!(j.dmi_read(DATA0), k);
        }
    }
}

#[test]
fn failed_op_is_sticky_and_dmihardreset_forgets() {
    let mut m = machine();
    let mut j = Jtag::new(&mut m);
    j.ir(IR_DMI);
    // op 3 is reserved: the operation fails.
    j.dmi(DATA0, 9, 3);
    assert_eq!(j.dmi(DATA0, 9, 2).0, 2);
    assert_eq!(j.dmi(0, 0, 0).0, 2);
    assert_eq!((j.dtmcs(0) >> 10) & 3, 2);
    assert_eq!(j.m.dmi_read(DATA0), 0, "writes were ignored");
    // TRST does not clear it.
    j.m.jtag_reset();
    let mut j = Jtag::new(&mut m);
    j.ir(IR_DMI);
    assert_eq!(j.dmi(0, 0, 0).0, 2);
    // dmihardreset does.
    j.dtmcs(1 << 17);
    assert_eq!(j.dmi(0, 0, 0).0, 0);
    j.dmi_write(DATA0, 10);
    assert_eq!(j.dmi_read(DATA0), 10);
}

#[test]
fn dmihardreset_forgets_the_operation_in_progress() {
    let mut m = machine_with(DebugConfig {
        dmi_idle_cycles: 7,
        ..DebugConfig::default()
    });
    let mut j = Jtag::new(&mut m);
    j.idle = 0;
    j.ir(IR_DMI);
    j.dmi(DATA0, 1, 2); // in progress for 7 cycles
    j.dtmcs(1 << 17);
    // Not busy: the hard reset dropped the operation in progress, and its result.
    assert_eq!(j.dr((DATA0 as u64) << 34 | 1, DMI_LEN), 0);
}

#[test]
fn without_a_debug_module_the_pins_do_nothing() {
    let mut m = Machine::new(Config::default());
    for i in 0..100 {
        assert!(!m.jtag_cycle(i % 3 == 0, i % 2 == 0));
    }
    assert!(!m.jtag_tdo());
    m.jtag_reset();
    assert_eq!(m.dmi_read(DMSTATUS), 0);
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    assert!(!m.debug_halted());
}

#[test]
fn a_debugger_session_through_the_tap() {
    // What OpenOCD's examine() and probe-rs's attach do, bit by bit.
    let mut m = Machine::new(config(DebugConfig::default()));
    m.load(RAM, &asm(&[li(A0, 1), Inst::u(Op::Jal, 0, -4)]))
        .unwrap();
    m.run(10);
    let mut j = Jtag::new(&mut m);
    assert_eq!(j.dr(0, 32), 0x1000_0913);
    let dtmcs = j.dtmcs(0);
    assert_eq!(dtmcs & 0xf, 1);
    j.idle = (dtmcs >> 12) & 7;
    j.dtmcs(1 << 16); // dmireset
    j.dmi_write(DMCONTROL, 0);
    j.dmi_write(DMCONTROL, DMACTIVE);
    // HARTSELLEN by writing all ones.
    j.dmi_write(DMCONTROL, DMACTIVE | 0x3ff << 16 | 0x3ff << 6);
    let c = j.dmi_read(DMCONTROL);
    let hartsel = (c >> 16 & 0x3ff) | (c >> 6 & 0x3ff) << 10;
    assert_eq!(hartsel.count_ones(), 20);
    // Enumerate harts: 0 exists, 1 does not.
    j.dmi_write(DMCONTROL, DMACTIVE | 1 << 16);
    assert_ne!(j.dmi_read(DMSTATUS) & ANYNONEXISTENT, 0);
    j.dmi_write(DMCONTROL, DMACTIVE);
    let s = j.dmi_read(DMSTATUS);
    assert_eq!(s & (ANYNONEXISTENT | ALLRUNNING), ALLRUNNING);
    if s & ANYHAVERESET != 0 {
        j.dmi_write(DMCONTROL, DMACTIVE | ACKHAVERESET);
    }
    let abstractcs = j.dmi_read(ABSTRACTCS);
    assert_eq!((abstractcs & 0xf, abstractcs >> 24 & 0x1f), (2, 2));
    // Halt, then the 64-bit abstract read of s0 that tells OpenOCD XLEN is 64.
    j.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    assert_ne!(j.dmi_read(DMSTATUS) & ALLHALTED, 0);
    j.dmi_write(DMCONTROL, DMACTIVE);
    j.dmi_write(COMMAND, AARSIZE64 | TRANSFER | gpr(8) as u32);
    assert_eq!(j.dmi_read(ABSTRACTCS) >> 8 & 7, 0);
    // misa.
    j.dmi_write(COMMAND, AARSIZE64 | TRANSFER | 0x301);
    assert_eq!(j.dmi_read(DATA1) >> 30, 2, "MXL 64");
    // pc through dpc, a0 through x10.
    j.dmi_write(COMMAND, AARSIZE64 | TRANSFER | DPC as u32);
    let pc = (j.dmi_read(DATA1) as u64) << 32 | j.dmi_read(DATA0) as u64;
    assert!(pc == RAM || pc == RAM + 4);
    j.dmi_write(COMMAND, AARSIZE64 | TRANSFER | gpr(10) as u32);
    assert_eq!(j.dmi_read(DATA0), 1);
    // Memory through SBA.
    j.dmi_write(SBCS, 2 << 17 | 1 << 20);
    j.dmi_write(SBADDRESS1, 0);
    j.dmi_write(SBADDRESS0, RAM as u32);
    assert_eq!(j.dmi_read(SBDATA0), word(li(A0, 1)));
    // Resume.
    j.dmi_write(DMCONTROL, DMACTIVE | RESUMEREQ);
    assert_ne!(j.dmi_read(DMSTATUS) & ALLRESUMEACK, 0);
    assert_eq!(m.run(10), rvflash_sim::Stop::Budget);
}
