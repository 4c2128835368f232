//! Interpreter: integer arithmetic, bit operations, shifts and comparisons (expected values
//! computed by hand), and the arithmetic errors.

#[path = "interp/support.rs"]
mod support;
use support::*;

#[test]
fn word_arithmetic_wraps() {
    let out = output(
        r#"
data $f = { b "%d %d %d %d %d %d %d %d\n", b 0 }
export function w $main() {
@start
	%a =w add 2147483647, 1
	%b =w sub 0, 1
	%c =w mul 65536, 65536
	%d =w div -7, 2
	%e =w rem -7, 2
	%g =w udiv -1, 2
	%h =w urem -1, 10
	%i =w neg -2147483648
	call $printf(l $f, ..., w %a, w %b, w %c, w %d, w %e, w %g, w %h, w %i)
	ret 0
}
"#,
    );
    assert_eq!(out, "-2147483648 -1 0 -3 -1 2147483647 5 -2147483648\n");
}

#[test]
fn long_arithmetic_wraps() {
    let out = output(
        r#"
data $f = { b "%ld %ld %ld %ld %ld %lu %ld %ld\n", b 0 }
export function w $main() {
@start
	%a =l add 9223372036854775807, 1
	%b =l mul 4294967296, 4294967296
	%c =l div -9, 4
	%d =l rem -9, 4
	%e =l udiv -1, 2
	%f =l urem -1, 7
	%g =l sub 0, 5
	%h =l neg 5
	call $printf(l $f, ..., l %a, l %b, l %c, l %d, l %e, l %f, l %g, l %h)
	ret 0
}
"#,
    );
    assert_eq!(
        out,
        "-9223372036854775808 0 -2 -1 9223372036854775807 1 -5 -5\n"
    );
}

#[test]
fn bits_and_shifts() {
    let out = output(
        r#"
data $f = { b "%d %d %d %d %d %d %d %d\n", b 0 }
data $g = { b "%ld %ld %ld %lx %ld %ld\n", b 0 }
export function w $main() {
@start
	%a =w and 12, 10
	%b =w or 12, 10
	%c =w xor 12, 10
	%d =w shl 1, 33
	%e =w shr -1, 28
	%h =w sar -16, 2
	%i =w sar -1, 31
	%j =w shl 1, 31
	call $printf(l $f, ..., w %a, w %b, w %c, w %d, w %e, w %h, w %i, w %j)
	%k =l shl 1, 65
	%m =l shr -1, 60
	%n =l sar -256, 4
	%o =l shl 1, 63
	%big =l copy 4294967298
	%low =w add %big, 0
	%back =l extsw %low
	%neg =w sub 0, 1
	%zext =l extuw %neg
	call $printf(l $g, ..., l %k, l %m, l %n, l %o, l %back, l %zext)
	ret 0
}
"#,
    );
    assert_eq!(
        out,
        "8 14 6 2 15 -4 -1 -2147483648\n2 15 -16 8000000000000000 2 4294967295\n"
    );
}

#[test]
fn integer_comparisons() {
    let out = output(
        r#"
data $f = { b "%d%d%d%d%d%d%d%d%d%d %d%d%d%d%d%d%d%d%d%d %d %ld\n", b 0 }
export function w $main() {
@start
	%w0 =w ceqw 5, 5
	%w1 =w cnew 5, 5
	%w2 =w csltw -1, 0
	%w3 =w cslew 3, 3
	%w4 =w csgtw -1, 0
	%w5 =w csgew 0, -1
	%w6 =w cultw -1, 0
	%w7 =w culew 0, 0
	%w8 =w cugtw -1, 0
	%w9 =w cugew 0, 1
	%l0 =w ceql 4294967296, 0
	%l1 =w cnel 1, 2
	%l2 =w csltl -1, 0
	%l3 =w cslel 5, 4
	%l4 =w csgtl 4294967296, 1
	%l5 =w csgel -5, -5
	%l6 =w cultl -1, 0
	%l7 =w culel 1, 2
	%l8 =w cugtl -1, 4294967296
	%l9 =w cugel 0, 0
	%low =w ceqw 4294967296, 0
	%asl =l csltw 1, 2
	call $printf(l $f, ..., w %w0, w %w1, w %w2, w %w3, w %w4, w %w5, w %w6, w %w7, w %w8, w %w9, w %l0, w %l1, w %l2, w %l3, w %l4, w %l5, w %l6, w %l7, w %l8, w %l9, w %low, l %asl)
	ret 0
}
"#,
    );
    assert_eq!(out, "1011010110 0110110111 1 1\n");
}

fn div_program(ty: &str, op: &str, a: &str, b: &str) -> String {
    format!(
        "export function w $main() {{\n@start\n\t%b ={ty} copy {b}\n\t%r ={ty} {op} {a}, %b\n\tret 0\n}}\n"
    )
}

#[test]
fn division_by_zero_is_an_error() {
    for ty in ["w", "l"] {
        for op in ["div", "rem", "udiv", "urem"] {
            let e = error(&div_program(ty, op, "1", "0"));
            assert_eq!(e.msg, "division by zero", "{op}{ty}");
            let at = e.at.expect("location");
            assert_eq!((at.func.as_str(), at.block.as_str()), ("main", "start"));
            assert_eq!(at.inst, op);
            assert_eq!(at.pos.line, 4);
        }
    }
}

#[test]
fn signed_overflow_is_an_error() {
    for (ty, min) in [("w", "-2147483648"), ("l", "-9223372036854775807")] {
        // For `l`, build INT64_MIN as -9223372036854775807 - 1.
        let src = format!(
            "export function w $main() {{\n@start\n\t%m ={ty} sub {min}, {}\n\t%q ={ty} div %m, -1\n\tret 0\n}}\n",
            if ty == "l" { 1 } else { 0 }
        );
        let e = error(&src);
        assert!(e.msg.contains("overflow"), "{}", e.msg);
        let src = src.replace("div %m", "rem %m");
        assert!(error(&src).msg.contains("overflow"));
    }
    // Not an overflow: INT_MIN / 1 and unsigned division of the same bits.
    let ok = "export function w $main() {\n@start\n\t%q =w div -2147483648, 1\n\t%u =w udiv -2147483648, -1\n\t%s =w add %q, %u\n\tret %s\n}\n";
    assert_eq!(exit_code(ok), -2147483648);
}

#[test]
fn error_display_names_the_place() {
    let e = error(&div_program("w", "div", "1", "0"));
    assert_eq!(
        e.to_string(),
        "division by zero in $main @start, at `div` (line 4, column 2)"
    );
}
