//! Interpreter robustness: whatever verified IL it is given, it returns a result or an
//! error — never panics, never hangs (small step and depth limits here).
//!
//! Runs every parsable IL file of the repository (these tests' own, the front end's, the
//! examples), then thousands of mutants of them whose integer constants are replaced by
//! edge values (0, -1, INT_MIN, huge, misaligned addresses...).

#[path = "interp/support.rs"]
mod support;

use std::path::{Path, PathBuf};

use rvflash_backend::interp::{self, Config};

fn il_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        root.join("tests/interp"),
        root.join("tests/il"),
        root.join("../examples"),
    ] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "ssa") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn config() -> Config {
    Config {
        fuel: 20_000,
        max_depth: 200,
        stack_size: 1 << 20,
        heap_size: 1 << 20,
        data_size: 1 << 20,
    }
}

/// Runs every function of `src` that takes no parameters; returns how many ran.
fn run_all(src: &str) -> usize {
    let Ok(m) = rvflash_backend::qbe::parse("fuzz.ssa", src) else {
        return 0;
    };
    let mut n = 0;
    for f in &m.functions {
        if f.params.is_empty() || f.params.len() == 2 {
            let mut out = Vec::new();
            let _ = interp::run_with(&m, &f.name, &["prog", "arg"], &mut out, &config());
            n += 1;
        }
    }
    n
}

#[test]
fn every_il_file_runs_to_a_result() {
    let files = il_files();
    assert!(files.len() >= 8, "found only {files:?}");
    let mut ran = 0;
    for f in &files {
        ran += run_all(&std::fs::read_to_string(f).unwrap());
    }
    assert!(ran >= 8, "only {ran} functions ran");
}

/// xorshift64*: a tiny deterministic generator (no dependency needed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

const EDGE: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "7",
    "31",
    "32",
    "63",
    "64",
    "255",
    "-2147483648",
    "2147483647",
    "4294967295",
    "-9223372036854775807",
    "9223372036854775807",
    "268435456",
    "268435457",
    "1879048184",
    "16777216",
    "100000000",
];

/// Replaces some integer literals (not names like `%t1` or `@b2`) with edge values.
fn mutate(src: &str, rng: &mut Rng) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let prev = if i > 0 { b[i - 1] } else { b' ' };
        let starts_number = c.is_ascii_digit()
            && !(prev.is_ascii_alphanumeric()
                || matches!(prev, b'_' | b'.' | b'%' | b'$' | b'@' | b'-'));
        if starts_number {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if rng.next().is_multiple_of(4) {
                out.push_str(EDGE[(rng.next() % EDGE.len() as u64) as usize]);
            } else {
                out.push_str(&src[i..j]);
            }
            i = j;
        } else {
            let ch = src[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[test]
fn mutated_programs_never_panic() {
    let sources: Vec<String> = il_files()
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut ran = 0;
    for _ in 0..150 {
        for src in &sources {
            ran += run_all(&mutate(src, &mut rng));
        }
    }
    assert!(ran > 500, "only {ran} mutants ran");
}
