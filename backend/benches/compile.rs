//! Compile throughput: IL instructions per second from IL text to a finished ELF object
//! (parse + verify + SSA construction + instruction selection + register allocation +
//! emission + object writing), with `codegen::Options { check: false }`.
//!
//! Inputs:
//! - `generated`: a deterministic module of [`NFUNCS`] functions shaped like the output of a
//!   simple C compiler (non-SSA temporaries reassigned in loops, so SSA construction inserts
//!   phis; `w l d` arithmetic, sub-word and word loads and stores, stack slots, address
//!   arithmetic, calls with up to 6 arguments, if/else chains, nested loops, float code);
//! - `libc`: the runtime's IL libc (`runtime/libc/*.ssa`), real hand-written IL.
//!
//! For each: `front_end` (`qbe::parse`), `codegen` (`codegen::compile` of the parsed module)
//! and `total` (both). IL instructions are counted on the module as written
//! (`qbe::parse_raw`: phis + instructions + block terminators), and criterion reports them
//! as elements per second.
//!
//! `cargo bench -p rvflash-backend --bench compile`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rvflash_backend::{codegen, ir, qbe};

/// Functions in the generated module.
const NFUNCS: usize = 300;

/// A deterministic module of `nfuncs` functions in a few shapes, each calling earlier ones.
fn generate(nfuncs: usize) -> String {
    let mut s = String::new();
    for i in 0..nfuncs {
        s += &format!("data $g{i} = align 8 {{ l 1 2 3 4, w 5 6 7 8, b \"f{i}\\n\", b 0 }}\n");
    }
    s += "data $buf = align 8 { z 4096 }\n";
    for i in 0..nfuncs {
        // Callees: earlier functions of the same shape (shape = i % 4), or external ones.
        let prev = if i >= 4 {
            format!("f{}", i - 4)
        } else {
            "ext".to_string()
        };
        s += &match i % 4 {
            0 => integer_loops(i, &prev),
            1 => memory_walk(i, &prev),
            2 => branches(i, &prev),
            _ => floats(i, &prev),
        };
    }
    s
}

/// Nested counting loops with a running sum, division and shifts.
fn integer_loops(i: usize, callee: &str) -> String {
    format!(
        "
export function w $f{i}(w %n, w %m, l %p) {{
@start
	%sum =w copy 0
	%i =w copy 0
	jmp @cond
@cond
	%t0 =w csltw %i, %n
	jnz %t0, @body, @done
@body
	%j =w copy 0
	jmp @icond
@icond
	%t1 =w csltw %j, %m
	jnz %t1, @ibody, @next
@ibody
	%t2 =w mul %i, %j
	%t3 =w add %t2, {i}
	%t4 =w shl %t3, 2
	%t5 =w xor %sum, %t4
	%t6 =w sar %t5, 1
	%sum =w add %sum, %t6
	%t7 =w and %sum, 1023
	%t8 =w rem %t7, 7
	%sum =w sub %sum, %t8
	%j =w add %j, 1
	jmp @icond
@next
	%t9 =l extsw %i
	%t10 =l mul %t9, 4
	%t11 =l add %p, %t10
	storew %sum, %t11
	%i =w add %i, 1
	jmp @cond
@done
	%t12 =w udiv %sum, 3
	%t13 =w call ${callee}(w %t12, w %m, l %p)
	%t14 =w add %sum, %t13
	ret %t14
}}
"
    )
}

/// Walks a byte buffer through a stack slot: sub-word loads and stores, address arithmetic.
fn memory_walk(i: usize, callee: &str) -> String {
    format!(
        "
export function w $f{i}(w %n, w %m, l %p) {{
@start
	%slot =l alloc8 32
	storel %p, %slot
	%t0 =l add %slot, 8
	storew %n, %t0
	%acc =l copy 0
	%k =l copy 0
	jmp @cond
@cond
	%t1 =l loadl %slot
	%t2 =l add %slot, 8
	%t3 =w loadw %t2
	%t4 =l extsw %t3
	%t5 =w csltl %k, %t4
	jnz %t5, @body, @done
@body
	%t6 =l and %k, 4095
	%t7 =l add $buf, %t6
	%t8 =w loadub %t7
	%t9 =l extuw %t8
	%acc =l add %acc, %t9
	%t10 =w add %t8, {i}
	storeb %t10, %t7
	%t11 =l add $g{i}, 32
	%t12 =w loadsh %t11
	%t13 =l extsw %t12
	%acc =l xor %acc, %t13
	%t14 =l add %t1, %k
	%t15 =w loadsb %t14
	%t16 =w extsb %t15
	%t17 =l extsw %t16
	%acc =l add %acc, %t17
	%k =l add %k, 1
	jmp @cond
@done
	%t18 =l add %slot, 16
	storel %acc, %t18
	%t19 =l loadl %t18
	%t20 =w copy %t19
	%t21 =w call ${callee}(w %t20, w %m, l %p)
	%t22 =w add %t21, %t20
	ret %t22
}}
"
    )
}

/// An if/else chain (a small `switch`), comparisons, calls with six arguments.
fn branches(i: usize, callee: &str) -> String {
    format!(
        "
export function w $f{i}(w %n, w %m, l %p) {{
@start
	%r =w copy 0
	%t0 =w and %n, 7
	%t1 =w ceqw %t0, 0
	jnz %t1, @case0, @test1
@test1
	%t2 =w ceqw %t0, 1
	jnz %t2, @case1, @test2
@test2
	%t3 =w csltw %t0, 5
	jnz %t3, @case2, @default
@case0
	%t4 =w mul %n, %m
	%r =w add %t4, {i}
	jmp @join
@case1
	%t5 =w sub %n, %m
	%t6 =w cugtw %t5, 100
	jnz %t6, @big, @small
@big
	%r =w shr %t5, 3
	jmp @join
@small
	%r =w neg %t5
	jmp @join
@case2
	%t7 =l loadl $g{i}
	%t8 =w copy %t7
	%r =w add %t8, %m
	jmp @join
@default
	%t9 =w call $ext6(w %n, w %m, l %p, w 1, w 2, l $g{i})
	%r =w or %t9, 1
	jmp @join
@join
	%t10 =w cnew %r, 0
	jnz %t10, @call, @ret
@call
	%t11 =w call ${callee}(w %r, w %n, l %p)
	%r =w add %r, %t11
	jmp @ret
@ret
	ret %r
}}
"
    )
}

/// A double-precision loop with conversions.
fn floats(i: usize, callee: &str) -> String {
    format!(
        "
export function w $f{i}(w %n, w %m, l %p) {{
@start
	%x =d swtof %n
	%y =d copy d_0.5
	%acc =d copy d_0
	%k =w copy 0
	jmp @cond
@cond
	%t0 =w csltw %k, %m
	jnz %t0, @body, @done
@body
	%t1 =d swtof %k
	%t2 =d mul %t1, %x
	%t3 =d add %t2, %y
	%t4 =d div %t3, d_3
	%acc =d add %acc, %t4
	%t5 =w cgtd %acc, d_1000
	jnz %t5, @scale, @next
@scale
	%acc =d mul %acc, d_0.001
	jmp @next
@next
	%t6 =l extsw %k
	%t7 =l mul %t6, 8
	%t8 =l add $buf, %t7
	stored %acc, %t8
	%k =w add %k, 1
	jmp @cond
@done
	%t9 =w dtosi %acc
	%t10 =w call ${callee}(w %t9, w %m, l %p)
	%t11 =w add %t10, %t9
	ret %t11
}}
"
    )
}

/// The runtime's IL libc, as `rvflash build` compiles it.
fn libc_source() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/libc");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ssa"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// IL instructions as written: phis, instructions and block terminators.
fn count_instructions(module: &ir::Module) -> u64 {
    module
        .functions
        .iter()
        .flat_map(|f| &f.blocks)
        .map(|b| (b.phis.len() + b.insts.len() + usize::from(b.jump.is_some())) as u64)
        .sum()
}

fn bench_input(c: &mut Criterion, name: &str, src: &str) {
    let options = codegen::Options { check: false };
    let raw = qbe::parse_raw(name, src).unwrap_or_else(|e| panic!("{e}"));
    let insts = count_instructions(&raw);
    let module = qbe::parse(name, src).unwrap_or_else(|e| panic!("{e}"));
    let obj = codegen::compile(&module, &options).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "{name}: {} functions, {} lines, {insts} IL instructions, {} bytes of object",
        raw.functions.len(),
        src.lines().count(),
        obj.len()
    );

    let mut g = c.benchmark_group(format!("compile/{name}"));
    g.throughput(Throughput::Elements(insts));
    g.sample_size(20);
    g.bench_function("front_end", |b| {
        b.iter(|| qbe::parse(name, black_box(src)).unwrap())
    });
    g.bench_function("codegen", |b| {
        b.iter(|| codegen::compile(black_box(&module), &options).unwrap())
    });
    g.bench_function("total", |b| {
        b.iter(|| {
            let m = qbe::parse(name, black_box(src)).unwrap();
            codegen::compile(&m, &options).unwrap()
        })
    });
    g.finish();
}

fn bench_compile(c: &mut Criterion) {
    bench_input(c, "generated", &generate(NFUNCS));
    bench_input(c, "libc", &libc_source());
}

criterion_group!(benches, bench_compile);
criterion_main!(benches);
