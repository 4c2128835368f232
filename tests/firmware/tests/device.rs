//! On-device tests for an embedded-test runner (`cargo test --test device`): the host reads the
//! test list from the ELF's `.embedded_test` section, then for each test resets the board and
//! answers semihosting SYS_GET_CMDLINE with `run_addr ADDRESS`; the test ends with semihosting
//! exit(0) (passed) or abort, exit(134) (failed, or panicked). Logs go through defmt over RTT.
//!
//! Every outcome a runner must report is here, under `device::tests::NAME`: see
//! tests/firmware/README.md.
#![no_std]
#![no_main]

use defmt_rtt as _; // the global logger
use riscv as _; // the critical-section implementation defmt-rtt needs (single hart)
use riscv_rt as _; // the runtime: its start code calls embedded-test's `main`

#[embedded_test::tests]
mod tests {
    /// Passes.
    #[test]
    fn passes() {
        assert!(core::hint::black_box(true));
    }

    /// Fails: returns an error (the device aborts).
    #[test]
    fn fails_with_err() -> Result<(), &'static str> {
        Err("the device says no")
    }

    /// Fails: a failed `assert_eq!` with a message panics (the device aborts).
    #[test]
    fn panics() {
        let sum = core::hint::black_box(1 + 1);
        assert_eq!(sum, 3, "one plus one is not {}", 3);
    }

    /// Passes: panics as it should.
    #[test]
    #[should_panic]
    fn should_panic_panics() {
        assert!(core::hint::black_box(false), "this panic is expected");
    }

    /// Fails: should panic but returns normally.
    #[test]
    #[should_panic]
    fn should_panic_but_passes() {
        assert!(core::hint::black_box(true));
    }

    /// Ignored: a runner does not run it (it would fail).
    #[test]
    #[ignore]
    fn ignored() {
        panic!("an ignored test ran");
    }

    /// Fails after its 2 s timeout: never ends.
    #[test]
    #[timeout(2)]
    fn hangs() {
        loop {
            core::hint::spin_loop();
        }
    }

    /// Passes after logging a defmt line.
    #[test]
    fn logs() {
        defmt::info!("hello from an embedded test: {=u32}", core::hint::black_box(42));
    }
}
