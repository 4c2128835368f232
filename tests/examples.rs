//! Runs every program of `examples/` with `rvflash interp` and checks its output and exit
//! status against the values written here (the same ones as in each example's header).

use std::path::Path;
use std::process::Command;

/// (file, expected stdout, expected exit status)
const EXAMPLES: &[(&str, &str, i32)] = &[
    ("hello.ssa", "Hello, world!\n", 0),
    ("fib.ssa", "0 1 1 2 3 5 8 13 21 34\n", 55),
    (
        "sieve.ssa",
        "2 3 5 7 11 13 17 19 23 29 31 37 41 43 47\n15 primes\n",
        15,
    ),
    (
        "structs.ssa",
        "(4, 6)\n(1, 2) scaled: (10, 20)\nbig sum: 6\n",
        0,
    ),
    (
        "varargs.ssa",
        "sum(1, 2, 3, 4) = 10\navg(1.5, 2.5) = 2.00\n[   42] [42   ] [00042] [2a] [0X2A] [hello]\n",
        0,
    ),
    (
        "floats.ssa",
        "circle area (r = 2): 12.566371\n\
         1/3 as float: 0.333333343\n\
         7.9 truncated: 7, -7.9 truncated: -7\n\
         1e10 / 3 = 3.33333e+09\n\
         nan == nan: 0, nan unordered: 1\n",
        0,
    ),
    (
        "panic.ssa",
        "checking 2 + 2...\npanicked: arithmetic is broken\n",
        127,
    ),
    ("trap.ssa", "about to halt\n", 134),
];

fn interp(file: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rvflash"))
        .arg("interp")
        .arg(file)
        .args(args)
        .output()
        .expect("run rvflash")
}

#[test]
fn every_example_prints_and_exits_as_documented() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for (file, stdout, status) in EXAMPLES {
        let out = interp(&dir.join(file), &[]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            *stdout,
            "stdout of {file}"
        );
        assert_eq!(out.status.code(), Some(*status), "exit status of {file}");
    }
}

#[test]
fn every_example_is_tested() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".ssa") {
            assert!(
                EXAMPLES.iter().any(|(f, _, _)| *f == name),
                "examples/{name} has no expected output in tests/examples.rs"
            );
        }
    }
}

#[test]
fn trap_reports_where_it_stopped() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let out = interp(&dir.join("trap.ssa"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hlt reached"), "{err}");
    assert!(
        err.contains("$main") && err.contains("@unreachable"),
        "{err}"
    );
}

#[test]
fn parse_errors_exit_125_with_position() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.ssa");
    std::fs::write(
        &bad,
        "export function w $main() {\n@start\n\tret %undefined\n}\n",
    )
    .unwrap();
    let out = interp(&bad, &[]);
    assert_eq!(out.status.code(), Some(125));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.ssa:3:"), "{err}");
}

#[test]
fn arguments_reach_main() {
    let tmp = tempfile::tempdir().unwrap();
    let prog = tmp.path().join("args.ssa");
    std::fs::write(
        &prog,
        "data $fmt = { b \"%d %s\\n\", b 0 }\n\
         export function w $main(w %argc, l %argv) {\n@start\n\
         \t%p =l add %argv, 8\n\t%a1 =l loadl %p\n\
         \tcall $printf(l $fmt, ..., w %argc, l %a1)\n\tret %argc\n}\n",
    )
    .unwrap();
    let out = interp(&prog, &["first", "-x"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3 first\n");
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn runtime_errors_exit_134() {
    let tmp = tempfile::tempdir().unwrap();
    let prog = tmp.path().join("div.ssa");
    std::fs::write(
        &prog,
        "export function w $main() {\n@start\n\t%z =w copy 0\n\t%r =w div 1, %z\n\tret %r\n}\n",
    )
    .unwrap();
    let out = interp(&prog, &[]);
    assert_eq!(out.status.code(), Some(134));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("division by zero"), "{err}");
    assert!(err.contains("line 4"), "{err}");
}
