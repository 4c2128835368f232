//! Interpreter: single/double arithmetic, float comparisons (ordered and unordered),
//! conversions, `cast`, and conversion errors. Expected values are worked out by hand.

#[path = "interp/support.rs"]
mod support;
use support::*;

#[test]
fn double_and_single_arithmetic() {
    let out = output(
        r#"
data $f = { b "%.17g %g %g %f %f %g %g %.9f\n", b 0 }
export function w $main() {
@start
	%a =d add d_0.1, d_0.2
	%b =d mul d_1.5, d_4
	%c =d sub d_1, d_0.25
	%z =d copy d_0
	%inf =d div d_1, %z
	%minf =d div d_-1, %z
	%n =d neg d_2.5
	%s1 =s mul s_1.5, s_2.5
	%s1d =d exts %s1
	%s2 =s div s_1, s_3
	%s2d =d exts %s2
	call $printf(l $f, ..., d %a, d %b, d %c, d %inf, d %minf, d %n, d %s1d, d %s2d)
	ret 0
}
"#,
    );
    assert_eq!(
        out,
        "0.30000000000000004 6 0.75 inf -inf -2.5 3.75 0.333333343\n"
    );
}

#[test]
fn nan_is_canonical_and_printed_positive() {
    let out = output(
        r#"
data $f = { b "%f %lx %x\n", b 0 }
export function w $main() {
@start
	%z =d copy d_0
	%nan =d div %z, %z
	%bits =l cast %nan
	%zs =s copy s_0
	%nans =s div %zs, %zs
	%sbits =w cast %nans
	call $printf(l $f, ..., d %nan, l %bits, w %sbits)
	ret 0
}
"#,
    );
    assert_eq!(out, "nan 7ff8000000000000 7fc00000\n");
}

#[test]
fn float_comparisons() {
    let out = output(
        r#"
data $f = { b "%d%d%d%d%d%d%d%d%d%d%d%d %d%d%d%d%d\n", b 0 }
export function w $main() {
@start
	%z =d copy d_0
	%nan =d div %z, %z
	%a =w ceqd d_1, d_1
	%b =w cned %nan, %nan
	%c =w cned d_1, d_1
	%d =w cltd d_1, d_2
	%e =w cled d_2, d_2
	%g =w cgtd %nan, d_1
	%h =w cged d_2, d_1
	%i =w cod d_1, %nan
	%j =w cuod d_1, %nan
	%k =w cod d_1, d_2
	%m =w cltd %nan, d_1
	%n =w ceqd %nan, %nan
	%zs =s copy s_0
	%nans =s div %zs, %zs
	%p =w clts s_1, s_2
	%q =w cuos s_1, s_2
	%r =w ceqs s_0, s_-0
	%s =w cuos %nans, s_1
	%t =w cgts s_-1, s_-2
	call $printf(l $f, ..., w %a, w %b, w %c, w %d, w %e, w %g, w %h, w %i, w %j, w %k, w %m, w %n, w %p, w %q, w %r, w %s, w %t)
	ret 0
}
"#,
    );
    assert_eq!(out, "110110101100 10111\n");
}

#[test]
fn conversions() {
    let out = output(
        r#"
data $f = { b "%d %d %d %u %ld %lu\n", b 0 }
data $g = { b "%g %.0f %g %.0f %g %.9g %.0f\n", b 0 }
export function w $main() {
@start
	%a =w dtosi d_7.9
	%b =w dtosi d_-7.9
	%c =w stosi s_-2.5
	%d =w dtoui d_4294967295
	%e =l dtosi d_-1000000000000000
	%g =l dtoui d_10000000000000000000
	call $printf(l $f, ..., w %a, w %b, w %c, w %d, l %e, l %g)
	%h =d swtof -3
	%i =d uwtof -1
	%j =d sltof -1
	%k =d ultof -1
	%m =d exts s_0.5
	%n =s truncd d_0.1
	%nd =d exts %n
	%o =s sltof 16777217
	%od =d exts %o
	call $printf(l $g, ..., d %h, d %i, d %j, d %k, d %m, d %nd, d %od)
	ret 0
}
"#,
    );
    assert_eq!(
        out,
        "7 -7 -2 4294967295 -1000000000000000 10000000000000000000\n\
         -3 4294967295 -1 18446744073709551616 0.5 0.100000001 16777216\n"
    );
}

#[test]
fn cast_keeps_the_bits() {
    let out = output(
        r#"
data $f = { b "%x %lx %g %g\n", b 0 }
export function w $main() {
@start
	%a =w cast s_1
	%b =l cast d_-2
	%c =s cast 1065353216
	%cd =d exts %c
	%b0 =w cast s_3.5
	%b1 =w xor 2147483648, %b0
	%rs =s cast %b1
	%rd =d exts %rs
	call $printf(l $f, ..., w %a, l %b, d %cd, d %rd)
	ret 0
}
"#,
    );
    assert_eq!(out, "3f800000 c000000000000000 1 -3.5\n");
}

#[test]
fn out_of_range_conversions_are_errors() {
    for (ty, op, val) in [
        ("w", "dtosi", "d_10000000000"),
        ("w", "dtosi", "d_2147483648"),
        ("w", "stoui", "s_-1"),
        ("l", "dtoui", "d_-1"),
        ("l", "dtosi", "d_9223372036854775808"),
    ] {
        let src =
            format!("export function w $main() {{\n@start\n\t%r ={ty} {op} {val}\n\tret 0\n}}\n");
        let e = error(&src);
        assert!(e.msg.contains("out of range"), "{op} {val}: {}", e.msg);
        assert_eq!(e.at.unwrap().inst, op);
    }
    let nan = "export function w $main() {\n@start\n\t%z =d copy d_0\n\t%n =d div %z, %z\n\t%r =w dtosi %n\n\tret 0\n}\n";
    assert!(error(nan).msg.contains("out of range"));
    // The extremes that do fit.
    let ok = "export function w $main() {\n@start\n\t%a =w dtosi d_-2147483648.9\n\t%b =w dtoui d_-0.5\n\t%r =w add %a, %b\n\tret %r\n}\n";
    assert_eq!(exit_code(ok), i32::MIN);
}

#[test]
fn integer_extensions() {
    let out = output(
        r#"
data $f = { b "%d %d %d %d %ld %ld %ld %ld %ld %ld %u\n", b 0 }
export function w $main() {
@start
	%a =w extsh 65535
	%b =w extuh -1
	%c =w extsb 128
	%d =w extub -1
	%e =l extsb 255
	%g =l extub 511
	%h =l extsh 32768
	%i =l extuh -1
	%j =l extsw 2147483648
	%k =l extuw -1
	%m =w stoui s_3.9
	call $printf(l $f, ..., w %a, w %b, w %c, w %d, l %e, l %g, l %h, l %i, l %j, l %k, w %m)
	ret 0
}
"#,
    );
    assert_eq!(
        out,
        "-1 65535 -128 255 -1 255 -32768 65535 -2147483648 4294967295 3\n"
    );
}
