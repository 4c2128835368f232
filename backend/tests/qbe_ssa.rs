//! SSA construction on non-SSA input: exact expected output (hand-written).

use rvflash_backend::ir::{BlockId, Module, cfg::Cfg};
use rvflash_backend::qbe;

fn ssa(src: &str) -> String {
    qbe::parse("t.ssa", src)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string()
}

#[test]
fn il_txt_non_ssa_loop() {
    let out = ssa("function w $sum100() {
@start
	%x =w copy 100
	%s =w copy 0
@loop
	%s =w add %s, %x
	%x =w sub %x, 1
	jnz %x, @loop, @end
@end
	ret %s
}
");
    assert_eq!(
        out,
        "function w $sum100() {
@start
	%x =w copy 100
	%s =w copy 0
	jmp @loop
@loop
	%x.1 =w phi @start %x, @loop %x.2
	%s.1 =w phi @start %s, @loop %s.2
	%s.2 =w add %s.1, %x.1
	%x.2 =w sub %x.1, 1
	jnz %x.2, @loop, @end
@end
	ret %s.2
}

"
    );
}

#[test]
fn diamond_gets_one_phi_and_dead_values_none() {
    // %t is live only in @join; %u is re-assigned but never used after the diamond, so it
    // gets no phi (pruned SSA).
    let out = ssa("function w $f(w %c) {
@start
	jnz %c, @a, @b
@a
	%t =w copy 1
	%u =w copy 1
	jmp @join
@b
	%t =w copy 2
	%u =w copy 2
@join
	ret %t
}
");
    assert_eq!(
        out,
        "function w $f(w %c) {
@start
	jnz %c, @a, @b
@a
	%t =w copy 1
	%u =w copy 1
	jmp @join
@b
	%t.1 =w copy 2
	%u.1 =w copy 2
	jmp @join
@join
	%t.2 =w phi @a %t, @b %t.1
	ret %t.2
}

"
    );
}

#[test]
fn undefined_on_one_path_reads_zero() {
    let out = ssa("function l $f(w %c) {
@start
	jnz %c, @a, @join
@a
	%t =l copy 1
	%t =l add %t, 1
@join
	ret %t
}
");
    assert_eq!(
        out,
        "function l $f(w %c) {
@start
	jnz %c, @a, @join
@a
	%t =l copy 1
	%t.1 =l add %t, 1
	jmp @join
@join
	%t.2 =l phi @start 0, @a %t.1
	ret %t.2
}

"
    );
}

#[test]
fn reassigned_parameter_and_name_clash() {
    // %a.1 already exists, so the new version of %a skips that name.
    let out = ssa("function w $f(w %a) {
@start
	%a.1 =w copy 3
	%a =w add %a, %a.1
	ret %a
}
");
    assert_eq!(
        out,
        "function w $f(w %a) {
@start
	%a.1 =w copy 3
	%a.2 =w add %a, %a.1
	ret %a.2
}

"
    );
}

#[test]
fn w_and_l_assignments_merge_to_w() {
    // As in QBE, a temporary assigned both `w` and `l` is a `w`.
    let out = ssa("function w $f(w %c) {
@start
	%t =l copy 1
	jnz %c, @a, @join
@a
	%t =w copy 2
@join
	ret %t
}
");
    assert!(out.contains("%t.2 =w phi @start %t, @a %t.1"), "{out}");
}

#[test]
fn dominators_of_a_loop_nest() {
    let m: Module = qbe::parse_raw(
        "t",
        "function $f() {\n@a\n@b\n\tjnz 1, @c, @e\n@c\n\tjnz 1, @b, @d\n@d\n\tjmp @b\n@e\n\tret\n@dead\n\tjmp @b\n}\n",
    )
    .unwrap();
    let cfg = Cfg::new(&m.functions[0]);
    let b = |i| BlockId(i);
    assert_eq!(
        cfg.idom,
        vec![None, Some(b(0)), Some(b(1)), Some(b(2)), Some(b(1)), None]
    );
    assert_eq!(cfg.preds[1], vec![b(0), b(2), b(3), b(5)]);
    assert!(cfg.dominates(b(1), b(3)) && !cfg.dominates(b(3), b(4)));
    assert!(!cfg.reachable(b(5)) && !cfg.dominates(b(0), b(5)));
    let df = cfg.frontiers();
    assert_eq!(df[2], vec![b(1)]);
    assert_eq!(df[3], vec![b(1)]);
    assert!(df[4].is_empty());
}

#[test]
fn ssa_blowup_is_an_error_not_an_oom() {
    // n re-assigned temporaries, all live across a tangle of n merge blocks: pruned SSA
    // needs about n² phis (36 million for n = 6000, ~15 GB); the budget stops it early.
    let n = 2000;
    let mut s = String::from("function w $big(w %c) {\n@start\n");
    for i in 0..n {
        s += &format!("\t%v{i} =w copy {i}\n");
    }
    for i in 0..n {
        let far = if i + 1 < n {
            (i + 1 + i % 13) % n + 1
        } else {
            n
        };
        s += &format!(
            "@b{i}\n\t%v{i} =w add %v{i}, %v{}\n\tjnz %c, @b{}, @b{far}\n",
            (i * 7) % n,
            i + 1
        );
    }
    s += &format!("@b{n}\n\t%r =w add %v0, %v1\n\tret %r\n}}\n");
    let e = qbe::parse("big.ssa", &s).unwrap_err();
    assert_eq!((e.line, e.col), (1, 1));
    assert_eq!(
        e.msg,
        "function $big is too large for SSA construction (more than 4194304 phi arguments)"
    );
}
