//! Front-end throughput: IL lines per second for parsing alone (`parse_raw`) and for the
//! whole front end (`parse`: parse + verify + SSA construction + SSA check) on a large
//! generated file shaped like compiler output (non-SSA loops, calls, memory, data).
//!
//! `cargo bench -p rvflash-backend --bench parse`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rvflash_backend::qbe;

/// A deterministic IL file of `nfuncs` functions (~60 lines each) plus data and types.
fn generate(nfuncs: usize) -> String {
    let mut s = String::from("type :pair = { l, w }\ntype :u = { { b 12 } { d } }\n\n");
    for i in 0..nfuncs {
        s += &format!("data $str.{i} = {{ b \"string number {i}\\n\", b 0 }}\n");
        s +=
            &format!("data $tab.{i} = align 8 {{ l $str.{i}, l $str.{i} + 4, w 1 2 3 4, z 12 }}\n");
    }
    for i in 0..nfuncs {
        s += &format!(
            "
export function w $f{i}(w %n, l %p, :pair %q) {{
@start
	%acc =w copy 0
	%i =w copy 0
	%x =d copy d_1.5
	%slot =l alloc8 16
	storel %p, %slot
@loop
	%c =w csltw %i, %n
	jnz %c, @body, @done
@body
	%off =l extsw %i
	%off =l mul %off, 4
	%addr =l add %p, %off
	%v =w loadw %addr
	%acc =w add %acc, %v
	%t =w and %v, 1
	jnz %t, @odd, @even
@odd
	%acc =w xor %acc, %i
	%x =d mul %x, d_0.5
	jmp @next
@even
	%acc =w sub %acc, 3
	%y =d swtof %v
	%x =d add %x, %y
@next
	%i =w add %i, 1
	jmp @loop
@done
	%ql =l loadl %q
	%qw =w copy %ql
	%acc =w add %acc, %qw
	%xi =w dtosi %x
	%acc =w add %acc, %xi
	%r =w call $printf(l $str.{i}, ..., w %acc, d %x)
	%pp =l loadl %slot
	%b =w loadub %pp
	%b =w extub %b
	%e =w ceqw %b, 0
	jnz %e, @ret, @more
@more
	%k =w call $f{i}(w %b, l %pp, :pair %q)
	%acc =w add %acc, %k
@ret
	ret %acc
}}
"
        );
    }
    s
}

fn bench_parse(c: &mut Criterion) {
    let src = generate(400);
    let lines = src.lines().count() as u64;
    // Sanity: the generated file passes the whole front end.
    qbe::parse("bench.ssa", &src).unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("qbe");
    g.throughput(Throughput::Elements(lines));
    g.sample_size(20);
    g.bench_function(format!("parse_raw/{lines}_lines"), |b| {
        b.iter(|| qbe::parse_raw("bench.ssa", black_box(&src)).unwrap())
    });
    g.bench_function(format!("parse_verify_ssa/{lines}_lines"), |b| {
        b.iter(|| qbe::parse("bench.ssa", black_box(&src)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
