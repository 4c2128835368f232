//! Random-but-valid RV64GC instruction sequences for the sim-vs-QEMU differential test.
//!
//! Every op of [`Op::ALL`] is covered except those that end the sequence or cannot be
//! compared (`ecall`, `ebreak`, `c.ebreak`, `mret`, `sret`, `wfi`). Operands are drawn at
//! random and kept when [`encode`] accepts them (rejection sampling: the table, not this file,
//! says which operands a form allows). Ops are grouped by what they need around them:
//!
//! - plain ops (integer, M, F/D arithmetic and conversions, compressed arithmetic, fences):
//!   any registers, any immediates, any rounding mode but the reserved 5 and 6;
//! - loads, stores, LR/SC and AMOs: the base register is first set (`auipc` + `addi`) so that
//!   the effective address is inside the case's scratch area: 8-byte aligned for LR/SC and
//!   AMOs (misaligned ones trap), misaligned for a quarter of the loads and stores;
//! - branches and jumps: forward only, over one plain "filler" instruction (taken or not);
//!   `jalr`/`c.jr`/`c.jalr` get their target from a preceding `auipc` (+ `addi`);
//! - CSR ops: only CSRs whose value both machines define the same way (`mscratch`, `mtval`,
//!   `mcause`, `fflags`, `frm` with valid modes only, `fcsr`'s flag bits, `mhartid`).
//!
//! A case's layout: a prologue (sets `mstatus.FS` = Dirty, `mtvec` to the shared trap
//! vector, `frm`/`fflags`, then loads f0..f31 and x1..x31 from the case's init block), the
//! random body, and `j END` to the shared end address (a loop to self with a breakpoint).

use rvflash_backend::isa::format::{ImmField, Implied, RegField, Slot};
use rvflash_backend::isa::{Format, Inst, Op, encode};

/// Where the test program is loaded (QEMU `virt` RAM).
pub const BASE: u64 = 0x8000_0000;
/// The trap vector every case installs in `mtvec`: a loop to self (a breakpoint is put here).
pub const TRAP_VEC: u64 = BASE + 0x100;
/// Where every case ends: a loop to self (a breakpoint is put here).
pub const END: u64 = BASE + 0x200;
/// The first case's code.
const CODE_BASE: u64 = BASE + 0x1000;
/// Room for one case's code.
const CODE_STRIDE: u64 = 0x800;
/// One case's data: an init block (x0..x31, then f0..f31) and the scratch area.
pub const DATA_STRIDE: u64 = 0x1000;
/// Offset of the scratch area inside a case's data.
pub const SCRATCH: u64 = 0x200;
/// Length of the scratch area (the part of the data compared after the run).
pub const SCRATCH_LEN: u64 = DATA_STRIDE - SCRATCH;
/// Random body length (items; an item is one instruction plus its set-up).
const BODY_ITEMS: usize = 40;

/// A small deterministic PRNG (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// An integer register value: edge values, small numbers, sign-extended words, any bits.
    pub fn int_value(&mut self) -> u64 {
        match self.below(6) {
            0 => self.pick(&[
                0,
                1,
                u64::MAX,
                i64::MIN as u64,
                i64::MAX as u64,
                0x8000_0000,
                0xffff_ffff,
                0xffff_ffff_8000_0000,
                0x7fff_ffff,
                2,
                0xffff_ffff_ffff_fffe,
            ]),
            1 => (self.below(33) as i64 - 16) as u64,
            2 => self.next() as i32 as i64 as u64,
            3 => self.next() & 0xffff,
            _ => self.next(),
        }
    }

    /// A floating-point register value: NaN-boxed singles or doubles, special or random.
    pub fn fp_value(&mut self) -> u64 {
        const DOUBLES: &[u64] = &[
            0,
            1 << 63,
            0x3ff0_0000_0000_0000, // 1.0
            0xbff0_0000_0000_0000, // -1.0
            0x7ff0_0000_0000_0000, // +inf
            0xfff0_0000_0000_0000, // -inf
            0x7ff8_0000_0000_0000, // canonical qNaN
            0x7ff0_0000_0000_0001, // sNaN
            0x0000_0000_0000_0001, // smallest subnormal
            0x000f_ffff_ffff_ffff, // largest subnormal
            0x0010_0000_0000_0000, // smallest normal
            0x7fef_ffff_ffff_ffff, // largest finite
            0x41e0_0000_0000_0000, // 2^31
            0x43e0_0000_0000_0000, // 2^63
            0x4000_0000_0008_0000, // 2.0 + a little
        ];
        const SINGLES: &[u32] = &[
            0,
            1 << 31,
            0x3f80_0000,
            0xbf80_0000,
            0x7f80_0000,
            0xff80_0000,
            0x7fc0_0000,
            0x7f80_0001,
            1,
            0x007f_ffff,
            0x0080_0000,
            0x7f7f_ffff,
            0x4f00_0000, // 2^31
            0x5f00_0000, // 2^63
            0x3fc0_0000, // 1.5
        ];
        let boxed = |bits: u32| 0xffff_ffff_0000_0000 | u64::from(bits);
        match self.below(8) {
            0 => self.pick(DOUBLES),
            1 => boxed(self.pick(SINGLES)),
            2 => self.next(),
            // Not NaN-boxed: single-precision ops must see the canonical NaN.
            3 => self.next() & 0xffff_ffff,
            4 | 5 => {
                // A double with a moderate exponent (exact-ish arithmetic, inexact flags).
                let exp = 1023 - 40 + self.below(80);
                (self.next() & (1 << 63 | ((1 << 52) - 1))) | exp << 52
            }
            _ => {
                let exp = 127 - 20 + self.below(40) as u32;
                boxed((self.next() as u32 & 0x807f_ffff) | exp << 23)
            }
        }
    }
}

/// One generated case.
pub struct Case {
    /// Address of the first instruction.
    pub start: u64,
    /// Address of the case's data (init block, then scratch area).
    pub data: u64,
    /// The instructions with their addresses, for failure reports.
    pub listing: Vec<(u64, Inst)>,
}

/// The whole test program: every case's code and data in one image at [`BASE`].
pub struct Program {
    /// The image bytes, loaded at [`BASE`].
    pub bytes: Vec<u8>,
    pub cases: Vec<Case>,
}

impl Program {
    /// `count` cases from `seed`.
    pub fn generate(seed: u64, count: usize) -> Program {
        let mut rng = Rng::new(seed);
        let data_base = CODE_BASE + CODE_STRIDE * count as u64;
        let size = data_base + DATA_STRIDE * count as u64 - BASE;
        let mut bytes = vec![0u8; size as usize];
        let j_self = enc(&Inst::u(Op::Jal, 0, 0));
        put(&mut bytes, TRAP_VEC, &j_self);
        put(&mut bytes, END, &j_self);
        // The entry (BASE) also loops; the test sets pc to each case's start.
        put(&mut bytes, BASE, &j_self);
        let mut cases = Vec::with_capacity(count);
        for i in 0..count as u64 {
            let start = CODE_BASE + i * CODE_STRIDE;
            let data = data_base + i * DATA_STRIDE;
            let mut b = Builder {
                pc: start,
                code: Vec::new(),
                listing: Vec::new(),
                rng: &mut rng,
                scratch: data + SCRATCH,
            };
            b.prologue(data);
            for _ in 0..BODY_ITEMS {
                b.item();
            }
            let to_end = END as i64 - b.pc as i64;
            b.emit(Inst::u(Op::Jal, 0, to_end as i32));
            assert!(
                b.code.len() as u64 <= CODE_STRIDE,
                "case {i} is too long ({} bytes)",
                b.code.len()
            );
            let listing = std::mem::take(&mut b.listing);
            let code = std::mem::take(&mut b.code);
            put(&mut bytes, start, &code);
            // Init block: x0..x31, then f0..f31; then random scratch bytes.
            let mut block = Vec::with_capacity(DATA_STRIDE as usize);
            for _ in 0..32 {
                block.extend_from_slice(&rng.int_value().to_le_bytes());
            }
            for _ in 0..32 {
                block.extend_from_slice(&rng.fp_value().to_le_bytes());
            }
            while (block.len() as u64) < DATA_STRIDE {
                let v = if rng.below(2) == 0 {
                    rng.fp_value()
                } else {
                    rng.int_value()
                };
                block.extend_from_slice(&v.to_le_bytes());
            }
            put(&mut bytes, data, &block);
            cases.push(Case {
                start,
                data,
                listing,
            });
        }
        Program { bytes, cases }
    }
}

fn put(bytes: &mut [u8], addr: u64, data: &[u8]) {
    let at = (addr - BASE) as usize;
    bytes[at..at + data.len()].copy_from_slice(data);
}

fn enc(inst: &Inst) -> Vec<u8> {
    let mut out = Vec::new();
    encode(inst)
        .unwrap_or_else(|e| panic!("cannot encode {inst:?}: {e}"))
        .write_to(&mut out);
    out
}

/// What an op needs around it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Memory,
    Atomic,
    Branch,
    Jump,
    Csr,
    Skip,
}

/// Whether the generator uses `op` (all but the ops that end or leave a sequence).
pub fn is_generated(op: Op) -> bool {
    kind(op) != Kind::Skip
}

fn kind(op: Op) -> Kind {
    use Format::*;
    match op {
        Op::Ecall | Op::Ebreak | Op::CEbreak | Op::Mret | Op::Sret | Op::Wfi => Kind::Skip,
        _ => match op.format() {
            Load | Store | CLw | CLd | CSw | CSd | CLwsp | CLdsp | CFldsp | CSwsp | CSdsp => {
                Kind::Memory
            }
            Amo | Lr => Kind::Atomic,
            Branch | CBranch => Kind::Branch,
            Jal | Jalr | CJ | CJr | CJalr => Kind::Jump,
            Csr | CsrI => Kind::Csr,
            _ => Kind::Plain,
        },
    }
}

struct Builder<'a> {
    pc: u64,
    code: Vec<u8>,
    listing: Vec<(u64, Inst)>,
    rng: &'a mut Rng,
    /// The case's scratch area.
    scratch: u64,
}

impl Builder<'_> {
    fn emit(&mut self, inst: Inst) {
        let bytes = enc(&inst);
        self.listing.push((self.pc, inst));
        self.pc += bytes.len() as u64;
        self.code.extend_from_slice(&bytes);
    }

    /// `auipc rd, hi; addi rd, rd, lo` with rd = `target` (the `auipc` at the current pc).
    fn la(&mut self, rd: u8, target: u64) {
        let off = target.wrapping_sub(self.pc) as i64;
        let hi = (off + 0x800) >> 12;
        let lo = off - (hi << 12);
        self.emit(Inst::u(Op::Auipc, rd, hi as i32));
        self.emit(Inst::i(Op::Addi, rd, rd, lo as i32));
    }

    fn prologue(&mut self, data: u64) {
        const MSTATUS: i32 = 0x300;
        const MTVEC: i32 = 0x305;
        const FRM: i32 = 0x002;
        const FFLAGS: i32 = 0x001;
        // mstatus.FS = Dirty (3 << 13): the FPU is off at reset.
        self.emit(Inst::u(Op::Lui, 5, 6));
        self.emit(Inst::i(Op::Csrrs, 0, 5, MSTATUS));
        self.la(5, TRAP_VEC);
        self.emit(Inst::i(Op::Csrrw, 0, 5, MTVEC));
        let rm = self.rng.below(5) as u8;
        self.emit(Inst::i(Op::Csrrwi, 0, rm, FRM));
        let flags = self.rng.below(32) as u8;
        self.emit(Inst::i(Op::Csrrwi, 0, flags, FFLAGS));
        self.la(6, data);
        for f in 0..32u8 {
            self.emit(Inst::i(Op::Fld, f, 6, 256 + 8 * i32::from(f)));
        }
        for x in (1..32u8).filter(|&x| x != 6) {
            self.emit(Inst::i(Op::Ld, x, 6, 8 * i32::from(x)));
        }
        self.emit(Inst::i(Op::Ld, 6, 6, 48));
    }

    /// A random register for `field` (a compressed field reaches x8..x15 only).
    fn reg(&mut self, field: &RegField) -> u8 {
        loop {
            let r = if field.compact {
                8 + self.rng.below(8) as u8
            } else {
                match self.rng.below(4) {
                    0 => 8 + self.rng.below(8) as u8,
                    1 => self.rng.pick(&[0, 2]),
                    _ => self.rng.below(32) as u8,
                }
            };
            if field.forbid & 1 << r == 0 {
                return r;
            }
        }
    }

    /// A random immediate for `field`: small or anywhere in range, suitably aligned.
    fn imm(&mut self, field: &ImmField) -> i32 {
        let width = field.width();
        let align = field.pieces.iter().map(|p| p.imm).min().unwrap_or(0);
        let span = 1i64 << width;
        let v = match self.rng.below(3) {
            0 => self.rng.below(64) as i64 - if field.signed { 32 } else { 0 },
            1 => self
                .rng
                .pick(&[0, 1, -1, span / 2 - 1, -span / 2, span - 1]),
            _ => self.rng.below(span as u64) as i64 - if field.signed { span / 2 } else { 0 },
        };
        (v & !((1i64 << align) - 1)) as i32
    }

    /// Random operands for `op` (as its format's layout allows) until `encode` accepts them
    /// and `ok` too.
    fn sample(&mut self, op: Op, ok: impl Fn(&Inst) -> bool) -> Inst {
        let layout = op.format().layout();
        for _ in 0..10_000 {
            let mut inst = Inst::new(op);
            for field in layout.regs {
                let r = self.reg(field);
                *slot(&mut inst, field.slot) = r;
            }
            for implied in layout.implied {
                match *implied {
                    Implied::Reg(s, r) => *slot(&mut inst, s) = r,
                    Implied::Same(s, from) => {
                        let r = *slot(&mut inst, from);
                        *slot(&mut inst, s) = r;
                    }
                }
            }
            if let Some(field) = &layout.imm {
                inst.imm = self.imm(field);
            }
            if layout.rm {
                inst.rm = self.rng.pick(&[0, 1, 2, 3, 4, 7]);
            }
            if layout.aqrl {
                inst.aqrl = self.rng.below(4) as u8;
            }
            if encode(&inst).is_ok() && ok(&inst) {
                return inst;
            }
        }
        panic!("no valid operands found for {op:?}");
    }

    fn plain(&mut self) -> Inst {
        let ops: Vec<Op> = Op::ALL
            .iter()
            .copied()
            .filter(|&op| kind(op) == Kind::Plain)
            .collect();
        let op = self.rng.pick(&ops);
        self.sample(op, |_| true)
    }

    fn item(&mut self) {
        let op = loop {
            let op = self.rng.pick(Op::ALL);
            if kind(op) != Kind::Skip {
                break op;
            }
        };
        match kind(op) {
            Kind::Plain => {
                let inst = self.sample(op, |_| true);
                self.emit(inst);
            }
            Kind::Memory => {
                let inst = self.sample(op, |i| i.rs1 != 0);
                // Mostly aligned; sometimes misaligned (both machines emulate those in RAM).
                let mut target = self.scratch + 8 * self.rng.below(SCRATCH_LEN / 8 - 1);
                if self.rng.below(4) == 0 {
                    target += 1 + self.rng.below(7);
                }
                self.la(inst.rs1, target.wrapping_sub(inst.imm as i64 as u64));
                self.emit(inst);
            }
            Kind::Atomic => {
                let inst = self.sample(op, |i| i.rs1 != 0);
                let target = self.scratch + 8 * self.rng.below(SCRATCH_LEN / 8 - 1);
                self.la(inst.rs1, target);
                self.emit(inst);
                // Often follow an LR with an SC of the same size on the same address.
                let sc = match op {
                    Op::LrW => Some(Op::ScW),
                    Op::LrD => Some(Op::ScD),
                    _ => None,
                };
                if let Some(sc) = sc
                    && inst.rd != inst.rs1
                    && self.rng.below(4) != 0
                {
                    let rs1 = inst.rs1;
                    let sc = self.sample(sc, |i| i.rs1 == rs1);
                    self.emit(sc);
                }
            }
            Kind::Branch => {
                let filler = self.plain();
                let mut inst = self.sample(op, |_| true);
                let skip = self.rng.below(2) == 0;
                inst.imm = (inst.len() + if skip { filler.len() } else { 0 }) as i32;
                if encode(&inst).is_err() {
                    inst.imm = (inst.len() + filler.len()) as i32;
                }
                self.emit(inst);
                self.emit(filler);
            }
            Kind::Jump => {
                let filler = self.plain();
                match op {
                    Op::Jal | Op::CJ => {
                        let mut inst = self.sample(op, |_| true);
                        inst.imm = (inst.len() + filler.len()) as i32;
                        self.emit(inst);
                    }
                    Op::Jalr => {
                        let mut inst = self.sample(op, |i| i.rs1 != 0);
                        inst.imm = (4 + inst.len() + filler.len()) as i32;
                        self.emit(Inst::u(Op::Auipc, inst.rs1, 0));
                        self.emit(inst);
                    }
                    _ => {
                        // c.jr / c.jalr: rs1 holds the exact target.
                        let inst = self.sample(op, |i| i.rs1 != 0);
                        let target = self.pc + 8 + inst.len() as u64 + filler.len() as u64;
                        self.la(inst.rs1, target);
                        self.emit(inst);
                    }
                }
                self.emit(filler);
            }
            Kind::Csr => {
                let inst = self.csr(op);
                self.emit(inst);
            }
            Kind::Skip => unreachable!(),
        }
    }

    /// A CSR instruction on a CSR both machines define alike.
    fn csr(&mut self, op: Op) -> Inst {
        const FFLAGS: i32 = 0x001;
        const FRM: i32 = 0x002;
        const FCSR: i32 = 0x003;
        const MSCRATCH: i32 = 0x340;
        const MCAUSE: i32 = 0x342;
        const MTVAL: i32 = 0x343;
        const MHARTID: i32 = 0xf14;
        let mut inst = self.sample(op, |_| true);
        let immediate = op.format() == Format::CsrI;
        inst.imm = if immediate {
            match self.rng.below(5) {
                0 => FFLAGS,
                1 => FCSR,
                2 => {
                    // frm: only valid rounding modes, so write them whole.
                    inst.op = Op::Csrrwi;
                    inst.rs1 = self.rng.below(5) as u8;
                    FRM
                }
                3 => MSCRATCH,
                _ => MTVAL,
            }
        } else {
            match self.rng.below(6) {
                0 => FFLAGS,
                1 => MSCRATCH,
                2 => MCAUSE,
                3 => MTVAL,
                // Reads only.
                4 => {
                    inst.op = Op::Csrrs;
                    inst.rs1 = 0;
                    self.rng.pick(&[FRM, FCSR, MHARTID])
                }
                _ => MSCRATCH,
            }
        };
        inst
    }
}

fn slot(inst: &mut Inst, slot: Slot) -> &mut u8 {
    match slot {
        Slot::Rd => &mut inst.rd,
        Slot::Rs1 => &mut inst.rs1,
        Slot::Rs2 => &mut inst.rs2,
        Slot::Rs3 => &mut inst.rs3,
    }
}
