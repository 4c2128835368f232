//! Every IL file of the repository (examples, the IL runtime, test inputs) compiles, or
//! fails only with a "not supported yet" error carrying a position; objdump reads each
//! object cleanly.

mod codegen_support;

use std::path::Path;

use rvflash_backend::codegen::{self, Options};

#[test]
fn repository_il_compiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut report = Vec::new();
    for dir in [
        "examples",
        "runtime/libc",
        "runtime/test",
        "backend/tests/il",
    ] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "ssa"))
        {
            let src = std::fs::read_to_string(p).unwrap();
            let Ok(m) = rvflash_backend::qbe::parse(&p.display().to_string(), &src) else {
                continue; // files meant to fail parsing are other tests' business
            };
            match codegen::compile(&m, &Options { check: true }) {
                Ok(obj) => {
                    let dir = codegen_support::scratch("corpus");
                    let o = dir.join("x.o");
                    std::fs::write(&o, obj).unwrap();
                    let out = std::process::Command::new("riscv64-unknown-elf-objdump")
                        .arg("-dr")
                        .arg(&o)
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "{}", p.display());
                    let text = String::from_utf8_lossy(&out.stdout);
                    assert!(!text.contains("unknown"), "{}: {text}", p.display());
                    report.push(format!("{}: ok", p.display()));
                }
                Err(e) => {
                    assert!(
                        e.message.starts_with("not supported yet") && e.pos.is_known(),
                        "{}: {e}",
                        p.display()
                    );
                    report.push(format!("{}: {e}", p.display()));
                }
            }
        }
    }
    eprintln!("{}", report.join("\n"));
}
