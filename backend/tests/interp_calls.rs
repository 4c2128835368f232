//! Interpreter: calls with many arguments, function pointers, variadic functions
//! (`vastart`/`vaarg` of `w l s d`), aggregates by value, `env`, sub-word ABI types.

#[path = "interp/support.rs"]
mod support;
use support::*;

#[test]
fn many_arguments() {
    let code = exit_code(
        r#"
function l $ten(l %a1, l %a2, l %a3, l %a4, l %a5, l %a6, l %a7, l %a8, l %a9, l %a10, d %d1, d %d2, d %d3, d %d4, d %d5, d %d6, d %d7, d %d8, d %d9, d %d10, w %last) {
@start
	%s =l mul %a1, 1
	%t =l mul %a2, 2
	%s =l add %s, %t
	%t =l mul %a3, 3
	%s =l add %s, %t
	%t =l mul %a4, 4
	%s =l add %s, %t
	%t =l mul %a5, 5
	%s =l add %s, %t
	%t =l mul %a6, 6
	%s =l add %s, %t
	%t =l mul %a7, 7
	%s =l add %s, %t
	%t =l mul %a8, 8
	%s =l add %s, %t
	%t =l mul %a9, 9
	%s =l add %s, %t
	%t =l mul %a10, 10
	%s =l add %s, %t
	%d =d add %d1, %d2
	%d =d add %d, %d3
	%d =d add %d, %d4
	%d =d add %d, %d5
	%d =d add %d, %d6
	%d =d add %d, %d7
	%d =d add %d, %d8
	%d =d add %d, %d9
	%d =d add %d, %d10
	%d2 =d mul %d, d_2
	%di =l dtosi %d2
	%s =l add %s, %di
	%lw =l extsw %last
	%s =l add %s, %lw
	ret %s
}
export function w $main() {
@start
	%r =l call $ten(l 1, l 2, l 3, l 4, l 5, l 6, l 7, l 8, l 9, l 10, d d_0.5, d d_1, d d_1.5, d d_2, d d_2.5, d d_3, d d_3.5, d d_4, d d_4.5, d d_5, w -1000)
	ret %r
}
"#,
    );
    // 1² + ... + 10² = 385; 2 × (0.5 + 1 + ... + 5) = 55; 385 + 55 - 1000.
    assert_eq!(code, -560);
}

#[test]
fn function_pointers() {
    let code = exit_code(
        r#"
function w $double(w %x) {
@start
	%r =w mul %x, 2
	ret %r
}
function w $apply(l %f, w %x) {
@start
	%r =w call %f(w %x)
	ret %r
}
data $table = { l $double, l $apply }
export function w $main() {
@start
	%fp =l copy $double
	%a =w call %fp(w 21)
	%b =w call $apply(l $double, w %a)
	%g =l loadl $table
	%c =w call %g(w %b)
	%fne =w cnel $double, $apply
	%r =w add %c, %fne
	ret %r
}
"#,
    );
    assert_eq!(code, 169);
    let e = error(
        "export function w $main() {\n@start\n\t%f =l copy 4096\n\t%r =w call %f()\n\tret %r\n}\n",
    );
    assert!(e.msg.contains("not a function address"), "{}", e.msg);
    assert_eq!(e.at.unwrap().inst, "call (indirect)");
}

#[test]
fn variadic_functions() {
    let out = output(
        r#"
data $f = { b "%d %ld %g %g %d %ld | %ld\n", b 0 }
function $show(w %n, ...) {
@start
	%ap =l alloc8 8
	vastart %ap
	%a =w vaarg %ap
	%b =l vaarg %ap
	%c =d vaarg %ap
	%d =s vaarg %ap
	%dd =d exts %d
	%e =w vaarg %ap
	vastart %ap
	%again =l vaarg %ap
	%ap2 =l alloc8 8
	vastart %ap2
	%skip =l vaarg %ap2
	%rest =l call $second(l %ap2)
	call $printf(l $f, ..., w %a, l %b, d %c, d %dd, w %e, l %again, l %rest)
	ret
}
function l $second(l %ap) {
@start
	%v =l vaarg %ap
	ret %v
}
export function w $main() {
@start
	call $show(w 5, ..., w -5, l -6000000000, d d_2.5, s s_-0.75, w 7)
	ret 0
}
"#,
    );
    // %again re-reads the first slot as an `l` after a second vastart: a `w` argument
    // fills its 8-byte slot sign-extended (RV64 register convention), so it reads -5.
    // $second continues a va_list after one `vaarg`: it gets the second argument.
    assert_eq!(out, "-5 -6000000000 2.5 -0.75 7 -5 | -6000000000\n");
}

#[test]
fn il_txt_variadic_example() {
    let out = output(
        r#"
data $f = { b "%g\n", b 0 }
function s $add3(s %a, ...) {
@start
	%ap =l alloc8 32
	vastart %ap
	%r =s call $vadd(s %a, l %ap)
	ret %r
}
function s $vadd(s %a, l %ap) {
@start
	%b =s vaarg %ap
	%c =s vaarg %ap
	%d =s add %a, %b
	%e =s add %d, %c
	ret %e
}
export function w $main() {
@start
	%r =s call $add3(s s_1.5, ..., s s_2.25, s s_4)
	%d =d exts %r
	call $printf(l $f, ..., d %d)
	ret 0
}
"#,
    );
    assert_eq!(out, "7.75\n");
}

#[test]
fn aggregate_varargs_use_slots() {
    let out = output(
        r#"
type :two = { l, l }
type :big = { l, l, l }
data $f = { b "%ld %ld %ld\n", b 0 }
function $take(w %n, ...) {
@start
	%ap =l alloc8 8
	vastart %ap
	%a =l vaarg %ap
	%b =l vaarg %ap
	%p =l vaarg %ap
	%p16 =l add %p, 16
	%c =l loadl %p16
	call $printf(l $f, ..., l %a, l %b, l %c)
	ret
}
export function w $main() {
@start
	%t =l alloc8 16
	storel 11, %t
	%t8 =l add %t, 8
	storel 22, %t8
	%g =l alloc8 24
	%g16 =l add %g, 16
	storel 33, %g16
	call $take(w 2, ..., :two %t, :big %g)
	ret 0
}
"#,
    );
    assert_eq!(out, "11 22 33\n");
}

#[test]
fn aggregates_by_value() {
    let out = output(&file("aggregates.ssa"));
    // padl sees 1234567890123 and clobbers only its copy (byte 0 stays 9); lastx reads 77;
    // the caller's :outer is unchanged by the callee; the union holds -2; mkbig(7) gives
    // 7 14 21 and a second call does not overwrite the first result.
    assert_eq!(out, "9 1234567890123 | 77 5 | -2 | 7 14 21 | 1\n");
}

#[test]
fn env_parameters() {
    let code = exit_code(
        r#"
function w $f(env %e, w %x) {
@start
	%el =w copy %e
	%r =w add %el, %x
	ret %r
}
function w $g(w %x) {
@start
	ret %x
}
export function w $main() {
@start
	%a =w call $f(env 40, w 2)
	%b =w call $f(w 3)
	%c =w call $g(env 1000, w 100)
	%s =w add %a, %b
	%s =w add %s, %c
	ret %s
}
"#,
    );
    // 42 + (no env → 0) + 3 + 100 (env discarded).
    assert_eq!(code, 145);
}

#[test]
fn sub_word_abi_types_are_extended() {
    let out = output(
        r#"
data $f = { b "%d %d %d %d %d %d\n", b 0 }
function w $sbarg(sb %x) {
@start
	ret %x
}
function w $uharg(uh %x) {
@start
	ret %x
}
function ub $ubret() {
@start
	ret 511
}
function sh $shret() {
@start
	ret 65535
}
function sb $sbret() {
@start
	ret 128
}
function uh $uhret() {
@start
	ret -1
}
export function w $main() {
@start
	%a =w call $sbarg(w 255)
	%b =w call $uharg(w -1)
	%c =ub call $ubret()
	%d =sh call $shret()
	%e =sb call $sbret()
	%g =uh call $uhret()
	call $printf(l $f, ..., w %a, w %b, w %c, w %d, w %e, w %g)
	ret 0
}
"#,
    );
    assert_eq!(out, "-1 65535 255 -1 -128 65535\n");
}

#[test]
fn wrong_argument_count_is_an_error() {
    let e = error(
        "function w $f(w %a, w %b) {\n@start\n\tret %a\n}\nexport function w $main() {\n@start\n\t%r =w call $f(w 1)\n\tret %r\n}\n",
    );
    assert!(e.msg.contains("takes 2 argument"), "{}", e.msg);
    assert_eq!(e.at.unwrap().inst, "call $f");
}
