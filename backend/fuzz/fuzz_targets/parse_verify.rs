//! Fuzzes the QBE IL front end: parse + verify + SSA construction + SSA check must never
//! panic or hang on any input, and every accepted module must print to IL that re-parses to
//! the same module. Seed the corpus with `tests/il/*.ssa`:
//!
//! ```text
//! mkdir -p corpus/parse_verify && cp ../tests/il/*.ssa corpus/parse_verify/
//! cargo +nightly fuzz run parse_verify
//! ```
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvflash_backend::ir::Module;
use rvflash_backend::qbe;

fn stripped(mut m: Module) -> Module {
    m.clear_positions();
    m
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = qbe::parse("fuzz.ssa", src) {
        let text = m.to_string();
        let again = qbe::parse_raw("printed.ssa", &text)
            .unwrap_or_else(|e| panic!("printed module does not parse: {e}\n{text}"));
        assert_eq!(
            stripped(m),
            stripped(again),
            "round trip changed the module:\n{text}"
        );
    }
    let _ = qbe::parse_raw("fuzz.ssa", src);
});
