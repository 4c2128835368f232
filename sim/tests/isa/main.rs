//! Instruction-level tests of the simulator. Every expected value is written by hand from
//! the ISA manuals (not obtained by running the simulator).

#[macro_use]
mod common;
mod atomic;
mod compressed;
mod float;
mod int;
mod system;

use rvflash_backend::isa::Op;

/// Every op of the backend's table is executed by some test above.
#[test]
fn every_op_is_covered() {
    for tests in [
        int::TESTS,
        atomic::TESTS,
        compressed::TESTS,
        float::TESTS,
        system::TESTS,
    ] {
        for t in tests {
            t();
        }
    }
    let used = common::USED.lock().unwrap();
    let missing: Vec<Op> = Op::ALL
        .iter()
        .copied()
        .filter(|op| !used.contains(op))
        .collect();
    assert!(missing.is_empty(), "ops no test executes: {missing:?}");
}
