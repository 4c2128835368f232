//! Tests of the device runtime's IL libc (`runtime/libc/*.ssa`) in the reference interpreter.
//!
//! The IL libc is parsed together with a test program; `runtime/test/interp.ssa` replaces
//! `runtime/libc/board.ssa` and maps the board primitives (`$rv_console_putc`, `$rv_exit`)
//! onto the interpreter's host libc. Module functions take precedence over the host libc, so
//! the program's calls to `printf`, `malloc`, ... run the IL versions. Each program's output
//! is compared with the same program run against the interpreter's host libc alone, and with
//! hand-written expectations.

use rvflash_backend::interp;

/// The IL libc without the board glue.
const LIBC: &[&str] = &[
    include_str!("../../runtime/libc/string.ssa"),
    include_str!("../../runtime/libc/malloc.ssa"),
    include_str!("../../runtime/libc/stdio.ssa"),
    include_str!("../../runtime/libc/vformat.ssa"),
    include_str!("../../runtime/libc/fmt_float.ssa"),
    include_str!("../../runtime/libc/stdlib.ssa"),
];
const BOARD: &str = include_str!("../../runtime/libc/board.ssa");
const STUB: &str = include_str!("../../runtime/test/interp.ssa");

fn run_src(src: &str) -> (String, i32) {
    let m = rvflash_backend::qbe::parse("test.ssa", src).unwrap_or_else(|e| panic!("{e}"));
    let mut out = Vec::new();
    let r = interp::run(&m, "main", &["test"], &mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    match r {
        Ok(code) => (out, code),
        Err(e) => panic!("interpreter error: {e}\noutput so far: {out}"),
    }
}

/// Runs `prog` with the IL libc.
fn run_il(prog: &str) -> (String, i32) {
    let mut src = LIBC.join("\n");
    src.push_str(STUB);
    src.push_str(prog);
    run_src(&src)
}

/// Runs `prog` with the interpreter's host libc.
fn run_host(prog: &str) -> (String, i32) {
    run_src(prog)
}

/// Runs `prog` both ways; they must agree. Returns the output and exit code.
fn both(prog: &str) -> (String, i32) {
    let il = run_il(prog);
    let host = run_host(prog);
    assert_eq!(il, host, "IL libc vs host libc differ for program:\n{prog}");
    il
}

/// An IL string literal for `s` (data item syntax).
fn il_str(s: &str) -> String {
    let mut out = String::from("b \"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push_str("\", b 0");
    out
}

/// A program calling printf once per (format, arguments) case; arguments are IL call
/// arguments such as `w 42`, `l -1`, `d d_1.5`, `l $s0` (strings `$s0`.. are defined from
/// `strings`).
fn printf_prog(cases: &[(&str, &str)], strings: &[&str]) -> String {
    let mut prog = String::new();
    for (i, (fmt, _)) in cases.iter().enumerate() {
        prog.push_str(&format!("data $fmt{i} = {{ {} }}\n", il_str(fmt)));
    }
    for (i, s) in strings.iter().enumerate() {
        prog.push_str(&format!("data $s{i} = {{ {} }}\n", il_str(s)));
    }
    prog.push_str("export function w $main() {\n@start\n");
    for (i, (_, args)) in cases.iter().enumerate() {
        let sep = if args.is_empty() { "" } else { ", " };
        prog.push_str(&format!(
            "\t%r{i} =w call $printf(l $fmt{i}, ...{sep}{args})\n"
        ));
    }
    prog.push_str("\tret 0\n}\n");
    prog
}

#[test]
fn board_glue_parses() {
    // board.ssa references the linker's heap symbols, so it cannot run here; it must parse
    // together with the rest of the libc.
    let mut src = LIBC.join("\n");
    src.push_str(BOARD);
    rvflash_backend::qbe::parse("libc.ssa", &src).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn puts_putchar_and_exit_code() {
    let prog = r#"
data $hi = { b "hello", b 0 }
export function w $main() {
@start
	%a =w call $puts(l $hi)
	%b =w call $putchar(w 33)
	%c =w call $putchar(w 10)
	ret 7
}
"#;
    assert_eq!(both(prog), ("hello\n!\n".into(), 7));
}

#[test]
fn printf_integers() {
    let cases: &[(&str, &str)] = &[
        ("[%d] [%i] [%u]\n", "w 42, w -42, w -1"),
        (
            "[%5d] [%-5d] [%05d] [%+d] [% d]\n",
            "w 42, w 42, w 42, w 42, w 42",
        ),
        (
            "[%x] [%X] [%#x] [%#X] [%o] [%#o]\n",
            "w 255, w 255, w 255, w 0, w 8, w 0",
        ),
        (
            "[%ld] [%lu] [%lx] [%lld] [%llu]\n",
            "l -9223372036854775808, l -1, l -1, l 123456789012, l 18446744073709551615",
        ),
        (
            "[%.3d] [%.0d] [%8.3d] [%-8.3x] [%08.3d]\n",
            "w 7, w 0, w -7, w 255, w 5",
        ),
        ("[%hd] [%hhd] [%hu] [%hhx]\n", "w 70000, w 200, w -1, w 511"),
        (
            "[%*d] [%-*d] [%.*d] [%*d]\n",
            "w 6, w 1, w 6, w 2, w 4, w 3, w -4, w 9",
        ),
        ("[%p] [%p] [%20p] [%-20p|]\n", "l 0, l 4096, l 255, l 255"),
        ("[%d] [%d]\n", "w 2147483647, w -2147483648"),
        (
            "[%#.0o] [%#5o] [%05x] [%-05d|] [%+05d]\n",
            "w 0, w 9, w 171, w 3, w -3",
        ),
        ("100%% [%c] [%3c] [%-3c|]\n", "w 65, w 66, w 67"),
        ("[%zu] [%jd] [%td]\n", "l 1, l -2, l 3"),
    ];
    let (out, _) = both(&printf_prog(cases, &[]));
    assert!(out.starts_with("[42] [-42] [4294967295]\n[   42] [42   ] [00042] [+42] [ 42]\n"));
    assert!(out.contains("[ff] [FF] [0xff] [0] [10] [0]\n"));
    assert!(out.contains("[-9223372036854775808] [18446744073709551615] [ffffffffffffffff]"));
    assert!(out.contains("[007] [] [    -007] [0ff     ] [     005]\n"));
    assert!(out.contains("[0x0] [0x1000] [                0xff] [0xff                |]\n"));
    assert!(out.contains("100% [A] [  B] [C  |]\n"));
}

#[test]
fn printf_strings() {
    let cases: &[(&str, &str)] = &[
        (
            "[%s] [%10s] [%-10s|] [%.3s] [%5.2s]\n",
            "l $s0, l $s0, l $s0, l $s0, l $s0",
        ),
        ("[%s] [%s]\n", "l $s1, l 0"),
        ("%s=%d, %s=%ld\n", "l $s0, w 1, l $s1, l 2"),
    ];
    let (out, _) = both(&printf_prog(cases, &["hello", ""]));
    assert_eq!(
        out,
        "[hello] [     hello] [hello     |] [hel] [   he]\n[] [(null)]\nhello=1, =2\n"
    );
}

/// Float cases: each value with each format.
fn float_cases(values: &[&str], formats: &[&str]) -> String {
    let mut cases = Vec::new();
    let fmts: Vec<String> = formats.iter().map(|f| format!("[{f}]\n")).collect();
    for v in values {
        for f in &fmts {
            cases.push((f.as_str(), format!("d d_{v}")));
        }
    }
    let refs: Vec<(&str, &str)> = cases.iter().map(|(f, a)| (*f, a.as_str())).collect();
    printf_prog(&refs, &[])
}

const VALUES: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "1.5",
    "2.5",
    "0.125",
    "3.14159265358979",
    "-2.718281828459045",
    "100",
    "1e10",
    "123456789.125",
    "0.1",
    "0.3",
    "1e-5",
    "0.0001234",
    "9.9999996",
    "0.00099999",
    "999999.5",
    "1e21",
    "1.7976931348623157e308",
    "5e-324",
    "2.2250738585072014e-308",
    "123.456",
    "-0.000001",
    "1e100",
    "6.02214076e23",
    "0.95",
    "0.05",
];

#[test]
fn printf_f() {
    let formats = [
        "%f", "%.0f", "%.1f", "%.2f", "%10.3f", "%-12.4f|", "%+f", "%#.0f", "%08.2f", "%.17f",
    ];
    let (out, _) = both(&float_cases(VALUES, &formats));
    assert!(out.starts_with("[0.000000]\n[0]\n[0.0]\n[0.00]\n[     0.000]\n"));
    assert!(out.contains("[3.141593]\n[3]\n[3.1]\n[3.14]\n"));
    assert!(out.contains("[-0.000000]"));
}

#[test]
fn printf_e_g() {
    let formats = [
        "%e", "%.0e", "%.3E", "%g", "%G", "%.3g", "%.17g", "%#g", "%.0g", "%12.4e", "%-12g|",
        "%+.10g",
    ];
    let (out, _) = both(&float_cases(VALUES, &formats));
    assert!(out.contains("[3.141593e+00]\n[3e+00]\n[3.142E+00]\n[3.14159]\n"));
    assert!(out.contains("[1e+100]"));
    assert!(out.contains("[4.9406564584124654e-324]"));
}

#[test]
fn printf_nonfinite() {
    let prog = r#"
data $f = { b "[%f] [%F] [%e] [%G] [%5f] [%-6f|] [%+f] [%f]\n", b 0 }
export function w $main() {
@start
	%inf =d div d_1, d_0
	%ninf =d neg %inf
	%nan =d sub %inf, %inf
	%r =w call $printf(l $f, ..., d %inf, d %inf, d %ninf, d %nan, d %inf, d %inf, d %inf, d %nan)
	ret 0
}
"#;
    let (out, _) = both(prog);
    assert!(out.contains("[inf] [INF] [-inf]"), "{out}");
}

#[test]
fn sprintf_and_snprintf() {
    let prog = r#"
data $fmt = { b "%s-%05d-%.2f", b 0 }
data $word = { b "abc", b 0 }
data $line = { b "[%s] %d\n", b 0 }
export function w $main() {
@start
	%buf =l alloc8 64
	%n =w call $sprintf(l %buf, l $fmt, ..., l $word, w 42, d d_2.345)
	%r =w call $printf(l $line, ..., l %buf, w %n)
	%m =w call $snprintf(l %buf, l 6, l $fmt, ..., l $word, w 42, d d_2.345)
	%r =w call $printf(l $line, ..., l %buf, w %m)
	storeb 88, %buf
	%k =w call $snprintf(l 0, l 0, l $fmt, ..., l $word, w 1, d d_1)
	%r =w call $printf(l $line, ..., l %buf, w %k)
	ret 0
}
"#;
    assert_eq!(
        both(prog).0,
        "[abc-00042-2.35] 14\n[abc-0] 14\n[Xbc-0] 14\n"
    );
}

#[test]
fn string_functions() {
    let prog = r#"
data $a = { b "hello", b 0 }
data $b = { b "help", b 0 }
data $fmt = { b "%ld %d %d %d %d %s %s %d %d\n", b 0 }
export function w $main() {
@start
	%buf =l alloc8 32
	%len =l call $strlen(l $a)
	%c1 =w call $strcmp(l $a, l $b)
	%c2 =w call $strcmp(l $b, l $a)
	%c3 =w call $strcmp(l $a, l $a)
	%m1 =w call $memcmp(l $a, l $b, l 3)
	%p =l call $strcpy(l %buf, l $a)
	%q =l add %buf, 1
	%p2 =l call $memmove(l %q, l %buf, l 5)
	%s2 =l add %buf, 16
	%p3 =l call $memset(l %s2, w 120, l 3)
	%e =l add %buf, 19
	storeb 0, %e
	%m2 =w call $memcmp(l $a, l $b, l 4)
	%m3 =w call $memcmp(l $b, l $a, l 0)
	%r =w call $printf(l $fmt, ..., l %len, w %c1, w %c2, w %c3, w %m1, l %buf, l %s2, w %m2, w %m3)
	%p4 =l call $memmove(l %buf, l %q, l 5)
	%r2 =w call $puts(l %buf)
	ret 0
}
"#;
    assert_eq!(both(prog).0, "5 -4 4 0 0 hhello xxx -4 0\nhelloo\n");
}

#[test]
fn malloc_free_realloc_calloc() {
    let prog = r#"
data $fmt = { b "%ld %ld %ld %d %s %ld\n", b 0 }
data $txt = { b "runtime", b 0 }
export function w $main() {
@start
	%a =l call $malloc(l 24)
	%b =l call $malloc(l 1)
	%al =l and %a, 15
	%bl =l and %b, 15
	%dist =l sub %b, %a
	%ok =w cugel %dist, 24
	%p =l call $strcpy(l %a, l $txt)
	%a2 =l call $realloc(l %a, l 100)
	call $free(l %b)
	%c =l call $calloc(l 10, l 8)
	%c9 =l add %c, 72
	%z =l loadl %c9
	%big =l call $malloc(l 1099511627777)
	%r =w call $printf(l $fmt, ..., l %al, l %bl, l %z, w %ok, l %a2, l %big)
	call $free(l %a2)
	call $free(l %c)
	call $free(l 0)
	%n =l copy 0
@loop
	%p1 =l call $malloc(l 1000)
	%p2 =l call $malloc(l 3000)
	call $free(l %p1)
	call $free(l %p2)
	%n =l add %n, 1
	%more =w csltl %n, 2000
	jnz %more, @loop, @done
@done
	%full =l call $malloc(l 2000000)
	%r2 =w call $printf(l $fmt, ..., l 0, l 0, l 0, w 0, l $txt, l %full)
	ret 0
}
"#;
    // The host heap is larger: only the IL run allocates 2 MB unsuccessfully.
    let (out, code) = run_il(prog);
    assert_eq!(code, 0);
    assert_eq!(out, "0 0 0 1 runtime 0\n0 0 0 0 runtime 0\n");
}

#[test]
fn exit_abort_and_panic() {
    let exit = "export function w $main() {\n@start\n\tcall $exit(w 3)\n\tret 0\n}\n";
    assert_eq!(both(exit), (String::new(), 3));
    let abort = "export function w $main() {\n@start\n\tcall $abort()\n\tret 0\n}\n";
    assert_eq!(both(abort), (String::new(), 134));
    let panic = r#"
data $msg = { b "index out of bounds!!" }
export function w $main() {
@start
	call $rv_panic(l $msg, l 19)
	ret 0
}
"#;
    assert_eq!(both(panic), ("panicked: index out of bounds\n".into(), 127));
}

#[test]
fn examples_run_the_same() {
    for name in [
        "hello", "fib", "sieve", "structs", "varargs", "floats", "panic",
    ] {
        let path = format!("{}/../examples/{name}.ssa", env!("CARGO_MANIFEST_DIR"));
        let prog = std::fs::read_to_string(path).unwrap();
        both(&prog);
    }
}

/// Random doubles (moderate exponents, plus some across the whole range): the IL and host
/// printf must agree digit for digit.
#[test]
fn printf_random_doubles() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut values = Vec::new();
    for i in 0..240 {
        let r = next();
        let bits = if i % 12 == 0 {
            r & !(0x7ff << 52) | (((r >> 52) % 2046 + 1) << 52)
        } else {
            let exp = 1023 - 60 + (r >> 52) % 120;
            (r & 0x800f_ffff_ffff_ffff) | (exp << 52)
        };
        values.push(format!("{:e}", f64::from_bits(bits)));
    }
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    both(&float_cases(&refs, &["%.17g", "%e", "%.3f", "%g", "%.10e"]));
}

/// `rv_cmdline` (args.ssa) splits SYS_GET_CMDLINE's string into `rv_argv`; here a stub
/// `rv_semihost` plays the host.
#[test]
fn cmdline_arguments() {
    let prog = r#"
data $cmdline = { b "prog  one two   three", b 0 }
data $fmt = { b "argc=%d [%s] [%s] [%s] [%s] %ld\n", b 0 }
function l $rv_semihost(l %op, l %block) {
@start
	%buf =l loadl %block
	%r =l call $strcpy(l %buf, l $cmdline)
	%n =l call $strlen(l $cmdline)
	%pl =l add %block, 8
	storel %n, %pl
	ret 0
}
export function w $main() {
@start
	%argc =w call $rv_cmdline()
	%a0 =l loadl $rv_argv
	%p1 =l add $rv_argv, 8
	%a1 =l loadl %p1
	%p2 =l add $rv_argv, 16
	%a2 =l loadl %p2
	%p3 =l add $rv_argv, 24
	%a3 =l loadl %p3
	%p4 =l add $rv_argv, 32
	%a4 =l loadl %p4
	%r =w call $printf(l $fmt, ..., w %argc, l %a0, l %a1, l %a2, l %a3, l %a4)
	ret 0
}
"#;
    let mut src = String::from(include_str!("../../runtime/libc/args.ssa"));
    src.push_str(prog);
    let (out, code) = run_il(&src);
    assert_eq!(code, 0);
    assert_eq!(out, "argc=4 [prog] [one] [two] [three] 0\n");
}

#[path = "support/gen.rs"]
mod randgen;

/// Random programs (tests/support/gen.rs) print the same through the IL libc as through
/// the host libc — what the compiled programs will do on a board.
#[test]
fn generated_programs_print_the_same() {
    for seed in 0..150 {
        both(&randgen::generate(seed));
    }
}
