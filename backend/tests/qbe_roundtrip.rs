//! Every IL file under tests/il parses, verifies, prints, and re-parses to the same module
//! (before and after SSA construction).

use std::fs;
use std::path::PathBuf;

use rvflash_backend::ir::Module;
use rvflash_backend::qbe;

fn il_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/il");
    let mut v: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ssa"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 7,
        "expected the test IL files in {}",
        dir.display()
    );
    v
}

fn stripped(mut m: Module) -> Module {
    m.clear_positions();
    m
}

fn roundtrip(name: &str, m: &Module) {
    let text = m.to_string();
    let again =
        qbe::parse_raw(name, &text).unwrap_or_else(|e| panic!("re-parse failed:\n{e}\n{text}"));
    assert_eq!(
        stripped(m.clone()),
        stripped(again.clone()),
        "round trip of {name} changed the module:\n{text}"
    );
    // Printing is a fixed point.
    assert_eq!(text, again.to_string());
}

#[test]
fn parse_print_parse_is_identity() {
    for path in il_files() {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let src = fs::read_to_string(&path).unwrap();
        let raw = qbe::parse_raw(&name, &src).unwrap_or_else(|e| panic!("{e}"));
        roundtrip(&name, &raw);
        let ssa = qbe::parse(&name, &src).unwrap_or_else(|e| panic!("{e}"));
        roundtrip(&name, &ssa);
        // The SSA module also passes the full front end again (it is already SSA).
        let text = ssa.to_string();
        let again = qbe::parse(&name, &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            stripped(ssa),
            stripped(again),
            "{name}: SSA construction not idempotent"
        );
    }
}
