//! Whole programs: the repository's examples linked with the IL runtime (`runtime/libc`,
//! compiled by this backend too — printf, varargs, malloc, string functions) and board glue
//! written in IL for the simulator; output and exit code must match the interpreter's.

mod codegen_support;

use std::path::Path;

/// `rv_console_putc` on the UART THR, `rv_exit` through the SiFive test finisher.
const GLUE: &str = r#"
export function $rv_console_putc(w %c) {
@s
  storeb %c, 268435456
  ret
}
export function $rv_exit(w %code) {
@s
  %z =w ceqw %code, 0
  jnz %z, @ok, @fail
@ok
  storew 21845, 1048576
  jmp @spin
@fail
  %v =w shl %code, 16
  %v =w or %v, 13107
  storew %v, 1048576
@spin
  jmp @spin
}
"#;

fn runtime() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/libc");
    // The runtime is one module (its files share non-exported symbols).
    let mut all = String::new();
    for f in [
        "board",
        "fmt_float",
        "malloc",
        "stdio",
        "stdlib",
        "string",
        "vformat",
    ] {
        all.push_str(&std::fs::read_to_string(root.join(format!("{f}.ssa"))).unwrap());
    }
    vec![GLUE.to_string(), all]
}

fn example(name: &str) -> (i32, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../examples/{name}.ssa"));
    let src = std::fs::read_to_string(path).unwrap();
    let dir = codegen_support::scratch(name);
    let elf = codegen_support::build_with(&dir, &src, &runtime());
    let got = codegen_support::run_elf(&elf);
    let want = codegen_support::interp(&src);
    assert_eq!(
        got, want,
        "simulator vs interpreter for examples/{name}.ssa"
    );
    let _ = std::fs::remove_dir_all(&dir);
    got
}

#[test]
fn example_hello() {
    assert_eq!(example("hello").1, "Hello, world!\n");
}

#[test]
fn example_fib() {
    example("fib");
}

#[test]
fn example_sieve() {
    example("sieve");
}

#[test]
fn example_varargs() {
    example("varargs");
}

#[test]
fn example_floats() {
    example("floats");
}

#[test]
fn example_panic() {
    example("panic");
}

#[test]
fn example_structs() {
    example("structs");
}
