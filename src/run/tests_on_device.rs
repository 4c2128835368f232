//! `rvflash run` of an embedded-test binary: `cargo test` on the device. The program's
//! arguments are libtest's (`cargo test -- ARGS`); each selected test runs on a freshly opened
//! and loaded board, told which test to run through SYS_GET_CMDLINE (`run_addr ENTRY`), with
//! its own timeout (`#[timeout(s)]`, else `--timeout`, else embedded-test's 60 s). Selection,
//! verdicts and libtest's output are `crate::test_runner`'s; this file only runs the tests.

use std::time::Instant;

use anyhow::Result;

use super::report::MessageFormat;
use super::{Ending, Session};
use crate::test_runner::{self, Attempt, DeviceTest, Format, LibtestArgs};

/// embedded-test's timeout for a test without `#[timeout]`.
const DEFAULT_TEST_TIMEOUT: f64 = 60.0;

impl Session<'_> {
    /// Runs the tests of an embedded-test binary; returns rvflash's status (libtest's: 0 or
    /// 101) and the `exit` event's reason.
    pub(super) fn run_tests(
        &mut self,
        tests: Vec<DeviceTest>,
        timeout: Option<f64>,
    ) -> Result<(u8, &'static str)> {
        let mut libtest = LibtestArgs::parse(self.args.program_args())?;
        let json = self.reporter.borrow().format() == MessageFormat::Json;
        if json {
            // One kind of line on stdout: JSON objects (libtest's, then rvflash's events).
            libtest.format = Format::Json;
        }
        // Live output: asked for, or JSON events (which have no place for a capture).
        let live = libtest.nocapture || json;
        let suite = self
            .args
            .file()
            .file_name()
            .map_or_else(|| "tests".into(), |n| n.to_string_lossy().into_owned());
        let junit = self.args.junit.clone();
        let status = test_runner::run(
            tests,
            &libtest,
            &suite,
            junit.as_deref(),
            &mut |test: &DeviceTest| {
                let seconds = test
                    .timeout
                    .map(f64::from)
                    .or(timeout)
                    .unwrap_or(DEFAULT_TEST_TIMEOUT);
                if !live {
                    self.reporter.borrow_mut().start_capture();
                }
                let ending = self.run_program(
                    format!("run_addr {}", test.entry),
                    Some(seconds),
                    Instant::now(),
                );
                let output = if live {
                    self.reporter.borrow_mut().flush_console();
                    String::new()
                } else {
                    self.reporter.borrow_mut().take_capture()
                };
                let ending = match ending? {
                    Ending::Exited(code) => test_runner::Ending::Exited(code),
                    Ending::PanicHalted => test_runner::Ending::Panicked,
                    Ending::Trapped(what) => test_runner::Ending::Trapped(what),
                    Ending::TimedOut => test_runner::Ending::TimedOut,
                };
                Ok(Attempt { ending, output })
            },
        )?;
        Ok((status, "tests"))
    }
}
