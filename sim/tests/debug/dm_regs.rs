//! The Debug Module's registers and their fields.

use rvflash_sim::{Config, DebugConfig, Machine};

use crate::common::*;

/// dmstatus bits that never change: impebreak, authenticated, hasresethaltreq, version 2.
const FIXED: u32 = 1 << 22 | 1 << 7 | 1 << 5 | 2;

#[test]
fn dmstatus_at_power_up() {
    let mut m = Machine::new(config(DebugConfig::default()));
    // Readable before dmactive is set; the hart runs and has been reset (power-up).
    let s = m.dmi_read(DMSTATUS);
    assert_eq!(
        s,
        FIXED | ALLHAVERESET | ANYHAVERESET | ALLRUNNING | ANYRUNNING
    );
    assert_eq!(s & (1 << 6 | 1 << 4), 0, "authbusy, confstrptrvalid");
}

#[test]
fn dmcontrol_fields() {
    let mut m = Machine::new(config(DebugConfig::default()));
    assert_eq!(m.dmi_read(DMCONTROL), 0);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert_eq!(m.dmi_read(DMCONTROL), DMACTIVE);
    // hartsel: all 20 bits are writable (HARTSELLEN = 20); hasel is tied to 0.
    m.dmi_write(DMCONTROL, DMACTIVE | 0x3ff << 16 | 0x3ff << 6 | 1 << 26);
    assert_eq!(m.dmi_read(DMCONTROL), DMACTIVE | 0x3ff << 16 | 0x3ff << 6);
    // Only hart 0 exists.
    assert_eq!(
        m.dmi_read(DMSTATUS),
        FIXED | ALLNONEXISTENT | ANYNONEXISTENT
    );
    m.dmi_write(DMCONTROL, DMACTIVE | 1 << 16);
    assert_eq!(
        m.dmi_read(DMSTATUS),
        FIXED | ALLNONEXISTENT | ANYNONEXISTENT
    );
    assert_eq!(m.dmi_read(HARTINFO), 0);
    // A halt request to a nonexistent hart does nothing.
    m.dmi_write(DMCONTROL, DMACTIVE | 1 << 6 | HALTREQ);
    assert!(!m.debug_halted());
    m.dmi_write(DMCONTROL, DMACTIVE);
    // haltreq is write-only (reads 0); resumereq and ackhavereset too.
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    assert_eq!(m.dmi_read(DMCONTROL), DMACTIVE);
    assert!(m.debug_halted());
}

#[test]
fn hartinfo_and_abstractcs() {
    let mut m = machine();
    // nscratch 2 (dscratch0/1), data registers not shadowed.
    assert_eq!(m.dmi_read(HARTINFO), 2 << 20);
    // progbufsize 2, busy 0, cmderr 0, datacount 2.
    assert_eq!(m.dmi_read(ABSTRACTCS), 2 << 24 | 2);
    for (size, expect) in [(0, 0), (1, 1), (8, 8), (16, 16), (40, 16)] {
        let mut m = machine_with(DebugConfig {
            progbuf_size: size,
            ..DebugConfig::default()
        });
        assert_eq!(
            m.dmi_read(ABSTRACTCS),
            expect << 24 | 2,
            "progbuf_size {size}"
        );
        // impebreak with any program buffer (required with size 1).
        assert_eq!(m.dmi_read(DMSTATUS) >> 22 & 1, (expect != 0) as u32);
    }
}

#[test]
fn abstractauto_keeps_the_implemented_bits() {
    let mut m = machine();
    m.dmi_write(ABSTRACTAUTO, 0xffff_ffff);
    assert_eq!(m.dmi_read(ABSTRACTAUTO), 0b11 << 16 | 0b11);
    let mut m = machine_with(DebugConfig {
        progbuf_size: 16,
        ..DebugConfig::default()
    });
    m.dmi_write(ABSTRACTAUTO, 0xffff_ffff);
    assert_eq!(m.dmi_read(ABSTRACTAUTO), 0xffff << 16 | 0b11);
    m.dmi_write(ABSTRACTAUTO, 0);
    assert_eq!(m.dmi_read(ABSTRACTAUTO), 0);
}

#[test]
fn data_and_progbuf_are_plain_registers() {
    let mut m = machine();
    m.dmi_write(DATA0, 0x1111_1111);
    m.dmi_write(DATA1, 0x2222_2222);
    m.dmi_write(PROGBUF0, 0x3333_3333);
    m.dmi_write(PROGBUF0 + 1, 0x4444_4444);
    assert_eq!(m.dmi_read(DATA0), 0x1111_1111);
    assert_eq!(m.dmi_read(DATA1), 0x2222_2222);
    assert_eq!(m.dmi_read(PROGBUF0), 0x3333_3333);
    assert_eq!(m.dmi_read(PROGBUF0 + 1), 0x4444_4444);
    // Unimplemented ones read 0 and ignore writes.
    for addr in [0x06, 0x0f, PROGBUF0 + 2, 0x2f] {
        m.dmi_write(addr, 0x5555_5555);
        assert_eq!(m.dmi_read(addr), 0, "{addr:#x}");
    }
}

#[test]
fn unimplemented_and_write_only_registers_read_zero() {
    let mut m = machine();
    // command (write-only), authdata (no authentication), hawindowsel/hawindow,
    // confstrptr0..3, nextdm, sbaddress2/3, sbdata2/3, reserved addresses.
    for addr in [
        COMMAND, AUTHDATA, 0x14, 0x15, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x3b, 0x37, 0x3e, 0x3f, 0x1e,
        0x41, 0x7f,
    ] {
        m.dmi_write(addr, 0x00ff_ffff);
        assert_eq!(m.dmi_read(addr), 0, "{addr:#x}");
    }
    clear_cmderr(&mut m);
}

#[test]
fn writes_are_ignored_while_the_dm_is_inactive_and_dmactive_resets_it() {
    let mut m = Machine::new(config(DebugConfig::default()));
    m.dmi_write(DATA0, 5);
    m.dmi_write(SBCS, 1 << 16);
    assert_eq!(m.dmi_read(DATA0), 0);
    m.dmi_write(DMCONTROL, DMACTIVE);
    m.dmi_write(DATA0, 5);
    m.dmi_write(PROGBUF0, 6);
    m.dmi_write(ABSTRACTAUTO, 1);
    m.dmi_write(SBCS, 1 << 16 | 3 << 17);
    m.dmi_write(SBADDRESS0, 0x1234);
    m.dmi_write(COMMAND, 0xff << 24); // cmderr 2
    assert_eq!(cmderr(&mut m), 2);
    // Pulse dmactive: everything back to reset values.
    m.dmi_write(DMCONTROL, 0);
    m.dmi_write(DMCONTROL, DMACTIVE);
    for (addr, v) in [
        (DATA0, 0),
        (PROGBUF0, 0),
        (ABSTRACTAUTO, 0),
        (ABSTRACTCS, 2 << 24 | 2),
        (SBADDRESS0, 0),
    ] {
        assert_eq!(m.dmi_read(addr), v, "{addr:#x}");
    }
    assert_eq!(m.dmi_read(SBCS) >> 17 & 7, 2, "sbaccess resets to 32-bit");
}

#[test]
fn halt_summaries() {
    let mut m = machine();
    for r in [HALTSUM0, HALTSUM1, HALTSUM2, HALTSUM3] {
        assert_eq!(m.dmi_read(r), 0);
    }
    halt(&mut m);
    for r in [HALTSUM0, HALTSUM1, HALTSUM2, HALTSUM3] {
        assert_eq!(m.dmi_read(r), 1, "{r:#x}");
    }
    // Each summary covers the harts sharing hartsel's high bits.
    let sel = |lo: u32| DMACTIVE | (lo & 0x3ff) << 16 | (lo >> 10) << 6;
    m.dmi_write(DMCONTROL, sel(31));
    assert_eq!(m.dmi_read(HALTSUM0), 1);
    m.dmi_write(DMCONTROL, sel(32));
    assert_eq!(m.dmi_read(HALTSUM0), 0);
    assert_eq!(m.dmi_read(HALTSUM1), 1);
    m.dmi_write(DMCONTROL, sel(1 << 10));
    assert_eq!(m.dmi_read(HALTSUM1), 0);
    assert_eq!(m.dmi_read(HALTSUM2), 1);
    m.dmi_write(DMCONTROL, sel(1 << 15));
    assert_eq!(m.dmi_read(HALTSUM2), 0);
    assert_eq!(m.dmi_read(HALTSUM3), 1);
}

#[test]
fn havereset_and_ackhavereset() {
    let mut m = machine();
    assert_eq!(
        status(&mut m) & (ALLHAVERESET | ANYHAVERESET),
        ALLHAVERESET | ANYHAVERESET
    );
    m.dmi_write(DMCONTROL, DMACTIVE | ACKHAVERESET);
    assert_eq!(status(&mut m) & (ALLHAVERESET | ANYHAVERESET), 0);
    // A reset of any kind sets it again, even the host's.
    m.reset();
    assert_ne!(status(&mut m) & ALLHAVERESET, 0);
    m.dmi_write(DMCONTROL, DMACTIVE | ACKHAVERESET);
    m.dmi_write(DMCONTROL, DMACTIVE | HARTRESET);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert_ne!(status(&mut m) & ALLHAVERESET, 0);
    // dmactive does not clear it.
    m.dmi_write(DMCONTROL, 0);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert_ne!(status(&mut m) & ALLHAVERESET, 0);
}

#[test]
fn dmi_addresses_wrap_at_seven_bits() {
    let mut m = machine();
    m.dmi_write(0x80 | DATA0, 42);
    assert_eq!(m.dmi_read(DATA0), 42);
    assert_eq!(m.dmi_read(0x80 | DATA0), 42);
}

#[test]
fn no_debug_module_no_csrs() {
    // Without Config::debug the trigger and debug CSRs do not exist (as before).
    let m = Machine::new(Config::default());
    assert_eq!(m.try_reg(rvflash_sim::Reg::Csr(TSELECT)), None);
    assert_eq!(m.try_reg(rvflash_sim::Reg::Csr(DCSR)), None);
    // With one, the triggers exist always, dcsr only in debug mode.
    let mut m = machine();
    assert_eq!(m.try_reg(rvflash_sim::Reg::Csr(TSELECT)), Some(0));
    assert_eq!(m.try_reg(rvflash_sim::Reg::Csr(DCSR)), None);
    halt(&mut m);
    assert!(m.try_reg(rvflash_sim::Reg::Csr(DCSR)).is_some());
}
