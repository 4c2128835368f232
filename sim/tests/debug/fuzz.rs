//! Random JTAG pin sequences and random DMI operations (with the hart running in between)
//! never panic and never wedge the machine: after TRST, `dmihardreset` and a `dmactive`
//! pulse, the debug interface works again through the TAP. `RVFLASH_FUZZ_SEEDS=n` runs
//! n seeds per test instead of the few a normal test run takes.

use rvflash_backend::isa::{Inst, Op};
use rvflash_sim::{DebugConfig, Machine, Stop};

use crate::common::*;

/// How many seeds to run: `default`, or `RVFLASH_FUZZ_SEEDS` for a longer session.
fn seeds(default: u64) -> u64 {
    std::env::var("RVFLASH_FUZZ_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A machine with a random debug configuration and a small program that loops over memory.
fn random_machine(rng: &mut Rng) -> Machine {
    let cfg = DebugConfig {
        idcode: 0x1000_0913,
        triggers: rng.below(9) as usize,
        progbuf_size: rng.below(18) as usize,
        dmi_idle_cycles: rng.below(8) as u32,
    };
    let mut m = Machine::new(config(cfg));
    let code = asm(&[
        Inst::u(Op::Auipc, A0, 0x100),
        Inst::i(Op::Lw, A1, A0, 0),
        Inst::i(Op::Addi, A1, A1, 1),
        Inst::s(Op::Sw, A0, A1, 0),
        Inst::u(Op::Jal, 0, -12),
    ]);
    m.load(RAM, &code).unwrap();
    m
}

/// Runs the hart a little, as a server loop would between JTAG batches.
fn maybe_run(m: &mut Machine, rng: &mut Rng) {
    if rng.chance(5) && m.run(rng.below(200)) == Stop::Reset {
        m.reset();
    }
}

/// The recovery sequence and a check that the interface works, all through the TAP.
fn recover_and_check(m: &mut Machine) {
    m.jtag_reset();
    let mut j = Jtag::new(m);
    j.idle = 8;
    assert_eq!(j.dr(0, 32), 0x1000_0913, "IDCODE after TRST");
    let dtmcs = j.dtmcs(1 << 17);
    assert_eq!(dtmcs & 0x3ff, 7 << 4 | 1);
    assert_eq!(j.dmi(0, 0, 0).0, 0, "dmihardreset cleared the DTM");
    j.dmi_write(DMCONTROL, 0);
    j.dmi_write(DMCONTROL, DMACTIVE);
    let s = j.dmi_read(DMSTATUS);
    assert_eq!(s & 0xf, 2);
    assert_eq!(s & (ALLUNAVAIL | ALLNONEXISTENT), 0, "{s:#x}");
    assert_eq!(j.dmi_read(ABSTRACTCS) >> 8 & 0x17, 0, "not busy, no cmderr");
    // Halt, write and read a register, use SBA, resume.
    j.dmi_write(DMCONTROL, DMACTIVE | HALTREQ);
    j.dmi_write(DMCONTROL, DMACTIVE);
    assert_ne!(j.dmi_read(DMSTATUS) & ALLHALTED, 0);
    j.dmi_write(DATA0, 0x1357_9bdf);
    j.dmi_write(DATA1, 0x2468_ace0);
    j.dmi_write(COMMAND, AARSIZE64 | TRANSFER | WRITE | gpr(8) as u32);
    j.dmi_write(DATA0, 0);
    j.dmi_write(COMMAND, AARSIZE64 | TRANSFER | gpr(8) as u32);
    assert_eq!(j.dmi_read(DATA0), 0x1357_9bdf);
    assert_eq!(j.dmi_read(DATA1), 0x2468_ace0);
    assert_eq!(j.dmi_read(ABSTRACTCS) >> 8 & 7, 0);
    j.dmi_write(SBCS, 2 << 17 | 1 << 20);
    j.dmi_write(SBADDRESS1, 0);
    j.dmi_write(SBADDRESS0, RAM as u32);
    let first = j.dmi_read(SBDATA0);
    assert_eq!(j.dmi_read(SBCS) >> 12 & 7, 0);
    let mut b = [0; 4];
    j.m.read_memory(RAM, &mut b).unwrap();
    assert_eq!(first, u32::from_le_bytes(b));
    j.dmi_write(DMCONTROL, DMACTIVE | RESUMEREQ);
    let s = j.dmi_read(DMSTATUS);
    assert_eq!(
        s & (ALLRUNNING | ALLRESUMEACK),
        ALLRUNNING | ALLRESUMEACK,
        "{s:#x}"
    );
}

#[test]
fn random_pins() {
    for seed in 1..=seeds(24) {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut m = random_machine(&mut rng);
        for _ in 0..3_000 {
            if rng.chance(30) {
                // Raw noise on the pins.
                for _ in 0..rng.below(60) {
                    let (tms, tdi) = (rng.chance(40), rng.chance(50));
                    m.jtag_cycle(tms, tdi);
                }
            } else {
                // A scan with a random instruction (mostly dmi/dtmcs), random bits and a
                // random length (short and long scans included), random idle after it.
                let mut j = Jtag { m: &mut m, idle: 0 };
                let ir =
                    [IR_DMI, IR_DMI, IR_DMI, IR_DTMCS, IR_IDCODE, IR_BYPASS][rng.below(6) as usize];
                let ir = if rng.chance(5) {
                    rng.below(32) as u32
                } else {
                    ir
                };
                j.ir(ir);
                let len = if rng.chance(80) {
                    DMI_LEN
                } else {
                    1 + rng.below(64) as u32
                };
                let mut v = rng.next();
                if ir == IR_DMI && rng.chance(70) {
                    // A plausible DMI op on a register that matters.
                    let addr = ADDRS[rng.below(ADDRS.len() as u64) as usize];
                    let data = value_for(addr, &mut rng);
                    v = (addr as u64) << 34 | (data as u64) << 2 | rng.below(4);
                }
                if ir == IR_DTMCS && rng.chance(70) {
                    v &= 3 << 16;
                }
                j.dr(v, len);
                j.idle(rng.below(4) as u32);
            }
            if rng.chance(1) {
                m.jtag_tdo();
            }
            if rng.below(500) == 0 {
                m.jtag_reset();
            }
            maybe_run(&mut m, &mut rng);
        }
        recover_and_check(&mut m);
    }
}

/// DMI registers worth hitting often.
const ADDRS: [u8; 22] = [
    DATA0,
    DATA1,
    DMCONTROL,
    DMSTATUS,
    HARTINFO,
    ABSTRACTCS,
    COMMAND,
    ABSTRACTAUTO,
    PROGBUF0,
    PROGBUF0 + 1,
    PROGBUF0 + 2,
    PROGBUF0 + 15,
    SBCS,
    SBADDRESS0,
    SBADDRESS1,
    SBDATA0,
    SBDATA1,
    HALTSUM0,
    HALTSUM1,
    0x37,
    0x3b,
    0x30,
];

/// A random value for `addr`, shaped so that interesting things happen.
fn value_for(addr: u8, rng: &mut Rng) -> u32 {
    let v = rng.next() as u32;
    match addr {
        // Mostly active, one hart, few requests at once.
        DMCONTROL => {
            let mut c = v
                & (HALTREQ
                    | RESUMEREQ
                    | HARTRESET
                    | ACKHAVERESET
                    | SETRESETHALTREQ
                    | CLRRESETHALTREQ
                    | NDMRESET);
            c &= rng.next() as u32 | !(HARTRESET | NDMRESET);
            if rng.chance(90) {
                c |= DMACTIVE;
            }
            if rng.chance(5) {
                c |= v & 0x3ff << 16;
            }
            c
        }
        // Access Register commands on real registers, sometimes with postexec.
        COMMAND if rng.chance(80) => {
            let regno = match rng.below(4) {
                0 => gpr(rng.below(32) as u16),
                1 => fpr(rng.below(32) as u16),
                2 => [DCSR, DPC, TSELECT, TDATA1, TDATA2, MSTATUS, 0xb00, 0x7b2]
                    [rng.below(8) as usize],
                _ => rng.below(0x1100) as u16,
            };
            (rng.below(5) as u32) << 20
                | v & (AARPOSTINCREMENT | POSTEXEC | WRITE)
                | TRANSFER
                | regno as u32
        }
        // Real instructions in the program buffer, sometimes.
        a if (PROGBUF0..PROGBUF0 + 16).contains(&a) && rng.chance(60) => {
            let code = [
                word(Inst::i(Op::Addi, S0, S0, 4)),
                word(Inst::i(Op::Lw, S1, S0, 0)),
                word(Inst::s(Op::Sw, S0, S1, 0)),
                word(Inst::u(Op::Jal, 0, 0)),
                word(Inst::u(Op::Jal, 0, -4)),
                word(Inst::s(Op::Bne, S0, 0, -4)),
                word(csr(Op::Csrrw, 0, DCSR, S1)),
                word(csr(Op::Csrrs, S1, DPC, 0)),
                0x0010_0073,
                0x0000_0073,
                word(Inst::new(Op::Wfi)),
            ];
            code[rng.below(code.len() as u64) as usize]
        }
        SBCS => v & !(7 << 17) | (rng.below(5) as u32) << 17,
        SBADDRESS1 => [0, 0, 0, v][rng.below(4) as usize],
        SBADDRESS0 if rng.chance(70) => RAM as u32 + (v & 0xffff),
        ABSTRACTAUTO => v & [0, 1, 3, 0x10001, v][rng.below(5) as usize],
        _ => v,
    }
}

#[test]
fn random_dmi_operations() {
    for seed in 1..=seeds(40) {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) + 7);
        let mut m = random_machine(&mut rng);
        m.dmi_write(DMCONTROL, DMACTIVE);
        for _ in 0..5000 {
            let addr = if rng.chance(85) {
                ADDRS[rng.below(ADDRS.len() as u64) as usize]
            } else {
                rng.below(256) as u8
            };
            if rng.chance(40) {
                m.dmi_read(addr);
            } else {
                let v = value_for(addr, &mut rng);
                m.dmi_write(addr, v);
            }
            maybe_run(&mut m, &mut rng);
        }
        recover_and_check(&mut m);
    }
}

#[test]
fn random_dmi_operations_through_the_tap() {
    for seed in 1..=seeds(12) {
        let mut rng = Rng(seed.wrapping_mul(0x1000_0000_01b3) + 3);
        let mut m = random_machine(&mut rng);
        let mut j = Jtag::new(&mut m);
        j.ir(IR_DMI);
        for _ in 0..1500 {
            // Random pacing: sometimes too little, so busy happens and gets cleared.
            j.idle = rng.below(4) as u32;
            let addr = ADDRS[rng.below(ADDRS.len() as u64) as usize];
            let op = [1, 2, 2, 0, 3][rng.below(5) as usize];
            let v = value_for(addr, &mut rng);
            let (status, _, _) = j.dmi(addr, v, op);
            if status != 0 && rng.chance(50) {
                j.dtmcs(1 << 16);
            }
            if rng.chance(3) {
                j.m.run(rng.below(100));
            }
        }
        recover_and_check(&mut m);
    }
}
