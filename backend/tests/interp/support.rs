//! Helpers shared by the `interp_*` tests: parse IL text and run it with the interpreter.
#![allow(dead_code)]

use rvflash_backend::interp::{self, Config, Error};

/// Parses `src` (panics with the front end's message if it is not valid IL).
pub fn parse(src: &str) -> rvflash_backend::ir::Module {
    rvflash_backend::qbe::parse("test.ssa", src).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `$main` with a config; returns the output and the result.
pub fn run_with(src: &str, config: &Config) -> (String, Result<i32, Error>) {
    let m = parse(src);
    let mut out = Vec::new();
    let r = interp::run_with(&m, "main", &["test"], &mut out, config);
    (String::from_utf8_lossy(&out).into_owned(), r)
}

/// Runs `$main`; returns its output and exit code (panics on an interpreter error).
pub fn run(src: &str) -> (String, i32) {
    let (out, r) = run_with(src, &Config::default());
    match r {
        Ok(code) => (out, code),
        Err(e) => panic!("interpreter error: {e}\noutput so far: {out}"),
    }
}

/// Runs `$main` and returns its exit code.
pub fn exit_code(src: &str) -> i32 {
    run(src).1
}

/// Runs `$main` and returns its output (the exit code must be 0).
pub fn output(src: &str) -> String {
    let (out, code) = run(src);
    assert_eq!(code, 0, "exit code; output: {out}");
    out
}

/// Runs `$main`, which must fail; returns the error.
pub fn error(src: &str) -> Error {
    match run_with(src, &Config::default()).1 {
        Ok(code) => panic!("expected an error, program exited with {code}"),
        Err(e) => e,
    }
}

/// Reads an IL file from `tests/interp/`.
pub fn file(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interp/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap()
}
