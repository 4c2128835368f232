//! Simulator speed: simulated instructions per second on a CPU-bound program (a sieve of
//! Eratosthenes over 8 KiB followed by a bitwise CRC-32 of the sieve, forever), built with
//! the backend's encoder. Criterion's throughput line ("elem/s") is instructions per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rvflash_backend::isa::{Inst, Op, Op::*, encode};
use rvflash_sim::{Config, Machine, Stop};

const RAM: u64 = 0x8000_0000;
const DATA: u64 = 0x8010_0000;
const N: i32 = 8192;
const BUDGET: u64 = 2_000_000;

const S0: u8 = 8;
const S1: u8 = 9;
const S2: u8 = 18;
const T0: u8 = 5;
const T1: u8 = 6;
const T2: u8 = 7;
const T3: u8 = 28;
const T4: u8 = 29;
const T5: u8 = 30;
const A0: u8 = 10;
const A1: u8 = 11;

/// A tiny assembler: 4-byte instructions, branches and jumps to labels.
#[derive(Default)]
struct Asm {
    insts: Vec<(Inst, Option<&'static str>)>,
    labels: Vec<(&'static str, usize)>,
}

impl Asm {
    fn i(&mut self, inst: Inst) -> &mut Asm {
        self.insts.push((inst, None));
        self
    }
    fn to(&mut self, inst: Inst, label: &'static str) -> &mut Asm {
        self.insts.push((inst, Some(label)));
        self
    }
    fn label(&mut self, name: &'static str) -> &mut Asm {
        self.labels.push((name, self.insts.len()));
        self
    }
    fn r(&mut self, op: Op, rd: u8, rs1: u8, rs2: u8) -> &mut Asm {
        self.i(Inst::r(op, rd, rs1, rs2))
    }
    fn imm(&mut self, op: Op, rd: u8, rs1: u8, imm: i32) -> &mut Asm {
        self.i(Inst::i(op, rd, rs1, imm))
    }
    fn branch(&mut self, op: Op, rs1: u8, rs2: u8, label: &'static str) -> &mut Asm {
        self.to(Inst::s(op, rs1, rs2, 0), label)
    }
    fn offset(&self, name: &str) -> u64 {
        4 * self
            .labels
            .iter()
            .find(|(n, _)| *n == name)
            .expect("label")
            .1 as u64
    }
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, (inst, label)) in self.insts.iter().enumerate() {
            let mut inst = *inst;
            if let Some(name) = label {
                let target = self
                    .labels
                    .iter()
                    .find(|(n, _)| n == name)
                    .expect("label")
                    .1;
                inst.imm = (target as i32 - k as i32) * 4;
            }
            out.extend_from_slice(&encode(&inst).expect("encodes").bytes());
        }
        out
    }
}

/// The program and the offset of its CRC phase.
fn program() -> (Vec<u8>, u64) {
    let mut a = Asm::default();
    // s0 = DATA (0x8010_0000 = 0x80 << 24 | 0x10 << 16), s1 = N, s2 = CRC polynomial.
    a.i(Inst::u(Lui, S0, 0x80100 - 0x10_0000))
        .imm(Slli, S0, S0, 32)
        .imm(Srli, S0, S0, 32)
        .i(Inst::u(Lui, S1, N >> 12))
        .i(Inst::u(Lui, S2, 0xedb88 - 0x10_0000))
        .imm(Addiw, S2, S2, 0x320)
        .imm(Slli, S2, S2, 32)
        .imm(Srli, S2, S2, 32)
        .imm(Addi, A1, 0, 1);
    a.label("outer").imm(Addi, T0, 0, 0);
    a.label("clear")
        .r(Add, T1, S0, T0)
        .i(Inst::s(Sb, T1, A1, 0))
        .imm(Addi, T0, T0, 1)
        .branch(Blt, T0, S1, "clear");
    a.imm(Addi, T0, 0, 2);
    a.label("loop_i")
        .r(Mul, T2, T0, T0)
        .branch(Bge, T2, S1, "crc")
        .r(Add, T1, S0, T0)
        .imm(Lbu, T3, T1, 0)
        .branch(Beq, T3, 0, "next_i");
    a.label("mark")
        .r(Add, T1, S0, T2)
        .i(Inst::s(Sb, T1, 0, 0))
        .r(Add, T2, T2, T0)
        .branch(Blt, T2, S1, "mark");
    a.label("next_i")
        .imm(Addi, T0, T0, 1)
        .to(Inst::u(Jal, 0, 0), "loop_i");
    a.label("crc").imm(Addi, A0, 0, -1).imm(Addi, T0, 0, 0);
    a.label("crc_byte")
        .r(Add, T1, S0, T0)
        .imm(Lbu, T3, T1, 0)
        .r(Xor, A0, A0, T3)
        .imm(Addi, T4, 0, 8);
    a.label("crc_bit")
        .imm(Andi, T5, A0, 1)
        .imm(Srli, A0, A0, 1)
        .branch(Beq, T5, 0, "skip")
        .r(Xor, A0, A0, S2);
    a.label("skip")
        .imm(Addi, T4, T4, -1)
        .branch(Bne, T4, 0, "crc_bit")
        .imm(Addi, T0, T0, 1)
        .branch(Blt, T0, S1, "crc_byte")
        .to(Inst::u(Jal, 0, 0), "outer");
    (a.bytes(), a.offset("crc"))
}

fn speed(c: &mut Criterion) {
    let (code, crc) = program();
    let mut m = Machine::new(Config::default());
    m.load(RAM, &code).expect("fits in RAM");
    // The program really sieves and checksums DATA.
    m.set_breakpoint(RAM + crc);
    assert_eq!(m.run(1_000_000), Stop::Breakpoint(RAM + crc));
    m.clear_breakpoint(RAM + crc);
    let mut buf = [0u8; 8];
    m.read_memory(DATA, &mut buf).expect("RAM");
    assert_eq!(buf, [1, 1, 1, 1, 0, 1, 0, 1]);
    let mut group = c.benchmark_group("sim");
    group.throughput(Throughput::Elements(BUDGET));
    group.bench_function("sieve_crc32_instructions", |b| {
        b.iter(|| {
            let stop = m.run(black_box(BUDGET));
            assert_eq!(stop, Stop::Budget);
        })
    });
    group.finish();
}

criterion_group!(benches, speed);
criterion_main!(benches);
