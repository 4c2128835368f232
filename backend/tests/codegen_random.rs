//! Differential testing: randomly generated IL programs (integer and float arithmetic of
//! both widths, comparisons, conversions, memory, loops with phis, calls) compiled and run
//! on the simulator must print what the interpreter prints. Deterministic seeds.

mod codegen_support;

use codegen_support::PRINT_HEX as PR;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

fn constant(r: &mut Rng) -> i64 {
    match r.below(5) {
        0 => r.below(16) as i64 - 8,
        1 => r.below(5000) as i64 - 2500,
        2 => r.next() as i32 as i64,
        3 => r.next() as i64,
        _ => [0, 1, -1, i32::MIN as i64, i32::MAX as i64, i64::MAX][r.below(6)],
    }
}

/// One function `$f<k>(l %a, w %b, d %c)` returning `l`, and its body.
fn function(r: &mut Rng, k: usize) -> String {
    let mut s = format!("function l $f{k}(l %a, w %b, d %c) {{\n@s\n  %m =l alloc8 64\n");
    // The interpreter zeroes `alloc` memory; machine code does not have to: clear it.
    for i in 0..8 {
        s.push_str(&format!(
            "  %z{i} =l add %m, {}\n  storel 0, %z{i}\n",
            8 * i
        ));
    }
    // Typed pools of available values.
    let mut ls = vec!["%a".to_string()];
    let mut ws = vec!["%b".to_string()];
    let mut ds = vec!["%c".to_string()];
    let mut n = 0;
    let mut fresh = |p: &str| {
        n += 1;
        format!("%{p}{n}")
    };
    for _ in 0..40 {
        let which = r.below(10);
        let (ty, pool) = match which {
            0..=3 => ("l", &ls),
            4..=7 => ("w", &ws),
            _ => ("d", &ds),
        };
        let x = pool[r.below(pool.len())].clone();
        let y = if r.below(4) == 0 {
            match ty {
                "d" => format!("d_{}", (r.below(2000) as f64 - 1000.0) / 8.0),
                _ => constant(r).to_string(),
            }
        } else {
            pool[r.below(pool.len())].clone()
        };
        let d = fresh(ty);
        let line = match ty {
            "d" => match r.below(4) {
                0 => {
                    // Through single precision and back, and integer conversions.
                    let (t, u) = (fresh("s"), fresh("w"));
                    let cv = r.pick(&["swtof", "uwtof"]);
                    format!("  {t} =s truncd {x}\n  {t} =s mul {t}, s_1.5\n  {u} =w cas {t}, {t}\n  {d} =d exts {t}\n  {d} =d add {d}, {x}\n", ).replace("cas", r.pick(&["ceqs", "clts", "cles", "cos", "cuos", "cnes"])) + &format!("  {d}c =d {cv} {u}\n  {d} =d add {d}, {d}c\n")
                }
                1 => {
                    let l = ls[r.below(ls.len())].clone();
                    let cv = r.pick(&["sltof", "ultof"]);
                    format!("  {d} =d {cv} {l}\n  {d} =d div {d}, d_3\n")
                }
                _ => {
                    let op = r.pick(&["add", "sub", "mul", "div"]);
                    let y = if op == "div" { "d_7".to_string() } else { y };
                    format!("  {d} =d {op} {x}, {y}\n")
                }
            },
            _ => match r.below(9) {
                8 => {
                    // A diamond whose condition fuses into the branch, joined by a phi.
                    let c = r.pick(&[
                        "eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge",
                    ]);
                    let (bc, v1, v2) = (fresh("w"), fresh(ty), fresh(ty));
                    let lb = fresh("b").replace('%', "");
                    format!(
                        "  {bc} =w c{c}{ty} {x}, {y}\n  jnz {bc}, @{lb}t, @{lb}f\n@{lb}t\n  {v1} ={ty} add {x}, 1\n  jmp @{lb}j\n@{lb}f\n  {v2} ={ty} sub {y}, 7\n  jmp @{lb}j\n@{lb}j\n  {d} ={ty} phi @{lb}t {v1}, @{lb}f {v2}\n"
                    )
                }
                0..=3 => {
                    let op =
                        r.pick(&["add", "sub", "mul", "and", "or", "xor", "shl", "shr", "sar"]);
                    let y = if matches!(op, "shl" | "shr" | "sar") {
                        // Shift counts are `w`.
                        ws[r.below(ws.len())].clone()
                    } else {
                        y
                    };
                    format!("  {d} ={ty} {op} {x}, {y}\n")
                }
                4 => {
                    // Division by a non-zero, non-negative divisor (no overflow).
                    let t = fresh(ty);
                    let op = r.pick(&["div", "rem", "udiv", "urem"]);
                    format!(
                        "  {t} ={ty} and {y}, 1023\n  {t} ={ty} or {t}, 1\n  {d} ={ty} {op} {x}, {t}\n"
                    )
                }
                5 => {
                    let c = r.pick(&[
                        "eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge",
                    ]);
                    format!("  {d} ={ty} c{c}{ty} {x}, {y}\n")
                }
                6 => {
                    if ty == "l" {
                        let w = ws[r.below(ws.len())].clone();
                        let op = r.pick(&["extsw", "extuw", "extsh", "extub"]);
                        format!("  {d} =l {op} {w}\n")
                    } else {
                        // Round trip through a float (always in range).
                        let w = ws[r.below(ws.len())].clone();
                        let t = fresh("d");
                        let (to, back) = [("swtof", "dtosi"), ("uwtof", "dtoui")][r.below(2)];
                        format!("  {t} =d {to} {w}\n  {t} =d mul {t}, d_0.5\n  {d} =w {back} {t}\n")
                    }
                }
                _ => {
                    // Memory round trip through the frame slot.
                    let off = 8 * r.below(8);
                    let p = fresh("l");
                    let (st, ld) = if ty == "l" {
                        ("storel", "loadl")
                    } else {
                        (
                            r.pick(&["storew", "storeh", "storeb"]),
                            r.pick(&["loadsw", "loaduh", "loadsb", "loadub"]),
                        )
                    };
                    format!("  {p} =l add %m, {off}\n  {st} {x}, {p}\n  {d} ={ty} {ld} {p}\n")
                }
            },
        };
        s.push_str(&line);
        match ty {
            "l" => ls.push(d),
            "w" => ws.push(d),
            _ => ds.push(d),
        }
    }
    // A loop with phis swapping two values.
    let (x, y) = (ls[r.below(ls.len())].clone(), ws[r.below(ws.len())].clone());
    s.push_str(&format!(
        "  %yl =l extsw {y}\n  jmp @pre\n@pre\n  jmp @loop\n@loop\n  %p =l phi @pre {x}, @loop %q\n  %q =l phi @pre %yl, @loop %p\n  %i =w phi @pre 0, @loop %i1\n  %i1 =w add %i, 1\n  %q2 =l mul %q, 3\n  %lc =w csltw %i1, 5\n  jnz %lc, @loop, @end\n@end\n"
    ));
    let mut acc = "%q2".to_string();
    for v in ls.iter().chain(&ws) {
        let v = if ws.contains(v) {
            let t = fresh("l");
            s.push_str(&format!("  {t} =l extsw {v}\n"));
            t
        } else {
            v.clone()
        };
        let t = fresh("l");
        s.push_str(&format!("  {t} =l mul {acc}, 31\n  {t} =l xor {t}, {v}\n"));
        acc = t;
    }
    for v in &ds {
        let t = fresh("l");
        let u = fresh("l");
        s.push_str(&format!("  {t} =l cast {v}\n  {u} =l add {acc}, {t}\n"));
        acc = u;
    }
    s.push_str(&format!("  ret {acc}\n}}\n"));
    s
}

#[test]
fn random_programs_match_the_interpreter() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..40 {
        let mut src = String::from(PR);
        let nf = 3;
        for k in 0..nf {
            src.push_str(&function(&mut r, k));
        }
        src.push_str("export function w $main() {\n@s\n");
        for k in 0..nf {
            let (a, b) = (constant(&mut r), constant(&mut r) as i32);
            let c = (r.below(1000) as f64 - 500.0) / 4.0;
            src.push_str(&format!(
                "  %r{k} =l call $f{k}(l {a}, w {b}, d d_{c})\n  call $pr(l %r{k})\n"
            ));
        }
        src.push_str("  ret 0\n}\n");
        std::fs::write(
            format!("{}/random{round}.ssa", env!("CARGO_TARGET_TMPDIR")),
            &src,
        )
        .unwrap();
        codegen_support::check(&format!("random{round}"), &src);
    }
}
