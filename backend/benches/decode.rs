//! Decoder throughput: instructions decoded per second over a mixed stream of every op in the
//! table (32-bit and compressed, random operands), as the simulator's predecoder sees code.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rvflash_backend::isa::{Op, decode, decode::decode_bits};
use std::hint::black_box;

/// A stream of valid instructions: random operand bits on each table row's fixed bits.
fn stream(count: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut bytes = Vec::new();
    let mut n = 0;
    while n < count {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let desc = Op::ALL[(state >> 40) as usize % Op::ALL.len()].desc();
        let word = (state as u32 & !desc.mask) | desc.bits;
        if let Ok(inst) = decode_bits(word) {
            bytes.extend_from_slice(&word.to_le_bytes()[..inst.len()]);
            n += 1;
        }
    }
    bytes
}

fn bench_decode(c: &mut Criterion) {
    const COUNT: usize = 100_000;
    let code = stream(COUNT);
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(COUNT as u64));
    group.bench_function("mixed_rv64gc", |b| {
        b.iter(|| {
            let mut at = 0;
            let mut sum = 0u32;
            while at < code.len() {
                let inst = decode(black_box(&code[at..])).unwrap();
                sum = sum.wrapping_add(inst.rd as u32);
                at += inst.len();
            }
            sum
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
