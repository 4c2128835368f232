//! libtest's command line, as `cargo test -- ARGS` (and IDEs) pass it to a test binary.
//!
//! The same options, forms (`--opt VALUE`, `--opt=VALUE`, `-Zunstable-options`, `--` ending
//! the options) and checks as libtest, so that scripts and IDEs written against libtest work
//! unchanged. Options that make no sense for tests run one at a time after a reset of one
//! board are accepted where ignoring them is harmless (`--test-threads`, `--test`,
//! `--force-run-in-process`) and rejected with a reason otherwise (`--bench`, `--shuffle`,
//! `--ensure-time`, `--logfile`); any other option is an error naming it. `-Z unstable-options`
//! is accepted but not required for the unstable formats (`json`, `junit`).
//!
//! The environment variable `RUST_TEST_NOCAPTURE` (not `0`) means `--nocapture`, as in libtest.
//!
//! This file only parses arguments: it never touches a board.

use anyhow::{Result, bail};

/// The options of a test run, as libtest's command line gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LibtestArgs {
    /// Positional filters: a test is selected when its name contains any of them (equals
    /// one, with `exact`). None selects every test.
    pub filters: Vec<String>,
    /// `--exact`: filters and skip filters match whole names.
    pub exact: bool,
    /// `--skip FILTER` (repeatable): tests matching any are left out.
    pub skip: Vec<String>,
    /// `--list`: list the selected tests, run nothing.
    pub list: bool,
    /// `--ignored` / `--include-ignored`.
    pub run_ignored: RunIgnored,
    /// `--exclude-should-panic`: leave out `#[should_panic]` tests.
    pub exclude_should_panic: bool,
    /// `--format`, `-q`/`--quiet`.
    pub format: Format,
    /// `--nocapture`/`--no-capture` (or `RUST_TEST_NOCAPTURE`): the device's output is printed
    /// live by the caller, not captured.
    pub nocapture: bool,
    /// `--show-output`: print the captured output of passing tests too.
    pub show_output: bool,
    /// `--test-threads N`: accepted and checked, but tests run one at a time on the board.
    pub test_threads: Option<usize>,
    /// `--color`.
    pub color: Color,
    /// `--report-time`: show each test's time (pretty format).
    pub report_time: bool,
    /// `-h`/`--help`: print [`USAGE`], run nothing.
    pub help: bool,
}

/// Which tests `#[ignore]` affects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunIgnored {
    /// Ignored tests are reported `ignored` and not run (the default).
    #[default]
    No,
    /// `--include-ignored`: ignored tests run too.
    Yes,
    /// `--ignored`: only the ignored tests run.
    Only,
}

/// The output format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A line per test (the default).
    #[default]
    Pretty,
    /// A character per test (`-q`).
    Terse,
    /// A JSON object per line.
    Json,
    /// A JUnit XML report at the end, nothing else.
    Junit,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// Colour when stdout is a terminal.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The help text of `--help`.
pub const USAGE: &str = "\
Usage: [OPTIONS] [FILTERS...]

Runs the tests of an embedded-test binary on the board, one at a time, each after a reset,
like libtest runs a test binary.

Options:
        --include-ignored
                        Run ignored and not ignored tests
        --ignored       Run only ignored tests
        --exclude-should-panic
                        Excludes tests marked as should_panic
        --test          Run tests and not benchmarks (the only choice)
        --list          List all tests
        --nocapture     Don't capture the device's output of each test (print it live)
        --no-capture    The same as --nocapture
        --test-threads n_threads
                        Accepted for compatibility: tests run one at a time on one board
        --skip FILTER   Skip tests whose names contain FILTER (this flag can be used
                        multiple times)
    -q, --quiet         Display one character per test instead of one line. Alias to
                        --format=terse
        --exact         Exactly match filters rather than by substring
        --color auto|always|never
                        Configure coloring of output: auto = colorize if stdout is a tty
                        (default); always = always colorize output; never = never colorize
        --format pretty|terse|json|junit
                        Configure formatting of output: pretty = print verbose output;
                        terse = display one character per test; json = output a json
                        document; junit = output a JUnit document
        --show-output   Show captured stdout of successful tests
    -Z unstable-options Accepted (the json and junit formats need no unstable options here)
        --report-time   Show execution time of each test
    -h, --help          Display this message
";

/// Flags that take a value.
const WITH_VALUE: &[&str] = &["skip", "format", "color", "test-threads", "Z", "logfile"];

impl LibtestArgs {
    /// Parses libtest's arguments (without the program name); reads `RUST_TEST_NOCAPTURE`.
    pub fn parse<I, S>(args: I) -> Result<LibtestArgs>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::parse_with_env(args, |name| std::env::var(name).ok())
    }

    /// [`LibtestArgs::parse`] with the environment given as a function.
    fn parse_with_env<I, S>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<LibtestArgs>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut parsed = LibtestArgs::default();
        let (mut ignored, mut include_ignored, mut quiet) = (false, false, false);
        let mut format: Option<String> = None;
        let mut args = args.into_iter();
        let mut options_ended = false;
        while let Some(arg) = args.next() {
            let arg = arg.as_ref();
            if options_ended || arg == "-" || !arg.starts_with('-') {
                parsed.filters.push(arg.to_owned());
                continue;
            }
            if arg == "--" {
                options_ended = true;
                continue;
            }
            // `--name[=value]`, `-Z[value]`, `-q`, `-h`.
            let (name, inline) = if let Some(long) = arg.strip_prefix("--") {
                match long.split_once('=') {
                    Some((name, value)) => (name, Some(value)),
                    None => (long, None),
                }
            } else if let Some(value) = arg.strip_prefix("-Z") {
                ("Z", (!value.is_empty()).then_some(value))
            } else {
                match arg {
                    "-q" => ("quiet", None),
                    "-h" => ("help", None),
                    _ => bail!(unknown(arg)),
                }
            };
            let value = if WITH_VALUE.contains(&name) {
                match inline {
                    Some(value) => Some(value.to_owned()),
                    None => match args.next() {
                        Some(value) => Some(value.as_ref().to_owned()),
                        None => bail!("option `{arg}` needs a value"),
                    },
                }
            } else if inline.is_some() {
                bail!("option `--{name}` takes no value (in `{arg}`)");
            } else {
                None
            };
            let value = value.unwrap_or_default();
            match name {
                "include-ignored" => include_ignored = true,
                "ignored" => ignored = true,
                "exclude-should-panic" => parsed.exclude_should_panic = true,
                "test" | "force-run-in-process" => {}
                "list" => parsed.list = true,
                "nocapture" | "no-capture" => parsed.nocapture = true,
                "show-output" => parsed.show_output = true,
                "exact" => parsed.exact = true,
                "quiet" => quiet = true,
                "report-time" => parsed.report_time = true,
                "help" => parsed.help = true,
                "skip" => parsed.skip.push(value),
                "format" => format = Some(value),
                "color" => {
                    parsed.color = match value.as_str() {
                        "auto" => Color::Auto,
                        "always" => Color::Always,
                        "never" => Color::Never,
                        _ => bail!(
                            "argument for --color must be auto, always, or never (was {value})"
                        ),
                    }
                }
                "test-threads" => match value.parse::<usize>() {
                    Ok(n) if n > 0 => parsed.test_threads = Some(n),
                    Ok(_) => bail!("argument for --test-threads must not be 0"),
                    Err(e) => {
                        bail!("argument for --test-threads must be a number > 0 (error: {e})")
                    }
                },
                "Z" => {
                    if value != "unstable-options" {
                        bail!("unrecognized option to -Z: `{value}` (only `unstable-options`)");
                    }
                }
                "bench" => bail!(
                    "`--bench`: an embedded-test binary has no benchmarks (rvflash runs its tests)"
                ),
                "shuffle" | "shuffle-seed" => bail!(
                    "`--{name}` is not supported: every test runs after a reset of the board, \
                     so their order cannot matter"
                ),
                "ensure-time" => bail!(
                    "`--ensure-time` is not supported: a test's time on a board includes its \
                     reset and load; give slow tests a limit with embedded-test's \
                     `#[timeout(SECONDS)]`"
                ),
                "logfile" => bail!("`--logfile` is not supported (libtest deprecated it)"),
                _ => bail!(unknown(arg)),
            }
        }
        parsed.run_ignored = match (include_ignored, ignored) {
            (true, true) => {
                bail!("the options --include-ignored and --ignored are mutually exclusive")
            }
            (true, false) => RunIgnored::Yes,
            (false, true) => RunIgnored::Only,
            (false, false) => RunIgnored::No,
        };
        parsed.format = match format.as_deref() {
            None if quiet => Format::Terse,
            None | Some("pretty") => Format::Pretty,
            Some("terse") => Format::Terse,
            Some("json") => Format::Json,
            Some("junit") => Format::Junit,
            Some(other) => {
                bail!("argument for --format must be pretty, terse, json or junit (was {other})")
            }
        };
        if !parsed.nocapture {
            parsed.nocapture = env("RUST_TEST_NOCAPTURE").is_some_and(|v| v != "0");
        }
        Ok(parsed)
    }
}

/// The error for an option libtest does not have.
fn unknown(arg: &str) -> String {
    let name = arg.split_once('=').map_or(arg, |(name, _)| name);
    format!("unknown test option `{name}` (the options are libtest's: see `-- --help`)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<LibtestArgs> {
        LibtestArgs::parse_with_env(args, |_| None)
    }

    fn error(args: &[&str]) -> String {
        format!("{:#}", parse(args).unwrap_err())
    }

    #[test]
    fn no_arguments_are_the_defaults() {
        assert_eq!(parse(&[]).unwrap(), LibtestArgs::default());
    }

    #[test]
    fn what_cargo_test_and_ides_pass() {
        let args = parse(&[
            "tests::passes",
            "--exact",
            "--skip",
            "slow",
            "--skip=hangs",
            "--include-ignored",
            "-Z",
            "unstable-options",
            "--format=json",
            "--show-output",
            "--test-threads",
            "1",
            "--color=never",
            "--report-time",
            "--nocapture",
            "other",
        ])
        .unwrap();
        assert_eq!(
            args,
            LibtestArgs {
                filters: vec!["tests::passes".into(), "other".into()],
                exact: true,
                skip: vec!["slow".into(), "hangs".into()],
                run_ignored: RunIgnored::Yes,
                format: Format::Json,
                nocapture: true,
                show_output: true,
                test_threads: Some(1),
                color: Color::Never,
                report_time: true,
                ..LibtestArgs::default()
            }
        );
    }

    #[test]
    fn flags() {
        let args = parse(&[
            "--list",
            "--ignored",
            "--no-capture",
            "-Zunstable-options",
            "--exclude-should-panic",
            "--test",
            "--force-run-in-process",
            "-h",
        ])
        .unwrap();
        assert!(args.list && args.nocapture && args.exclude_should_panic && args.help);
        assert_eq!(args.run_ignored, RunIgnored::Only);
        assert!(parse(&["--help"]).unwrap().help);
    }

    #[test]
    fn quiet_is_terse_unless_a_format_is_given() {
        assert_eq!(parse(&["-q"]).unwrap().format, Format::Terse);
        assert_eq!(parse(&["--quiet"]).unwrap().format, Format::Terse);
        assert_eq!(
            parse(&["-q", "--format", "json"]).unwrap().format,
            Format::Json
        );
        for (name, format) in [
            ("pretty", Format::Pretty),
            ("terse", Format::Terse),
            ("json", Format::Json),
            ("junit", Format::Junit),
        ] {
            assert_eq!(parse(&["--format", name]).unwrap().format, format);
        }
        assert_eq!(
            error(&["--format", "xml"]),
            "argument for --format must be pretty, terse, json or junit (was xml)"
        );
    }

    #[test]
    fn double_dash_ends_the_options() {
        let args = parse(&["--exact", "--", "--list", "-q"]).unwrap();
        assert_eq!(args.filters, ["--list", "-q"]);
        assert!(args.exact && !args.list);
        assert_eq!(parse(&["-"]).unwrap().filters, ["-"]);
    }

    #[test]
    fn colors() {
        assert_eq!(parse(&["--color", "always"]).unwrap().color, Color::Always);
        assert_eq!(parse(&["--color=auto"]).unwrap().color, Color::Auto);
        assert!(error(&["--color", "red"]).contains("auto, always, or never (was red)"));
    }

    #[test]
    fn test_threads_must_be_positive() {
        assert!(error(&["--test-threads", "0"]).contains("must not be 0"));
        assert!(error(&["--test-threads=many"]).contains("must be a number > 0"));
    }

    #[test]
    fn ignored_and_include_ignored_exclude_each_other() {
        assert!(error(&["--ignored", "--include-ignored"]).contains("mutually exclusive"));
    }

    #[test]
    fn unknown_options_are_named() {
        assert!(error(&["--frobnicate"]).contains("`--frobnicate`"));
        assert!(error(&["--frobnicate=3"]).contains("`--frobnicate`"));
        assert!(error(&["-x"]).contains("`-x`"));
        assert!(error(&["-Z", "miri"]).contains("`miri`"));
        assert!(error(&["--list=yes"]).contains("takes no value"));
        assert!(error(&["--skip"]).contains("needs a value"));
    }

    #[test]
    fn options_that_make_no_sense_on_a_board_say_why() {
        assert!(error(&["--bench"]).contains("no benchmarks"));
        assert!(error(&["--shuffle"]).contains("order cannot matter"));
        assert!(error(&["--shuffle-seed", "3"]).contains("order cannot matter"));
        assert!(error(&["--ensure-time"]).contains("#[timeout"));
        assert!(error(&["--logfile", "x"]).contains("not supported"));
    }

    #[test]
    fn rust_test_nocapture_means_nocapture() {
        let with = |value: &'static str| {
            LibtestArgs::parse_with_env(Vec::<String>::new(), move |name| {
                (name == "RUST_TEST_NOCAPTURE").then(|| value.to_owned())
            })
            .unwrap()
            .nocapture
        };
        assert!(with("1"));
        assert!(!with("0"));
    }
}
