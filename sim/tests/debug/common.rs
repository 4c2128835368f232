//! Helpers: machines with a debug module, DMI register numbers and field values written from
//! the debug spec, abstract-command wrappers, a tiny assembler, and a JTAG driver that
//! shifts IR/DR through `Machine::jtag_cycle` one TCK at a time.

#![allow(dead_code)]

use rvflash_backend::isa::{Inst, Op, encode};
use rvflash_sim::{Config, DebugConfig, Machine, Reg};

pub const RAM: u64 = 0x8000_0000;
pub const DATA: u64 = 0x8010_0000;

// DMI registers (debug spec 0.13.2, table "Debug Module Debug Bus Registers").
pub const DATA0: u8 = 0x04;
pub const DATA1: u8 = 0x05;
pub const DMCONTROL: u8 = 0x10;
pub const DMSTATUS: u8 = 0x11;
pub const HARTINFO: u8 = 0x12;
pub const HALTSUM1: u8 = 0x13;
pub const ABSTRACTCS: u8 = 0x16;
pub const COMMAND: u8 = 0x17;
pub const ABSTRACTAUTO: u8 = 0x18;
pub const PROGBUF0: u8 = 0x20;
pub const AUTHDATA: u8 = 0x30;
pub const HALTSUM2: u8 = 0x34;
pub const HALTSUM3: u8 = 0x35;
pub const SBCS: u8 = 0x38;
pub const SBADDRESS0: u8 = 0x39;
pub const SBADDRESS1: u8 = 0x3a;
pub const SBDATA0: u8 = 0x3c;
pub const SBDATA1: u8 = 0x3d;
pub const HALTSUM0: u8 = 0x40;

// dmcontrol fields.
pub const HALTREQ: u32 = 1 << 31;
pub const RESUMEREQ: u32 = 1 << 30;
pub const HARTRESET: u32 = 1 << 29;
pub const ACKHAVERESET: u32 = 1 << 28;
pub const SETRESETHALTREQ: u32 = 1 << 3;
pub const CLRRESETHALTREQ: u32 = 1 << 2;
pub const NDMRESET: u32 = 1 << 1;
pub const DMACTIVE: u32 = 1;

// dmstatus fields.
pub const ALLHAVERESET: u32 = 1 << 19;
pub const ANYHAVERESET: u32 = 1 << 18;
pub const ALLRESUMEACK: u32 = 1 << 17;
pub const ANYRESUMEACK: u32 = 1 << 16;
pub const ALLNONEXISTENT: u32 = 1 << 15;
pub const ANYNONEXISTENT: u32 = 1 << 14;
pub const ALLUNAVAIL: u32 = 1 << 13;
pub const ANYUNAVAIL: u32 = 1 << 12;
pub const ALLRUNNING: u32 = 1 << 11;
pub const ANYRUNNING: u32 = 1 << 10;
pub const ALLHALTED: u32 = 1 << 9;
pub const ANYHALTED: u32 = 1 << 8;

// Abstract command fields (Access Register).
pub const AARSIZE32: u32 = 2 << 20;
pub const AARSIZE64: u32 = 3 << 20;
pub const AARPOSTINCREMENT: u32 = 1 << 19;
pub const POSTEXEC: u32 = 1 << 18;
pub const TRANSFER: u32 = 1 << 17;
pub const WRITE: u32 = 1 << 16;

// Register numbers of abstract commands.
pub const fn gpr(n: u16) -> u16 {
    0x1000 + n
}
pub const fn fpr(n: u16) -> u16 {
    0x1020 + n
}
pub const DCSR: u16 = 0x7b0;
pub const DPC: u16 = 0x7b1;
pub const TSELECT: u16 = 0x7a0;
pub const TDATA1: u16 = 0x7a1;
pub const TDATA2: u16 = 0x7a2;
pub const TDATA3: u16 = 0x7a3;
pub const TINFO: u16 = 0x7a4;
pub const MSTATUS: u16 = 0x300;
pub const MTVEC: u16 = 0x305;
pub const MSCRATCH: u16 = 0x340;
pub const MEPC: u16 = 0x341;
pub const MCAUSE: u16 = 0x342;
pub const MTVAL: u16 = 0x343;

// dcsr fields.
pub const EBREAKM: u64 = 1 << 15;
pub const STEPIE: u64 = 1 << 11;
pub const STOPCOUNT: u64 = 1 << 10;
pub const STEP: u64 = 1 << 2;
pub fn dcsr_cause(dcsr: u64) -> u64 {
    (dcsr >> 6) & 7
}

pub const T0: u8 = 5;
pub const T1: u8 = 6;
pub const S0: u8 = 8;
pub const S1: u8 = 9;
pub const A0: u8 = 10;
pub const A1: u8 = 11;

pub fn config(debug: DebugConfig) -> Config {
    Config {
        ram_size: 4 << 20,
        debug: Some(debug),
        ..Config::default()
    }
}

/// A machine with the default debug module, its DM activated.
pub fn machine() -> Machine {
    machine_with(DebugConfig::default())
}

pub fn machine_with(debug: DebugConfig) -> Machine {
    let mut m = Machine::new(config(debug));
    m.dmi_write(DMCONTROL, DMACTIVE);
    m
}

/// A machine with `code` at RAM, DM active.
pub fn with_code(code: &[Inst]) -> Machine {
    let mut m = machine();
    m.load(RAM, &asm(code)).unwrap();
    m
}

pub fn asm(code: &[Inst]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in code {
        encode(i)
            .unwrap_or_else(|e| panic!("{i:?}: {e:?}"))
            .write_to(&mut out);
    }
    out
}

/// One instruction's bits (a compressed one in the low half).
pub fn word(i: Inst) -> u32 {
    encode(&i).unwrap_or_else(|e| panic!("{i:?}: {e:?}")).word()
}

pub fn csr(op: Op, rd: u8, csr: u16, rs1: u8) -> Inst {
    Inst {
        rd,
        rs1,
        imm: csr as i32,
        ..Inst::new(op)
    }
}

pub fn li(rd: u8, imm: i32) -> Inst {
    Inst::i(Op::Addi, rd, 0, imm)
}

pub fn nop() -> Inst {
    Inst::i(Op::Addi, 0, 0, 0)
}

pub fn status(m: &mut Machine) -> u32 {
    m.dmi_read(DMSTATUS)
}

pub fn cmderr(m: &mut Machine) -> u32 {
    (m.dmi_read(ABSTRACTCS) >> 8) & 7
}

pub fn clear_cmderr(m: &mut Machine) {
    m.dmi_write(ABSTRACTCS, 7 << 8);
}

pub fn halt(m: &mut Machine) {
    m.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    m.dmi_write(DMCONTROL, DMACTIVE);
    assert!(status(m) & ALLHALTED != 0, "hart did not halt");
}

pub fn resume(m: &mut Machine) {
    m.dmi_write(DMCONTROL, DMACTIVE | RESUMEREQ);
    m.dmi_write(DMCONTROL, DMACTIVE);
}

/// Runs an abstract command; returns cmderr (and clears it).
pub fn command(m: &mut Machine, cmd: u32) -> u32 {
    m.dmi_write(COMMAND, cmd);
    assert_eq!(m.dmi_read(ABSTRACTCS) & 1 << 12, 0, "command still busy");
    let e = cmderr(m);
    clear_cmderr(m);
    e
}

/// A 64-bit abstract register read.
pub fn read_reg(m: &mut Machine, regno: u16) -> Result<u64, u32> {
    match command(m, AARSIZE64 | TRANSFER | regno as u32) {
        0 => Ok((m.dmi_read(DATA1) as u64) << 32 | m.dmi_read(DATA0) as u64),
        e => Err(e),
    }
}

/// A 64-bit abstract register write.
pub fn write_reg(m: &mut Machine, regno: u16, v: u64) -> Result<(), u32> {
    m.dmi_write(DATA0, v as u32);
    m.dmi_write(DATA1, (v >> 32) as u32);
    match command(m, AARSIZE64 | TRANSFER | WRITE | regno as u32) {
        0 => Ok(()),
        e => Err(e),
    }
}

/// Loads the program buffer.
pub fn progbuf(m: &mut Machine, words: &[u32]) {
    for (i, w) in words.iter().enumerate() {
        m.dmi_write(PROGBUF0 + i as u8, *w);
    }
}

/// Runs the program buffer (transfer = 0); returns cmderr.
pub fn exec_progbuf(m: &mut Machine) -> u32 {
    command(m, POSTEXEC)
}

pub fn x(m: &Machine, r: u8) -> u64 {
    m.reg(Reg::X(r))
}

pub fn pc(m: &Machine) -> u64 {
    m.reg(Reg::Pc)
}

pub fn mem64(m: &mut Machine, addr: u64) -> u64 {
    let mut b = [0; 8];
    m.read_memory(addr, &mut b).unwrap();
    u64::from_le_bytes(b)
}

// ---- JTAG ----

pub const IR_IDCODE: u32 = 0x01;
pub const IR_DTMCS: u32 = 0x10;
pub const IR_DMI: u32 = 0x11;
pub const IR_BYPASS: u32 = 0x1f;
pub const DMI_LEN: u32 = 41;

/// Drives the TAP through `jtag_cycle`, starting from and returning to Run-Test/Idle.
pub struct Jtag<'a> {
    pub m: &'a mut Machine,
    /// Run-Test/Idle cycles after each DR scan.
    pub idle: u32,
}

impl<'a> Jtag<'a> {
    /// Resets the TAP with TMS (5 × 1) and goes to Run-Test/Idle.
    pub fn new(m: &'a mut Machine) -> Jtag<'a> {
        let mut j = Jtag { m, idle: 1 };
        for _ in 0..5 {
            j.clock(true, false);
        }
        j.clock(false, false);
        j
    }

    pub fn clock(&mut self, tms: bool, tdi: bool) -> bool {
        self.m.jtag_cycle(tms, tdi)
    }

    pub fn idle(&mut self, n: u32) {
        for _ in 0..n {
            self.clock(false, false);
        }
    }

    /// Shifts `len` bits of `v` (LSB first) in the current Shift state and leaves it to
    /// Exit1 with the last bit; returns the bits shifted out.
    fn shift(&mut self, v: u64, len: u32) -> u64 {
        let mut out = 0;
        for i in 0..len {
            let tdo = self.clock(i == len - 1, v >> i & 1 != 0);
            out |= (tdo as u64) << i;
        }
        out
    }

    /// An IR scan; returns what Capture-IR loaded.
    pub fn ir(&mut self, ir: u32) -> u32 {
        self.clock(true, false); // Select-DR-Scan
        self.clock(true, false); // Select-IR-Scan
        self.clock(false, false); // Capture-IR
        self.clock(false, false); // Shift-IR
        let out = self.shift(ir as u64, 5) as u32;
        self.clock(true, false); // Update-IR
        self.clock(false, false); // Run-Test/Idle
        out
    }

    /// A DR scan of `len` bits; returns the captured value. Then `idle` Run-Test/Idle cycles.
    pub fn dr(&mut self, v: u64, len: u32) -> u64 {
        let out = self.dr_no_idle(v, len);
        self.clock(false, false); // Run-Test/Idle
        self.idle(self.idle.saturating_sub(1));
        out
    }

    /// A DR scan from Run-Test/Idle that stays in Update-DR (so the next scan can go to
    /// Select-DR-Scan directly, without a Run-Test/Idle cycle).
    pub fn dr_no_idle(&mut self, v: u64, len: u32) -> u64 {
        self.clock(true, false); // Select-DR-Scan
        self.dr_from_select(v, len)
    }

    /// A DR scan starting in Select-DR-Scan, ending in Update-DR.
    pub fn dr_from_select(&mut self, v: u64, len: u32) -> u64 {
        self.clock(false, false); // Capture-DR
        self.clock(false, false); // Shift-DR
        let out = self.shift(v, len);
        self.clock(true, false); // Update-DR
        out
    }

    /// A `dmi` scan (IR must be `dmi`): returns (op status, data, address) captured.
    pub fn dmi(&mut self, addr: u8, data: u32, op: u32) -> (u32, u32, u8) {
        let v = (addr as u64) << 34 | (data as u64) << 2 | op as u64;
        let out = self.dr(v, DMI_LEN);
        ((out & 3) as u32, (out >> 2) as u32, (out >> 34) as u8)
    }

    /// A DMI read through the TAP: the read scan, then a nop scan to fetch the result.
    pub fn dmi_read(&mut self, addr: u8) -> u32 {
        self.dmi(addr, 0, 1);
        let (op, data, _) = self.dmi(0, 0, 0);
        assert_eq!(op, 0, "dmi read of {addr:#x} failed");
        data
    }

    pub fn dmi_write(&mut self, addr: u8, data: u32) {
        self.dmi(addr, data, 2);
        let (op, _, _) = self.dmi(0, 0, 0);
        assert_eq!(op, 0, "dmi write of {addr:#x} failed");
    }

    pub fn dtmcs(&mut self, v: u32) -> u32 {
        self.ir(IR_DTMCS);
        let out = self.dr(v as u64, 32) as u32;
        self.ir(IR_DMI);
        out
    }
}
