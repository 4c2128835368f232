//! Interpreter: phis (simultaneous), loops, non-SSA input, `jnz` on the low 32 bits,
//! implicit fall-through, `hlt`, and the step and call-depth limits.

#[path = "interp/support.rs"]
mod support;
use rvflash_backend::interp::Config;
use support::*;

#[test]
fn phis_are_evaluated_simultaneously() {
    let code = exit_code(
        r#"
export function w $main() {
@start
	jmp @loop
@loop
	%a =w phi @start 1, @loop %b
	%b =w phi @start 2, @loop %a
	%i =w phi @start 0, @loop %i1
	%i1 =w add %i, 1
	%c =w csltw %i1, 3
	jnz %c, @loop, @end
@end
	%t =w mul %a, 10
	%r =w add %t, %b
	ret %r
}
"#,
    );
    // Entries: (1,2), (2,1), (1,2): a swap each time round. Sequential phis would give 22.
    assert_eq!(code, 12);
}

#[test]
fn non_ssa_loop_from_il_txt() {
    let code = exit_code(
        r#"
export function w $main() {
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
"#,
    );
    assert_eq!(code, 5050);
}

#[test]
fn jnz_tests_the_low_word() {
    let code = exit_code(
        r#"
export function w $main() {
@start
	%x =l copy 4294967296
	jnz %x, @yes, @no
@yes
	ret 1
@no
	%y =l copy 4294967297
	jnz %y, @yes2, @no2
@yes2
	ret 2
@no2
	ret 3
}
"#,
    );
    assert_eq!(code, 2);
}

#[test]
fn if_else_with_phi_and_dbgloc() {
    let src = r#"
dbgfile "f.c"
function w $f(w %x) {
@ifstmt
	dbgloc 3
	jnz %x, @ift, @iff
@ift
	jmp @retstmt
@iff
	jmp @retstmt
@retstmt
	%y =w phi @ift 1, @iff 2
	ret %y
}
export function w $main() {
@start
	%a =w call $f(w 5)
	%b =w call $f(w 0)
	%t =w mul %a, 10
	%r =w add %t, %b
	ret %r
}
"#;
    assert_eq!(exit_code(src), 12);
}

#[test]
fn hlt_is_an_error() {
    let e = error(
        "function $f() {\n@start\n\tjmp @stop\n@stop\n\thlt\n}\nexport function w $main() {\n@start\n\tcall $f()\n\tret 0\n}\n",
    );
    assert_eq!(e.msg, "hlt reached");
    let at = e.at.unwrap();
    assert_eq!(
        (at.func.as_str(), at.block.as_str(), at.inst.as_str()),
        ("f", "stop", "hlt")
    );
    assert_eq!(at.pos.line, 5);
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let config = Config {
        fuel: 10_000,
        ..Config::default()
    };
    let (_, r) = run_with(
        "export function w $main() {\n@start\n\tjmp @start2\n@start2\n\tjmp @start2\n}\n",
        &config,
    );
    let e = r.unwrap_err();
    assert!(e.msg.contains("step limit"), "{}", e.msg);
}

#[test]
fn runaway_recursion_hits_the_depth_limit() {
    let config = Config {
        max_depth: 1000,
        ..Config::default()
    };
    let (_, r) = run_with(
        "function w $f(w %n) {\n@start\n\t%m =w add %n, 1\n\t%r =w call $f(w %m)\n\tret %r\n}\nexport function w $main() {\n@start\n\t%r =w call $f(w 0)\n\tret %r\n}\n",
        &config,
    );
    let e = r.unwrap_err();
    assert!(e.msg.contains("call depth"), "{}", e.msg);
}

#[test]
fn deep_recursion_within_limits_works() {
    // 50 000 nested calls: no host stack is used per IL call.
    let code = exit_code(
        "function w $f(w %n) {\n@start\n\tjnz %n, @rec, @base\n@base\n\tret 0\n@rec\n\t%m =w sub %n, 1\n\t%r =w call $f(w %m)\n\t%s =w add %r, 1\n\tret %s\n}\nexport function w $main() {\n@start\n\t%r =w call $f(w 50000)\n\tret %r\n}\n",
    );
    assert_eq!(code, 50000);
}

#[test]
fn main_returning_nothing_exits_zero() {
    assert_eq!(
        exit_code("export function $main() {\n@start\n\tret\n}\n"),
        0
    );
}
