//! libtest's output formats, written as the run goes: pretty (a line per test), terse (a
//! character per test), JSON lines, JUnit (the report at the end, nothing else); and `--list`.
//!
//! The text follows libtest's byte for byte where a tool may read it (`running N tests`,
//! `test NAME ... ok`, the `failures:` sections, `test result: ...`, the JSON events), with
//! two additions: a failed test's captured output ends with `note: REASON` (libtest does so
//! for its own failure messages), and JSON `ok`/`failed` events always carry `exec_time`.
//! The JSON `--list` events carry no source positions (the ELF gives none).
//!
//! This file only writes text: it never touches a board.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::args::{Color, Format, LibtestArgs, USAGE};
use super::{DeviceTest, Finished, Summary, Verdict, junit};

/// libtest's terse format breaks its line after this many tests.
const TERSE_COLUMNS: usize = 88;

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// Writes one run's output.
pub(super) struct Reporter<'a> {
    out: &'a mut dyn Write,
    format: Format,
    color: bool,
    report_time: bool,
    show_output: bool,
    /// Tests in the run, and results written so far (the terse format counts them).
    total: usize,
    written: usize,
}

impl<'a> Reporter<'a> {
    pub(super) fn new(out: &'a mut dyn Write, args: &LibtestArgs) -> Reporter<'a> {
        Reporter {
            out,
            format: args.format,
            color: args.color == Color::Always,
            report_time: args.report_time,
            show_output: args.show_output,
            total: 0,
            written: 0,
        }
    }

    pub(super) fn help(&mut self) -> io::Result<()> {
        self.out.write_all(USAGE.as_bytes())
    }

    /// `--list`: `NAME: test` lines, then the count (pretty); just the lines (terse); the
    /// discovery events (JSON).
    pub(super) fn list(&mut self, tests: &[DeviceTest]) -> io::Result<()> {
        if self.format == Format::Json {
            self.json(&Discovery {
                kind: "suite",
                event: "discovery",
            })?;
            for test in tests {
                self.json(&Discovered {
                    kind: "test",
                    event: "discovered",
                    name: &test.name,
                    ignore: test.ignored,
                    ignore_message: "",
                })?;
            }
            let ignored = tests.iter().filter(|t| t.ignored).count();
            self.json(&Completed {
                kind: "suite",
                event: "completed",
                tests: tests.len(),
                benchmarks: 0,
                total: tests.len(),
                ignored,
            })?;
            return self.out.flush();
        }
        for test in tests {
            writeln!(self.out, "{}: test", test.name)?;
        }
        if self.format != Format::Terse {
            if !tests.is_empty() {
                writeln!(self.out)?;
            }
            writeln!(self.out, "{}, 0 benchmarks", plural(tests.len(), "test"))?;
        }
        self.out.flush()
    }

    pub(super) fn suite_started(&mut self, count: usize) -> io::Result<()> {
        self.total = count;
        match self.format {
            Format::Pretty | Format::Terse => {
                write!(self.out, "\nrunning {}\n", plural(count, "test"))?
            }
            Format::Json => self.json(&SuiteStarted {
                kind: "suite",
                event: "started",
                test_count: count,
            })?,
            Format::Junit => {}
        }
        self.out.flush()
    }

    /// Before a test runs; flushes, so that output printed live follows.
    pub(super) fn test_started(&mut self, test: &DeviceTest) -> io::Result<()> {
        match self.format {
            Format::Pretty => write!(self.out, "test {} ... ", test.name)?,
            Format::Json => self.json(&TestEvent {
                kind: "test",
                event: "started",
                name: &test.name,
                ..TestEvent::default()
            })?,
            Format::Terse | Format::Junit => {}
        }
        self.out.flush()
    }

    pub(super) fn test_finished(&mut self, result: &Finished<'_>) -> io::Result<()> {
        match self.format {
            Format::Pretty => {
                let (word, color) = match result.verdict {
                    Verdict::Passed => ("ok", GREEN),
                    Verdict::Failed(_) => ("FAILED", RED),
                    Verdict::Ignored => ("ignored", YELLOW),
                };
                self.colored(word, color)?;
                if self.report_time && result.verdict != Verdict::Ignored {
                    write!(self.out, " <{:.3}s>", result.time.as_secs_f64())?;
                }
                writeln!(self.out)?;
            }
            Format::Terse => {
                let (mark, color) = match result.verdict {
                    Verdict::Passed => (".", GREEN),
                    Verdict::Failed(_) => ("F", RED),
                    Verdict::Ignored => ("i", YELLOW),
                };
                self.colored(mark, color)?;
                if self.written % TERSE_COLUMNS == TERSE_COLUMNS - 1 {
                    writeln!(self.out, " {}/{}", self.written + 1, self.total)?;
                }
            }
            Format::Json => {
                let (event, message) = match &result.verdict {
                    Verdict::Passed => ("ok", None),
                    Verdict::Failed(reason) => ("failed", Some(reason.as_str())),
                    Verdict::Ignored => ("ignored", None),
                };
                let show = matches!(result.verdict, Verdict::Failed(_)) || self.show_output;
                self.json(&TestEvent {
                    kind: "test",
                    event,
                    name: &result.test.name,
                    exec_time: (result.verdict != Verdict::Ignored)
                        .then_some(result.time.as_secs_f64()),
                    stdout: (show && !result.output.is_empty()).then_some(result.output.as_str()),
                    message,
                })?;
            }
            Format::Junit => {}
        }
        self.written += 1;
        self.out.flush()
    }

    /// After `run_one` failed: ends the line a test's name started.
    pub(super) fn aborted(&mut self) -> io::Result<()> {
        if matches!(self.format, Format::Pretty | Format::Terse) {
            writeln!(self.out)?;
        }
        self.out.flush()
    }

    pub(super) fn suite_finished(
        &mut self,
        results: &[Finished<'_>],
        summary: Summary,
        suite: &str,
        timestamp: SystemTime,
        elapsed: Duration,
    ) -> io::Result<()> {
        let ok = summary.failed == 0;
        match self.format {
            Format::Pretty | Format::Terse => {
                if self.show_output {
                    let passed: Vec<_> = results
                        .iter()
                        .filter(|r| r.verdict == Verdict::Passed)
                        .map(|r| (r.test.name.as_str(), r.output.clone()))
                        .collect();
                    self.sections("successes", &passed)?;
                }
                if !ok {
                    let failed: Vec<_> = results
                        .iter()
                        .filter_map(|r| match &r.verdict {
                            Verdict::Failed(reason) => {
                                Some((r.test.name.as_str(), with_note(&r.output, reason)))
                            }
                            _ => None,
                        })
                        .collect();
                    self.sections("failures", &failed)?;
                }
                write!(self.out, "\ntest result: ")?;
                if ok {
                    self.colored("ok", GREEN)?;
                } else {
                    self.colored("FAILED", RED)?;
                }
                write!(
                    self.out,
                    ". {} passed; {} failed; {} ignored; 0 measured; {} filtered out; \
                     finished in {:.2}s\n\n",
                    summary.passed,
                    summary.failed,
                    summary.ignored,
                    summary.filtered_out,
                    elapsed.as_secs_f64()
                )?;
            }
            Format::Json => self.json(&SuiteFinished {
                kind: "suite",
                event: if ok { "ok" } else { "failed" },
                passed: summary.passed,
                failed: summary.failed,
                ignored: summary.ignored,
                measured: 0,
                filtered_out: summary.filtered_out,
                exec_time: elapsed.as_secs_f64(),
            })?,
            Format::Junit => junit::write(self.out, suite, results, timestamp, elapsed)?,
        }
        self.out.flush()
    }

    /// libtest's `successes:`/`failures:` block: the outputs, then the names.
    fn sections(&mut self, title: &str, tests: &[(&str, String)]) -> io::Result<()> {
        write!(self.out, "\n{title}:\n")?;
        let mut outputs = String::new();
        for (name, output) in tests {
            if !output.is_empty() {
                outputs.push_str(&format!("---- {name} stdout ----\n{output}\n"));
            }
        }
        if !outputs.is_empty() {
            write!(self.out, "\n{outputs}")?;
        }
        write!(self.out, "\n{title}:\n")?;
        let mut names: Vec<_> = tests.iter().map(|t| t.0).collect();
        names.sort_unstable();
        for name in names {
            writeln!(self.out, "    {name}")?;
        }
        Ok(())
    }

    fn colored(&mut self, text: &str, color: &str) -> io::Result<()> {
        if self.color {
            write!(self.out, "{color}{text}{RESET}")
        } else {
            self.out.write_all(text.as_bytes())
        }
    }

    fn json(&mut self, event: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut *self.out, event)?;
        writeln!(self.out)
    }
}

/// A failed test's output as the failures section shows it: `note: REASON` at the end.
fn with_note(output: &str, reason: &str) -> String {
    let separator = if output.is_empty() || output.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("{output}{separator}note: {reason}")
}

/// `1 test`, `2 tests`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[derive(Serialize)]
struct SuiteStarted {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    test_count: usize,
}

#[derive(Serialize, Default)]
struct TestEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exec_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stdout: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

#[derive(Serialize)]
struct SuiteFinished {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    passed: usize,
    failed: usize,
    ignored: usize,
    measured: usize,
    filtered_out: usize,
    exec_time: f64,
}

#[derive(Serialize)]
struct Discovery {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
}

#[derive(Serialize)]
struct Discovered<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    name: &'a str,
    ignore: bool,
    ignore_message: &'static str,
}

#[derive(Serialize)]
struct Completed {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    tests: usize,
    benchmarks: usize,
    total: usize,
    ignored: usize,
}
