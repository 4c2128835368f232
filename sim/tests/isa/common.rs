//! Test-program builder: encodes instructions with the backend's encoder, records which ops
//! the tests use (for the coverage test), loads and runs programs.

/// Defines `#[test]` functions and lists them in `TESTS` (the coverage test runs them all).
macro_rules! tests {
    ($($name:ident $body:block)*) => {
        $( #[test] pub fn $name() $body )*
        pub const TESTS: &[fn()] = &[$($name),*];
    };
}

use std::collections::BTreeSet;
use std::sync::Mutex;

use rvflash_backend::isa::{Inst, Op, encode};
use rvflash_sim::{Config, Machine, Reg, Stop, cause};

pub static USED: Mutex<BTreeSet<Op>> = Mutex::new(BTreeSet::new());

pub const RAM: u64 = 0x8000_0000;
/// A data area well away from code.
pub const DATA: u64 = 0x8010_0000;

pub const FS_ON: u64 = 1 << 13;

#[derive(Default)]
pub struct Prog {
    pub code: Vec<u8>,
}

impl Prog {
    pub fn new() -> Prog {
        Prog::default()
    }

    /// Appends one instruction.
    pub fn i(&mut self, inst: Inst) -> &mut Prog {
        USED.lock().unwrap().insert(inst.op);
        let e = encode(&inst).unwrap_or_else(|e| panic!("{inst:?}: {e:?}"));
        self.code.extend_from_slice(&e.bytes()[..e.len()]);
        self
    }

    /// Appends raw instruction bits (4 bytes).
    pub fn word(&mut self, w: u32) -> &mut Prog {
        self.code.extend_from_slice(&w.to_le_bytes());
        self
    }

    /// Appends a raw 16-bit parcel.
    pub fn half(&mut self, h: u16) -> &mut Prog {
        self.code.extend_from_slice(&h.to_le_bytes());
        self
    }

    pub fn r(&mut self, op: Op, rd: u8, rs1: u8, rs2: u8) -> &mut Prog {
        self.i(Inst::r(op, rd, rs1, rs2))
    }

    pub fn imm(&mut self, op: Op, rd: u8, rs1: u8, imm: i32) -> &mut Prog {
        self.i(Inst::i(op, rd, rs1, imm))
    }

    /// Loads a 64-bit constant into `rd` (lui/addiw/slli/addi, like `li`).
    pub fn li(&mut self, rd: u8, v: i64) -> &mut Prog {
        let lo = (v << 52) >> 52;
        if v == v as i32 as i64 {
            let hi = (((v - lo) >> 12) as i32) << 12 >> 12;
            if hi != 0 {
                self.i(Inst::u(Op::Lui, rd, hi));
                self.imm(Op::Addiw, rd, rd, lo as i32);
            } else {
                self.imm(Op::Addi, rd, 0, lo as i32);
            }
        } else {
            self.li(rd, (v - lo) >> 12);
            self.imm(Op::Slli, rd, rd, 12);
            if lo != 0 {
                self.imm(Op::Addi, rd, rd, lo as i32);
            }
        }
        self
    }

    /// Turns the FPU on (mstatus.FS = Initial) using t6.
    pub fn fpu_on(&mut self) -> &mut Prog {
        self.li(31, FS_ON as i64);
        self.i(Inst {
            op: Op::Csrrs,
            rd: 0,
            rs1: 31,
            imm: 0x300,
            ..Inst::new(Op::Csrrs)
        })
    }

    /// `f[fd] = bits` via t6 (`fmv.d.x`).
    pub fn fli(&mut self, fd: u8, bits: u64) -> &mut Prog {
        self.li(31, bits as i64);
        self.r(Op::FmvDX, fd, 31, 0)
    }

    /// `csrrw/csrrs/...` helper: `op rd, csr, rs1`.
    pub fn csr(&mut self, op: Op, rd: u8, csr: u16, rs1: u8) -> &mut Prog {
        self.i(Inst {
            rd,
            rs1,
            imm: csr as i32,
            ..Inst::new(op)
        })
    }

    /// Ends the program: `ecall` (the tests run with catch_traps and expect cause 11).
    pub fn end(&mut self) -> &mut Prog {
        self.i(Inst::new(Op::Ecall))
    }

    /// Pads with `nop`s up to byte offset `off` (which must not be behind).
    pub fn at(&mut self, off: u64) -> &mut Prog {
        assert!(
            self.len() <= off,
            "program already at {:#x} > {off:#x}",
            self.len()
        );
        if !self.len().is_multiple_of(4) && self.len() < off {
            self.half(0x0001); // c.nop
        }
        while self.len() < off {
            self.word(0x0000_0013);
        }
        self
    }

    pub fn len(&self) -> u64 {
        self.code.len() as u64
    }
}

pub fn machine(catch_traps: bool) -> Machine {
    Machine::new(Config {
        catch_traps,
        ram_size: 4 << 20,
        ..Config::default()
    })
}

/// Runs `p` (ending in `ecall`) with traps caught; asserts it reached its `ecall`.
pub fn run(p: &Prog) -> Machine {
    let mut m = machine(true);
    m.load(RAM, &p.code).unwrap();
    let stop = m.run(100_000);
    match stop {
        Stop::Trap {
            cause: cause::ECALL_M,
            ..
        } => m,
        other => panic!("program stopped with {other:?} at pc {:#x}", m.reg(Reg::Pc)),
    }
}

/// Runs `p` until it stops and returns the stop.
pub fn run_until(m: &mut Machine, p: &Prog, budget: u64) -> Stop {
    m.load(RAM, &p.code).unwrap();
    m.run(budget)
}

pub fn x(m: &Machine, r: u8) -> u64 {
    m.reg(Reg::X(r))
}

pub fn f(m: &Machine, r: u8) -> u64 {
    m.reg(Reg::F(r))
}

pub const RA: u8 = 1;
pub const SP: u8 = 2;
pub const T0: u8 = 5;
pub const T1: u8 = 6;
pub const T2: u8 = 7;
pub const S0: u8 = 8;
pub const S1: u8 = 9;
pub const A0: u8 = 10;
pub const A1: u8 = 11;
pub const A2: u8 = 12;
pub const A3: u8 = 13;
pub const A4: u8 = 14;
pub const A5: u8 = 15;
pub const A6: u8 = 16;
pub const A7: u8 = 17;
pub const S2: u8 = 18;
pub const S3: u8 = 19;
pub const S4: u8 = 20;
pub const S5: u8 = 21;
pub const S6: u8 = 22;
pub const S7: u8 = 23;
pub const S8: u8 = 24;
pub const S9: u8 = 25;
pub const S10: u8 = 26;
