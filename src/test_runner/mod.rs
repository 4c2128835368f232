//! The libtest-compatible runner for `embedded-test` binaries: `cargo test` on a board.
//!
//! An `embedded-test` ELF lists its tests in a `.embedded_test` section ([`find_tests`]); the
//! run loop runs each test after a reset of the board, through a `run_one` callback this
//! module is given, and this module does everything else the way libtest does: it parses
//! libtest's command line ([`LibtestArgs`]), selects the tests (filters, `--skip`, `--exact`,
//! `--ignored`/`--include-ignored`), decides each verdict from how the test ended
//! ([`Ending`]: `#[should_panic]`, traps, timeouts), prints libtest's output formats (pretty,
//! terse, JSON lines, JUnit; `--list`) and returns libtest's exit status (0 passed, 101 a test
//! failed). It can also write a JUnit XML report to a file.
//!
//! - `elf.rs`: the test list of an ELF file;
//! - `args.rs`: libtest's command line;
//! - `report.rs`: libtest's output formats on stdout;
//! - `junit.rs`: the JUnit XML report.
//!
//! This module never touches a board: it sees tests only through `run_one`, which resets the
//! board, answers SYS_GET_CMDLINE with `run_addr ENTRY` and reports how the test ended.
//! An error from `run_one` is a failure of rvflash or of the board, not of the test: the run
//! stops there and the error is returned (no summary, no JUnit report).

mod args;
mod elf;
mod junit;
mod report;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};

pub use args::{Color, Format, LibtestArgs, RunIgnored};
pub use elf::{DeviceTest, find_tests};

/// libtest's exit status when a test failed.
pub const EXIT_TEST_FAILED: u8 = 101;

/// How a test's run on the board ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The device exited (semihosting exit, abort) with this status.
    Exited(i32),
    /// The device halted after a panic without exiting.
    Panicked,
    /// The device trapped: a one-line description (cause, pc, ...).
    Trapped(String),
    /// The test ran out of time.
    TimedOut,
}

/// One run of a test on the board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// How it ended.
    pub ending: Ending,
    /// The device's captured output and rvflash's own messages about this test (empty with
    /// `--nocapture`, where the caller prints them live).
    pub output: String,
}

/// A test's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Passed,
    /// Failed, for this reason (`exited with status 3`).
    Failed(String),
    /// Not run: `#[ignore]`.
    Ignored,
}

/// A test that was run (or reported ignored).
#[derive(Debug, Clone)]
struct Finished<'t> {
    test: &'t DeviceTest,
    verdict: Verdict,
    /// Captured output (empty for ignored tests).
    output: String,
    /// Time on the board, reset and load included (zero for ignored tests).
    time: Duration,
}

/// The counts of libtest's `test result:` line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Summary {
    passed: usize,
    failed: usize,
    ignored: usize,
    filtered_out: usize,
}

/// Runs `tests` as libtest would, printing libtest's output on stdout: selects them with
/// `args`, runs each with `run_one` (ignored tests are not run), writes a JUnit report to
/// `junit` when given (its test suite named `suite`, the binary's name), and returns the
/// exit status: 0 when every selected test passed (and for `--list` and `--help`), 101 when
/// one failed. `Err` when `run_one` fails (a board or rvflash problem: the run stops there)
/// or the output cannot be written.
///
/// stdout is flushed before each `run_one`, so output that `run_one` prints live
/// (`--nocapture`) follows the test's `test NAME ... ` line.
pub fn run(
    tests: Vec<DeviceTest>,
    args: &LibtestArgs,
    suite: &str,
    junit: Option<&Path>,
    run_one: &mut dyn FnMut(&DeviceTest) -> Result<Attempt>,
) -> Result<u8> {
    let mut args = args.clone();
    if args.color == Color::Auto {
        args.color = if std::io::stdout().is_terminal() {
            Color::Always
        } else {
            Color::Never
        };
    }
    // Not a lock: `run_one` may print too.
    run_to(&mut std::io::stdout(), tests, &args, suite, junit, run_one)
}

/// [`run`], writing to `out` instead of stdout (`--color auto` means no colour here).
pub fn run_to(
    out: &mut dyn Write,
    tests: Vec<DeviceTest>,
    args: &LibtestArgs,
    suite: &str,
    junit: Option<&Path>,
    run_one: &mut dyn FnMut(&DeviceTest) -> Result<Attempt>,
) -> Result<u8> {
    let mut reporter = report::Reporter::new(out, args);
    if args.help {
        reporter.help()?;
        return Ok(0);
    }
    let total = tests.len();
    let selected = select(tests, args);
    let filtered_out = total - selected.len();
    if args.list {
        reporter.list(&selected)?;
        return Ok(0);
    }

    let timestamp = SystemTime::now();
    let started = Instant::now();
    reporter.suite_started(selected.len())?;
    let mut results = Vec::with_capacity(selected.len());
    for test in &selected {
        reporter.test_started(test)?;
        let finished = if test.ignored {
            Finished {
                test,
                verdict: Verdict::Ignored,
                output: String::new(),
                time: Duration::ZERO,
            }
        } else {
            let start = Instant::now();
            let attempt = match run_one(test) {
                Ok(attempt) => attempt,
                Err(err) => {
                    reporter.aborted()?;
                    return Err(err.context(format!("running test `{}`", test.name)));
                }
            };
            Finished {
                test,
                verdict: verdict(test, &attempt.ending),
                output: attempt.output,
                time: start.elapsed(),
            }
        };
        reporter.test_finished(&finished)?;
        results.push(finished);
    }
    let elapsed = started.elapsed();
    let summary = Summary {
        passed: count(&results, |v| *v == Verdict::Passed),
        failed: count(&results, |v| matches!(v, Verdict::Failed(_))),
        ignored: count(&results, |v| *v == Verdict::Ignored),
        filtered_out,
    };
    reporter.suite_finished(&results, summary, suite, timestamp, elapsed)?;
    if let Some(path) = junit {
        let mut xml = Vec::new();
        junit::write(&mut xml, suite, &results, timestamp, elapsed)?;
        std::fs::write(path, xml)
            .with_context(|| format!("cannot write the JUnit report {}", path.display()))?;
    }
    Ok(if summary.failed == 0 {
        0
    } else {
        EXIT_TEST_FAILED
    })
}

fn count(results: &[Finished<'_>], which: impl Fn(&Verdict) -> bool) -> usize {
    results.iter().filter(|r| which(&r.verdict)).count()
}

/// The tests `args` selects, in order, like libtest's `filter_tests`: name filters (any
/// matches), `--skip`, `--exclude-should-panic`, then `--ignored` keeps only the ignored
/// tests and it and `--include-ignored` make them run.
fn select(mut tests: Vec<DeviceTest>, args: &LibtestArgs) -> Vec<DeviceTest> {
    let matches = |test: &DeviceTest, filter: &String| {
        if args.exact {
            test.name == *filter
        } else {
            test.name.contains(filter.as_str())
        }
    };
    if !args.filters.is_empty() {
        tests.retain(|t| args.filters.iter().any(|f| matches(t, f)));
    }
    tests.retain(|t| !args.skip.iter().any(|f| matches(t, f)));
    if args.exclude_should_panic {
        tests.retain(|t| !t.should_panic);
    }
    match args.run_ignored {
        RunIgnored::No => {}
        RunIgnored::Yes => tests.iter_mut().for_each(|t| t.ignored = false),
        RunIgnored::Only => {
            tests.retain(|t| t.ignored);
            tests.iter_mut().for_each(|t| t.ignored = false);
        }
    }
    tests
}

/// The verdict on a test that ended so: it passes when it exits with 0, or when it should
/// panic and panicked or exited with another status (embedded-test aborts on a panic); a trap
/// or a timeout always fails.
fn verdict(test: &DeviceTest, ending: &Ending) -> Verdict {
    match ending {
        Ending::Exited(0) if test.should_panic => {
            Verdict::Failed("test did not panic as expected".to_owned())
        }
        Ending::Exited(0) => Verdict::Passed,
        Ending::Exited(_) | Ending::Panicked if test.should_panic => Verdict::Passed,
        Ending::Exited(status) => Verdict::Failed(format!("exited with status {status}")),
        Ending::Panicked => Verdict::Failed("panicked".to_owned()),
        Ending::Trapped(what) => Verdict::Failed(format!("trapped: {what}")),
        Ending::TimedOut => Verdict::Failed(match test.timeout {
            Some(seconds) => format!("timed out after {seconds} s"),
            None => "timed out".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests;
