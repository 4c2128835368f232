//! Interpreter: the host C library — every printf conversion, flag, width and precision,
//! sprintf/snprintf, the allocator, mem*/str* functions, exit/abort/rv_panic and unknown
//! externals. Expected strings are what C's printf prints, written by hand.

#[path = "interp/support.rs"]
mod support;
use support::*;

/// Runs `printf(fmt, args)`; `args` is the IL argument list after `...`.
fn printf(fmt: &str, args: &str) -> String {
    let src = format!(
        "data $fmt = {{ b \"{fmt}\", b 0 }}\ndata $str = {{ b \"hello\", b 0 }}\n\
         export function w $main() {{\n@start\n\t%z =d copy d_0\n\t%nan =d div %z, %z\n\
         \t%inf =d div d_1, %z\n\t%minf =d div d_-1, %z\n\
         \t%n =w call $printf(l $fmt, ..., {args})\n\tret 0\n}}\n"
    );
    output(&src)
}

#[test]
fn integer_conversions() {
    assert_eq!(
        printf(
            "%d|%i|%u|%x|%X|%o|%c|%s|%%",
            "w -42, w 42, w -1, w 255, w 255, w 8, w 65, l $str"
        ),
        "-42|42|4294967295|ff|FF|10|A|hello|%"
    );
    assert_eq!(
        printf(
            "%ld|%lu|%lx|%lld|%llu|%d",
            "l -1, l -1, l -1, l -9000000000, l 9000000000, l 4294967297"
        ),
        "-1|18446744073709551615|ffffffffffffffff|-9000000000|9000000000|1"
    );
    assert_eq!(printf("%hhd|%hu", "w 255, w 65537"), "-1|1");
}

#[test]
fn integer_flags_width_precision() {
    assert_eq!(
        printf(
            "[%5d][%-5d][%05d][%+d][% d][%+d]",
            "w 42, w 42, w 42, w 42, w 42, w -42"
        ),
        "[   42][42   ][00042][+42][ 42][-42]"
    );
    assert_eq!(
        printf(
            "[%.3d][%8.3d][%-8.3x][%.0d][%05.3d]",
            "w 7, w 7, w 255, w 0, w -7"
        ),
        "[007][     007][0ff     ][][ -007]"
    );
    assert_eq!(
        printf(
            "[%#x][%#o][%#X][%#x][%#o][%#010x]",
            "w 255, w 8, w 255, w 0, w 0, w 255"
        ),
        "[0xff][010][0XFF][0][0][0x000000ff]"
    );
    assert_eq!(
        printf("[%*d][%-*d][%.*d]", "w 4, w 7, w -4, w 7, w 3, w 7"),
        "[   7][7   ][007]"
    );
}

#[test]
fn strings_chars_pointers() {
    assert_eq!(
        printf(
            "[%10s][%-10s][%.2s][%3c][%-3c]",
            "l $str, l $str, l $str, w 120, w 120"
        ),
        "[     hello][hello     ][he][  x][x  ]"
    );
    assert_eq!(
        printf("%p %p [%8p]", "l 4096, l 0, l 255"),
        "0x1000 0x0 [    0xff]"
    );
    assert_eq!(printf("%s", "l 0"), "(null)");
}

#[test]
fn float_conversions() {
    assert_eq!(
        printf(
            "%f|%.2f|%e|%.3E|%g|%g|%g|%G",
            "d d_3.14159265, d d_2.675, d d_12345.678, d d_0.000123456, d d_100000, d d_1000000, d d_0.0001, d d_0.00001"
        ),
        "3.141593|2.67|1.234568e+04|1.235E-04|100000|1e+06|0.0001|1E-05"
    );
    assert_eq!(
        printf(
            "%g|%g|%#g|%.3g|%g|%g|%g|%.0e|%e",
            "d d_0.5, d d_0.000015, d d_1, d d_3.14159, d d_123456789, d d_0, d d_-0.0, d d_15, d d_0"
        ),
        "0.5|1.5e-05|1.00000|3.14|1.23457e+08|0|-0|2e+01|0.000000e+00"
    );
    assert_eq!(
        printf(
            "[%8.3f][%-8.2f][%08.2f][%+.1f][%#.0f][%.0f][%.0f][% f]",
            "d d_3.14159, d d_2.5, d d_-2.5, d d_1.25, d d_3, d d_2.5, d d_3.5, d d_1"
        ),
        "[   3.142][2.50    ][-0002.50][+1.2][3.][2][4][ 1.000000]"
    );
    assert_eq!(
        printf(
            "%f %f %F [%5f] %e",
            "d %inf, d %minf, d %nan, d %nan, d %inf"
        ),
        "inf -inf NAN [  nan] inf"
    );
    // An `s` variadic argument is read as a float; `*` precision.
    assert_eq!(printf("%.1f|%.*f", "s s_1.5, w 2, d d_3.14159"), "1.5|3.14");
    assert_eq!(printf("%.1e|%g", "d d_9.96, d d_999999.5"), "1.0e+01|1e+06");
}

#[test]
fn sprintf_and_snprintf() {
    let out = output(
        r#"
data $fmt = { b "%d-%s", b 0 }
data $abc = { b "abc", b 0 }
data $num = { b "%d", b 0 }
data $res = { b "%d %d %d %s %s\n", b 0 }
export function w $main() {
@start
	%buf =l alloc8 32
	%n =w call $sprintf(l %buf, l $fmt, ..., w 12, l $abc)
	%small =l alloc8 8
	%m =w call $snprintf(l %small, l 4, l $num, ..., w 123456)
	%none =w call $snprintf(l 0, l 0, l $num, ..., w 99)
	call $printf(l $res, ..., w %n, w %m, w %none, l %buf, l %small)
	ret 0
}
"#,
    );
    // snprintf returns the length it would have written; it stores at most n-1 bytes + NUL.
    assert_eq!(out, "6 6 2 12-abc 123\n");
}

#[test]
fn allocator() {
    let code = exit_code(
        r#"
export function w $main() {
@start
	%p =l call $malloc(l 16)
	storel 1234, %p
	%p8 =l add %p, 8
	storel 5678, %p8
	%q =l call $realloc(l %p, l 4096)
	%a =l loadl %q
	%q8 =l add %q, 8
	%b =l loadl %q8
	%c =l call $calloc(l 4, l 8)
	%c24 =l add %c, 24
	%z =l loadl %c24
	call $free(l %q)
	call $free(l %c)
	call $free(l 0)
	%s =l add %a, %b
	%s =l add %s, %z
	%al =l and %c, 15
	%s =l add %s, %al
	%r =w sub %s, 6900
	ret %r
}
"#,
    );
    // 1234 + 5678 + 0 + 0 - 6900
    assert_eq!(code, 12);
    let e = error(
        "export function w $main() {\n@start\n\t%p =l call $malloc(l 8)\n\tcall $free(l %p)\n\tcall $free(l %p)\n\tret 0\n}\n",
    );
    assert!(
        e.msg.contains("free") && e.msg.contains("not a live"),
        "{}",
        e.msg
    );
    let big = exit_code(
        "export function w $main() {\n@start\n\t%p =l call $malloc(l 1099511627776)\n\t%z =w ceql %p, 0\n\tret %z\n}\n",
    );
    assert_eq!(big, 1, "malloc beyond the heap returns NULL");
}

#[test]
fn memory_and_string_functions() {
    let out = output(
        r#"
data $s1 = { b "apple", b 0 }
data $s2 = { b "apricot", b 0 }
data $res = { b "%ld %d %d %d %s %s %d %d\n", b 0 }
export function w $main() {
@start
	%len =l call $strlen(l $s1)
	%c1 =w call $strcmp(l $s1, l $s2)
	%lt =w csltw %c1, 0
	%c2 =w call $strcmp(l $s2, l $s2)
	%m =w call $memcmp(l $s1, l $s2, l 2)
	%buf =l alloc8 16
	%r =l call $strcpy(l %buf, l $s2)
	%same =w ceql %r, %buf
	call $memset(l %buf, w 120, l 3)
	%b2 =l alloc8 16
	call $memcpy(l %b2, l $s1, l 6)
	%b21 =l add %b2, 1
	call $memmove(l %b21, l %b2, l 3)
	%gt =w call $memcmp(l $s2, l $s1, l 3)
	%pos =w csgtw %gt, 0
	call $printf(l $res, ..., l %len, w %lt, w %c2, w %m, l %buf, l %b2, w %same, w %pos)
	ret 0
}
"#,
    );
    assert_eq!(out, "5 1 0 0 xxxicot aappe 1 1\n");
}

#[test]
fn putchar_and_puts() {
    let out = output(
        "data $s = { b \"line\", b 0 }\nexport function w $main() {\n@start\n\t%a =w call $putchar(w 72)\n\t%b =w call $putchar(w 10)\n\t%c =w call $puts(l $s)\n\tret 0\n}\n",
    );
    assert_eq!(out, "H\nline\n");
}

#[test]
fn exit_abort_and_panic() {
    let src = "data $s = { b \"before\", b 0 }\nfunction $deep() {\n@start\n\tcall $exit(w 3)\n\thlt\n}\nexport function w $main() {\n@start\n\tcall $puts(l $s)\n\tcall $deep()\n\tret 0\n}\n";
    assert_eq!(run(src), ("before\n".to_string(), 3));
    let src = "export function w $main() {\n@start\n\tcall $abort()\n\tret 0\n}\n";
    assert_eq!(run(src), (String::new(), 134));
    let src = "data $m = { b \"boom!!\" }\nexport function w $main() {\n@start\n\tcall $rv_panic(l $m, l 4)\n\tret 0\n}\n";
    assert_eq!(run(src), ("panicked: boom\n".to_string(), 127));
}

#[test]
fn unknown_external_is_named() {
    let e =
        error("export function w $main() {\n@start\n\t%r =w call $frobnicate(w 1)\n\tret %r\n}\n");
    assert_eq!(e.msg, "unknown external function $frobnicate");
    let e = error(
        "data $f = { b \"%q\", b 0 }\nexport function w $main() {\n@start\n\tcall $printf(l $f)\n\tret 0\n}\n",
    );
    assert!(e.msg.contains("unsupported conversion %q"), "{}", e.msg);
    let e = error(
        "data $f = { b \"%d %d\", b 0 }\nexport function w $main() {\n@start\n\tcall $printf(l $f, ..., w 1)\n\tret 0\n}\n",
    );
    assert!(e.msg.contains("too few arguments"), "{}", e.msg);
}
